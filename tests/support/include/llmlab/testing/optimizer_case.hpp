#pragma once
/// \file
/// \ingroup group_optimizer
/// \brief The optimizer's one description (the component kit, component.hpp): the sweep of
/// parameter lists, seeded cases (parameters, fp32 gradients and moments), the reference run of one
/// AdamW step (with clipping by the global norm where the case asks for it), the named outputs with
/// their rules, and the card. Used by tests/optimizer_test.cpp, chapter 06's checks,
/// `llmlab verify optimizer` and bench/optimizer_bench.cpp. Its users link llmlab::reference.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/optimizer.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// One point of the optimizer's sweep: a list of parameter tensors and one AdamW step on them.
struct OptimizerShape {
  std::vector<std::int64_t> sizes;  ///< each tensor's element count (0 allowed)
  double scale;                     ///< gradients ~ U(±scale); moments at the matching scale
  std::int64_t step;                ///< the step t ≥ 1 (its bias corrections)
  double weight_decay;              ///< \f$ \lambda \f$
  double max_norm;                  ///< clip to this global norm first; 0: no clipping
  /// "[97, 1, 33] g~U(±1) t=10 wd=0.1 clip=1"
  std::string label() const {
    std::string s = "[";
    for (std::size_t k = 0; k < sizes.size(); ++k) s += (k ? ", " : "") + std::to_string(sizes[k]);
    char rest[96];
    std::snprintf(rest, sizeof rest, "] g~U(±%g) t=%lld wd=%g", scale, static_cast<long long>(step),
                  weight_decay);
    s += rest;
    if (max_norm > 0) {
      std::snprintf(rest, sizeof rest, " clip=%g", max_norm);
      s += rest;
    }
    return s;
  }
  /// \f$ \sum_k n_k \f$
  std::int64_t total() const {
    std::int64_t n = 0;
    for (const std::int64_t k : sizes) n += k;
    return n;
  }
};

/// The sweep every checker runs: lists of one tensor and of several, sizes no multiple of a block
/// or a warp, an empty tensor in a list; the first step (the largest bias correction) and late
/// ones; weight decay on and off; gradients ×1, ×1000 and ×1e-3 (there √v̂ is ~1e-3 and the update
/// still ~lr); clipping that scales (the norm ≫ max_norm) and clipping that does not.
inline const std::vector<OptimizerShape>& optimizer_shapes() {
  static const std::vector<OptimizerShape> shapes = {{{1}, 1, 1, 0, 0},
                                                     {{17}, 1, 1000, 0.1, 0},
                                                     {{97, 1, 33}, 1, 10, 0.1, 1},
                                                     {{4097}, 1000, 5, 0.1, 0},
                                                     {{1000, 0, 5, 257}, 1e-3, 3, 0, 0},
                                                     {{65537, 3}, 1, 100, 0.1, 1},
                                                     {{300, 301}, 1, 1, 0.1, 1e6}};
  return shapes;
}

/// The hyper-parameters every case uses (AdamW's as GPT-2 trainings set them, lr a little larger).
inline ref::AdamOptions optimizer_options(const OptimizerShape& s) {
  return {1e-2, 0.9, 0.95, 1e-8, s.weight_decay};
}

/// Inputs of one case, concatenated over the tensors (tensor k from sum of sizes before it). With
/// bf16, `param` holds the fp32 master weights and the kernel's bf16 parameters are those rounded
/// to nearest; gradients and moments are fp32 in both (docs/conventions.md).
struct OptimizerCase {
  OptimizerShape shape;      ///< the sweep point
  DType dtype;               ///< the parameters' dtype: f32, or bf16 with fp32 master weights
  std::vector<float> param;  ///< (total) ~ U(±1): the parameters (bf16: the master weights)
  std::vector<float> grad;   ///< (total) ~ U(±scale)
  std::vector<float> m;      ///< (total) ~ U(±scale)/10: a first moment in progress
  std::vector<float> v;      ///< (total) ~ U(0, scale²)/10: a second moment in progress (≥ 0)
};

/// The case for `shape` with `dtype` parameters, from a generator seeded by `seed` and the total.
inline OptimizerCase make_optimizer_case(const OptimizerShape& shape, DType dtype,
                                         std::uint64_t seed = 0x0a17'0000u) {
  Rng rng(seed + static_cast<std::uint64_t>(shape.total()));
  const auto n = static_cast<std::size_t>(shape.total());
  const double s = shape.scale;
  return {shape,
          dtype,
          rng.uniform_floats(n),
          rng.uniform_floats(n, -s, s),
          rng.uniform_floats(n, -s / 10, s / 10),
          rng.uniform_floats(n, 0, s * s / 10)};
}

/// The reference's answers on a case, concatenated: the parameters, both moments after the step,
/// and the global norm of the gradients before clipping (0 without clipping).
template <class T>
struct OptimizerRun {
  std::vector<double> param;  ///< (total)
  std::vector<double> m;      ///< (total)
  std::vector<double> v;      ///< (total)
  double norm = 0;            ///< \f$ \|g\| \f$ (accumulated in double, as the reference does)
};

