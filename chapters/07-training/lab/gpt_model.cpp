/// \file
/// \ingroup group_gpt
/// \brief Chapter 07's lab, yours to write: GPT-2's forward and backward assembled from the
/// reference components you met in chapters 02–05 (handout: chapters/07-training/README.md).
///
/// Every component is already written and checked: here you only wire them together, in the
/// order of the handout's equations, keeping what the backward needs in ref::GptForward.

#include "gpt_model.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/attention_block.hpp"  // attention_block_forward / _backward
#include "llmlab/ref/compose.hpp"          // reshaped, residual_add / _backward
#include "llmlab/ref/cross_entropy.hpp"    // cross_entropy_forward / _mean / _backward
#include "llmlab/ref/embedding.hpp"        // embedding_forward / _backward
#include "llmlab/ref/gelu.hpp"             // gelu_forward / _backward
#include "llmlab/ref/gpt.hpp"              // GptConfig, GptParams, GptForward, gpt_zeros
#include "llmlab/ref/layernorm.hpp"        // layernorm_forward / _backward
#include "llmlab/ref/matmul.hpp"           // matmul_forward_blas / matmul_backward_blas

namespace llmlab::ch07 {

using namespace llmlab::ref;  // the components, as in reference/src/gpt.cpp

std::int64_t count_params(const ref::GptConfig& cfg) {
  // TODO(step 1): wte (V, C), wpe (block_size, C), per block 2 LayerNorms, c_attn (3C, C) + 3C,
  // attn.c_proj (C, C) + C, mlp.c_fc (4C, C) + 4C, mlp.c_proj (C, 4C) + C; then ln_f. The
  // lm_head has no parameters of its own: it is wte.
  (void)cfg;
  throw Error("count_params", "not implemented (step 1 of the handout)");
}

template <class T>
ref::GptForward<T> gpt_forward(const ref::GptConfig& cfg, const ref::GptParams<T>& p,
                               const xt::xtensor<std::int32_t, 2>& ids,
                               const xt::xtensor<std::int32_t, 2>& targets) {
  const std::size_t B = ids.shape()[0], Tn = ids.shape()[1], N = B * Tn,
                    C = static_cast<std::size_t>(cfg.n_embd),
                    V = static_cast<std::size_t>(cfg.vocab_size);
  GptForward<T> f;
  xt::xtensor<T, 3> x = embedding_forward<T>(ids, p.wte, p.wpe);  // x⁰ = wte[ids] + wpe[0..T)
  for (const GptBlockParams<T>& b : p.h) {
    GptBlockSaved<T> s;
    s.x = x;  // the block's input, kept for ln_1's backward
    // TODO(step 2): one block, filling s as you go (every field of GptBlockSaved):
    //   s.ln_1 = LN_1(x);  a = attention_block_forward(s.ln_1.y, b.attn, H), keep a.saved;
    //   s.u = x + a.y;  s.ln_2 = LN_2(u);
    //   s.fc = ln_2.y as rows (N, C) times c_fcᵀ + b;  s.gelu = GELU(s.fc);
    //   x = u + (s.gelu c_projᵀ + b) as (B, T, C).
    (void)b;
    (void)N;
    (void)C;
    throw Error("gpt_forward", "not implemented (step 2 of the handout: one block)");
    f.h.push_back(std::move(s));
  }
  f.x_final = x;
  // TODO(step 3): the head. f.ln_f = LN_f(x_final); the logits (B, T, V) are ln_f.y as rows times
  // wteᵀ (the tied lm_head: matmul without a bias); with targets, f.losses (B, T) and f.loss, the
  // mean over the targets that are not −100; without, f.loss stays NaN.
  (void)V;
  (void)targets;
  f.loss = std::numeric_limits<T>::quiet_NaN();
  throw Error("gpt_forward", "not implemented (step 3 of the handout: the head and the loss)");
  return f;
}

template <class T>
ref::GptParams<T> gpt_backward(const ref::GptConfig& cfg, const ref::GptParams<T>& p,
                               const xt::xtensor<std::int32_t, 2>& ids,
                               const xt::xtensor<std::int32_t, 2>& targets,
                               const ref::GptForward<T>& f) {
  const std::size_t B = ids.shape()[0], Tn = ids.shape()[1], N = B * Tn,
                    C = static_cast<std::size_t>(cfg.n_embd),
                    V = static_cast<std::size_t>(cfg.vocab_size);
  GptParams<T> g = gpt_zeros<T>(cfg);  // every backward below accumulates (+=) into g
  // TODO(step 4): from the loss back to x_final. d loss / d losses = 1/|S| where the target is not
  // −100 (0 elsewhere); cross_entropy_backward gives dlogits; the lm_head's matmul_backward_blas
  // gives d(ln_f.y) and accumulates into g.wte; layernorm_backward through ln_f gives dx.
  (void)B, (void)Tn, (void)N, (void)C, (void)V, (void)targets, (void)f;
  xt::xtensor<T, 3> dx;
  throw Error("gpt_backward", "not implemented (step 4 of the handout: the head's backward)");
  for (std::size_t l = p.h.size(); l-- > 0;) {
    // TODO(step 5): block l in reverse — the MLP residual (its gradient reaches both branches:
    // residual_add_backward), c_proj, GELU, c_fc, ln_2 (accumulating into du), the attention
    // residual, attention_block_backward, ln_1 (accumulating into the block input's gradient).
    throw Error("gpt_backward", "not implemented (step 5 of the handout: a block's backward)");
  }
  embedding_backward<T>(dx, ids, g.wte, g.wpe);  // x⁰ = wte[ids] + wpe: into dwte and dwpe
  return g;
}

}  // namespace llmlab::ch07

LLMLAB_CH07_INSTANTIATE(float)
LLMLAB_CH07_INSTANTIATE(double)
