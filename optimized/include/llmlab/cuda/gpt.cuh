#pragma once
/// \file
/// \ingroup group_gpt
/// \brief The GPT-2 model on the GPU, composed from llmlab's kernels (src/gpt.cu: layout, memory,
/// forward, optimizer step; src/gpt_backward.cu: the backward): the same architecture, parameter
/// names and order as the reference (llmlab::ref::gpt_forward, docs/design.md §3), in fp32 or in
/// bf16 with fp32 gradients and fp32 master weights.
///
/// With ids (B, T), C = n_embd, H = n_head, L = n_layer, V = vocab_size, N = B·T:
/// \f[ x^{(0)} = \mathrm{wte}[\mathrm{ids}] + \mathrm{wpe}[0..T), \quad
///     u^{(l)} = x^{(l)} + \mathrm{attn}_l(\mathrm{LN}_{1,l}(x^{(l)})), \quad
///     x^{(l+1)} = u^{(l)} + \mathrm{MLP}_l(\mathrm{LN}_{2,l}(u^{(l)})), \f]
/// \f[ \mathrm{logits} = \mathrm{LN}_f(x^{(L)})\, \mathrm{wte}^\top, \qquad
///     \bar\ell = \frac{1}{|S|} \sum_{(b,t) \in S} \mathrm{CE}(\mathrm{logits}_{b,t}, y_{b,t}). \f]
///
/// Memory, all allocated by the constructor and nothing inside a step (forward, backward, step):
/// ONE parameter buffer (every tensor in nanoGPT's state_dict order, contiguous, in the
/// activations' dtype E), ONE fp32 gradient buffer of the same layout, the optimizer's fp32 state
/// (m, v, and for bf16 the master weights), and ONE activation buffer sized for (B, T) that holds
/// every saved activation, the backward's gradients of activations and every kernel's workspace.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "llmlab/cuda/attention_block.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/optimizer.cuh"

namespace llmlab::cuda {

/// The model's sizes, as llmlab::ref::GptConfig (the kernels do not include the reference).
struct GptConfig {
  std::int64_t vocab_size = 64;  ///< V
  std::int64_t block_size = 8;   ///< the longest context, wpe's rows
  std::int64_t n_layer = 2;      ///< L
  std::int64_t n_head = 2;       ///< H, dividing n_embd
  std::int64_t n_embd = 16;      ///< C
};

/// One parameter tensor's place in the flat buffers.
struct GptTensorInfo {
  std::string name;                 ///< nanoGPT's, e.g. "transformer.h.0.attn.c_attn.weight"
  std::vector<std::int64_t> shape;  ///< e.g. (3C, C)
  std::int64_t offset;              ///< its first element's index in the flat buffer
  std::int64_t size;                ///< the product of shape
};

/// The parameter tensors in nanoGPT's state_dict order (wte, wpe, per block ln_1, attn.c_attn,
/// attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj — weight then bias — then ln_f; lm_head is wte), each
/// with its offset: the layout of Gpt's parameter, gradient and moment buffers, and of
/// llmlab::ref::gpt_tensors concatenated.
/// @param cfg the sizes   @returns 2 + 12L + 2 tensors, offsets increasing, no gaps
/// @throws llmlab::Error naming `gpt` and the field when a size is < 1 or n_head does not divide
///         n_embd.
std::vector<GptTensorInfo> gpt_tensor_layout(const GptConfig& cfg);

/// Deliberately wrong backwards, kept so that the tests show the oracle rejecting them.
enum class GptFlaw {
  none,             ///< the correct model
  untied_lm_head,   ///< dwte loses the lm_head's contribution (the tied weight's gradient is
                    ///< overwritten by the embedding's instead of accumulated with it)
  no_mlp_residual,  ///< the MLP's residual connection passes no gradient to u (only the MLP does)
};

/// A GPT on the device, for a fixed batch shape (B, T): E = float (fp32 everything) or
/// __nv_bfloat16 (bf16 parameters and activations, fp32 statistics, fp32 gradients, fp32
/// AdamW moments and master weights; each bf16 parameter rounded stochastically from its master
/// weight after every step).
///
/// A training step is zero_grad(), forward(ids, targets), backward(), step(h, clip).
/// Neither copyable nor movable; not for concurrent use.
template <class E>
class Gpt {
 public:
  /// Allocates every buffer (parameters zero; set_params loads them).
  /// @param cfg the sizes   @param B sequences per batch ≥ 1   @param T tokens per sequence,
  ///        1 ≤ T ≤ block_size   @param flaw GptFlaw::none but in the tests
  /// @throws llmlab::Error naming `Gpt` and the argument when B or T is out of range, as
  ///         gpt_tensor_layout for cfg, naming `Gpt` when the head dimension C/H is over
  ///         attention_max_head_dim, and naming `Gpt` and the runtime's error when an allocation
  ///         fails.
  Gpt(const GptConfig& cfg, std::int64_t B, std::int64_t T, GptFlaw flaw = GptFlaw::none);
  ~Gpt();
  Gpt(const Gpt&) = delete;
  Gpt& operator=(const Gpt&) = delete;

