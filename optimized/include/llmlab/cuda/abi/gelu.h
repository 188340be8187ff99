#ifndef LLMLAB_CUDA_ABI_GELU_H
#define LLMLAB_CUDA_ABI_GELU_H
/**
 * \file
 * \ingroup group_gelu
 * \brief gelu's C ABI: the symbols a kernel library exports for `llmlab verify gelu` (the rules
 *        every plugin follows: <llmlab/cuda/abi.h>).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief GELU, GPT-2's tanh approximation, in fp32:
 *        \f$ y_i = \tfrac{1}{2} x_i (1 + \tanh(\sqrt{2/\pi}(x_i + 0.044715 x_i^3))) \f$.
 * \param x (n) device, fp32   \param y (n) device, fp32 (may equal x)
 * \param n elements \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_gelu_forward_f32(const float* x, float* y, int64_t n);

/**
 * \brief GELU in bf16: computed in fp32, each output rounded once to nearest-even.
 * \param x (n) device, bf16 bits   \param y (n) device, bf16 bits (may equal x)
 * \param n elements \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_gelu_forward_bf16(const uint16_t* x, uint16_t* y, int64_t n);

/**
 * \brief Backward of GELU in fp32, **accumulated** (+=):
 *        \f$ dx_i \mathrel{+}= \mathrm{gelu}'(x_i)\, dy_i \f$.
 * \param dy (n) device, fp32   \param x (n) device, fp32
 * \param dx (n) device, fp32, accumulated (aliasing neither dy nor x)
 * \param n elements \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_gelu_backward_f32(const float* dy, const float* x, float* dx, int64_t n);

/**
 * \brief Backward of GELU in bf16: dx read, \f$ \mathrm{gelu}'(x)\, dy \f$ added in fp32, rounded
 *        once.
 * \param dy (n) device, bf16 bits   \param x (n) device, bf16 bits
 * \param dx (n) device, bf16 bits, accumulated   \param n elements \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_gelu_backward_bf16(const uint16_t* dy, const uint16_t* x, uint16_t* dx, int64_t n);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_GELU_H */
