#ifndef LLMLAB_CUDA_ABI_GPT_H
#define LLMLAB_CUDA_ABI_GPT_H
/**
 * \file
 * \ingroup group_gpt
 * \brief The whole model's C ABI (llmlab::cuda::Gpt behind an opaque handle), what
 *        `llmlab train --backend emu|gpu` loads from libllmlab_plugin_{emu,gpu}.so. Unlike the
 *        components' symbols (<llmlab/cuda/abi.h>), these take **host** arrays: the model owns
 *        its device memory. Every function returns 0 on success, else non-zero with a message that
 *        llmlab_gpt_last_error() returns (this thread's last failure).
 */

#include "llmlab/cuda/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** \brief An llmlab::cuda::Gpt (fp32 or bf16) for a fixed batch shape (B, T). */
typedef struct llmlab_gpt llmlab_gpt;

/**
 * \brief Makes a model (parameters and moments zero).
 * \param vocab_size V   \param block_size the longest context   \param n_layer L
 * \param n_head H   \param n_embd C   \param B sequences per step   \param T tokens per sequence
 * \param bf16 0: fp32; 1: bf16 parameters and activations with fp32 master weights
 * \param out set to the new model
 * \return 0, or non-zero (bad sizes, no memory: llmlab_gpt_last_error() says which)
 */
int llmlab_gpt_create(int64_t vocab_size, int64_t block_size, int64_t n_layer, int64_t n_head,
                      int64_t n_embd, int64_t B, int64_t T, int bf16, llmlab_gpt** out);

/** \brief Frees a model (null: nothing).   \param model the model */
void llmlab_gpt_destroy(llmlab_gpt* model);

/**
 * \brief The number of parameters P (the length of every array below).
 * \param model the model   \return P
 */
int64_t llmlab_gpt_num_params(const llmlab_gpt* model);

/**
 * \brief Loads the parameters and AdamW's moments, each P floats on the host in nanoGPT's
 *        state_dict order (llmlab::ref::gpt_tensors concatenated).
 * \param model the model   \param params (P)   \param m (P)   \param v (P)
 * \return 0, or non-zero
 */
int llmlab_gpt_set_state(llmlab_gpt* model, const float* params, const float* m, const float* v);

/**
 * \brief Copies the parameters (bf16: the fp32 master weights) and the moments to the host.
 * \param model the model   \param params (P), written   \param m (P), written
 * \param v (P), written   \return 0, or non-zero
 */
int llmlab_gpt_get_state(const llmlab_gpt* model, float* params, float* m, float* v);

/**
 * \brief One training step: zero the gradients, forward and backward on each of A micro-batches
 *        of (ids, targets) (B rows each, consecutive), their mean gradient clipped to the global
 *        norm `clip` (0: none), one AdamW step (weight decay on the 2-D tensors). A non-finite
 *        loss stops before the update (the parameters are kept) and fails.
 * \param model the model   \param ids (A·B·T) host   \param targets (A·B·T) host
 * \param micro_batches A ≥ 1
 * \param lr \f$ \eta \f$   \param beta1 \f$ \beta_1 \f$   \param beta2 \f$ \beta_2 \f$
 * \param eps \f$ \varepsilon \f$   \param weight_decay \f$ \lambda \f$   \param step t ≥ 1
 * \param seed bf16's stochastic rounding seed   \param clip the norm kept, ≥ 0
 * \param loss set to the mean of the micro-batches' mean losses
 * \param grad_norm set to the mean gradient's norm before clipping
 * \return 0, or non-zero
 */
int llmlab_gpt_train_step(llmlab_gpt* model, const int32_t* ids, const int32_t* targets,
                          int64_t micro_batches, float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step,
                          uint32_t seed, double clip, double* loss, double* grad_norm);

/**
 * \brief This thread's last failure's message ("" when none).
 * \return a string valid until the next call on this thread
 */
const char* llmlab_gpt_last_error(void);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_GPT_H */
