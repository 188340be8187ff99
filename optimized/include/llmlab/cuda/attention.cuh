#pragma once
/// \file
/// \ingroup group_attention
/// \brief Scaled dot-product attention over heads on the GPU, forward and backward (versions in
/// src/attention.cu): naive kernels that materialise the T×T scores, and FlashAttention-2.

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// Number of numbered attention_forward versions (1 naive, 2 flash); 0 = the best.
inline constexpr int attention_forward_versions = 2;
/// Number of numbered attention_backward versions (1 naive, 2 flash); 0 = the best.
inline constexpr int attention_backward_versions = 2;
/// The largest head dimension D the kernels support (a thread keeps rows of D floats).
inline constexpr std::int64_t attention_max_head_dim = 128;

/// Attention of every head (b, h) of q, k, v (B, H, T, D), in fp32:
/// \f$ S = Q K^\top / \sqrt{D} \f$ (\f$ S_{ij} = -\infty \f$ for \f$ j > i \f$ when causal),
/// \f$ O = \mathrm{softmax}(S)\, V \f$ and \f$ L_i = \log \sum_j e^{S_{ij}} \f$.
/// Version 1 (naive) allocates a B·H·T·T fp32 workspace for the scores and frees it before
/// returning; version 2 (flash, the default) allocates nothing.
/// @param q (B, H, T, D) device   @param k (B, H, T, D) device   @param v (B, H, T, D) device
/// @param out (B, H, T, D) device, overwritten   @param lse (B, H, T) device fp32, overwritten
/// @param B batch   @param H heads   @param T sequence length (≥ 1)
/// @param D head dimension, 1 … attention_max_head_dim
/// @param causal whether query i sees only keys j ≤ i
/// @param version 0 = the best (default), 1 … attention_forward_versions a numbered one
/// @returns the last launch's cudaError_t (cudaSuccess without a launch when B·H = 0)
/// @throws llmlab::Error naming the argument when B or H < 0, T < 1, D < 1 or
///         D > attention_max_head_dim, a pointer is null while B·H > 0, B·H or T is too large for
///         one grid, or the version is out of range.
cudaError_t attention_forward(const float* q, const float* k, const float* v, float* out,
                              float* lse, std::int64_t B, std::int64_t H, std::int64_t T,
                              std::int64_t D, bool causal = true, int version = 0);
/// bf16 q, k, v and out, fp32 inside and fp32 lse: each output rounded once to bf16 at the end.
/// @param q (B, H, T, D)   @param k (B, H, T, D)   @param v (B, H, T, D)
/// @param out (B, H, T, D)   @param lse (B, H, T) fp32   @param B batch   @param H heads
/// @param T sequence length   @param D head dimension   @param causal the mask
/// @param version 0 = the best, 1 … attention_forward_versions
/// @returns the last launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t attention_forward(const __nv_bfloat16* q, const __nv_bfloat16* k,
                              const __nv_bfloat16* v, __nv_bfloat16* out, float* lse,
                              std::int64_t B, std::int64_t H, std::int64_t T, std::int64_t D,
                              bool causal = true, int version = 0);

/// Backward of attention_forward from its O and L, in fp32, with P recomputed from L
/// (\f$ P_{ij} = e^{S_{ij} - L_i} \f$) and \f$ D_i = \sum_d \mathrm{dO}_{id} O_{id} \f$:
/// \f$ \mathrm{dV} = P^\top \mathrm{dO} \f$, \f$ \mathrm{dS} = P \circ (\mathrm{dO}\, V^\top -
/// D) \f$, \f$ \mathrm{dQ} = \mathrm{dS}\, K / \sqrt{D} \f$,
/// \f$ \mathrm{dK} = \mathrm{dS}^\top Q / \sqrt{D} \f$. dq, dk and dv are **overwritten** (q, k
/// and v are activations). Deterministic: every element is summed by one thread in a fixed order
/// (no atomics), so two runs give the same bits. Workspace (allocated and freed here): version 1
/// two B·H·T·T fp32 matrices and B·H·T floats; version 2 (flash, the default) B·H·T floats.
/// @param dout (B, H, T, D) device   @param q (B, H, T, D)   @param k (B, H, T, D)
/// @param v (B, H, T, D)   @param out (B, H, T, D) the forward's O
/// @param lse (B, H, T) fp32, the forward's L
/// @param dq (B, H, T, D), overwritten   @param dk (B, H, T, D), overwritten
/// @param dv (B, H, T, D), overwritten
/// @param B batch   @param H heads   @param T sequence length (≥ 1)
/// @param D head dimension, 1 … attention_max_head_dim   @param causal as in the forward
/// @param version 0 = the best (default), 1 … attention_backward_versions a numbered one
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as attention_forward.
cudaError_t attention_backward(const float* dout, const float* q, const float* k, const float* v,
                               const float* out, const float* lse, float* dq, float* dk, float* dv,
                               std::int64_t B, std::int64_t H, std::int64_t T, std::int64_t D,
                               bool causal = true, int version = 0);