/// Tensor k of a concatenation, as an xtensor of T.
template <class T>
xt::xtensor<T, 1> optimizer_part(std::span<const float> all, const OptimizerShape& s,
                                 std::size_t k) {
  std::size_t first = 0;
  for (std::size_t j = 0; j < k; ++j) first += static_cast<std::size_t>(s.sizes[j]);
  return tensor<T>(all.subspan(first, static_cast<std::size_t>(s.sizes[k])));
}

/// The reference in T on a case: clip_grad_norm over every gradient when max_norm > 0, then
/// adamw_step on every tensor.
template <class T>
OptimizerRun<T> optimizer_reference(const OptimizerCase& k) {
  const std::size_t count = k.shape.sizes.size();
  std::vector<xt::xtensor<T, 1>> p, g, m, v;
  for (std::size_t t = 0; t < count; ++t) {
    p.push_back(optimizer_part<T>(k.param, k.shape, t));
    g.push_back(optimizer_part<T>(k.grad, k.shape, t));
    m.push_back(optimizer_part<T>(k.m, k.shape, t));
    v.push_back(optimizer_part<T>(k.v, k.shape, t));
  }
  OptimizerRun<T> r;
  if (k.shape.max_norm > 0) {
    std::vector<xt::xtensor<T, 1>*> grads;
    for (auto& x : g) grads.push_back(&x);
    r.norm = ref::clip_grad_norm<T>(grads, k.shape.max_norm);
  }
  for (std::size_t t = 0; t < count; ++t) {
    ref::adamw_step(p[t], g[t], m[t], v[t], k.shape.step, optimizer_options(k.shape));
    r.param.insert(r.param.end(), p[t].begin(), p[t].end());
    r.m.insert(r.m.end(), m[t].begin(), m[t].end());
    r.v.insert(r.v.end(), v[t].begin(), v[t].end());
  }
  return r;
}

/// The float baseline of the global norm: \f$ \sqrt{\sum g^2} \f$ accumulated in float, one term
/// after another — what an honest fp32 implementation gets wrong anyway (the reference itself
/// accumulates in double, as clip_grad_norm documents).
inline double optimizer_norm_in_float(const OptimizerCase& k) {
  float sum = 0;
  for (const float g : k.grad) sum += g * g;
  return std::sqrt(sum);
}

/// The outputs the fused AdamW writes, each with the forward rule (k = 2 × the float reference's
/// error + 2 ulps; one step is one chain of ~10 roundings, the same in the kernel as in the float
/// reference): "param" (f32 cases) or "master" (bf16 cases: the fp32 master weights; the bf16
/// parameters are stochastic roundings of them, checked apart), "m", "v"; and "norm" for cases
/// that clip (the float baseline accumulated sequentially in float).
inline std::vector<Expected> optimizer_expected(const OptimizerCase& k) {
  const auto r64 = optimizer_reference<double>(k);
  const auto r32 = optimizer_reference<float>(k);
  const auto rule = oracle::Rule::forward(DType::f32);
  std::vector<Expected> out = {
      {k.dtype == DType::bf16 ? "master" : "param", rule, r64.param, r32.param},
      {"m", rule, r64.m, r32.m},
      {"v", rule, r64.v, r32.v}};
  if (k.shape.max_norm > 0) out.push_back({"norm", rule, {r64.norm}, {optimizer_norm_in_float(k)}});
  return out;
}

/// The optimizer's card: what its page says besides its C symbols.
inline ComponentCard optimizer_card() {
  return {"optimizer",
          "AdamW fused over every parameter tensor in one launch (torch.optim.AdamW: p <- p(1 - "
          "lr wd), then p <- p - lr/(1 - b1^t) m / (sqrt(v)/sqrt(1 - b2^t) + eps)), fp32 moments, "
          "bf16 parameters with fp32 master weights and seeded stochastic rounding; the global "
          "gradient norm in two deterministic stages and clip_grad_norm's clip; the reference's "
          "SGD, Adam and warm-up + cosine schedule",
          {"llmlab.ref.adamw_step(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay) "
           "-> (param, m, v)",
           "llmlab.ref.adam_step(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay) "
           "-> (param, m, v)",
           "llmlab.ref.sgd_step(param, grad, momentum_buffer, step, lr, momentum, dampening, "
           "weight_decay, nesterov) -> (param, momentum_buffer)",
           "llmlab.ref.clip_grad_norm(grads, max_norm) -> (norm, grads)",
           "llmlab.ref.lr_at(step, max_lr, min_lr, warmup_steps, total_steps) -> lr",
           "llmlab.cuda.adamw_step(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay) "
           "-> (param, m, v)",
           "llmlab.cuda.grad_norm(grads, max_norm) -> (norm, clip)"},
          {{"param", "(total), fp32 parameters, overwritten with the step's result"},
           {"master", "(total), the fp32 master weights of bf16 parameters, overwritten"},
           {"m", "(total), fp32 first moment, overwritten"},
           {"v", "(total), fp32 second moment, overwritten"},
           {"norm", "(1), the global gradient norm before clipping, fp32"}},
          "lists of one and of several tensors (sizes no multiple of a block or warp, an empty "
          "tensor among them); t = 1 (the largest bias correction) to 1000; weight decay on and "
          "off; gradients x1, x1000 and x1e-3; clipping that scales and clipping that does not",
          "ch06"};
}

}  // namespace llmlab::testing
