/// \file
/// \ingroup group_vector_add
/// \brief vector_add's C ABI (<llmlab/cuda/abi/vector_add.h>) over llmlab's kernels, default version.

#include "llmlab/cuda/abi/vector_add.h"

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/vector_add.cuh"

using llmlab::cuda::abi::as_bf16;
using llmlab::cuda::abi::guarded;

extern "C" {

int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n) {
  return guarded([&] { return llmlab::cuda::vector_add(a, b, c, n); });
}

int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t n) {
  return guarded([&] { return llmlab::cuda::vector_add(as_bf16(a), as_bf16(b), as_bf16(c), n); });
}

}  // extern "C"
