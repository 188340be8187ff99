#pragma once
/// \file
/// \ingroup group_attention
/// \brief The multi-head attention block GPT calls, on the GPU (src/attention_block.cu): c_attn,
/// split into heads, attention, merge, c_proj — composed from llmlab's matmul and attention
/// launchers, forward and backward, fp32 and bf16.

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// The block's sizes: x (B, T, C), H heads of D = C / H.
struct AttentionBlockDims {
  std::int64_t B;  ///< batch
  std::int64_t T;  ///< sequence length
  std::int64_t C;  ///< channels
  std::int64_t H;  ///< heads (dividing C)
};

/// The block's parameters on the device, with nanoGPT's names, in the activations' dtype E.
template <class E>
struct AttentionBlockWeights {
  const E* c_attn_w;  ///< c_attn.weight (3C, C)
  const E* c_attn_b;  ///< c_attn.bias (3C)
  const E* c_proj_w;  ///< c_proj.weight (C, C)
  const E* c_proj_b;  ///< c_proj.bias (C)
};

/// The parameters' gradients on the device: fp32 in every dtype, **accumulated** (+=).
struct AttentionBlockGrads {
  float* c_attn_w;  ///< (3C, C)
  float* c_attn_b;  ///< (3C)
  float* c_proj_w;  ///< (C, C)
  float* c_proj_b;  ///< (C)
};

/// What the forward saves for the backward: caller-owned device buffers.
template <class E>
struct AttentionBlockSaved {
  E* heads;    ///< (3, B, H, T, D): q, k, v split into heads
  E* merged;   ///< (B·T, C): attention's output with the heads merged (c_proj's input)
  float* lse;  ///< (B, H, T): attention's logsumexp
};

/// The block's forward, fp32:
/// \f$ [Q|K|V] = x W_{\mathrm{attn}}^\top + b_{\mathrm{attn}} \f$, split into heads,
/// \f$ A = \mathrm{attention}(Q, K, V) \f$ (FlashAttention-2), merged, and
/// \f$ y = \mathrm{merge}(A) W_{\mathrm{proj}}^\top + b_{\mathrm{proj}} \f$. A B·T·3C workspace
/// for [Q|K|V] and a B·H·T·D one for A are allocated and freed here.
/// @param x (B, T, C) device   @param w the parameters   @param y (B, T, C) device, overwritten
/// @param saved filled for the backward   @param dims (B, T, C, H)
/// @param causal attention's mask (GPT: true)
/// @returns the last runtime call's cudaError_t (cudaSuccess without a launch when B·T = 0)
/// @throws llmlab::Error naming `attention_block_forward` and the argument when a size is
///         negative, H does not divide C, a pointer is null, or as attention_forward (T, D = C/H).
cudaError_t attention_block_forward(const float* x, const AttentionBlockWeights<float>& w, float* y,
                                    const AttentionBlockSaved<float>& saved,
                                    AttentionBlockDims dims, bool causal = true);
/// bf16 activations and parameters, fp32 inside each kernel; each stored activation rounded once.
/// @param x (B, T, C)   @param w the parameters   @param y (B, T, C)   @param saved for backward
/// @param dims (B, T, C, H)   @param causal the mask
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t attention_block_forward(const __nv_bfloat16* x,
                                    const AttentionBlockWeights<__nv_bfloat16>& w, __nv_bfloat16* y,
                                    const AttentionBlockSaved<__nv_bfloat16>& saved,
                                    AttentionBlockDims dims, bool causal = true);

/// The block's backward, fp32, written against the forward step by step: c_proj's backward
/// (into dmerged and the c_proj gradients), the split of dmerged, attention_backward, the merge
/// of dQ, dK, dV into d[Q|K|V], c_attn's backward (into dx and the c_attn gradients). dx and
/// every parameter gradient **accumulate** (+=). Workspace (allocated and freed here): B·T·C for
/// dmerged, two B·H·T·D for A and dA, 3·B·H·T·D for dQ, dK, dV and B·T·3C for d[Q|K|V].
/// @param dy (B, T, C)   @param x (B, T, C) the forward's input   @param w the parameters
/// @param saved the forward's   @param dx (B, T, C), accumulated
/// @param grads the parameters' fp32 gradients, accumulated   @param dims (B, T, C, H)
/// @param causal as in the forward
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as attention_block_forward, naming `attention_block_backward`.
cudaError_t attention_block_backward(const float* dy, const float* x,
                                     const AttentionBlockWeights<float>& w,
                                     const AttentionBlockSaved<float>& saved, float* dx,
                                     const AttentionBlockGrads& grads, AttentionBlockDims dims,
                                     bool causal = true);
