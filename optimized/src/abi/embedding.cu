/// \file
/// \ingroup group_embedding
/// \brief embedding's C ABI (<llmlab/cuda/abi/embedding.h>) over llmlab's kernels, default version.

#include "llmlab/cuda/abi/embedding.h"

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/embedding.cuh"

using llmlab::cuda::abi::as_bf16;
using llmlab::cuda::abi::guarded;

extern "C" {

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

}  // extern "C"
