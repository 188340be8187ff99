#include "llmlab/ref/gpt.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>

#include "llmlab/core/error.hpp"
#include "llmlab/core/gpt_sizes.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/compose.hpp"
#include "llmlab/ref/cross_entropy.hpp"
#include "llmlab/ref/embedding.hpp"
#include "llmlab/ref/gelu.hpp"
#include "llmlab/ref/matmul.hpp"
#include "shape_of.hpp"

namespace llmlab::ref {

using detail::shape_of;

namespace {

/// Throws naming the parameter when its shape is not the one the configuration asks for.
template <class E>
void want(const char* where, const std::string& name, const E& t,
          std::initializer_list<std::size_t> s) {
  if (!std::equal(t.shape().begin(), t.shape().end(), s.begin(), s.end()))
    throw Error(where, name + " is " + shape_of(t) + " but the configuration asks for " +
                           shape_str(std::vector<std::int64_t>(s.begin(), s.end())));
}

template <class T>
void check_params(const char* where, const GptConfig& cfg, const GptParams<T>& p) {
  gpt_check_config(cfg);
  const auto V = static_cast<std::size_t>(cfg.vocab_size),
             M = static_cast<std::size_t>(cfg.block_size), C = static_cast<std::size_t>(cfg.n_embd);
  want(where, "wte", p.wte, {V, C});
  want(where, "wpe", p.wpe, {M, C});
  if (p.h.size() != static_cast<std::size_t>(cfg.n_layer))
    throw Error(where, "the parameters have " + std::to_string(p.h.size()) +
                           " blocks but n_layer = " + std::to_string(cfg.n_layer));
  for (std::size_t l = 0; l < p.h.size(); ++l) {
    const auto& b = p.h[l];
    const std::string n = "h." + std::to_string(l) + ".";
    want(where, n + "ln_1.weight", b.ln_1_w, {C});
    want(where, n + "ln_1.bias", b.ln_1_b, {C});
    want(where, n + "attn.c_attn.weight", b.attn.c_attn_w, {3 * C, C});
    want(where, n + "attn.c_attn.bias", b.attn.c_attn_b, {3 * C});
    want(where, n + "attn.c_proj.weight", b.attn.c_proj_w, {C, C});
    want(where, n + "attn.c_proj.bias", b.attn.c_proj_b, {C});
    want(where, n + "ln_2.weight", b.ln_2_w, {C});
    want(where, n + "ln_2.bias", b.ln_2_b, {C});
    want(where, n + "mlp.c_fc.weight", b.fc_w, {4 * C, C});
    want(where, n + "mlp.c_fc.bias", b.fc_b, {4 * C});
    want(where, n + "mlp.c_proj.weight", b.proj_w, {C, 4 * C});
    want(where, n + "mlp.c_proj.bias", b.proj_b, {C});
  }
  want(where, "ln_f.weight", p.ln_f_w, {C});
  want(where, "ln_f.bias", p.ln_f_b, {C});
}

}  // namespace

void gpt_check_config(const GptConfig& cfg) {
  check_gpt_sizes(cfg.vocab_size, cfg.block_size, cfg.n_layer, cfg.n_head, cfg.n_embd);
}

std::int64_t gpt_num_params(const GptConfig& cfg) {
  gpt_check_config(cfg);
  const std::int64_t C = cfg.n_embd;
  return cfg.vocab_size * C + cfg.block_size * C + cfg.n_layer * (12 * C * C + 13 * C) + 2 * C;
}

template <class T>
std::vector<GptTensor<T>> gpt_tensors(GptParams<T>& p) {
  std::vector<GptTensor<T>> out;
  gpt_for_each_tensor(p, [&](const std::string& name, auto& t) {
    out.push_back(
        {name, std::vector<std::size_t>(t.shape().begin(), t.shape().end()), t.data(), t.size()});
  });
  return out;
}

template <class T>
GptParams<T> gpt_zeros(const GptConfig& cfg) {
  gpt_check_config(cfg);
  const auto V = static_cast<std::size_t>(cfg.vocab_size),
             M = static_cast<std::size_t>(cfg.block_size), C = static_cast<std::size_t>(cfg.n_embd);
  GptParams<T> p{
      xt::zeros<T>({V, C}), xt::zeros<T>({M, C}), {}, xt::zeros<T>({C}), xt::zeros<T>({C})};
  for (std::int64_t l = 0; l < cfg.n_layer; ++l)
    p.h.push_back({xt::zeros<T>({C}), xt::zeros<T>({C}), attention_block_zero_grads<T>(cfg.n_embd),
                   xt::zeros<T>({C}), xt::zeros<T>({C}), xt::zeros<T>({4 * C, C}),
                   xt::zeros<T>({4 * C}), xt::zeros<T>({C, 4 * C}), xt::zeros<T>({C})});
  return p;
}

template <class T>
GptParams<T> gpt_init(const GptConfig& cfg, std::uint64_t seed) {
  GptParams<T> p = gpt_zeros<T>(cfg);
  Rng rng(seed);
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(cfg.n_layer));
  for (GptTensor<T>& t : gpt_tensors(p)) {
    const bool gain = t.name.ends_with("ln_1.weight") || t.name.ends_with("ln_2.weight") ||
                      t.name.ends_with("ln_f.weight");
    if (gain) std::fill_n(t.data, t.size, T(1));
    if (t.shape.size() != 2) continue;  // biases and LayerNorm shifts stay 0
    const double stddev = t.name.ends_with("c_proj.weight") ? residual_std : 0.02;
    for (std::size_t i = 0; i < t.size; ++i) t.data[i] = static_cast<T>(stddev * rng.normal());
  }
  return p;
}

