/// \file
/// \ingroup group_matmul
/// \brief matmul's C ABI (<llmlab/cuda/abi/matmul.h>) over llmlab's kernels: the fp32 backward.

#include "llmlab/cuda/abi/matmul.h"

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/matmul.cuh"

using llmlab::cuda::abi::guarded;

extern "C" {

int llmlab_matmul_backward_f32(const float* dy, const float* x, const float* w, float* dx,
                               float* dw, float* db, int64_t N, int64_t in, int64_t out) {
  return guarded([&] { return llmlab::cuda::matmul_backward(dy, x, w, dx, dw, db, N, in, out); });
}

}  // extern "C"
