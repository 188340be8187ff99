#include "llmlab/ref/train.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <xtensor/xadapt.hpp>

#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/compose.hpp"
#include "llmlab/ref/optimizer.hpp"

namespace llmlab::ref {

namespace {

std::int64_t seq_of(const TrainState& s) { return s.opt.seq > 0 ? s.opt.seq : s.cfg.block_size; }

}  // namespace

TrainState train_init(const GptConfig& cfg, const TrainOptions& opt) {
  const auto refuse = [](const std::string& what) { throw Error("train", what); };
  gpt_check_config(cfg);
  if (opt.batch < 1) refuse("batch = " + std::to_string(opt.batch) + " (must be ≥ 1)");
  if (opt.grad_accum < 1 || opt.batch % opt.grad_accum != 0)
    refuse("grad_accum = " + std::to_string(opt.grad_accum) +
           " does not divide batch = " + std::to_string(opt.batch) + " into equal micro-batches");
  if (opt.seq < 0 || opt.seq > cfg.block_size)
    refuse("seq = " + std::to_string(opt.seq) +
           " is outside [0, block_size = " + std::to_string(cfg.block_size) + "]");
  if (opt.steps < 1) refuse("steps = " + std::to_string(opt.steps) + " (must be ≥ 1)");
  if (opt.warmup < 0 || opt.warmup > opt.steps)
    refuse("warmup = " + std::to_string(opt.warmup) +
           " is outside [0, steps = " + std::to_string(opt.steps) + "]");
  if (!(opt.clip >= 0)) refuse("clip = " + std::to_string(opt.clip) + " (must be ≥ 0)");
  lr_at(0, opt.lr, opt.min_lr, opt.warmup, opt.steps);  // lr and min_lr's checks
#if defined(__GLIBC__)
  // A step's activations and gradients are fresh tensors of up to B·T·V floats (16 MB at the
  // bench's size). Keep the blocks glibc frees in its heap, neither unmapped (≤ 32 MB, glibc's
  // largest mmap threshold) nor trimmed, so the next step reuses those pages instead of the
  // kernel mapping and zeroing new ones (page faults and clearing were ~5% of a step's time).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  TrainState s{cfg, opt, gpt_init<float>(cfg, opt.seed), {}, {}, 0};
  for (const auto& t : gpt_tensors(s.params)) {
    s.m.push_back(xt::zeros<float>({t.size}));
    s.v.push_back(xt::zeros<float>({t.size}));
  }
  return s;
}

Batch get_batch(std::span<const std::int32_t> tokens, std::int64_t B, std::int64_t T,
                std::uint64_t seed, std::int64_t step) {
  const auto n = static_cast<std::int64_t>(tokens.size());
  if (B < 1 || T < 1 || n < T + 1)
    throw Error("get_batch", std::to_string(n) + " tokens hold no window of T + 1 = " +
                                 std::to_string(T + 1) + " (B = " + std::to_string(B) + ")");
  Rng rng(seed * 1000003ULL + static_cast<std::uint64_t>(step));
  const auto b = static_cast<std::size_t>(B), t = static_cast<std::size_t>(T);
  Batch r{xt::empty<std::int32_t>({b, t}), xt::empty<std::int32_t>({b, t})};
  for (std::size_t i = 0; i < b; ++i) {
    const auto span = static_cast<double>(n - T);  // offsets 0 .. n - T - 1
    const auto o = std::min(static_cast<std::size_t>(rng.uniform(0.0, span)),
                            static_cast<std::size_t>(n - T - 1));
    std::copy_n(tokens.begin() + static_cast<std::ptrdiff_t>(o), t, &r.ids(i, 0));
    std::copy_n(tokens.begin() + static_cast<std::ptrdiff_t>(o + 1), t, &r.targets(i, 0));
  }
  return r;
}

StepStats train_step(TrainState& s, std::span<const std::int32_t> tokens) {
  return train_step(s, get_batch(tokens, s.opt.batch, seq_of(s), s.opt.seed, s.step));
}

StepStats train_step(TrainState& s, const Batch& batch) {
  const std::int64_t A = std::max<std::int64_t>(s.opt.grad_accum, 1);
  const auto B = static_cast<std::int64_t>(batch.ids.shape(0));
  if (B % A != 0)
    throw Error("train_step", "grad_accum = " + std::to_string(A) +
                                  " does not divide the batch's " + std::to_string(B) + " rows");
  std::vector<xt::xtensor<float, 1>> grads;
  double loss = 0;
  for (std::int64_t a = 0; a < A; ++a) {  // micro-batch a: rows [a B/A, (a + 1) B/A)
    const auto rows = [&](const xt::xtensor<std::int32_t, 2>& x) {
      if (A == 1) return x;
      const std::size_t m = x.shape(0) / static_cast<std::size_t>(A), t = x.shape(1);
      xt::xtensor<std::int32_t, 2> r = xt::empty<std::int32_t>({m, t});
      std::copy_n(x.data() + static_cast<std::size_t>(a) * m * t, m * t, r.data());
      return r;
    };
    const xt::xtensor<std::int32_t, 2> ids = rows(batch.ids), tg = rows(batch.targets);
    const GptForward<float> f = gpt_forward(s.cfg, s.params, ids, tg);
    if (!std::isfinite(f.loss))
      throw Error("train_step", "the loss is " + std::to_string(f.loss) + " at step " +
                                    std::to_string(s.step + 1) + " (the parameters are kept)");
    GptParams<float> g = gpt_backward(s.cfg, s.params, ids, tg, f);
    std::size_t i = 0;
    gpt_for_each_tensor(g, [&](const std::string&, auto& t) {
      if (a == 0)  // the first micro-batch's gradient, flat: its storage moved, not copied
        grads.push_back(reshaped<float, 1>(std::move(t), {t.size()}));
      else
        grads[i] += xt::adapt(t.data(), t.size(), xt::no_ownership(), std::array{t.size()});
      ++i;
    });
    loss += static_cast<double>(f.loss);
  }
  if (A > 1) {  // the mean over micro-batches (A = 1 stays exactly the one batch's gradient)
    for (auto& gr : grads) gr *= 1.0f / static_cast<float>(A);
    loss /= static_cast<double>(A);
  }
  std::vector<xt::xtensor<float, 1>*> ptrs;
  for (auto& gr : grads) ptrs.push_back(&gr);
  // clip = 0: no clipping, but the norm is still reported (the largest finite bound never clips)
  const double norm =
      clip_grad_norm<float>(ptrs, s.opt.clip > 0 ? s.opt.clip : std::numeric_limits<double>::max());
  const double lr = lr_at(s.step, s.opt.lr, s.opt.min_lr, s.opt.warmup, s.opt.steps);
  std::size_t i = 0;
  gpt_for_each_tensor(s.params, [&](const std::string&, auto& t) {
    constexpr std::size_t rank = std::remove_reference_t<decltype(t)>::rank;
    const AdamOptions o{lr, s.opt.beta1, s.opt.beta2, s.opt.eps,
                        rank == 2 ? s.opt.weight_decay : 0.0};  // no decay on biases and gains
    const auto shape = t.shape();
    // the optimizer steps flat tensors: t's storage is moved in and back, not copied
    xt::xtensor<float, 1> p = reshaped<float, 1>(std::move(t), {t.size()});
    try {
      adamw_step<float>(p, grads[i], s.m[i], s.v[i], s.step + 1, o);
    } catch (...) {  // refused (a moment of the wrong shape, a bad option): t gets its values back
      t = reshaped<float, rank>(std::move(p), shape);
      throw;
    }
    t = reshaped<float, rank>(std::move(p), shape);
    ++i;
  });
  ++s.step;
  return {loss, lr, norm};
}

double evaluate(const GptConfig& cfg, const GptParams<float>& params,
                std::span<const std::int32_t> tokens, std::int64_t B, std::int64_t T,
                std::int64_t max_windows) {
  const auto n = static_cast<std::int64_t>(tokens.size());
  if (B < 1 || T < 1 || n < T + 1)
    throw Error("evaluate",
                std::to_string(n) + " tokens hold no window of T + 1 = " + std::to_string(T + 1));
  const std::int64_t windows = std::min((n - 1) / T, std::max<std::int64_t>(max_windows, 1));
  double sum = 0;
  for (std::int64_t w0 = 0; w0 < windows; w0 += B) {
    const auto b = static_cast<std::size_t>(std::min(B, windows - w0));
    const auto t = static_cast<std::size_t>(T);
    xt::xtensor<std::int32_t, 2> ids = xt::empty<std::int32_t>({b, t}), tg = ids;
    for (std::size_t i = 0; i < b; ++i) {
      const auto o = static_cast<std::ptrdiff_t>((static_cast<std::size_t>(w0) + i) * t);
      std::copy_n(tokens.begin() + o, t, &ids(i, 0));
      std::copy_n(tokens.begin() + o + 1, t, &tg(i, 0));
    }
    sum += static_cast<double>(gpt_forward(cfg, params, ids, tg).loss) * static_cast<double>(b);
  }
  return sum / static_cast<double>(windows);
}

}  // namespace llmlab::ref
