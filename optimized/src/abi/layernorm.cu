/// \file
/// \ingroup group_layernorm
/// \brief layernorm's C ABI (<llmlab/cuda/abi/layernorm.h>) over llmlab's kernels, default version.

#include "llmlab/cuda/abi/layernorm.h"

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/layernorm.cuh"

using llmlab::cuda::abi::as_bf16;
using llmlab::cuda::abi::guarded;

namespace {

/// layernorm_backward with its dw/db scratch allocated here (the C ABI passes none) and freed
/// after the launches have finished.
template <class T>
int layernorm_backward_with_scratch(const T* dy, const T* x, const T* w, const float* mean,
                                    const float* rstd, T* dx, float* dw, float* db, int64_t N,
                                    int64_t C) {
  return guarded([&] {
    float* scratch = nullptr;
    const int64_t floats = llmlab::cuda::layernorm_backward_scratch(N, C);
    const size_t bytes = static_cast<size_t>(floats) * sizeof(float);
    if (floats > 0 && cudaMalloc(&scratch, bytes) != cudaSuccess) return cudaErrorMemoryAllocation;
    struct Free {
      float* p;
      ~Free() {
        cudaDeviceSynchronize();
        cudaFree(p);
      }
    } free_scratch{scratch};
    return llmlab::cuda::layernorm_backward(dy, x, w, mean, rstd, dx, dw, db, scratch, N, C);
  });
}

}  // namespace

extern "C" {

int llmlab_layernorm_forward_f32(const float* x, const float* w, const float* b, float* y,
                                 float* mean, float* rstd, int64_t N, int64_t C, float eps) {
  return guarded(
      [&] { return llmlab::cuda::layernorm_forward(x, w, b, y, mean, rstd, N, C, eps); });
}

int llmlab_layernorm_forward_bf16(const uint16_t* x, const uint16_t* w, const uint16_t* b,
                                  uint16_t* y, float* mean, float* rstd, int64_t N, int64_t C,
                                  float eps) {
  return guarded([&] {
    return llmlab::cuda::layernorm_forward(as_bf16(x), as_bf16(w), as_bf16(b), as_bf16(y), mean,
                                           rstd, N, C, eps);
  });
}

int llmlab_layernorm_backward_f32(const float* dy, const float* x, const float* w,
                                  const float* mean, const float* rstd, float* dx, float* dw,
                                  float* db, int64_t N, int64_t C) {
  return layernorm_backward_with_scratch(dy, x, w, mean, rstd, dx, dw, db, N, C);
}

int llmlab_layernorm_backward_bf16(const uint16_t* dy, const uint16_t* x, const uint16_t* w,
                                   const float* mean, const float* rstd, uint16_t* dx, float* dw,
                                   float* db, int64_t N, int64_t C) {
  return layernorm_backward_with_scratch(as_bf16(dy), as_bf16(x), as_bf16(w), mean, rstd,
                                         as_bf16(dx), dw, db, N, C);
}

}  // extern "C"