/// bf16 dy, x, parameters, saved activations and dx; fp32 parameter gradients.
/// @param dy (B, T, C)   @param x (B, T, C)   @param w the parameters   @param saved the forward's
/// @param dx (B, T, C), accumulated   @param grads fp32, accumulated   @param dims (B, T, C, H)
/// @param causal the mask
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t attention_block_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x,
                                     const AttentionBlockWeights<__nv_bfloat16>& w,
                                     const AttentionBlockSaved<__nv_bfloat16>& saved,
                                     __nv_bfloat16* dx, const AttentionBlockGrads& grads,
                                     AttentionBlockDims dims, bool causal = true);

/// A caller-owned workspace for the block, so that a training step allocates nothing
/// (llmlab::cuda::Gpt carves it from its activation buffer).
template <class E>
struct AttentionBlockWorkspace {
  E* e = nullptr;      ///< attention_block_workspace_size().elements elements of E
  float* f = nullptr;  ///< attention_block_workspace_size().floats floats (the backward's)
};

/// The sizes of an AttentionBlockWorkspace.
struct AttentionBlockWorkspaceSize {
  std::int64_t elements;  ///< of E: 9·B·T·C (the backward's dmerged, A, dA, dQKV heads and rows)
  std::int64_t floats;    ///< B·H·T (attention_backward's \f$ D_i \f$)
};

/// What the workspace overloads need for `dims`: \f$ 9BTC \f$ elements of the activations' dtype
/// (the backward's largest need; the forward uses the first \f$ 4BTC \f$) and \f$ BHT \f$ floats.
/// @param dims (B, T, C, H)   @returns the sizes
/// @throws llmlab::Error naming `attention_block_workspace_size` when a size is negative or H does
///         not divide C.
AttentionBlockWorkspaceSize attention_block_workspace_size(AttentionBlockDims dims);

/// attention_block_forward in the caller's workspace (nothing allocated).
/// @param x (B, T, C)   @param w the parameters   @param y (B, T, C), overwritten
/// @param saved filled for the backward   @param dims (B, T, C, H)   @param causal the mask
/// @param workspace e: attention_block_workspace_size(dims).elements (f unused)
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as the overload without it, and naming `workspace.e` when it is null.
cudaError_t attention_block_forward(const float* x, const AttentionBlockWeights<float>& w, float* y,
                                    const AttentionBlockSaved<float>& saved,
                                    AttentionBlockDims dims, bool causal,
                                    const AttentionBlockWorkspace<float>& workspace);
/// The bf16 attention_block_forward in the caller's workspace.
/// @param x (B, T, C)   @param w the parameters   @param y (B, T, C)   @param saved for backward
/// @param dims (B, T, C, H)   @param causal the mask   @param workspace as the fp32 overload
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t attention_block_forward(const __nv_bfloat16* x,
                                    const AttentionBlockWeights<__nv_bfloat16>& w, __nv_bfloat16* y,
                                    const AttentionBlockSaved<__nv_bfloat16>& saved,
                                    AttentionBlockDims dims, bool causal,
                                    const AttentionBlockWorkspace<__nv_bfloat16>& workspace);
/// attention_block_backward in the caller's workspace (nothing allocated).
/// @param dy (B, T, C)   @param x (B, T, C)   @param w the parameters   @param saved the forward's
/// @param dx (B, T, C), accumulated   @param grads fp32, accumulated   @param dims (B, T, C, H)
/// @param causal the mask   @param workspace both parts, attention_block_workspace_size(dims)
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as the overload without it, and naming `workspace.e` or `workspace.f`
///         when null.
cudaError_t attention_block_backward(const float* dy, const float* x,
                                     const AttentionBlockWeights<float>& w,
                                     const AttentionBlockSaved<float>& saved, float* dx,
                                     const AttentionBlockGrads& grads, AttentionBlockDims dims,
                                     bool causal, const AttentionBlockWorkspace<float>& workspace);
/// The bf16 attention_block_backward in the caller's workspace.
/// @param dy (B, T, C)   @param x (B, T, C)   @param w the parameters   @param saved the forward's
/// @param dx (B, T, C), accumulated   @param grads fp32, accumulated   @param dims (B, T, C, H)
/// @param causal the mask   @param workspace as the fp32 overload
/// @returns the last runtime call's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t attention_block_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x,
                                     const AttentionBlockWeights<__nv_bfloat16>& w,
                                     const AttentionBlockSaved<__nv_bfloat16>& saved,
                                     __nv_bfloat16* dx, const AttentionBlockGrads& grads,
                                     AttentionBlockDims dims, bool causal,
                                     const AttentionBlockWorkspace<__nv_bfloat16>& workspace);

}  // namespace llmlab::cuda
