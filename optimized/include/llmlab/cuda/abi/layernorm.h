#ifndef LLMLAB_CUDA_ABI_LAYERNORM_H
#define LLMLAB_CUDA_ABI_LAYERNORM_H
/**
 * \file
 * \ingroup group_layernorm
 * \brief layernorm's C ABI: the symbols a kernel library exports for `llmlab verify layernorm` (the rules
 *        every plugin follows: <llmlab/cuda/abi.h>).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Layer normalisation of each row in fp32 (biased variance, as PyTorch):
 *        \f$ y_{r,c} = (x_{r,c} - \mu_r)\, s_r\, w_c + b_c \f$ with
 *        \f$ \mu_r = \frac{1}{C}\sum_c x_{r,c} \f$ and
 *        \f$ s_r = 1/\sqrt{\frac{1}{C}\sum_c (x_{r,c} - \mu_r)^2 + \epsilon} \f$.
 * \param x (N, C) device, fp32, row-major   \param w (C) device, fp32
 * \param b (C) device, fp32   \param y (N, C) device, fp32 (no aliasing)
 * \param mean (N) device, fp32: \f$ \mu \f$   \param rstd (N) device, fp32: \f$ s \f$
 * \param N rows, \f$ \ge 0 \f$   \param C values per row, \f$ \ge 1 \f$ when N > 0
 * \param eps \f$ \epsilon > 0 \f$ (GPT-2: 1e-5)
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_layernorm_forward_f32(const float* x, const float* w, const float* b, float* y,
                                 float* mean, float* rstd, int64_t N, int64_t C, float eps);

/**
 * \brief Layer normalisation in bf16: x, w, b and y in bf16, the math in fp32, y rounded once to
 *        nearest-even; mean and rstd in fp32.
 * \param x (N, C) device, bf16 bits   \param w (C) device, bf16 bits
 * \param b (C) device, bf16 bits   \param y (N, C) device, bf16 bits
 * \param mean (N) device, fp32   \param rstd (N) device, fp32
 * \param N rows, \f$ \ge 0 \f$   \param C values per row, \f$ \ge 1 \f$ when N > 0
 * \param eps \f$ \epsilon > 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_layernorm_forward_bf16(const uint16_t* x, const uint16_t* w, const uint16_t* b,
                                  uint16_t* y, float* mean, float* rstd, int64_t N, int64_t C,
                                  float eps);

/**
 * \brief Backward of layer normalisation in fp32, **accumulated** (+=) and deterministic. With
 *        \f$ \hat{x} = (x - \mu) s \f$ and \f$ g = w \odot dy \f$ (bars: means over the row):
 *        \f$ dx \mathrel{+}= s (g - \bar{g} - \hat{x}\, \overline{g \hat{x}}) \f$,
 *        \f$ dw_c \mathrel{+}= \sum_r \hat{x}_{r,c}\, dy_{r,c} \f$,
 *        \f$ db_c \mathrel{+}= \sum_r dy_{r,c} \f$.
 * \param dy (N, C) device, fp32   \param x (N, C) device, fp32   \param w (C) device, fp32
 * \param mean (N) device, fp32, as the forward wrote it
 * \param rstd (N) device, fp32, as the forward wrote it
 * \param dx (N, C) device, fp32, accumulated
 * \param dw (C) device, fp32, accumulated   \param db (C) device, fp32, accumulated
 * \param N rows, \f$ \ge 0 \f$   \param C values per row, \f$ \ge 1 \f$ when N > 0
 * \return 0, or a cudaError_t value (1 for bad arguments; 2, cudaErrorMemoryAllocation, when the
 *         plugin's scratch for the dw/db partial sums cannot be allocated)
 */
int llmlab_layernorm_backward_f32(const float* dy, const float* x, const float* w,
                                  const float* mean, const float* rstd, float* dx, float* dw,
                                  float* db, int64_t N, int64_t C);

/**
 * \brief Backward of layer normalisation in bf16: dy, x, w and dx in bf16 (dx read, added to in
 *        fp32, rounded once); mean, rstd, dw and db in fp32 (dw, db accumulated).
 * \param dy (N, C) device, bf16 bits   \param x (N, C) device, bf16 bits
 * \param w (C) device, bf16 bits   \param mean (N) device, fp32   \param rstd (N) device, fp32
 * \param dx (N, C) device, bf16 bits, accumulated
 * \param dw (C) device, fp32, accumulated   \param db (C) device, fp32, accumulated
 * \param N rows, \f$ \ge 0 \f$   \param C values per row, \f$ \ge 1 \f$ when N > 0
 * \return 0, or a cudaError_t value (1 for bad arguments, 2 when scratch cannot be allocated)
 */
int llmlab_layernorm_backward_bf16(const uint16_t* dy, const uint16_t* x, const uint16_t* w,
                                   const float* mean, const float* rstd, uint16_t* dx, float* dw,
                                   float* db, int64_t N, int64_t C);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_LAYERNORM_H */
