/// \file
/// \ingroup group_gpt
/// \brief llmlab::cuda::Gpt's backward, written against the forward (gpt.cu) in reverse, as
/// llmlab::ref::gpt_backward is. The residual stream's gradient lives in one buffer, dres: a
/// residual connection passes it to both branches unchanged, so the branch reads it and the
/// LayerNorm backward of the skip side adds its own contribution in place (llm.c's dresidual).
/// Every activation gradient that a kernel accumulates into (dx of matmul, gelu, attention) is
/// zeroed first.

#include <cstdint>
#include <cstring>

#include "gpt_common.cuh"
#include "llmlab/core/error.hpp"
#include "llmlab/cuda/cross_entropy.cuh"
#include "llmlab/cuda/embedding.cuh"
#include "llmlab/cuda/gelu.cuh"
#include "llmlab/cuda/gpt.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/cuda/matmul.cuh"

namespace llmlab::cuda {

using detail::gpt_check;

template <class E>
void Gpt<E>::backward() {
  constexpr const char* where = "Gpt::backward";
  if (!have_targets_)
    throw Error(where, "the last forward had no targets (the backward needs the loss's)");
  have_targets_ = false;  // the logits become their gradient below
  const std::int64_t N = N_, C = cfg_.n_embd, V = cfg_.vocab_size;
  const auto zero = [&](E* p, std::int64_t n, const char* what) {
    gpt_check(cudaMemset(p, 0, static_cast<std::size_t>(n) * sizeof(E)), where, what);
  };
  // forward: losses = CE(logits, targets) — dlogits in place over the logits
  gpt_check(cross_entropy_backward(logits_, targets_, lse_, dlosses_, logits_, B_, T_, V), where,
            "cross_entropy_backward");
  // forward: logits = ln_f.y wteᵀ — into dln and dwte (the tied weight's first share)
  zero(dln_, N * C, "dln");
  gpt_check(matmul_backward(logits_, lnf_, param(0), dln_, grad(0), nullptr, N, C, V), where,
            "lm_head");
  if (flaw_ == GptFlaw::untied_lm_head)  // wrong on purpose: the lm_head's share of dwte is lost
    gpt_check(cudaMemset(grad(0), 0, static_cast<std::size_t>(V * C) * sizeof(float)), where,
              "the flaw");
  // forward: ln_f.y = LN_f(x^(L)) — dres = d x^(L)
  const std::size_t f = layout_.size() - 2;
  zero(dres_, N * C, "dres");
  gpt_check(layernorm_backward(dln_, x_final_, param(f), lnf_m_, lnf_r_, dres_, grad(f),
                               grad(f + 1), ln_scratch_, N, C),
            where, "ln_f");
  for (std::size_t l = h_.size(); l-- > 0;) {
    const Block& b = h_[l];
    const std::size_t i = 2 + 12 * l;  // ln_1.weight's index
    // forward: x_next = u + c_proj(gelu) — dres reaches both; the MLP branch first
    zero(dgelu_, 4 * N * C, "dgelu");
    gpt_check(matmul_backward(dres_, b.gelu, param(i + 10), dgelu_, grad(i + 10), grad(i + 11), N,
                              4 * C, C),
              where, "mlp.c_proj");
    zero(dfc_, 4 * N * C, "dfc");
    gpt_check(gelu_backward(dgelu_, b.fc, dfc_, 4 * N * C), where, "gelu");
    zero(dln_, N * C, "dln");
    gpt_check(matmul_backward(dfc_, b.ln2, param(i + 8), dln_, grad(i + 8), grad(i + 9), N, C,
                              4 * C),
              where, "mlp.c_fc");
    if (flaw_ == GptFlaw::no_mlp_residual)  // wrong on purpose: the skip passes nothing to u
      zero(dres_, N * C, "the flaw");
    // forward: ln_2.y = LN_2(u) — adds into dres, which becomes du
    gpt_check(layernorm_backward(dln_, b.u, param(i + 6), b.ln2_m, b.ln2_r, dres_, grad(i + 6),
                                 grad(i + 7), ln_scratch_, N, C),
              where, "ln_2");
    // forward: u = x + attn(ln_1.y) — dres reaches both; the attention branch into dln
    zero(dln_, N * C, "dln");
    gpt_check(attention_block_backward(dres_, b.ln1, attn_weights(static_cast<std::int64_t>(l)),
                                       b.attn, dln_, attn_grads(static_cast<std::int64_t>(l)),
                                       dims(), true, attn_ws_),
              where, "attn");
    // forward: ln_1.y = LN_1(x) — adds into dres, which becomes dx of the block's input
    gpt_check(layernorm_backward(dln_, b.x, param(i), b.ln1_m, b.ln1_r, dres_, grad(i),
                                 grad(i + 1), ln_scratch_, N, C),
              where, "ln_1");
  }
  // forward: x^(0) = wte[ids] + wpe[0..T) — into dwte (its second share) and dwpe
  gpt_check(embedding_backward(dres_, ids_, grad(0), grad(1), B_, T_, C, V, cfg_.block_size, 0,
                               emb_ws_),
            where, "embedding_backward");
}

template void Gpt<float>::backward();
template void Gpt<__nv_bfloat16>::backward();

}  // namespace llmlab::cuda