  /// The sizes.   @returns the configuration given to the constructor
  const GptConfig& config() const { return cfg_; }
  /// @returns B, the batch's sequences
  std::int64_t batch() const { return B_; }
  /// @returns T, the batch's tokens per sequence
  std::int64_t seq() const { return T_; }
  /// The flat layout (gpt_tensor_layout(config())).   @returns the tensors in order
  const std::vector<GptTensorInfo>& tensors() const { return layout_; }
  /// \f$ P = VC + \mathrm{block\_size}\,C + L(12C^2 + 13C) + 2C \f$.   @returns P
  std::int64_t num_params() const { return P_; }
  /// @returns the activation buffer's size in bytes (every saved activation and workspace)
  std::size_t activation_bytes() const { return act_bytes_; }

  /// Loads the parameters: `host` (P) fp32 in the flat layout; bf16: the master weights become
  /// `host` and the parameters bf16(host), rounded to nearest-even.
  /// @param host P floats   @throws llmlab::Error naming `Gpt::set_params` when host.size() ≠ P.
  void set_params(std::span<const float> host);
  /// The parameters as fp32 (bf16: the master weights, which the parameters round).
  /// @returns P floats in the flat layout
  std::vector<float> params() const;
  /// The gradients \f$ \partial \bar\ell / \partial p \f$ (fp32, as backward accumulated them).
  /// @returns P floats in the flat layout
  std::vector<float> grads() const;
  /// Loads AdamW's moments (e.g. from a checkpoint).
  /// @param m P floats   @param v P floats
  /// @throws llmlab::Error naming `Gpt::set_moments` when a size is not P.
  void set_moments(std::span<const float> m, std::span<const float> v);
  /// AdamW's moments.   @param m set to P floats   @param v set to P floats
  void moments(std::vector<float>& m, std::vector<float>& v) const;

  /// The forward pass: the logits (B, T, V) kept in the activation buffer and, with targets, the
  /// per-token losses and their mean \f$ \bar\ell \f$ over the targets that are not
  /// kCrossEntropyIgnoreIndex (summed on the host in double).
  /// @param ids (B·T) host, row-major (B, T), each in [0, V)
  /// @param targets (B·T) host, each in [0, V) or −100; empty: no loss
  /// @returns \f$ \bar\ell \f$ (NaN without targets, or when every target is ignored)
  /// @throws llmlab::Error naming `Gpt::forward` and the argument when a size is not B·T, and as
  ///         the kernels (an id or target out of range, naming [b, t]).
  double forward(std::span<const std::int32_t> ids, std::span<const std::int32_t> targets);
  /// The last forward's logits, widened to fp32; valid until backward (which overwrites them
  /// with their gradient, in place).   @returns (B·T·V) floats
  std::vector<float> logits() const;
  /// Sets every gradient to 0 (backward accumulates).
  void zero_grad();
  /// The full backward of the last forward's \f$ \bar\ell \f$, in reverse (the reference's order:
  /// llmlab::ref::gpt_backward): cross-entropy with \f$ \partial\bar\ell/\partial\ell_{b,t} =
  /// 1/|S| \f$, the tied lm_head (into dwte), ln_f, per block the MLP, ln_2, the attention block,
  /// ln_1 (the residual stream's gradient carried in one buffer that each LayerNorm backward adds
  /// to), last the embedding (into dwte again, and dwpe). **Accumulates** into the gradients.
  /// @throws llmlab::Error naming `Gpt::backward` when the last forward had no targets.
  void backward();
  /// One AdamW step on every tensor (fused, optimizer.cuh) on the gradient
  /// \f$ g = s\,\bar g \f$ (\f$ \bar g \f$ what backward accumulated; s = 1/A after A
  /// micro-batches, their mean) after global-norm clipping:
  /// \f$ c = \min(1, \mathrm{clip} / (\|g\| + 10^{-6})) \f$ (clip = 0: c = 1), then adamw_step
  /// with \f$ g \leftarrow c g \f$, h.weight_decay on the 2-D tensors only (nanoGPT's groups:
  /// matrices and embeddings) and 0 on the rest.
  /// @param h the hyper-parameters and the step t ≥ 1 (h.seed: bf16's stochastic rounding)
  /// @param clip the global norm kept, ≥ 0 (0: no clipping)
  /// @param grad_scale s > 0 (1: the accumulated gradient itself)
  /// @returns \f$ \|g\| \f$ before clipping
  /// @throws llmlab::Error naming `Gpt::step` and clip or grad_scale when clip < 0, grad_scale ≤
  ///         0 or either is not finite, and as adamw_step for h.
  double step(const AdamwHyper& h, double clip, double grad_scale = 1.0);

