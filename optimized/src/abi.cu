/// \file
/// \brief llmlab's own kernels behind the C ABI of <llmlab/cuda/abi.h> (libllmlab_plugin_*.so).
///
/// Each symbol forwards to the default (best) version of its launcher and turns any exception into
/// cudaErrorInvalidValue: no exception may cross a C boundary.

#include <cstdint>
#include <exception>

#include "llmlab/cuda/abi.h"
#include "llmlab/cuda/embedding.cuh"
#include "llmlab/cuda/gelu.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/cuda/matmul.cuh"
#include "llmlab/cuda/reduce_sum.cuh"
#include "llmlab/cuda/residual.cuh"
#include "llmlab/cuda/softmax.cuh"
#include "llmlab/cuda/vector_add.cuh"

namespace {

/// Runs a launcher; returns its cudaError_t as int, or cudaErrorInvalidValue if it throws.
template <class F>
int guarded(F&& f) noexcept {
  try {
    return static_cast<int>(f());
  } catch (...) {
    return static_cast<int>(cudaErrorInvalidValue);
  }
}

const __nv_bfloat16* as_bf16(const std::uint16_t* p) {
  return reinterpret_cast<const __nv_bfloat16*>(p);
}
__nv_bfloat16* as_bf16(std::uint16_t* p) { return reinterpret_cast<__nv_bfloat16*>(p); }

static_assert(sizeof(__nv_bfloat16) == sizeof(std::uint16_t), "bf16 travels as its 16 raw bits");

/// layernorm_backward with its dw/db scratch allocated here (the C ABI passes none) and freed
/// after the launches have finished.
template <class T>
int layernorm_backward_with_scratch(const T* dy, const T* x, const T* w, const float* mean,
                                    const float* rstd, T* dx, float* dw, float* db, int64_t rows,
                                    int64_t cols) {
  return guarded([&] {
    float* scratch = nullptr;
    const int64_t floats = llmlab::cuda::layernorm_backward_scratch(rows, cols);
    const size_t bytes = static_cast<size_t>(floats) * sizeof(float);
    if (floats > 0 && cudaMalloc(&scratch, bytes) != cudaSuccess) return cudaErrorMemoryAllocation;
    struct Free {
      float* p;
      ~Free() {
        cudaDeviceSynchronize();
        cudaFree(p);
      }
    } free_scratch{scratch};
    return llmlab::cuda::layernorm_backward(dy, x, w, mean, rstd, dx, dw, db, scratch, rows,
                                            cols);
  });
}

}  // namespace

extern "C" {

int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n) {
  return guarded([&] { return llmlab::cuda::vector_add(a, b, c, n); });
}

int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t n) {
  return guarded([&] { return llmlab::cuda::vector_add(as_bf16(a), as_bf16(b), as_bf16(c), n); });
}

int llmlab_reduce_sum_f32(const float* x, float* out, int64_t rows, int64_t cols) {
  return guarded([&] { return llmlab::cuda::reduce_sum(x, out, rows, cols); });
}

int llmlab_reduce_sum_bf16(const uint16_t* x, float* out, int64_t rows, int64_t cols) {
  return guarded([&] { return llmlab::cuda::reduce_sum(as_bf16(x), out, rows, cols); });
}

int llmlab_embedding_forward_f32(const int32_t* ids, const float* wte, const float* wpe,
                                 float* out, int64_t B, int64_t T, int64_t C, int64_t V,
                                 int64_t maxT) {
  return guarded(
      [&] { return llmlab::cuda::embedding_forward(ids, wte, wpe, out, B, T, C, V, maxT); });
}

int llmlab_embedding_forward_bf16(const int32_t* ids, const uint16_t* wte, const uint16_t* wpe,
                                  uint16_t* out, int64_t B, int64_t T, int64_t C, int64_t V,
                                  int64_t maxT) {
  return guarded([&] {
    return llmlab::cuda::embedding_forward(ids, as_bf16(wte), as_bf16(wpe), as_bf16(out), B, T, C,
                                           V, maxT);
  });
}

int llmlab_embedding_backward_f32(const float* dout, const int32_t* ids, float* dwte, float* dwpe,
                                  int64_t B, int64_t T, int64_t C, int64_t V, int64_t maxT) {
  return guarded(
      [&] { return llmlab::cuda::embedding_backward(dout, ids, dwte, dwpe, B, T, C, V, maxT); });
}

