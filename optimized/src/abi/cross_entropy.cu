/// \file
/// \ingroup group_cross_entropy
/// \brief cross_entropy's C ABI (<llmlab/cuda/abi/cross_entropy.h>) over llmlab's kernels,
/// default version.

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/abi/cross_entropy.h"
#include "llmlab/cuda/cross_entropy.cuh"

using llmlab::cuda::abi::as_bf16;
using llmlab::cuda::abi::guarded;

extern "C" {

int llmlab_cross_entropy_forward_f32(const float* logits, const int32_t* targets, float* losses,
                                     float* lse, int64_t B, int64_t T, int64_t V,
                                     int32_t ignore_index) {
  return guarded([&] {
    return llmlab::cuda::cross_entropy_forward(logits, targets, losses, lse, B, T, V, ignore_index);
  });
}

int llmlab_cross_entropy_forward_bf16(const uint16_t* logits, const int32_t* targets, float* losses,
                                      float* lse, int64_t B, int64_t T, int64_t V,
                                      int32_t ignore_index) {
  return guarded([&] {
    return llmlab::cuda::cross_entropy_forward(as_bf16(logits), targets, losses, lse, B, T, V,
                                               ignore_index);
  });
}

int llmlab_cross_entropy_backward_f32(const float* logits, const int32_t* targets, const float* lse,
                                      const float* dlosses, float* dlogits, int64_t B, int64_t T,
                                      int64_t V, int32_t ignore_index) {
  return guarded([&] {
    return llmlab::cuda::cross_entropy_backward(logits, targets, lse, dlosses, dlogits, B, T, V,
                                                ignore_index);
  });
}

int llmlab_cross_entropy_backward_bf16(const uint16_t* logits, const int32_t* targets,
                                       const float* lse, const float* dlosses, uint16_t* dlogits,
                                       int64_t B, int64_t T, int64_t V, int32_t ignore_index) {
  return guarded([&] {
    return llmlab::cuda::cross_entropy_backward(as_bf16(logits), targets, lse, dlosses,
                                                as_bf16(dlogits), B, T, V, ignore_index);
  });
}

}  // extern "C"
