/// \file
/// \ingroup group_softmax
/// \brief softmax's C ABI (<llmlab/cuda/abi/softmax.h>) over llmlab's kernels, default version.

#include "llmlab/cuda/abi/softmax.h"

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/softmax.cuh"

using llmlab::cuda::abi::as_bf16;
using llmlab::cuda::abi::guarded;

extern "C" {

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

}  // extern "C"
