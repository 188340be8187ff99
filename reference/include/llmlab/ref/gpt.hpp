#pragma once
/// \file
/// \ingroup group_gpt
/// \brief The GPT-2 model in the reference (nanoGPT's `GPT` without dropout): the configuration,
/// the parameters under nanoGPT's names, the forward from token ids to logits and the mean
/// cross-entropy, and the full backward — composed from the reference components (embedding,
/// layernorm, the attention block, matmul, gelu, residual, cross_entropy).
///
/// With ids (B, T), T ≤ block_size, C = n_embd, H = n_head, L = n_layer, V = vocab_size, N = B·T:
/// \f[ x^{(0)} = \mathrm{wte}[\mathrm{ids}] + \mathrm{wpe}[0..T) \f]
/// \f[ u^{(l)} = x^{(l)} + \mathrm{attn}_l\big(\mathrm{LN}_{1,l}(x^{(l)})\big), \qquad
///     x^{(l+1)} = u^{(l)} + W_{\mathrm{proj},l}\, \mathrm{GELU}\big(W_{\mathrm{fc},l}\,
///     \mathrm{LN}_{2,l}(u^{(l)}) + b_{\mathrm{fc},l}\big) + b_{\mathrm{proj},l} \f]
/// \f[ \mathrm{logits} = \mathrm{LN}_f(x^{(L)})\, \mathrm{wte}^\top \in \mathbb{R}^{B \times T
///     \times V}, \qquad \bar\ell = \frac{1}{|S|} \sum_{(b,t) \in S} \big(\mathrm{lse}_{b,t} -
///     \mathrm{logits}_{b,t,y_{b,t}}\big) \f]
/// (pre-LayerNorm blocks, the MLP 4C wide, the lm_head tied to wte; S the targets that are not
/// ignore_index). docs/design.md §3 gives the architecture.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/ref/attention_block.hpp"
#include "llmlab/ref/layernorm.hpp"

