#ifndef LLMLAB_CUDA_ABI_SOFTMAX_H
#define LLMLAB_CUDA_ABI_SOFTMAX_H
/**
 * \file
 * \ingroup group_softmax
 * \brief softmax's C ABI: the symbols a kernel library exports for `llmlab verify softmax` (the rules
 *        every plugin follows: <llmlab/cuda/abi.h>).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Softmax of each row in fp32, the row maximum subtracted first:
 *        \f$ y_{r,j} = e^{x_{r,j} - m_r} / \sum_k e^{x_{r,k} - m_r},\ m_r = \max_k x_{r,k} \f$.
 * \param x (R, C) device, fp32, row-major   \param y (R, C) device, fp32 (no aliasing)
 * \param rows R \f$ \ge 0 \f$   \param cols C \f$ \ge 1 \f$ when R > 0 (no softmax of 0 values)
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_softmax_forward_f32(const float* x, float* y, int64_t rows, int64_t cols);

/**
 * \brief Softmax of each row in bf16, computed in fp32, each output rounded once to bf16.
 * \param x (R, C) device, bf16 bits   \param y (R, C) device, bf16 bits (no aliasing)
 * \param rows R \f$ \ge 0 \f$   \param cols C \f$ \ge 1 \f$ when R > 0
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_softmax_forward_bf16(const uint16_t* x, uint16_t* y, int64_t rows, int64_t cols);

/**
 * \brief Backward of the softmax in fp32 from its output y, **accumulated** (+=):
 *        \f$ \mathrm{dx}_{r,i} \mathrel{+}= y_{r,i} (\mathrm{dy}_{r,i} - \sum_j \mathrm{dy}_{r,j}
 *        y_{r,j}) \f$.
 * \param dy (R, C) device, fp32   \param y (R, C) device, fp32
 * \param dx (R, C) device, fp32, accumulated   \param rows R \f$ \ge 0 \f$
 * \param cols C \f$ \ge 1 \f$ when R > 0
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_softmax_backward_f32(const float* dy, const float* y, float* dx, int64_t rows,
                                int64_t cols);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_SOFTMAX_H */
