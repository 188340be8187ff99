/// \file
/// \ingroup group_reduce_sum
/// \brief reduce_sum's C ABI (<llmlab/cuda/abi/reduce_sum.h>) over llmlab's kernels, default version.

#include "llmlab/cuda/abi/reduce_sum.h"

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/reduce_sum.cuh"

using llmlab::cuda::abi::as_bf16;
using llmlab::cuda::abi::guarded;

extern "C" {

int llmlab_reduce_sum_f32(const float* x, float* out, int64_t rows, int64_t cols) {
  return guarded([&] { return llmlab::cuda::reduce_sum(x, out, rows, cols); });
}

int llmlab_reduce_sum_bf16(const uint16_t* x, float* out, int64_t rows, int64_t cols) {
  return guarded([&] { return llmlab::cuda::reduce_sum(as_bf16(x), out, rows, cols); });
}

}  // extern "C"
