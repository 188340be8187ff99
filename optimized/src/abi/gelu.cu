/// \file
/// \ingroup group_gelu
/// \brief gelu's C ABI (<llmlab/cuda/abi/gelu.h>) over llmlab's kernels, default version.

#include "llmlab/cuda/abi/gelu.h"

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/gelu.cuh"

using llmlab::cuda::abi::as_bf16;
using llmlab::cuda::abi::guarded;

extern "C" {

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

}  // extern "C"
