#pragma once
/// \file
/// \ingroup group_cross_entropy
/// \brief Cross-entropy of next-token logits on the GPU: the per-token loss and log-sum-exp, and
/// the backward that may write dlogits in place over the logits (versions in
/// src/cross_entropy.cu).

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// Number of numbered cross_entropy_forward versions (1 … cross_entropy_forward_versions); 0 = the
/// best.
inline constexpr int cross_entropy_forward_versions = 2;
/// Number of numbered cross_entropy_backward versions (1 … cross_entropy_backward_versions);
/// 0 = the best.
inline constexpr int cross_entropy_backward_versions = 2;
/// The target that marks a position without a loss or a gradient: PyTorch's default −100.
inline constexpr std::int32_t kCrossEntropyIgnoreIndex = -100;

/// The loss and log-sum-exp of every position, in fp32:
/// \f$ \mathrm{lse}_r = m_r + \log \sum_v e^{x_{r,v} - m_r},\ m_r = \max_v x_{r,v} \f$ and
/// \f$ \ell_r = \mathrm{lse}_r - x_{r,y_r} \f$, with \f$ \ell_r = 0 \f$ where
/// \f$ y_r = \mathrm{ignore\_index} \f$ (r = b·T + t). A row with a NaN or \f$ +\infty \f$ gets
/// lse NaN, as the reference does.
/// @param logits (B, T, V) device   @param targets (B, T) device, int32, each in [0, V) or
///        ignore_index   @param losses (B, T) device, fp32   @param lse (B, T) device, fp32
/// @param B, T, V the sizes (V ≥ 1 when B·T > 0)
/// @param ignore_index the target without a loss (default −100)
/// @param version 0 = the best (default), 1 … cross_entropy_forward_versions a numbered one
/// @returns the first failing call's cudaError_t (cudaSuccess without a launch when B·T == 0)
/// @throws llmlab::Error naming the argument when a size is negative, V = 0 with B·T > 0, a
///         pointer is null, the version is out of range, or a target is outside [0, V) and not
///         ignore_index (the launcher copies the B·T targets to the host to check them, naming
///         [b, t] and the value).
cudaError_t cross_entropy_forward(const float* logits, const std::int32_t* targets, float* losses,
                                  float* lse, std::int64_t B, std::int64_t T, std::int64_t V,
                                  std::int32_t ignore_index = kCrossEntropyIgnoreIndex,
                                  int version = 0);
/// bf16 logits, fp32 inside; losses and lse fp32.
/// @param logits (B, T, V) device, bf16   @param targets (B, T) device, int32
/// @param losses (B, T) device, fp32   @param lse (B, T) device, fp32   @param B, T, V the sizes
/// @param ignore_index the target without a loss
/// @param version 0 = the best (default), 1 … cross_entropy_forward_versions a numbered one
/// @returns the first failing call's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t cross_entropy_forward(const __nv_bfloat16* logits, const std::int32_t* targets,
                                  float* losses, float* lse, std::int64_t B, std::int64_t T,
                                  std::int64_t V,
                                  std::int32_t ignore_index = kCrossEntropyIgnoreIndex,
                                  int version = 0);

/// The gradient of the losses with respect to the logits, from the forward's lse, in fp32:
/// \f$ \mathrm{dlogits}_{r,v} = (e^{x_{r,v} - \mathrm{lse}_r} - [v = y_r]) \cdot
/// \mathrm{dloss}_r \f$, and 0 on every row whose target is ignore_index. **Overwrites** dlogits,
/// which may be the logits themselves (in place, as llm.c's fused classifier does: the logits are
/// not needed once their gradient exists).
/// @param logits (B, T, V) device   @param targets (B, T) device, int32
/// @param lse (B, T) device, fp32, cross_entropy_forward's
/// @param dlosses (B, T) device, fp32   @param dlogits (B, T, V) device (may equal logits)
/// @param B, T, V the sizes   @param ignore_index the target without a gradient
/// @param version 0 = the best (default), 1 … cross_entropy_backward_versions a numbered one
/// @returns the first failing call's cudaError_t (cudaSuccess without a launch when B·T == 0)
/// @throws llmlab::Error as cross_entropy_forward.
cudaError_t cross_entropy_backward(const float* logits, const std::int32_t* targets,
                                   const float* lse, const float* dlosses, float* dlogits,
                                   std::int64_t B, std::int64_t T, std::int64_t V,
                                   std::int32_t ignore_index = kCrossEntropyIgnoreIndex,
                                   int version = 0);
/// bf16 logits and dlogits, fp32 inside, each dlogit rounded once to bf16.
/// @param logits (B, T, V) device, bf16   @param targets (B, T) device, int32
/// @param lse (B, T) device, fp32   @param dlosses (B, T) device, fp32
/// @param dlogits (B, T, V) device, bf16 (may equal logits)   @param B, T, V the sizes
/// @param ignore_index the target without a gradient
/// @param version 0 = the best (default), 1 … cross_entropy_backward_versions a numbered one
/// @returns the first failing call's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t cross_entropy_backward(const __nv_bfloat16* logits, const std::int32_t* targets,
                                   const float* lse, const float* dlosses, __nv_bfloat16* dlogits,
                                   std::int64_t B, std::int64_t T, std::int64_t V,
                                   std::int32_t ignore_index = kCrossEntropyIgnoreIndex,
                                   int version = 0);

}  // namespace llmlab::cuda
