/// \file
/// \ingroup group_matmul
/// \brief matmul's C ABI (<llmlab/cuda/abi/matmul.h>) over llmlab's kernels, default version: the
/// forward (the backward is in matmul_backward.cu, so that a lab with only a forward — chapter 02 —
/// can be built behind the ABI and checked with `llmlab verify matmul --partial`).

#include "llmlab/cuda/abi/matmul.h"

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/matmul.cuh"

using llmlab::cuda::abi::as_bf16;
using llmlab::cuda::abi::guarded;

extern "C" {

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

}  // extern "C"
