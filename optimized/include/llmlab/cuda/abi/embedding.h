#ifndef LLMLAB_CUDA_ABI_EMBEDDING_H
#define LLMLAB_CUDA_ABI_EMBEDDING_H
/**
 * \file
 * \ingroup group_embedding
 * \brief embedding's C ABI: the symbols a kernel library exports for `llmlab verify embedding` (the rules
 *        every plugin follows: <llmlab/cuda/abi.h>).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Token + position embedding in fp32:
 *        \f$ \mathrm{out}_{b,t,c} = \mathrm{wte}_{\mathrm{ids}_{b,t},c} + \mathrm{wpe}_{t,c} \f$.
 * \param ids (B, T) device, int32, each in [0, V)   \param wte (V, C) device, fp32
 * \param wpe (maxT, C) device, fp32   \param out (B, T, C) device, fp32 (no aliasing)
 * \param B, T, C, V, maxT sizes \f$ \ge 0 \f$, T \f$ \le \f$ maxT
 * \return 0, or a cudaError_t value (1 for bad arguments, an id outside [0, V) included)
 */
int llmlab_embedding_forward_f32(const int32_t* ids, const float* wte, const float* wpe,
                                 float* out, int64_t B, int64_t T, int64_t C, int64_t V,
                                 int64_t maxT);

/**
 * \brief Token + position embedding in bf16: \f$ \mathrm{out} = \mathrm{bf16}(\mathrm{wte} +
 *        \mathrm{wpe}) \f$, the sum formed in fp32 and rounded once to nearest-even.
 * \param ids (B, T) device, int32   \param wte (V, C) device, bf16 bits
 * \param wpe (maxT, C) device, bf16 bits   \param out (B, T, C) device, bf16 bits
 * \param B, T, C, V, maxT sizes \f$ \ge 0 \f$, T \f$ \le \f$ maxT
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_embedding_forward_bf16(const int32_t* ids, const uint16_t* wte, const uint16_t* wpe,
                                  uint16_t* out, int64_t B, int64_t T, int64_t C, int64_t V,
                                  int64_t maxT);

/**
 * \brief Backward of the embedding in fp32, **accumulated** (+=) and deterministic (the same
 *        inputs give the same bits): \f$ \mathrm{dwte}_{v,c} \mathrel{+}=
 *        \sum_{(b,t):\,\mathrm{ids}_{b,t}=v} \mathrm{dout}_{b,t,c} \f$,
 *        \f$ \mathrm{dwpe}_{t,c} \mathrel{+}= \sum_b \mathrm{dout}_{b,t,c} \f$.
 * \param dout (B, T, C) device, fp32   \param ids (B, T) device, int32, each in [0, V)
 * \param dwte (V, C) device, fp32, accumulated   \param dwpe (maxT, C) device, fp32, accumulated
 * \param B, T, C, V, maxT sizes \f$ \ge 0 \f$, T \f$ \le \f$ maxT
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_embedding_backward_f32(const float* dout, const int32_t* ids, float* dwte, float* dwpe,
                                  int64_t B, int64_t T, int64_t C, int64_t V, int64_t maxT);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_EMBEDDING_H */