namespace llmlab::ref {

/// The model's sizes (nanoGPT's GPTConfig without dropout and bias, which are always on).
struct GptConfig {
  std::int64_t vocab_size = 64;  ///< V, the number of token ids
  std::int64_t block_size = 8;   ///< the longest context, wpe's rows
  std::int64_t n_layer = 2;      ///< L, the blocks
  std::int64_t n_head = 2;       ///< H, dividing n_embd
  std::int64_t n_embd = 16;      ///< C, the residual stream's width
};

/// Checks a configuration: every size ≥ 1 and n_head dividing n_embd.
/// @throws llmlab::Error naming `gpt` and the field otherwise.
void gpt_check_config(const GptConfig& cfg);

/// One block's parameters (nanoGPT's names under `transformer.h.{i}.`).
template <class T>
struct GptBlockParams {
  xt::xtensor<T, 1> ln_1_w;      ///< ln_1.weight (C)
  xt::xtensor<T, 1> ln_1_b;      ///< ln_1.bias (C)
  AttentionBlockParams<T> attn;  ///< attn.c_attn (3C, C), (3C); attn.c_proj (C, C), (C)
  xt::xtensor<T, 1> ln_2_w;      ///< ln_2.weight (C)
  xt::xtensor<T, 1> ln_2_b;      ///< ln_2.bias (C)
  xt::xtensor<T, 2> fc_w;        ///< mlp.c_fc.weight (4C, C)
  xt::xtensor<T, 1> fc_b;        ///< mlp.c_fc.bias (4C)
  xt::xtensor<T, 2> proj_w;      ///< mlp.c_proj.weight (C, 4C)
  xt::xtensor<T, 1> proj_b;      ///< mlp.c_proj.bias (C)
};

/// Every parameter of the model (and, the same shapes, every gradient). lm_head.weight is wte.
template <class T>
struct GptParams {
  xt::xtensor<T, 2> wte;             ///< transformer.wte.weight (V, C), also lm_head.weight
  xt::xtensor<T, 2> wpe;             ///< transformer.wpe.weight (block_size, C)
  std::vector<GptBlockParams<T>> h;  ///< transformer.h.{0..L-1}
  xt::xtensor<T, 1> ln_f_w;          ///< transformer.ln_f.weight (C)
  xt::xtensor<T, 1> ln_f_b;          ///< transformer.ln_f.bias (C)
};

/// One parameter tensor seen flat: its nanoGPT name, its shape and its row-major data.
template <class T>
struct GptTensor {
  std::string name;                ///< e.g. "transformer.h.0.attn.c_attn.weight"
  std::vector<std::size_t> shape;  ///< e.g. (3C, C)
  T* data;                         ///< the first element, row-major
  std::size_t size;                ///< the product of shape
};

/// Calls `f(name, tensor)` for every parameter tensor of p in nanoGPT's state_dict order (as
/// gpt_tensors), `tensor` the xt::xtensor<T, 1> or xt::xtensor<T, 2> itself — for code that takes
/// or replaces a tensor's storage (ref::train_step moves each one into the optimizer's flat form
/// and back, no copy).
/// @param p the parameters (or gradients)   @param f called as f(const std::string&, auto&)
template <class T, class F>
void gpt_for_each_tensor(GptParams<T>& p, F&& f) {
  f("transformer.wte.weight", p.wte);
  f("transformer.wpe.weight", p.wpe);
  for (std::size_t l = 0; l < p.h.size(); ++l) {
    GptBlockParams<T>& b = p.h[l];
    const std::string n = "transformer.h." + std::to_string(l) + ".";
    f(n + "ln_1.weight", b.ln_1_w);
    f(n + "ln_1.bias", b.ln_1_b);
    f(n + "attn.c_attn.weight", b.attn.c_attn_w);
    f(n + "attn.c_attn.bias", b.attn.c_attn_b);
    f(n + "attn.c_proj.weight", b.attn.c_proj_w);
    f(n + "attn.c_proj.bias", b.attn.c_proj_b);
    f(n + "ln_2.weight", b.ln_2_w);
    f(n + "ln_2.bias", b.ln_2_b);
    f(n + "mlp.c_fc.weight", b.fc_w);
    f(n + "mlp.c_fc.bias", b.fc_b);
    f(n + "mlp.c_proj.weight", b.proj_w);
    f(n + "mlp.c_proj.bias", b.proj_b);
  }
  f("transformer.ln_f.weight", p.ln_f_w);
  f("transformer.ln_f.bias", p.ln_f_b);
}

/// The parameters as named flat tensors, in nanoGPT's state_dict order (wte, wpe, each block's
/// ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj — weight then bias — then ln_f;
/// lm_head.weight is left out: it is wte). The views alias p; they live as long as p's tensors.
template <class T>
std::vector<GptTensor<T>> gpt_tensors(GptParams<T>& p);

/// Zeros shaped as the model's parameters (the gradients' starting point).
/// @throws llmlab::Error as gpt_check_config.
template <class T>
GptParams<T> gpt_zeros(const GptConfig& cfg);

/// nanoGPT's initialisation, drawn from llmlab::Rng(seed) in gpt_tensors' order: every weight
/// matrix and embedding \f$ \sim \mathcal{N}(0, 0.02^2) \f$, the residual projections (attn.c_proj
/// and mlp.c_proj weights) \f$ \sim \mathcal{N}(0, (0.02/\sqrt{2L})^2) \f$, biases 0, LayerNorm
/// gains 1 and shifts 0.
/// @throws llmlab::Error as gpt_check_config.
template <class T>
GptParams<T> gpt_init(const GptConfig& cfg, std::uint64_t seed);

/// One block's activations kept for the backward.
template <class T>
struct GptBlockSaved {
  xt::xtensor<T, 3> x;          ///< (B, T, C) the block's input \f$ x^{(l)} \f$
  LayerNormForward<T> ln_1;     ///< ln_1's output and statistics
  AttentionBlockSaved<T> attn;  ///< the attention block's saved activations
  xt::xtensor<T, 3> u;          ///< (B, T, C) \f$ u^{(l)} \f$, after the attention residual
  LayerNormForward<T> ln_2;     ///< ln_2's output and statistics
  xt::xtensor<T, 2> fc;         ///< (N, 4C) c_fc's output, GELU's input
  xt::xtensor<T, 2> gelu;       ///< (N, 4C) GELU's output, mlp.c_proj's input
};

/// The forward's outputs and what it keeps.
template <class T>
struct GptForward {
  xt::xtensor<T, 3> logits;         ///< (B, T, V)
  xt::xtensor<T, 2> losses;         ///< (B, T) per-token cross-entropy (empty without targets)
  T loss;                           ///< \f$ \bar\ell \f$, the mean over S (NaN without targets)
  std::vector<GptBlockSaved<T>> h;  ///< each block's activations
  xt::xtensor<T, 3> x_final;        ///< (B, T, C) \f$ x^{(L)} \f$, ln_f's input
  LayerNormForward<T> ln_f;         ///< ln_f's output and statistics
};

/// The forward pass (see the file's equations), with the loss when targets are given.
/// @param cfg the sizes   @param p the parameters, shaped as cfg asks
/// @param ids (B, T), 1 ≤ T ≤ block_size, each id in [0, V)
/// @param targets (B, T), each in [0, V) or ignore_index (−100); an empty (0, 0) tensor: no loss
/// @returns logits (B, T, V), the per-token and mean losses, the saved activations
/// @throws llmlab::Error naming `gpt_forward` and the argument when a parameter's shape is not the
///         one cfg asks for, T is 0 or past block_size, or targets is neither empty nor (B, T);
///         and as the components (e.g. an id outside [0, V), naming [b, t]).
template <class T>
GptForward<T> gpt_forward(const GptConfig& cfg, const GptParams<T>& p,
                          const xt::xtensor<std::int32_t, 2>& ids,
                          const xt::xtensor<std::int32_t, 2>& targets);

/// The full backward of \f$ \bar\ell \f$ (gpt_forward with targets), written against the forward
/// in reverse: \f$ \partial \bar\ell / \partial \ell_{b,t} = 1/|S| \f$, cross_entropy_backward,
/// the tied lm_head's matmul backward (into dwte), ln_f, then per block (last first) the MLP
/// residual (its gradient passes to both branches), c_proj, GELU, c_fc, ln_2, the attention
/// residual, the attention block, ln_1, and last the embedding (into dwte again and dwpe).
/// @param cfg, p, ids, targets as given to gpt_forward   @param f gpt_forward's result
/// @returns the gradient of every parameter, shaped as p (dwte holds both of wte's uses)
/// @throws llmlab::Error naming `gpt_backward` when targets is empty or f is not this batch's.
template <class T>
GptParams<T> gpt_backward(const GptConfig& cfg, const GptParams<T>& p,
                          const xt::xtensor<std::int32_t, 2>& ids,
                          const xt::xtensor<std::int32_t, 2>& targets, const GptForward<T>& f);

/// The number of parameters (wte counted once): \f$ VC + \mathrm{block\_size}\,C + L(12C^2 + 13C)
/// + 2C \f$.
std::int64_t gpt_num_params(const GptConfig& cfg);

/// \cond EXPLICIT_INSTANTIATIONS
extern template std::vector<GptTensor<float>> gpt_tensors(GptParams<float>&);
extern template std::vector<GptTensor<double>> gpt_tensors(GptParams<double>&);
extern template GptParams<float> gpt_zeros(const GptConfig&);
extern template GptParams<double> gpt_zeros(const GptConfig&);
extern template GptParams<float> gpt_init(const GptConfig&, std::uint64_t);
extern template GptParams<double> gpt_init(const GptConfig&, std::uint64_t);
extern template GptForward<float> gpt_forward(const GptConfig&, const GptParams<float>&,
                                              const xt::xtensor<std::int32_t, 2>&,
                                              const xt::xtensor<std::int32_t, 2>&);
extern template GptForward<double> gpt_forward(const GptConfig&, const GptParams<double>&,
                                               const xt::xtensor<std::int32_t, 2>&,
                                               const xt::xtensor<std::int32_t, 2>&);
extern template GptParams<float> gpt_backward(const GptConfig&, const GptParams<float>&,
                                              const xt::xtensor<std::int32_t, 2>&,
                                              const xt::xtensor<std::int32_t, 2>&,
                                              const GptForward<float>&);
extern template GptParams<double> gpt_backward(const GptConfig&, const GptParams<double>&,
                                               const xt::xtensor<std::int32_t, 2>&,
                                               const xt::xtensor<std::int32_t, 2>&,
                                               const GptForward<double>&);
/// \endcond

}  // namespace llmlab::ref
