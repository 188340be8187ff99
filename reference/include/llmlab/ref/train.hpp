#pragma once
/// \file
/// \ingroup group_gpt
/// \brief Training the reference GPT on the CPU: batches from a token stream, one AdamW step
/// with global-norm clipping under the warm-up + cosine schedule (the optimizer reference),
/// evaluation by mean loss and perplexity, checkpoints that resume bitwise, and sampling.
///
/// Everything a step uses is a function of the state and the step number alone (the batch's
/// offsets are drawn from llmlab::Rng seeded by (seed, step)), so a run saved at step k and
/// resumed makes exactly the updates of an uninterrupted one.

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/ref/gpt.hpp"

namespace llmlab::ref {

/// The training run's hyper-parameters (nanoGPT's names where it has them).
struct TrainOptions {
  std::int64_t batch = 8;     ///< B, sequences per step
  std::int64_t seq = 0;       ///< T, tokens per sequence (0: the model's block_size)
  std::int64_t steps = 100;   ///< S, the total steps (the schedule ends here)
  std::int64_t warmup = 10;   ///< W, the warm-up steps
  double lr = 1e-3;           ///< \f$ \eta_{\max} \f$
  double min_lr = 1e-4;       ///< \f$ \eta_{\min} \f$
  double weight_decay = 0.1;  ///< AdamW's decoupled decay, on the weight matrices only
  double beta1 = 0.9;         ///< AdamW's \f$ \beta_1 \f$
  double beta2 = 0.95;        ///< AdamW's \f$ \beta_2 \f$ (nanoGPT's)
  double eps = 1e-8;          ///< AdamW's \f$ \varepsilon \f$
  double clip = 1.0;          ///< the global gradient norm kept (0: no clipping)
  std::uint64_t seed = 1337;  ///< the initialisation's and the batches' seed
  std::int64_t grad_accum = 1;  ///< A, micro-batches per step (B/A sequences each; divides B)
};

/// The CPU threads the reference uses from now on: n OpenMP threads for everything — its own
/// loops over rows, heads and elements, and its GEMMs, split into blocks of rows (or heads) that
/// each run on one thread; OpenBLAS itself is set to one thread, so that two thread pools do not
/// spin against each other. Each row or element is computed whole by one thread and no GEMM's sum
/// is split, so a step's results are the same bits for any n (tests/train_test.cpp checks 1
/// against 2 and 3). @param n threads, in [0, 1024] (0: one per processor, omp_get_num_procs).
/// @throws llmlab::Error when n < 0 or n > 1024.
void set_cpu_threads(int n);

/// Everything a run is: the model, its AdamW moments and the steps taken.
struct TrainState {
  GptConfig cfg;                         ///< the model's sizes
  TrainOptions opt;                      ///< the hyper-parameters
  GptParams<float> params;               ///< the weights (float32)
  std::vector<xt::xtensor<float, 1>> m;  ///< AdamW's first moments, one per gpt_tensors entry
  std::vector<xt::xtensor<float, 1>> v;  ///< AdamW's second moments, the same
  std::int64_t step = 0;                 ///< updates done so far
};

/// One batch: ids (B, T) and the targets, the same windows shifted by one token.
struct Batch {
  xt::xtensor<std::int32_t, 2> ids;      ///< (B, T) \f$ x_{b,t} = s_{o_b + t} \f$
  xt::xtensor<std::int32_t, 2> targets;  ///< (B, T) \f$ y_{b,t} = s_{o_b + t + 1} \f$
};

/// What one step reports.
struct StepStats {
  double loss;       ///< the batch's mean loss before the update
  double lr;         ///< the learning rate used, lr_at(step)
  double grad_norm;  ///< the global gradient norm before clipping
};

/// A fresh run: gpt_init(cfg, opt.seed), zero moments, step 0.
/// @throws llmlab::Error naming `train` and the option when batch < 1, grad_accum < 1 or does not
///         divide batch, seq is outside
///         [0, block_size], steps < 1, warmup outside [0, steps], clip < 0 (and as gpt_init and
///         lr_at for the rest).
TrainState train_init(const GptConfig& cfg, const TrainOptions& opt);

/// The batch of step `step`: B windows of T + 1 tokens at offsets \f$ o_b \f$ drawn uniformly in
/// \f$ [0, n - T - 1] \f$ by llmlab::Rng(seed · 1000003 + step) — a function of (seed, step) only.
/// @param tokens the stream s (n tokens)   @param B, T the batch's shape   @param seed, step the
/// draw
/// @throws llmlab::Error naming `get_batch` when n < T + 1 (no window fits).
Batch get_batch(std::span<const std::int32_t> tokens, std::int64_t B, std::int64_t T,
                std::uint64_t seed, std::int64_t step);

/// One training step: the batch of state.step, gpt_forward and gpt_backward (float) — with
/// opt.grad_accum = A > 1 on A micro-batches of B/A consecutive rows, the gradient their mean
/// \f$ g = \frac{1}{A}\sum_a g_a \f$ and the loss the mean of their losses (the whole batch's
/// mean loss, as micro-batches are equal) — the gradients clipped to a global norm of opt.clip (clip_grad_norm), then adamw_step on every
/// tensor at lr_at(step, lr, min_lr, warmup, steps), with weight decay on the 2-D tensors
/// (nanoGPT's groups: matrices and embeddings decay; biases and LayerNorm parameters do not).
/// @returns the loss, the learning rate and the norm
/// @throws llmlab::Error naming `train_step` and the step when the loss is not finite (the
///         parameters are then left as they were), and as get_batch.
StepStats train_step(TrainState& state, std::span<const std::int32_t> tokens);

/// train_step on a given batch instead of state.step's draw (the same update otherwise): what
/// the whole-model oracle runs on PyTorch's fixed batch.
/// @param state the run, updated   @param batch ids and targets (B, T), T ≤ block_size
/// @throws llmlab::Error as train_step, and as gpt_forward for the batch's shapes and ids.
StepStats train_step(TrainState& state, const Batch& batch);

/// The mean loss over consecutive non-overlapping windows of T + 1 tokens of `tokens` (at most
/// max_windows of them, B at a time): \f$ \bar\ell = \frac{1}{W} \sum_w \bar\ell_w \f$; the
/// perplexity is \f$ e^{\bar\ell} \f$.
/// @throws llmlab::Error naming `evaluate` when fewer than T + 1 tokens are given.
double evaluate(const GptConfig& cfg, const GptParams<float>& params,
                std::span<const std::int32_t> tokens, std::int64_t B, std::int64_t T,
                std::int64_t max_windows);

/// Writes the run to `path` atomically (to `path.tmp`, flushed, then renamed over `path`), in
/// llmlab's checkpoint format, little-endian:
/// `"LLMLABCK"`, u32 version = 1, the config (5 × i64: vocab_size, block_size, n_layer, n_head,
/// n_embd), the step (i64), the options (6 × i64: batch, seq, steps, warmup, seed, grad_accum — 0
/// in files written before it, read as 1; 7 × f64:
/// lr, min_lr, weight_decay, beta1, beta2, eps, clip), u64 the number of tensors, then per tensor
/// (gpt_tensors' order) u32 name length, the name, u32 rank, rank × u64 shape, and its parameter,
/// m and v as float32; last a u64 FNV-1a hash of every byte before it. The state is written as it
/// is (load_checkpoint checks it).
/// @throws llmlab::Error naming `save_checkpoint` and the path when it cannot be written.
void save_checkpoint(const std::filesystem::path& path, const TrainState& state);

/// Reads a checkpoint save_checkpoint wrote, checking everything.
/// @throws llmlab::Error naming `load_checkpoint` and the path when the file is missing, is not a
///         checkpoint (magic), has another version, is truncated or corrupted (the hash), has a
///         config gpt_check_config refuses, or a tensor whose name or shape is not the one its
///         config asks for (both shapes named).
TrainState load_checkpoint(const std::filesystem::path& path);

/// Generates max_new tokens after `prompt`: each step runs gpt_forward on the last block_size
/// tokens and picks the next from the last position's logits z: greedy (\f$ \arg\max_v z_v \f$,
/// the lowest id on a tie) when temperature = 0, else drawn from
/// \f$ p_v \propto e^{z_v / \tau} \f$ restricted to the top_k largest (top_k = 0: all) with
/// llmlab::Rng(seed).
/// @returns the prompt followed by the new tokens
/// @throws llmlab::Error naming `generate` when the prompt is empty, temperature < 0 or top_k < 0
///         (and as gpt_forward, e.g. an id outside [0, V)).
std::vector<std::int32_t> generate(const GptConfig& cfg, const GptParams<float>& params,
                                   std::vector<std::int32_t> prompt, std::int64_t max_new,
                                   double temperature, std::int64_t top_k, std::uint64_t seed);

}  // namespace llmlab::ref
