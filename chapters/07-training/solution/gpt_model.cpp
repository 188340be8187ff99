/// \file
/// \ingroup group_gpt
/// \brief Chapter 07's solution: the reference model itself (reference/src/gpt.cpp is the worked
/// answer, composed exactly as the handout's steps describe).

#include "gpt_model.hpp"

#include "llmlab/ref/gpt.hpp"

namespace llmlab::ch07 {

std::int64_t count_params(const ref::GptConfig& cfg) { return ref::gpt_num_params(cfg); }

template <class T>
ref::GptForward<T> gpt_forward(const ref::GptConfig& cfg, const ref::GptParams<T>& p,
                               const xt::xtensor<std::int32_t, 2>& ids,
                               const xt::xtensor<std::int32_t, 2>& targets) {
  return ref::gpt_forward(cfg, p, ids, targets);
}

template <class T>
ref::GptParams<T> gpt_backward(const ref::GptConfig& cfg, const ref::GptParams<T>& p,
                               const xt::xtensor<std::int32_t, 2>& ids,
                               const xt::xtensor<std::int32_t, 2>& targets,
                               const ref::GptForward<T>& f) {
  return ref::gpt_backward(cfg, p, ids, targets, f);
}

}  // namespace llmlab::ch07

LLMLAB_CH07_INSTANTIATE(float)
LLMLAB_CH07_INSTANTIATE(double)