int llmlab_residual_forward_f32(const float* a, const float* b, float* out, int64_t n) {
  return guarded([&] { return llmlab::cuda::residual_forward(a, b, out, n); });
}

int llmlab_residual_backward_f32(const float* dout, float* da, float* db, int64_t n) {
  return guarded([&] { return llmlab::cuda::residual_backward(dout, da, db, n); });
}

int llmlab_softmax_forward_f32(const float* x, float* y, int64_t rows, int64_t cols) {
  return guarded([&] { return llmlab::cuda::softmax_forward(x, y, rows, cols); });
}

int llmlab_softmax_forward_bf16(const uint16_t* x, uint16_t* y, int64_t rows, int64_t cols) {
  return guarded([&] { return llmlab::cuda::softmax_forward(as_bf16(x), as_bf16(y), rows, cols); });
}

int llmlab_softmax_backward_f32(const float* dy, const float* y, float* dx, int64_t rows,
                                int64_t cols) {
  return guarded([&] { return llmlab::cuda::softmax_backward(dy, y, dx, rows, cols); });
}

int llmlab_layernorm_forward_f32(const float* x, const float* w, const float* b, float* y,
                                 float* mean, float* rstd, int64_t rows, int64_t cols, float eps) {
  return guarded(
      [&] { return llmlab::cuda::layernorm_forward(x, w, b, y, mean, rstd, rows, cols, eps); });
}

int llmlab_layernorm_forward_bf16(const uint16_t* x, const uint16_t* w, const uint16_t* b,
                                  uint16_t* y, float* mean, float* rstd, int64_t rows,
                                  int64_t cols, float eps) {
  return guarded([&] {
    return llmlab::cuda::layernorm_forward(as_bf16(x), as_bf16(w), as_bf16(b), as_bf16(y), mean,
                                           rstd, rows, cols, eps);
  });
}

int llmlab_layernorm_backward_f32(const float* dy, const float* x, const float* w,
                                  const float* mean, const float* rstd, float* dx, float* dw,
                                  float* db, int64_t rows, int64_t cols) {
  return layernorm_backward_with_scratch(dy, x, w, mean, rstd, dx, dw, db, rows, cols);
}

int llmlab_layernorm_backward_bf16(const uint16_t* dy, const uint16_t* x, const uint16_t* w,
                                   const float* mean, const float* rstd, uint16_t* dx, float* dw,
                                   float* db, int64_t rows, int64_t cols) {
  return layernorm_backward_with_scratch(as_bf16(dy), as_bf16(x), as_bf16(w), mean, rstd,
                                         as_bf16(dx), dw, db, rows, cols);
}

int llmlab_gelu_forward_f32(const float* x, float* y, int64_t n) {
  return guarded([&] { return llmlab::cuda::gelu_forward(x, y, n); });
}

int llmlab_gelu_forward_bf16(const uint16_t* x, uint16_t* y, int64_t n) {
  return guarded([&] { return llmlab::cuda::gelu_forward(as_bf16(x), as_bf16(y), n); });
}

int llmlab_gelu_backward_f32(const float* dy, const float* x, float* dx, int64_t n) {
  return guarded([&] { return llmlab::cuda::gelu_backward(dy, x, dx, n); });
}

int llmlab_gelu_backward_bf16(const uint16_t* dy, const uint16_t* x, uint16_t* dx, int64_t n) {
  return guarded(
      [&] { return llmlab::cuda::gelu_backward(as_bf16(dy), as_bf16(x), as_bf16(dx), n); });
}

int llmlab_matmul_forward_f32(const float* x, const float* w, const float* b, float* y, int64_t N,
                              int64_t in, int64_t out) {
  return guarded([&] { return llmlab::cuda::matmul_forward(x, w, b, y, N, in, out); });
}

int llmlab_matmul_forward_bf16(const uint16_t* x, const uint16_t* w, const uint16_t* b,
                               uint16_t* y, int64_t N, int64_t in, int64_t out) {
  return guarded([&] {
    return llmlab::cuda::matmul_forward(as_bf16(x), as_bf16(w), as_bf16(b), as_bf16(y), N, in, out);
  });
}

int llmlab_matmul_backward_f32(const float* dy, const float* x, const float* w, float* dx,
                               float* dw, float* db, int64_t N, int64_t in, int64_t out) {
  return guarded([&] { return llmlab::cuda::matmul_backward(dy, x, w, dx, dw, db, N, in, out); });
}

}  // extern "C"
