#ifndef LLMLAB_CUDA_ABI_MATMUL_H
#define LLMLAB_CUDA_ABI_MATMUL_H
/**
 * \file
 * \ingroup group_matmul
 * \brief matmul's C ABI: the symbols a kernel library exports for `llmlab verify matmul` (the rules
 *        every plugin follows: <llmlab/cuda/abi.h>).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief The linear layer in fp32: \f$ y_{n,o} = \sum_{i<\mathrm{in}} x_{n,i} W_{o,i} + b_o \f$
 *        (\f$ y = x W^\top + b \f$, as `torch.nn.Linear`).
 * \param x (N, in) device, fp32, row-major   \param w (out, in) device, fp32, row-major
 * \param b (out) device, fp32   \param y (N, out) device, fp32 (no aliasing)
 * \param N rows \f$ \ge 0 \f$   \param in inner dimension \f$ \ge 0 \f$ (0 writes b)
 * \param out outputs per row \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_matmul_forward_f32(const float* x, const float* w, const float* b, float* y, int64_t N,
                              int64_t in, int64_t out);

/**
 * \brief The linear layer in bf16: \f$ y_{n,o} = \mathrm{bf16}\big(\sum_i x_{n,i} W_{o,i} + b_o\big)
 *        \f$, products and sums in fp32, rounded once to nearest-even.
 * \param x (N, in) device, bf16 bits   \param w (out, in) device, bf16 bits
 * \param b (out) device, bf16 bits   \param y (N, out) device, bf16 bits (no aliasing)
 * \param N rows \f$ \ge 0 \f$   \param in inner dimension \f$ \ge 0 \f$
 * \param out outputs per row \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_matmul_forward_bf16(const uint16_t* x, const uint16_t* w, const uint16_t* b,
                               uint16_t* y, int64_t N, int64_t in, int64_t out);

/**
 * \brief Backward of the fp32 linear layer, **accumulated** into the gradients (+=):
 *        \f$ dx \mathrel{+}= dy\, W \f$, \f$ dW \mathrel{+}= dy^\top x \f$,
 *        \f$ db_o \mathrel{+}= \sum_n dy_{n,o} \f$.
 * \param dy (N, out) device, fp32   \param x (N, in) device, fp32   \param w (out, in) device, fp32
 * \param dx (N, in) device, fp32, accumulated   \param dw (out, in) device, fp32, accumulated
 * \param db (out) device, fp32, accumulated
 * \param N rows \f$ \ge 0 \f$   \param in inner dimension \f$ \ge 0 \f$
 * \param out outputs per row \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_matmul_backward_f32(const float* dy, const float* x, const float* w, float* dx,
                               float* dw, float* db, int64_t N, int64_t in, int64_t out);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_MATMUL_H */
