/// \file
/// \ingroup group_gpt
/// \brief llmlab::cuda::Gpt's layout, memory, forward and optimizer step (the backward:
/// gpt_backward.cu): every launch is one of llmlab's kernels, every buffer carved at construction.

#include "llmlab/cuda/gpt.cuh"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "gpt_common.cuh"
#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/gpt_sizes.hpp"
#include "llmlab/cuda/attention.cuh"
#include "llmlab/cuda/cross_entropy.cuh"
#include "llmlab/cuda/embedding.cuh"
#include "llmlab/cuda/gelu.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/cuda/matmul.cuh"
#include "llmlab/cuda/residual.cuh"

namespace llmlab::cuda {

using detail::gpt_check;

std::vector<GptTensorInfo> gpt_tensor_layout(const GptConfig& cfg) {
  check_gpt_sizes(cfg.vocab_size, cfg.block_size, cfg.n_layer, cfg.n_head, cfg.n_embd);
  const std::int64_t C = cfg.n_embd;
  std::vector<GptTensorInfo> out;
  std::int64_t at = 0;
  const auto push = [&](std::string name, std::vector<std::int64_t> shape) {
    std::int64_t n = 1;
    for (const std::int64_t s : shape) n *= s;
    out.push_back({std::move(name), std::move(shape), at, n});
    at += n;
  };
  push("transformer.wte.weight", {cfg.vocab_size, C});
  push("transformer.wpe.weight", {cfg.block_size, C});
  for (std::int64_t l = 0; l < cfg.n_layer; ++l) {
    const std::string n = "transformer.h." + std::to_string(l) + ".";
    push(n + "ln_1.weight", {C});
    push(n + "ln_1.bias", {C});
    push(n + "attn.c_attn.weight", {3 * C, C});
    push(n + "attn.c_attn.bias", {3 * C});
    push(n + "attn.c_proj.weight", {C, C});
    push(n + "attn.c_proj.bias", {C});
    push(n + "ln_2.weight", {C});
    push(n + "ln_2.bias", {C});
    push(n + "mlp.c_fc.weight", {4 * C, C});
    push(n + "mlp.c_fc.bias", {4 * C});
    push(n + "mlp.c_proj.weight", {C, 4 * C});
    push(n + "mlp.c_proj.bias", {C});
  }
  push("transformer.ln_f.weight", {C});
  push("transformer.ln_f.bias", {C});
  return out;
}

template <class E>
Gpt<E>::Gpt(const GptConfig& cfg, std::int64_t B, std::int64_t T, GptFlaw flaw)
    : cfg_(cfg), B_(B), T_(T), N_(B * T), P_(0), flaw_(flaw), layout_(gpt_tensor_layout(cfg)) {
  if (B < 1) throw Error("Gpt", "B = " + std::to_string(B) + " (must be ≥ 1)");
  if (T < 1 || T > cfg.block_size)
    throw Error("Gpt", "T = " + std::to_string(T) + " is outside [1, block_size = " +
                           std::to_string(cfg.block_size) + "]");
  if (cfg.n_embd / cfg.n_head > attention_max_head_dim)
    throw Error("Gpt", "the head dimension n_embd / n_head = " +
                           std::to_string(cfg.n_embd / cfg.n_head) + " is over attention's " +
                           std::to_string(attention_max_head_dim));
  P_ = layout_.back().offset + layout_.back().size;
  const auto bytes = [](std::int64_t n, std::size_t each) {
    return static_cast<std::size_t>(n) * each;
  };
  constexpr bool kBf16 = !std::is_same_v<E, float>;
  try {
    gpt_check(cudaMalloc(reinterpret_cast<void**>(&params_), bytes(P_, sizeof(E))), "Gpt",
              "the parameters");
    gpt_check(cudaMalloc(reinterpret_cast<void**>(&grads_), bytes(P_, sizeof(float))), "Gpt",
              "the gradients");
    gpt_check(cudaMalloc(reinterpret_cast<void**>(&state_), bytes((kBf16 ? 3 : 2) * P_, 4)), "Gpt",
              "the optimizer state");
    gpt_check(cudaMemset(params_, 0, bytes(P_, sizeof(E))), "Gpt", "zeroing");
    gpt_check(cudaMemset(grads_, 0, bytes(P_, sizeof(float))), "Gpt", "zeroing");
    gpt_check(cudaMemset(state_, 0, bytes((kBf16 ? 3 : 2) * P_, 4)), "Gpt", "zeroing");
    carve();  // sizes act_bytes_ and sets every region's pointer relative to act_ = 0
    unsigned char* base = nullptr;
    gpt_check(cudaMalloc(reinterpret_cast<void**>(&base), act_bytes_), "Gpt",
              "the activation buffer");
    act_ = base;
    carve();  // the same regions, now in the buffer
    // AdamW's lists: every tensor (for the global norm), the decayed (2-D) and the others
    std::vector<AdamwTensor<E>> all, decay, no_decay;
    float *m = state_, *v = state_ + P_, *master = kBf16 ? state_ + 2 * P_ : nullptr;
    for (const GptTensorInfo& t : layout_) {
      const AdamwTensor<E> a{params_ + t.offset, master ? master + t.offset : nullptr,
                             grads_ + t.offset,  m + t.offset,
                             v + t.offset,       t.size};
      all.push_back(a);
      (t.shape.size() == 2 ? decay : no_decay).push_back(a);
    }
    all_ = std::make_unique<AdamwList<E>>(all);
    decay_ = std::make_unique<AdamwList<E>>(decay);
    no_decay_ = std::make_unique<AdamwList<E>>(no_decay);
  } catch (...) {
    cudaFree(params_);
    cudaFree(grads_);
    cudaFree(state_);
    cudaFree(act_);
    throw;
  }
  host_losses_.assign(static_cast<std::size_t>(N_), 0.0f);
  host_dlosses_.assign(static_cast<std::size_t>(N_), 0.0f);
}

template <class E>
Gpt<E>::~Gpt() {
  all_.reset();
  decay_.reset();
  no_decay_.reset();
  cudaFree(params_);
  cudaFree(grads_);
  cudaFree(state_);
  cudaFree(act_);
}

template <class E>
void Gpt<E>::carve() {
  detail::Carver cut(act_);
  const std::int64_t N = N_, C = cfg_.n_embd, V = cfg_.vocab_size,
                     BHT = B_ * cfg_.n_head * T_;
  ids_ = cut.take<std::int32_t>(N);
  targets_ = cut.take<std::int32_t>(N);
  emb_ws_ = cut.take<std::int32_t>(embedding_backward_workspace(B_, T_));
  h_.assign(static_cast<std::size_t>(cfg_.n_layer), Block{});
  for (Block& b : h_) {
    b.x = cut.take<E>(N * C);
    b.ln1 = cut.take<E>(N * C);
    b.ln1_m = cut.take<float>(N);
    b.ln1_r = cut.take<float>(N);
    b.attn.heads = cut.take<E>(3 * N * C);
    b.attn.merged = cut.take<E>(N * C);
    b.attn.lse = cut.take<float>(BHT);
    b.u = cut.take<E>(N * C);
    b.ln2 = cut.take<E>(N * C);
    b.ln2_m = cut.take<float>(N);
    b.ln2_r = cut.take<float>(N);
    b.fc = cut.take<E>(4 * N * C);
    b.gelu = cut.take<E>(4 * N * C);
  }
  x_final_ = cut.take<E>(N * C);
  lnf_ = cut.take<E>(N * C);
  lnf_m_ = cut.take<float>(N);
  lnf_r_ = cut.take<float>(N);
  logits_ = cut.take<E>(N * V);
  losses_ = cut.take<float>(N);
  lse_ = cut.take<float>(N);
  dlosses_ = cut.take<float>(N);
  tmp_ = cut.take<E>(N * C);
  dres_ = cut.take<E>(N * C);
  dln_ = cut.take<E>(N * C);
  dgelu_ = cut.take<E>(4 * N * C);
  dfc_ = cut.take<E>(4 * N * C);
  ln_scratch_ = cut.take<float>(layernorm_backward_scratch(N, C));
  const AttentionBlockWorkspaceSize ws = attention_block_workspace_size(dims());
  attn_ws_.e = cut.take<E>(ws.elements);
  attn_ws_.f = cut.take<float>(ws.floats);
  norm_ = cut.take<float>(2);
  act_bytes_ = cut.used();
}

template <class E>
AttentionBlockWeights<E> Gpt<E>::attn_weights(std::int64_t l) const {
  const std::size_t i = 2 + 12 * static_cast<std::size_t>(l);
  return {param(i + 2), param(i + 3), param(i + 4), param(i + 5)};
}

template <class E>
AttentionBlockGrads Gpt<E>::attn_grads(std::int64_t l) const {
  const std::size_t i = 2 + 12 * static_cast<std::size_t>(l);
  return {grad(i + 2), grad(i + 3), grad(i + 4), grad(i + 5)};
}

template <class E>
void Gpt<E>::set_params(std::span<const float> host) {
  if (static_cast<std::int64_t>(host.size()) != P_)
    throw Error("Gpt::set_params", "host has " + std::to_string(host.size()) +
                                       " floats but the model has P = " + std::to_string(P_));
  detail::upload_as(params_, host, "Gpt::set_params");
  if constexpr (!std::is_same_v<E, float>)
    gpt_check(cudaMemcpy(state_ + 2 * P_, host.data(), host.size() * sizeof(float),
                         cudaMemcpyHostToDevice),
              "Gpt::set_params", "the master weights");
}

template <class E>
std::vector<float> Gpt<E>::params() const {
  std::vector<float> out(static_cast<std::size_t>(P_));
  if constexpr (std::is_same_v<E, float>)
    gpt_check(cudaMemcpy(out.data(), params_, out.size() * 4, cudaMemcpyDeviceToHost),
              "Gpt::params", "copying");
  else
    gpt_check(cudaMemcpy(out.data(), state_ + 2 * P_, out.size() * 4, cudaMemcpyDeviceToHost),
              "Gpt::params", "copying");
  return out;
}

template <class E>
std::vector<float> Gpt<E>::grads() const {
  std::vector<float> out(static_cast<std::size_t>(P_));
  gpt_check(cudaMemcpy(out.data(), grads_, out.size() * 4, cudaMemcpyDeviceToHost), "Gpt::grads",
            "copying");
  return out;
}

template <class E>
void Gpt<E>::set_moments(std::span<const float> m, std::span<const float> v) {
  if (static_cast<std::int64_t>(m.size()) != P_ || static_cast<std::int64_t>(v.size()) != P_)
    throw Error("Gpt::set_moments", "m has " + std::to_string(m.size()) + " and v " +
                                        std::to_string(v.size()) +
                                        " floats but P = " + std::to_string(P_));
  gpt_check(cudaMemcpy(state_, m.data(), m.size() * 4, cudaMemcpyHostToDevice),
            "Gpt::set_moments", "m");
  gpt_check(cudaMemcpy(state_ + P_, v.data(), v.size() * 4, cudaMemcpyHostToDevice),
            "Gpt::set_moments", "v");
}

template <class E>
void Gpt<E>::moments(std::vector<float>& m, std::vector<float>& v) const {
  m.resize(static_cast<std::size_t>(P_));
  v.resize(static_cast<std::size_t>(P_));
  gpt_check(cudaMemcpy(m.data(), state_, m.size() * 4, cudaMemcpyDeviceToHost), "Gpt::moments",
            "m");
  gpt_check(cudaMemcpy(v.data(), state_ + P_, v.size() * 4, cudaMemcpyDeviceToHost),
            "Gpt::moments", "v");
}

template <class E>
double Gpt<E>::forward(std::span<const std::int32_t> ids, std::span<const std::int32_t> targets) {
  constexpr const char* where = "Gpt::forward";
  const auto n = static_cast<std::size_t>(N_);
  if (ids.size() != n)
    throw Error(where, "ids has " + std::to_string(ids.size()) + " tokens but B·T = " +
                           std::to_string(N_));
  if (!targets.empty() && targets.size() != n)
    throw Error(where, "targets has " + std::to_string(targets.size()) + " tokens but B·T = " +
                           std::to_string(N_));
  const std::int64_t N = N_, C = cfg_.n_embd, V = cfg_.vocab_size;
  have_targets_ = false;
  gpt_check(cudaMemcpy(ids_, ids.data(), n * 4, cudaMemcpyHostToDevice), where, "ids");
  // x^(0) = wte[ids] + wpe[0..T)
  gpt_check(embedding_forward(ids_, param(0), param(1), h_[0].x, B_, T_, C, V, cfg_.block_size),
            where, "embedding_forward");
  for (std::size_t l = 0; l < h_.size(); ++l) {
    const Block& b = h_[l];
    const std::size_t i = 2 + 12 * l;  // ln_1.weight's index
    E* next = l + 1 < h_.size() ? h_[l + 1].x : x_final_;
    // u = x + attn(LN_1(x))
    gpt_check(layernorm_forward(b.x, param(i), param(i + 1), b.ln1, b.ln1_m, b.ln1_r, N, C), where,
              "ln_1");
    gpt_check(attention_block_forward(b.ln1, attn_weights(static_cast<std::int64_t>(l)), tmp_,
                                      b.attn, dims(), true, attn_ws_),
              where, "attn");
    gpt_check(residual_forward(b.x, tmp_, b.u, N * C), where, "the attention's residual");
    // x_next = u + c_proj(GELU(c_fc(LN_2(u))))
    gpt_check(layernorm_forward(b.u, param(i + 6), param(i + 7), b.ln2, b.ln2_m, b.ln2_r, N, C),
              where, "ln_2");
    gpt_check(matmul_forward(b.ln2, param(i + 8), param(i + 9), b.fc, N, C, 4 * C), where,
              "mlp.c_fc");
    gpt_check(gelu_forward(b.fc, b.gelu, 4 * N * C), where, "gelu");
    gpt_check(matmul_forward(b.gelu, param(i + 10), param(i + 11), tmp_, N, 4 * C, C), where,
              "mlp.c_proj");
    gpt_check(residual_forward(b.u, tmp_, next, N * C), where, "the MLP's residual");
  }
  // logits = LN_f(x^(L)) wteᵀ (the tied lm_head, no bias)
  const std::size_t f = layout_.size() - 2;
  gpt_check(layernorm_forward(x_final_, param(f), param(f + 1), lnf_, lnf_m_, lnf_r_, N, C), where,
            "ln_f");
  gpt_check(matmul_forward(lnf_, param(0), static_cast<const E*>(nullptr), logits_, N, C, V), where,
            "lm_head");
  if (targets.empty()) return std::numeric_limits<double>::quiet_NaN();
  gpt_check(cudaMemcpy(targets_, targets.data(), n * 4, cudaMemcpyHostToDevice), where, "targets");
  gpt_check(cross_entropy_forward(logits_, targets_, losses_, lse_, B_, T_, V), where,
            "cross_entropy_forward");
  gpt_check(cudaMemcpy(host_losses_.data(), losses_, n * 4, cudaMemcpyDeviceToHost), where,
            "the losses");
  // the mean over S, and d mean / d loss = 1/|S| on S (the backward's dlosses)
  std::int64_t counted = 0;
  double sum = 0;
  for (std::size_t r = 0; r < n; ++r)
    if (targets[r] != kCrossEntropyIgnoreIndex) {
      ++counted;
      sum += static_cast<double>(host_losses_[r]);
    }
  for (std::size_t r = 0; r < n; ++r)
    host_dlosses_[r] = targets[r] != kCrossEntropyIgnoreIndex
                           ? 1.0f / static_cast<float>(counted)
                           : 0.0f;
  gpt_check(cudaMemcpy(dlosses_, host_dlosses_.data(), n * 4, cudaMemcpyHostToDevice), where,
            "dlosses");
  have_targets_ = true;
  return counted > 0 ? sum / static_cast<double>(counted)
                     : std::numeric_limits<double>::quiet_NaN();
}

template <class E>
std::vector<float> Gpt<E>::logits() const {
  return detail::download_as_float(logits_, N_ * cfg_.vocab_size, "Gpt::logits");
}

template <class E>
void Gpt<E>::zero_grad() {
  gpt_check(cudaMemset(grads_, 0, static_cast<std::size_t>(P_) * sizeof(float)), "Gpt::zero_grad",
            "cudaMemset");
}

template <class E>
double Gpt<E>::step(const AdamwHyper& h, double clip, double grad_scale) {
  constexpr const char* where = "Gpt::step";
  if (!(clip >= 0) || !std::isfinite(clip))
    throw Error(where, "clip = " + std::to_string(clip) + " (must be finite and ≥ 0)");
  if (!(grad_scale > 0) || !std::isfinite(grad_scale))
    throw Error(where, "grad_scale = " + std::to_string(grad_scale) + " (must be finite and > 0)");
  check_adamw_hyper(h);
  // ‖ḡ‖ on the device, then c and the scale s·c on the host (clip = 0: no clipping, the norm
  // still computed), written back as adamw_step's grad_scale
  gpt_check(grad_norm(*all_, std::numeric_limits<float>::max(), norm_), where, "grad_norm");
  float host[2] = {0, 1};
  gpt_check(cudaMemcpy(host, norm_, sizeof host, cudaMemcpyDeviceToHost), where, "the norm");
  const double norm = grad_scale * static_cast<double>(host[0]);
  const double c = clip > 0 ? clip / (norm + 1e-6) : 1.0;
  host[1] = static_cast<float>(grad_scale * (c < 1 ? c : 1.0));
  gpt_check(cudaMemcpy(norm_ + 1, host + 1, sizeof(float), cudaMemcpyHostToDevice), where,
            "the scale");
  AdamwHyper no_wd = h;
  no_wd.weight_decay = 0.0f;
  gpt_check(adamw_step(*decay_, h, norm_ + 1), where, "adamw_step (decayed)");
  gpt_check(adamw_step(*no_decay_, no_wd, norm_ + 1), where, "adamw_step (not decayed)");
  return norm;
}

template class Gpt<float>;
template class Gpt<__nv_bfloat16>;

}  // namespace llmlab::cuda