template <class T>
GptForward<T> gpt_forward(const GptConfig& cfg, const GptParams<T>& p,
                          const xt::xtensor<std::int32_t, 2>& ids,
                          const xt::xtensor<std::int32_t, 2>& targets) {
  constexpr const char* where = "gpt_forward";
  check_params(where, cfg, p);
  const std::size_t B = ids.shape()[0], Tn = ids.shape()[1], N = B * Tn,
                    C = static_cast<std::size_t>(cfg.n_embd),
                    V = static_cast<std::size_t>(cfg.vocab_size);
  if (Tn == 0 || Tn > static_cast<std::size_t>(cfg.block_size))
    throw Error(where, "ids is " + shape_of(ids) + ": T must be in [1, block_size = " +
                           std::to_string(cfg.block_size) + "]");
  const bool with_loss = targets.size() != 0;
  if (with_loss && targets.shape() != ids.shape())
    throw Error(where, "targets is " + shape_of(targets) + " but ids is " + shape_of(ids));
  GptForward<T> f;
  xt::xtensor<T, 3> x = embedding_forward<T>(ids, p.wte, p.wpe);
  for (const GptBlockParams<T>& b : p.h) {
    GptBlockSaved<T> s;
    s.x = std::move(x);
    s.ln_1 = layernorm_forward<T>(s.x, b.ln_1_w, b.ln_1_b);
    AttentionBlockForward<T> a = attention_block_forward<T>(s.ln_1.y, b.attn, cfg.n_head);
    s.attn = std::move(a.saved);
    s.u = residual_add(s.x, a.y);
    s.ln_2 = layernorm_forward<T>(s.u, b.ln_2_w, b.ln_2_b);
    s.fc = matmul_forward_blas<T>(reshaped<T, 2>(s.ln_2.y, {N, C}), b.fc_w, b.fc_b);
    s.gelu = gelu_forward<T, 2>(s.fc);
    x = residual_add(
        s.u, reshaped<T, 3>(matmul_forward_blas<T>(s.gelu, b.proj_w, b.proj_b), {B, Tn, C}));
    f.h.push_back(std::move(s));
  }
  f.x_final = std::move(x);
  f.ln_f = layernorm_forward<T>(f.x_final, p.ln_f_w, p.ln_f_b);
  f.logits =
      reshaped<T, 3>(matmul_forward_blas<T>(reshaped<T, 2>(f.ln_f.y, {N, C}), p.wte), {B, Tn, V});
  f.loss = std::numeric_limits<T>::quiet_NaN();
  if (with_loss) {
    f.losses = cross_entropy_forward<T>(f.logits, targets);
    f.loss = cross_entropy_mean<T>(f.losses, targets);
  }
  return f;
}

