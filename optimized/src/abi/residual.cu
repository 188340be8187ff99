/// \file
/// \ingroup group_residual
/// \brief residual's C ABI (<llmlab/cuda/abi/residual.h>) over llmlab's kernels, default version.

#include "llmlab/cuda/abi/residual.h"

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/residual.cuh"

using llmlab::cuda::abi::guarded;

extern "C" {

int llmlab_residual_forward_f32(const float* a, const float* b, float* out, int64_t n) {
  return guarded([&] { return llmlab::cuda::residual_forward(a, b, out, n); });
}

int llmlab_residual_backward_f32(const float* dout, float* da, float* db, int64_t n) {
  return guarded([&] { return llmlab::cuda::residual_backward(dout, da, db, n); });
}

}  // extern "C"
