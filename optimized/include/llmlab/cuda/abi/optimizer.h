#ifndef LLMLAB_CUDA_ABI_OPTIMIZER_H
#define LLMLAB_CUDA_ABI_OPTIMIZER_H
/**
 * \file
 * \ingroup group_optimizer
 * \brief The optimizer's C ABI: the symbols a kernel library exports for `llmlab verify
 *        optimizer` (the rules every plugin follows: <llmlab/cuda/abi.h>).
 *
 * Both symbols take a list of `count` parameter tensors as host arrays of device pointers, tensor
 * k having sizes[k] elements, and make one fused AdamW step over all of them (torch.optim.AdamW's
 * arithmetic in fp32), clipping the gradients to the global norm max_norm first when
 * max_norm > 0.
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief One fused AdamW step over fp32 parameters:
 *        \f$ p \leftarrow p(1 - \eta\lambda) - \frac{\eta}{1 - \beta_1^t}
 *        \frac{m}{\sqrt{v}/\sqrt{1 - \beta_2^t} + \varepsilon} \f$ after
 *        \f$ m \leftarrow \beta_1 m + (1 - \beta_1) g \f$, \f$ v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \f$.
 * \param params (count) device pointers to fp32 parameters, each (sizes[k]), updated
 * \param grads (count) device pointers to fp32 gradients (scaled by the clip factor on the fly, not
 *        modified)
 * \param m (count) device pointers, fp32 first moments, updated
 * \param v (count) device pointers, fp32 second moments, updated
 * \param sizes (count) host: the element count of each tensor, \f$ \ge 0 \f$
 * \param count the number of tensors \f$ \ge 0 \f$
 * \param step t \f$ \ge 1 \f$   \param lr \f$ \eta \ge 0 \f$   \param beta1 in [0, 1)
 * \param beta2 in [0, 1)   \param eps \f$ > 0 \f$   \param weight_decay \f$ \lambda \ge 0 \f$
 * \param max_norm clip the gradients to this global norm first when \f$ > 0 \f$ (0: no clipping)
 * \param norm (2) device: the norm before clipping and the clip factor, written when
 *        max_norm > 0 (may be null otherwise)
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_optimizer_adamw_f32(float* const* params, const float* const* grads, float* const* m,
                               float* const* v, const int64_t* sizes, int count, int64_t step,
                               float lr, float beta1, float beta2, float eps, float weight_decay,
                               float max_norm, float* norm);

/**
 * \brief One fused AdamW step over bf16 parameters with fp32 master weights: the step as the fp32
 *        symbol's on the master weights, then each parameter the master weight rounded
 *        stochastically to bf16 with `seed`.
 * \param params (count) device pointers to bf16 parameters (bits), each (sizes[k]), written
 * \param master (count) device pointers to the fp32 master weights, updated
 * \param grads (count) device pointers to fp32 gradients, not modified
 * \param m (count) device pointers, fp32 first moments, updated
 * \param v (count) device pointers, fp32 second moments, updated
 * \param sizes (count) host: element counts   \param count tensors \f$ \ge 0 \f$
 * \param step t \f$ \ge 1 \f$   \param lr \f$ \eta \ge 0 \f$   \param beta1 in [0, 1)
 * \param beta2 in [0, 1)   \param eps \f$ > 0 \f$   \param weight_decay \f$ \lambda \ge 0 \f$
 * \param max_norm as the fp32 symbol's   \param norm (2) device, as the fp32 symbol's
 * \param seed the stochastic rounding's seed
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_optimizer_adamw_bf16(uint16_t* const* params, float* const* master,
                                const float* const* grads, float* const* m, float* const* v,
                                const int64_t* sizes, int count, int64_t step, float lr,
                                float beta1, float beta2, float eps, float weight_decay,
                                float max_norm, float* norm, uint32_t seed);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_OPTIMIZER_H */
