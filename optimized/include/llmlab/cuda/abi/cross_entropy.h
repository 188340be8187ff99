#ifndef LLMLAB_CUDA_ABI_CROSS_ENTROPY_H
#define LLMLAB_CUDA_ABI_CROSS_ENTROPY_H
/**
 * \file
 * \ingroup group_cross_entropy
 * \brief cross_entropy's C ABI: the symbols a kernel library exports for `llmlab verify
 *        cross_entropy` (the rules every plugin follows: <llmlab/cuda/abi.h>).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Per-token loss and log-sum-exp of fp32 logits, in fp32:
 *        \f$ \mathrm{lse}_r = m_r + \log \sum_v e^{x_{r,v} - m_r} \f$ and
 *        \f$ \ell_r = \mathrm{lse}_r - x_{r,y_r} \f$, 0 where \f$ y_r \f$ = ignore_index.
 * \param logits (B, T, V) device, fp32   \param targets (B, T) device, int32, in [0, V) or
 *        ignore_index   \param losses (B, T) device, fp32   \param lse (B, T) device, fp32
 * \param B \f$ \ge 0 \f$   \param T \f$ \ge 0 \f$   \param V \f$ \ge 1 \f$ when B·T > 0
 * \param ignore_index the target without a loss (PyTorch's default: −100)
 * \return 0, or a cudaError_t value (1 for bad arguments, a target out of range included)
 */
int llmlab_cross_entropy_forward_f32(const float* logits, const int32_t* targets, float* losses,
                                     float* lse, int64_t B, int64_t T, int64_t V,
                                     int32_t ignore_index);

/**
 * \brief The forward with bf16 logits, computed in fp32; losses and lse fp32.
 * \param logits (B, T, V) device, bf16 bits   \param targets (B, T) device, int32
 * \param losses (B, T) device, fp32   \param lse (B, T) device, fp32
 * \param B \f$ \ge 0 \f$   \param T \f$ \ge 0 \f$   \param V \f$ \ge 1 \f$ when B·T > 0
 * \param ignore_index the target without a loss
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_cross_entropy_forward_bf16(const uint16_t* logits, const int32_t* targets,
                                      float* losses, float* lse, int64_t B, int64_t T, int64_t V,
                                      int32_t ignore_index);

/**
 * \brief The gradient of the losses with respect to fp32 logits, **overwritten** (dlogits may be
 *        the logits: in place):
 *        \f$ \mathrm{dlogits}_{r,v} = (e^{x_{r,v} - \mathrm{lse}_r} - [v = y_r])\,
 *        \mathrm{dloss}_r \f$, 0 on ignored rows.
 * \param logits (B, T, V) device, fp32   \param targets (B, T) device, int32
 * \param lse (B, T) device, fp32 (the forward's)   \param dlosses (B, T) device, fp32
 * \param dlogits (B, T, V) device, fp32   \param B \f$ \ge 0 \f$   \param T \f$ \ge 0 \f$
 * \param V \f$ \ge 1 \f$ when B·T > 0   \param ignore_index the target without a gradient
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_cross_entropy_backward_f32(const float* logits, const int32_t* targets,
                                      const float* lse, const float* dlosses, float* dlogits,
                                      int64_t B, int64_t T, int64_t V, int32_t ignore_index);

/**
 * \brief The backward with bf16 logits and dlogits, computed in fp32, each dlogit rounded once.
 * \param logits (B, T, V) device, bf16 bits   \param targets (B, T) device, int32
 * \param lse (B, T) device, fp32   \param dlosses (B, T) device, fp32
 * \param dlogits (B, T, V) device, bf16 bits (may be the logits)
 * \param B \f$ \ge 0 \f$   \param T \f$ \ge 0 \f$   \param V \f$ \ge 1 \f$ when B·T > 0
 * \param ignore_index the target without a gradient
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_cross_entropy_backward_bf16(const uint16_t* logits, const int32_t* targets,
                                       const float* lse, const float* dlosses, uint16_t* dlogits,
                                       int64_t B, int64_t T, int64_t V, int32_t ignore_index);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_CROSS_ENTROPY_H */
