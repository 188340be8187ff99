/// \file
/// \ingroup group_attention
/// \brief attention's C ABI (<llmlab/cuda/abi/attention.h>) over llmlab's kernels, default
/// version (FlashAttention-2).

#include <cstdint>

#include "abi_common.cuh"
#include "llmlab/cuda/abi/attention.h"
#include "llmlab/cuda/attention.cuh"

using llmlab::cuda::abi::as_bf16;
using llmlab::cuda::abi::guarded;

extern "C" {

int llmlab_attention_forward_f32(const float* q, const float* k, const float* v, float* out,
                                 float* lse, int64_t B, int64_t H, int64_t T, int64_t D,
                                 int causal) {
  return guarded(
      [&] { return llmlab::cuda::attention_forward(q, k, v, out, lse, B, H, T, D, causal != 0); });
}

int llmlab_attention_forward_bf16(const uint16_t* q, const uint16_t* k, const uint16_t* v,
                                  uint16_t* out, float* lse, int64_t B, int64_t H, int64_t T,
                                  int64_t D, int causal) {
  return guarded([&] {
    return llmlab::cuda::attention_forward(as_bf16(q), as_bf16(k), as_bf16(v), as_bf16(out), lse, B,
                                           H, T, D, causal != 0);
  });
}

int llmlab_attention_backward_f32(const float* dout, const float* q, const float* k, const float* v,
                                  const float* out, const float* lse, float* dq, float* dk,
                                  float* dv, int64_t B, int64_t H, int64_t T, int64_t D,
                                  int causal) {
  return guarded([&] {
    return llmlab::cuda::attention_backward(dout, q, k, v, out, lse, dq, dk, dv, B, H, T, D,
                                            causal != 0);
  });
}

int llmlab_attention_backward_bf16(const uint16_t* dout, const uint16_t* q, const uint16_t* k,
                                   const uint16_t* v, const uint16_t* out, const float* lse,
                                   uint16_t* dq, uint16_t* dk, uint16_t* dv, int64_t B, int64_t H,
                                   int64_t T, int64_t D, int causal) {
  return guarded([&] {
    return llmlab::cuda::attention_backward(as_bf16(dout), as_bf16(q), as_bf16(k), as_bf16(v),
                                            as_bf16(out), lse, as_bf16(dq), as_bf16(dk),
                                            as_bf16(dv), B, H, T, D, causal != 0);
  });
}

}  // extern "C"
