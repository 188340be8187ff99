#ifndef LLMLAB_CUDA_ABI_RESIDUAL_H
#define LLMLAB_CUDA_ABI_RESIDUAL_H
/**
 * \file
 * \ingroup group_residual
 * \brief residual's C ABI: the symbols a kernel library exports for `llmlab verify residual` (the rules
 *        every plugin follows: <llmlab/cuda/abi.h>).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief The residual add in fp32: \f$ \mathrm{out}_i = a_i + b_i \f$.
 * \param a (n) device, fp32   \param b (n) device, fp32   \param out (n) device, fp32
 * \param n number of elements, \f$ n \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_residual_forward_f32(const float* a, const float* b, float* out, int64_t n);

/**
 * \brief Backward of the residual add in fp32, **accumulated** (+=):
 *        \f$ \mathrm{da}_i \mathrel{+}= \mathrm{dout}_i \f$, \f$ \mathrm{db}_i \mathrel{+}= \mathrm{dout}_i \f$.
 * \param dout (n) device, fp32   \param da (n) device, fp32, accumulated
 * \param db (n) device, fp32, accumulated (no aliasing)   \param n number of elements
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_residual_backward_f32(const float* dout, float* da, float* db, int64_t n);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_RESIDUAL_H */