/// bf16 dout, q, k, v, out, dq, dk and dv; fp32 lse and fp32 inside, each gradient rounded once.
/// @param dout (B, H, T, D)   @param q (B, H, T, D)   @param k (B, H, T, D)
/// @param v (B, H, T, D)   @param out (B, H, T, D)   @param lse (B, H, T) fp32
/// @param dq (B, H, T, D)   @param dk (B, H, T, D)   @param dv (B, H, T, D)
/// @param B batch   @param H heads   @param T sequence length   @param D head dimension
/// @param causal the mask   @param version 0 = the best, 1 … attention_backward_versions
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t attention_backward(const __nv_bfloat16* dout, const __nv_bfloat16* q,
                               const __nv_bfloat16* k, const __nv_bfloat16* v,
                               const __nv_bfloat16* out, const float* lse, __nv_bfloat16* dq,
                               __nv_bfloat16* dk, __nv_bfloat16* dv, std::int64_t B, std::int64_t H,
                               std::int64_t T, std::int64_t D, bool causal = true, int version = 0);

/// attention_backward with the caller's workspace for \f$ D_i \f$ (B·H·T floats of device memory),
/// so that the default (flash) version allocates nothing — what a training step composed of it
/// needs (llmlab::cuda::Gpt). Version 1 still allocates its two B·H·T·T matrices.
/// @param dout (B, H, T, D)   @param q (B, H, T, D)   @param k (B, H, T, D)
/// @param v (B, H, T, D)   @param out (B, H, T, D)   @param lse (B, H, T) fp32
/// @param dq (B, H, T, D)   @param dk (B, H, T, D)   @param dv (B, H, T, D)
/// @param B batch   @param H heads   @param T sequence length   @param D head dimension
/// @param causal the mask   @param version 0 = the best, 1 … attention_backward_versions
/// @param workspace B·H·T floats of device memory, overwritten
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as the overload without it, and naming `workspace` when it is null.
cudaError_t attention_backward(const float* dout, const float* q, const float* k, const float* v,
                               const float* out, const float* lse, float* dq, float* dk, float* dv,
                               std::int64_t B, std::int64_t H, std::int64_t T, std::int64_t D,
                               bool causal, int version, float* workspace);
/// The bf16 attention_backward with the caller's workspace (B·H·T floats).
/// @param dout (B, H, T, D)   @param q (B, H, T, D)   @param k (B, H, T, D)
/// @param v (B, H, T, D)   @param out (B, H, T, D)   @param lse (B, H, T) fp32
/// @param dq (B, H, T, D)   @param dk (B, H, T, D)   @param dv (B, H, T, D)
/// @param B batch   @param H heads   @param T sequence length   @param D head dimension
/// @param causal the mask   @param version 0 = the best, 1 … attention_backward_versions
/// @param workspace B·H·T floats of device memory, overwritten
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t attention_backward(const __nv_bfloat16* dout, const __nv_bfloat16* q,
                               const __nv_bfloat16* k, const __nv_bfloat16* v,
                               const __nv_bfloat16* out, const float* lse, __nv_bfloat16* dq,
                               __nv_bfloat16* dk, __nv_bfloat16* dv, std::int64_t B, std::int64_t H,
                               std::int64_t T, std::int64_t D, bool causal, int version,
                               float* workspace);

/// The flaws the deliberately wrong flash forward kernels carry (kept so that the tests, the
/// chapter and `llmlab verify` can show the oracle rejecting them).
enum class AttentionFlaw {
  no_rescale,      ///< the accumulator is not multiplied by \f$ e^{m_{old} - m_{new}} \f$ when the
                   ///< running maximum grows (the sum \f$ \ell \f$ still is)
  attends_future,  ///< the causal mask is forgotten inside the diagonal tile: query i sees keys
                   ///< j > i of its own tile
};

/// The flash forward (version 2) with `flaw` built in, fp32: **wrong on purpose**.
/// @param q (B, H, T, D)   @param k (B, H, T, D)   @param v (B, H, T, D)
/// @param out (B, H, T, D)   @param lse (B, H, T)   @param B batch   @param H heads
/// @param T sequence length   @param D head dimension   @param causal the mask
/// @param flaw which mistake
/// @returns the launch's cudaError_t
/// @throws llmlab::Error as attention_forward.
cudaError_t attention_forward_flawed(const float* q, const float* k, const float* v, float* out,
                                     float* lse, std::int64_t B, std::int64_t H, std::int64_t T,
                                     std::int64_t D, bool causal, AttentionFlaw flaw);

}  // namespace llmlab::cuda
