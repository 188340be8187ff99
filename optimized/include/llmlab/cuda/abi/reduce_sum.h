#ifndef LLMLAB_CUDA_ABI_REDUCE_SUM_H
#define LLMLAB_CUDA_ABI_REDUCE_SUM_H
/**
 * \file
 * \ingroup group_reduce_sum
 * \brief reduce_sum's C ABI: the symbols a kernel library exports for `llmlab verify reduce_sum` (the rules
 *        every plugin follows: <llmlab/cuda/abi.h>).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Row-wise sum in fp32: \f$ \mathrm{out}_r = \sum_{c=0}^{C-1} x_{r,c},\ 0 \le r < R \f$.
 * \param x (R, C) device, fp32, row-major   \param out (R) device, fp32
 * \param rows R \f$ \ge 0 \f$   \param cols C \f$ \ge 0 \f$ (C = 0 writes zeros)
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_reduce_sum_f32(const float* x, float* out, int64_t rows, int64_t cols);

/**
 * \brief Row-wise sum of bf16 input, accumulated and written in fp32:
 *        \f$ \mathrm{out}_r = \sum_{c=0}^{C-1} x_{r,c} \f$.
 * \param x (R, C) device, bf16 bits, row-major   \param out (R) device, fp32
 * \param rows R \f$ \ge 0 \f$   \param cols C \f$ \ge 0 \f$ (C = 0 writes zeros)
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_reduce_sum_bf16(const uint16_t* x, float* out, int64_t rows, int64_t cols);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_REDUCE_SUM_H */
