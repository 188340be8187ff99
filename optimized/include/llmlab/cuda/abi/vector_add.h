#ifndef LLMLAB_CUDA_ABI_VECTOR_ADD_H
#define LLMLAB_CUDA_ABI_VECTOR_ADD_H
/**
 * \file
 * \ingroup group_vector_add
 * \brief vector_add's C ABI: the symbols a kernel library exports for `llmlab verify vector_add` (the rules
 *        every plugin follows: <llmlab/cuda/abi.h>).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Element-wise sum in fp32: \f$ c_i = a_i + b_i,\ 0 \le i < n \f$.
 * \param a (n) device, fp32   \param b (n) device, fp32   \param c (n) device, fp32 (no aliasing)
 * \param n number of elements, \f$ n \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n);

/**
 * \brief Element-wise sum in bf16: \f$ c_i = \mathrm{bf16}(a_i + b_i) \f$, the sum formed in fp32
 *        and rounded once to nearest-even.
 * \param a (n) device, bf16 bits   \param b (n) device, bf16 bits
 * \param c (n) device, bf16 bits (no aliasing)   \param n number of elements, \f$ n \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t n);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_VECTOR_ADD_H */
