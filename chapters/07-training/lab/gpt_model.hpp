#pragma once
/// \file
/// \ingroup group_gpt
/// \brief Chapter 07's lab: the GPT-2 model assembled from the reference components of chapters
/// 02–05 — what you write (lab/gpt_model.cpp); the checks (checks/ch07_checks.cpp) hold it to
/// PyTorch's logits, loss and every gradient. The types (configuration, parameters under
/// nanoGPT's names, saved activations) are the reference's, <llmlab/ref/gpt.hpp>.

#include <cstdint>
#include <xtensor/xtensor.hpp>

#include "llmlab/ref/gpt.hpp"

namespace llmlab::ch07 {

/// Step 1: the number of parameters, wte counted once (the lm_head is tied to it):
/// \f$ VC + \mathrm{block\_size}\,C + L(12C^2 + 13C) + 2C \f$ — GPT-2 small: 124,439,808.
std::int64_t count_params(const ref::GptConfig& cfg);

/// Steps 2–3: the forward from ids (B, T) to logits (B, T, V) and, with targets, the mean
/// cross-entropy over the targets that are not −100; keeps what the backward needs.
/// @param cfg the sizes   @param p the parameters   @param ids (B, T), T ≤ block_size
/// @param targets (B, T), or an empty (0, 0) tensor for no loss
template <class T>
ref::GptForward<T> gpt_forward(const ref::GptConfig& cfg, const ref::GptParams<T>& p,
                               const xt::xtensor<std::int32_t, 2>& ids,
                               const xt::xtensor<std::int32_t, 2>& targets);

/// Steps 4–5: the gradient of the mean loss with respect to every parameter, shaped as p
/// (dwte holds both of wte's uses: the embedding and the tied lm_head).
/// @param cfg, p, ids, targets as given to gpt_forward   @param f gpt_forward's result
template <class T>
ref::GptParams<T> gpt_backward(const ref::GptConfig& cfg, const ref::GptParams<T>& p,
                               const xt::xtensor<std::int32_t, 2>& ids,
                               const xt::xtensor<std::int32_t, 2>& targets,
                               const ref::GptForward<T>& f);

}  // namespace llmlab::ch07

/// The float and double instances of the lab's templates (the checks use both); the lab and the
/// solution each end with `LLMLAB_CH07_INSTANTIATE(float)` and `(double)`.
#define LLMLAB_CH07_INSTANTIATE(T)                                                              \
  template ::llmlab::ref::GptForward<T> llmlab::ch07::gpt_forward(                              \
      const ::llmlab::ref::GptConfig&, const ::llmlab::ref::GptParams<T>&,                     \
      const xt::xtensor<std::int32_t, 2>&, const xt::xtensor<std::int32_t, 2>&);               \
  template ::llmlab::ref::GptParams<T> llmlab::ch07::gpt_backward(                              \
      const ::llmlab::ref::GptConfig&, const ::llmlab::ref::GptParams<T>&,                     \
      const xt::xtensor<std::int32_t, 2>&, const xt::xtensor<std::int32_t, 2>&,                \
      const ::llmlab::ref::GptForward<T>&);