template <class T>
GptParams<T> gpt_backward(const GptConfig& cfg, const GptParams<T>& p,
                          const xt::xtensor<std::int32_t, 2>& ids,
                          const xt::xtensor<std::int32_t, 2>& targets, const GptForward<T>& f) {
  constexpr const char* where = "gpt_backward";
  check_params(where, cfg, p);
  if (targets.size() == 0 || targets.shape() != ids.shape())
    throw Error(where, "targets is " + shape_of(targets) + " but ids is " + shape_of(ids) +
                           " (the backward needs the loss's targets)");
  const std::size_t B = ids.shape()[0], Tn = ids.shape()[1], N = B * Tn,
                    C = static_cast<std::size_t>(cfg.n_embd),
                    V = static_cast<std::size_t>(cfg.vocab_size);
  if (f.logits.shape() != std::array<std::size_t, 3>{B, Tn, V} || f.h.size() != p.h.size())
    throw Error(where, "the forward's logits are " + shape_of(f.logits) + " but ids is " +
                           shape_of(ids) + " and V = " + std::to_string(V));
  GptParams<T> g = gpt_zeros<T>(cfg);
  // forward: loss = mean over S of losses — d loss / d losses = 1/|S| on S, 0 elsewhere
  std::size_t counted = 0;
  for (const std::int32_t y : targets) counted += y != kIgnoreIndex;
  xt::xtensor<T, 2> dlosses = xt::zeros<T>(targets.shape());
  for (std::size_t i = 0; i < targets.size(); ++i)
    if (targets.data()[i] != kIgnoreIndex) dlosses.data()[i] = T(1) / static_cast<T>(counted);
  // forward: losses = cross_entropy(logits, targets)
  xt::xtensor<T, 3> dlogits = cross_entropy_backward<T>(dlosses, f.logits, targets);
  // forward: logits = ln_f.y wteᵀ (the tied lm_head)
  xt::xtensor<T, 2> dlnf = xt::zeros<T>({N, C});
  matmul_backward_blas<T>(reshaped<T, 2>(std::move(dlogits), {N, V}),
                          reshaped<T, 2>(f.ln_f.y, {N, C}), p.wte, dlnf, g.wte);
  // forward: ln_f.y = LN_f(x_final)
  xt::xtensor<T, 3> dx = xt::zeros<T>(f.x_final.shape());
  layernorm_backward<T>(reshaped<T, 3>(std::move(dlnf), {B, Tn, C}), f.x_final, p.ln_f_w,
                        f.ln_f.mean, f.ln_f.rstd, dx, g.ln_f_w, g.ln_f_b);
  for (std::size_t l = p.h.size(); l-- > 0;) {
    const GptBlockParams<T>& b = p.h[l];
    const GptBlockSaved<T>& s = f.h[l];
    GptBlockParams<T>& gb = g.h[l];
    // forward: x_next = u + mlp — the gradient reaches u and the MLP's output unchanged
    // (residual_add_backward into zeros, which is a copy): du = dx, and dmlp is dx itself
    xt::xtensor<T, 3> du = dx;
    const xt::xtensor<T, 2> dmlp = reshaped<T, 2>(std::move(dx), {N, C});
    // forward: mlp = gelu c_projᵀ + b, gelu = GELU(fc), fc = ln_2.y c_fcᵀ + b
    xt::xtensor<T, 2> dgelu = xt::zeros<T>(s.gelu.shape()), dfc = xt::zeros<T>(s.fc.shape()),
                      dln2 = xt::zeros<T>({N, C});
    matmul_backward_blas<T>(dmlp, s.gelu, b.proj_w, dgelu, gb.proj_w, gb.proj_b);
    gelu_backward<T, 2>(dgelu, s.fc, dfc);
    matmul_backward_blas<T>(dfc, reshaped<T, 2>(s.ln_2.y, {N, C}), b.fc_w, dln2, gb.fc_w, gb.fc_b);
    // forward: ln_2.y = LN_2(u) — accumulates into du
    layernorm_backward<T>(reshaped<T, 3>(std::move(dln2), {B, Tn, C}), s.u, b.ln_2_w, s.ln_2.mean,
                          s.ln_2.rstd, du, gb.ln_2_w, gb.ln_2_b);
    // forward: u = x + attn(ln_1.y) — as above: dx of the block's input starts as du, and the
    // attention's output gradient is du itself
    xt::xtensor<T, 3> dxl = du, dln1 = xt::zeros<T>(du.shape());
    attention_block_backward<T>(du, s.ln_1.y, b.attn, s.attn, cfg.n_head, dln1, gb.attn);
    // forward: ln_1.y = LN_1(x) — accumulates into dx of the block's input
    layernorm_backward<T>(dln1, s.x, b.ln_1_w, s.ln_1.mean, s.ln_1.rstd, dxl, gb.ln_1_w, gb.ln_1_b);
    dx = std::move(dxl);
  }
  // forward: x0 = wte[ids] + wpe[0..T)
  embedding_backward<T>(dx, ids, g.wte, g.wpe);
  return g;
}

template std::vector<GptTensor<float>> gpt_tensors(GptParams<float>&);
template std::vector<GptTensor<double>> gpt_tensors(GptParams<double>&);
template GptParams<float> gpt_zeros(const GptConfig&);
template GptParams<double> gpt_zeros(const GptConfig&);
template GptParams<float> gpt_init(const GptConfig&, std::uint64_t);
template GptParams<double> gpt_init(const GptConfig&, std::uint64_t);
template GptForward<float> gpt_forward(const GptConfig&, const GptParams<float>&,
                                       const xt::xtensor<std::int32_t, 2>&,
                                       const xt::xtensor<std::int32_t, 2>&);
template GptForward<double> gpt_forward(const GptConfig&, const GptParams<double>&,
                                        const xt::xtensor<std::int32_t, 2>&,
                                        const xt::xtensor<std::int32_t, 2>&);
template GptParams<float> gpt_backward(const GptConfig&, const GptParams<float>&,
                                       const xt::xtensor<std::int32_t, 2>&,
                                       const xt::xtensor<std::int32_t, 2>&,
                                       const GptForward<float>&);
template GptParams<double> gpt_backward(const GptConfig&, const GptParams<double>&,
                                        const xt::xtensor<std::int32_t, 2>&,
                                        const xt::xtensor<std::int32_t, 2>&,
                                        const GptForward<double>&);

}  // namespace llmlab::ref