  /// @returns the device parameter buffer (P elements of E)
  E* device_params() { return params_; }
  /// @returns the device gradient buffer (P floats)
  float* device_grads() { return grads_; }

 private:
  /// \cond PRIVATE
  // Device pointers into the activation buffer for one block. Hidden from Doxygen: a private
  // nested class made it link a "Classes" section that it does not write.
  struct Block {
    E* x;          // (N, C) the block's input x^(l)
    E* ln1;        // (N, C)
    float* ln1_m;  // (N) mean
    float* ln1_r;  // (N) rstd
    AttentionBlockSaved<E> attn;
    E* u;  // (N, C)
    E* ln2;
    float* ln2_m;
    float* ln2_r;
    E* fc;    // (N, 4C)
    E* gelu;  // (N, 4C)
  };
  /// \endcond
  /// Tensor i of gpt_tensor_layout: its parameters and its gradient.
  E* param(std::size_t i) const { return params_ + layout_[i].offset; }
  float* grad(std::size_t i) const { return grads_ + layout_[i].offset; }
  AttentionBlockWeights<E> attn_weights(std::int64_t l) const;
  AttentionBlockGrads attn_grads(std::int64_t l) const;
  AttentionBlockDims dims() const { return {B_, T_, cfg_.n_embd, cfg_.n_head}; }
  void carve();

  GptConfig cfg_;
  std::int64_t B_, T_, N_, P_;
  GptFlaw flaw_;
  std::vector<GptTensorInfo> layout_;
  E* params_ = nullptr;
  float* grads_ = nullptr;
  float* state_ = nullptr;  // m (P), v (P), then bf16's master weights (P)
  unsigned char* act_ = nullptr;
  std::size_t act_bytes_ = 0;
  std::unique_ptr<AdamwList<E>> all_, decay_, no_decay_;
  // the activation buffer's regions
  std::int32_t *ids_ = nullptr, *targets_ = nullptr, *emb_ws_ = nullptr;
  std::vector<Block> h_;
  E *x_final_ = nullptr, *lnf_ = nullptr, *logits_ = nullptr, *tmp_ = nullptr;
  float *lnf_m_ = nullptr, *lnf_r_ = nullptr, *losses_ = nullptr, *lse_ = nullptr,
        *dlosses_ = nullptr, *ln_scratch_ = nullptr, *norm_ = nullptr;
  E *dres_ = nullptr, *dln_ = nullptr, *dgelu_ = nullptr, *dfc_ = nullptr;
  AttentionBlockWorkspace<E> attn_ws_;
  // host staging, sized once
  std::vector<float> host_losses_, host_dlosses_;
  bool have_targets_ = false;
};

/// \cond EXPLICIT_INSTANTIATIONS
extern template class Gpt<float>;
extern template class Gpt<__nv_bfloat16>;
/// \endcond

}  // namespace llmlab::cuda
