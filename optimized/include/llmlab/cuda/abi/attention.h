#ifndef LLMLAB_CUDA_ABI_ATTENTION_H
#define LLMLAB_CUDA_ABI_ATTENTION_H
/**
 * \file
 * \ingroup group_attention
 * \brief attention's C ABI: the symbols a kernel library exports for `llmlab verify attention`
 *        (the rules every plugin follows: <llmlab/cuda/abi.h>). A student's own flash kernel is
 *        checked with `llmlab verify attention --impl libmine.so`.
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Attention of every head in fp32: \f$ S = Q K^\top / \sqrt{D} \f$ (\f$ -\infty \f$ for
 *        \f$ j > i \f$ when causal), \f$ O = \mathrm{softmax}(S) V \f$,
 *        \f$ L_i = \log \sum_j e^{S_{ij}} \f$.
 * \param q (B, H, T, D) device, fp32   \param k (B, H, T, D) device, fp32
 * \param v (B, H, T, D) device, fp32   \param out (B, H, T, D) device, fp32, overwritten
 * \param lse (B, H, T) device, fp32, overwritten
 * \param B batch \f$ \ge 0 \f$   \param H heads \f$ \ge 0 \f$   \param T sequence length \f$ \ge 1 \f$
 * \param D head dimension, 1 … 128   \param causal 1: query i sees keys j ≤ i only; 0: all keys
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_attention_forward_f32(const float* q, const float* k, const float* v, float* out,
                                 float* lse, int64_t B, int64_t H, int64_t T, int64_t D,
                                 int causal);

/**
 * \brief Attention in bf16 (q, k, v, out), computed in fp32, out rounded once; lse stays fp32.
 * \param q (B, H, T, D) device, bf16 bits   \param k (B, H, T, D) device, bf16 bits
 * \param v (B, H, T, D) device, bf16 bits   \param out (B, H, T, D) device, bf16 bits
 * \param lse (B, H, T) device, fp32   \param B batch   \param H heads   \param T length
 * \param D head dimension, 1 … 128   \param causal 1 or 0
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_attention_forward_bf16(const uint16_t* q, const uint16_t* k, const uint16_t* v,
                                  uint16_t* out, float* lse, int64_t B, int64_t H, int64_t T,
                                  int64_t D, int causal);

/**
 * \brief Backward of the attention in fp32 from its O and L, with
 *        \f$ P_{ij} = e^{S_{ij} - L_i} \f$ and \f$ D_i = \sum_d \mathrm{dO}_{id} O_{id} \f$:
 *        \f$ \mathrm{dV} = P^\top \mathrm{dO} \f$, \f$ \mathrm{dS} = P \circ (\mathrm{dO}\,V^\top
 *        - D) \f$, \f$ \mathrm{dQ} = \mathrm{dS}\,K/\sqrt{D} \f$,
 *        \f$ \mathrm{dK} = \mathrm{dS}^\top Q/\sqrt{D} \f$; dq, dk, dv **overwritten**.
 * \param dout (B, H, T, D) device, fp32   \param q (B, H, T, D)   \param k (B, H, T, D)
 * \param v (B, H, T, D)   \param out (B, H, T, D) the forward's O
 * \param lse (B, H, T) the forward's L   \param dq (B, H, T, D)   \param dk (B, H, T, D)
 * \param dv (B, H, T, D)   \param B batch   \param H heads   \param T length
 * \param D head dimension, 1 … 128   \param causal 1 or 0
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_attention_backward_f32(const float* dout, const float* q, const float* k,
                                  const float* v, const float* out, const float* lse, float* dq,
                                  float* dk, float* dv, int64_t B, int64_t H, int64_t T,
                                  int64_t D, int causal);

/**
 * \brief The backward in bf16 (every tensor but lse), computed in fp32, each gradient rounded
 *        once.
 * \param dout (B, H, T, D) bf16 bits   \param q (B, H, T, D)   \param k (B, H, T, D)
 * \param v (B, H, T, D)   \param out (B, H, T, D)   \param lse (B, H, T) fp32
 * \param dq (B, H, T, D)   \param dk (B, H, T, D)   \param dv (B, H, T, D)
 * \param B batch   \param H heads   \param T length   \param D head dimension, 1 … 128
 * \param causal 1 or 0
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_attention_backward_bf16(const uint16_t* dout, const uint16_t* q, const uint16_t* k,
                                   const uint16_t* v, const uint16_t* out, const float* lse,
                                   uint16_t* dq, uint16_t* dk, uint16_t* dv, int64_t B, int64_t H,
                                   int64_t T, int64_t D, int causal);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_ATTENTION_H */
