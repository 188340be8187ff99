#pragma once
/// \file
/// \ingroup group_gpt
/// \brief The check of a GPT's sizes that the reference (llmlab::ref::gpt_check_config) and the
/// CUDA model (llmlab::cuda::gpt_tensor_layout) share: the kernels do not include the reference.

#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"

namespace llmlab {

/// Checks a GPT's sizes: every one ≥ 1 and n_head dividing n_embd.
/// @param vocab_size V   @param block_size the longest context   @param n_layer L
/// @param n_head H   @param n_embd C
/// @throws llmlab::Error naming `gpt` and the field otherwise.
inline void check_gpt_sizes(std::int64_t vocab_size, std::int64_t block_size, std::int64_t n_layer,
                            std::int64_t n_head, std::int64_t n_embd) {
  const auto positive = [](const char* name, std::int64_t v) {
    if (v < 1) throw Error("gpt", std::string(name) + " = " + std::to_string(v) + " (must be ≥ 1)");
  };
  positive("vocab_size", vocab_size);
  positive("block_size", block_size);
  positive("n_layer", n_layer);
  positive("n_head", n_head);
  positive("n_embd", n_embd);
  if (n_embd % n_head != 0)
    throw Error("gpt", "n_head = " + std::to_string(n_head) +
                           " does not divide n_embd = " + std::to_string(n_embd));
}

}  // namespace llmlab
