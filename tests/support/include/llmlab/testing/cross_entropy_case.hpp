#pragma once
/// \file
/// \ingroup group_cross_entropy
/// \brief cross_entropy's one description (the component kit, component.hpp): its sweep, seeded
/// cases, the reference run, its named outputs with their rules, and its card. Used by
/// tests/cross_entropy_test.cpp, chapter 05's checks, `llmlab verify cross_entropy`,
/// bench/cross_entropy_bench.cpp and the Python tests (through `llmlab describe`). Its users link
/// llmlab::reference.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/cross_entropy.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// How the logits of a cross-entropy sweep point are drawn.
enum class CrossEntropyRows {
  uniform,   ///< \f$ x \sim U(\pm\mathrm{scale}) \f$
  unlikely,  ///< uniform, then each target's logit set 120 below its row's maximum: p ≈ e^{-120}
};

/// One point of cross_entropy's sweep: logits (B, T, V) and targets (B, T).
struct CrossEntropyShape {
  std::int64_t B;        ///< sequences
  std::int64_t T;        ///< positions per sequence
  std::int64_t V;        ///< vocabulary: logits per position
  double scale;          ///< x ~ U(−scale, scale)
  int ignore_every = 0;  ///< every ignore_every-th target (from the first) is ignore_index; 0: none
  CrossEntropyRows rows = CrossEntropyRows::uniform;  ///< how the logits are drawn
  /// "(3, 17, 97) x~U(±4), 1 in 4 targets ignored", "(2, 7, 97) x~U(±2), targets at max-120".
  std::string label() const {
    char s[32];
    std::snprintf(s, sizeof s, "%g", scale);
    std::string l = "(" + std::to_string(B) + ", " + std::to_string(T) + ", " + std::to_string(V) +
                    ") x~U(±" + s + ")";
    if (rows == CrossEntropyRows::unlikely) l += ", targets at max-120";
    if (ignore_every > 0) l += ", 1 in " + std::to_string(ignore_every) + " targets ignored";
    return l;
  }
};

/// The sweep every checker runs. V = 1 (every loss 0, p = 1), V = 2, 97 and 1025 (no multiple of
/// a warp or a block), GPT-2's 50257 (two rows only: the emulator runs it in CI); B·T no multiple
/// of a block's rows; a quarter or a third of the targets ignored; then the value scales: ×1000
/// (U(±1000): e^x overflows float32 unless the row maximum is taken out, and p is one-hot), ×1e-3
/// (nearly uniform rows, loss ≈ log V) and rows whose target sits 120 below the maximum (p ≈
/// e^{-120} underflows to 0 in float32, so −log p would be ∞ while the loss is ≈ 120).
inline const std::vector<CrossEntropyShape>& cross_entropy_shapes() {
  using enum CrossEntropyRows;
  static const std::vector<CrossEntropyShape> shapes = {
      {2, 3, 1, 1},         {3, 5, 2, 2},     {3, 17, 97, 4, 4}, {1, 3, 1025, 8},
      {1, 2, 50257, 4},     {2, 5, 97, 1000}, {2, 5, 97, 1e-3},  {2, 7, 97, 2, 0, unlikely},
      {2, 3, 1025, 1000, 3}};
  return shapes;
}

/// Inputs of one case; with bf16 the logits a bf16 kernel reads are rounded to bf16 first, so
/// both references start from the kernel's own inputs. Targets, dlosses and lse are the same in
/// both dtypes (int32 and fp32: the launchers' contract).
struct CrossEntropyCase {
  CrossEntropyShape shape;            ///< the sweep point
  DType dtype;                        ///< the logits' (and dlogits') dtype: f32 or bf16
  std::vector<float> logits;          ///< (B, T, V)
  std::vector<std::int32_t> targets;  ///< (B, T), each in [0, V) or ref::kIgnoreIndex
  std::vector<float> dlosses;         ///< (B, T) the backward's dloss, U(−1, 1)
  std::vector<float> lse;  ///< (B, T) the backward's lse: the double reference's, in fp32
  /// The targets as the reference takes them, (B, T).
  xt::xtensor<std::int32_t, 2> targets_tensor() const {
    xt::xtensor<std::int32_t, 2> t = xt::empty<std::int32_t>(
        {static_cast<std::size_t>(shape.B), static_cast<std::size_t>(shape.T)});
    std::copy(targets.begin(), targets.end(), t.begin());
    return t;
  }
  /// (B, T, V), for the reference's logits.
  std::array<std::size_t, 3> logits_shape() const {
    return {static_cast<std::size_t>(shape.B), static_cast<std::size_t>(shape.T),
            static_cast<std::size_t>(shape.V)};
  }
};

/// The case for `shape` in `dtype`, from a generator seeded by `seed` and the sizes.
inline CrossEntropyCase make_cross_entropy_case(const CrossEntropyShape& shape, DType dtype,
                                                std::uint64_t seed = 0xce00'0000u) {
  const auto& s = shape;
  Rng rng(seed + static_cast<std::uint64_t>(s.B * 1000003 + s.T * 1009 + s.V));
  const auto N = static_cast<std::size_t>(s.B * s.T), V = static_cast<std::size_t>(s.V);
  CrossEntropyCase k{shape, dtype, rng.uniform_floats(N * V, -s.scale, s.scale), {}, {}, {}};
  k.targets.resize(N);
  for (std::size_t r = 0; r < N; ++r) {
    k.targets[r] = static_cast<std::int32_t>(
        std::min<double>(rng.uniform() * static_cast<double>(V), static_cast<double>(V - 1)));
    if (s.rows == CrossEntropyRows::unlikely) {
      float* x = k.logits.data() + r * V;
      x[k.targets[r]] = *std::max_element(x, x + V) - 120.0f;
    }
    if (s.ignore_every > 0 && r % static_cast<std::size_t>(s.ignore_every) == 0)
      k.targets[r] = ref::kIgnoreIndex;
  }
  if (dtype == DType::bf16) k.logits = rounded_to_bf16(k.logits);
  k.dlosses = rng.uniform_floats(N);
  const auto lse64 = ref::logsumexp<double>(tensor<double>(k.logits, k.logits_shape()));
  k.lse.assign(lse64.begin(), lse64.end());
  return k;
}

/// The reference's answers on a case: the per-token losses, each row's lse, and dlogits from the
/// case's dlosses.
template <class T>
struct CrossEntropyRun {
  xt::xtensor<T, 2> losses;   ///< (B, T), 0 at ignored positions
  xt::xtensor<T, 2> lse;      ///< (B, T)
  xt::xtensor<T, 3> dlogits;  ///< (B, T, V), 0 on ignored rows
};

/// The reference in T on a case.
template <class T>
CrossEntropyRun<T> cross_entropy_reference(const CrossEntropyCase& k) {
  const auto logits = tensor<T>(k.logits, k.logits_shape());
  const auto targets = k.targets_tensor();
  const auto dlosses = matrix<T>(k.dlosses, k.shape.B, k.shape.T);
  return {ref::cross_entropy_forward<T>(logits, targets), ref::logsumexp<T>(logits),
          ref::cross_entropy_backward<T>(dlosses, logits, targets)};
}

/// The outputs cross_entropy's kernels write, each with its rule: losses and lse (forward, k = 2)
/// in fp32 whatever the logits' dtype, dlogits (gradient, k = 3) in the logits' dtype.
inline std::vector<Expected> cross_entropy_expected(const CrossEntropyCase& k) {
  const auto r64 = cross_entropy_reference<double>(k);
  const auto r32 = cross_entropy_reference<float>(k);
  return {{"losses", oracle::Rule::forward(DType::f32), widened(r64.losses), widened(r32.losses)},
          {"lse", oracle::Rule::forward(DType::f32), widened(r64.lse), widened(r32.lse)},
          {"dlogits", oracle::Rule::gradient(k.dtype), widened(r64.dlogits), widened(r32.dlogits)}};
}

/// cross_entropy's card: what its page says besides its C symbols.
inline ComponentCard cross_entropy_card() {
  return {
      "cross_entropy",
      "per-token cross-entropy loss = lse(x) - x[target] with lse = m + log sum exp(x - m), "
      "ignore_index -100, and its backward dlogits = (softmax(x) - onehot(target)) dloss "
      "(fp32 or bf16 logits, fp32 math, fp32 losses)",
      {"llmlab.ref.cross_entropy_forward(logits, targets, ignore_index=-100) -> losses",
       "llmlab.ref.cross_entropy_backward(logits, targets, dlosses, ignore_index=-100) -> "
       "dlogits",
       "llmlab.ref.cross_entropy_mean(losses, targets, ignore_index=-100) -> mean",
       "llmlab.ref.perplexity(mean_loss) -> ppl", "llmlab.ref.logsumexp(logits) -> lse",
       "llmlab.cuda.cross_entropy_forward(logits, targets, ignore_index=-100, "
       "dtype='float32', version=0) -> losses",
       "llmlab.cuda.cross_entropy_backward(logits, targets, dlosses, ignore_index=-100, "
       "dtype='float32', version=0) -> dlogits",
       "llmlab.cuda.cross_entropy_forward_versions", "llmlab.cuda.cross_entropy_backward_versions"},
      {{"losses", "(B, T), fp32 in every dtype, overwritten: lse - x[target], 0 where ignored"},
       {"lse", "(B, T), fp32 in every dtype, overwritten: m + log sum_v exp(x_v - m)"},
       {"dlogits",
        "(B, T, V), the logits' dtype, overwritten (may be the logits themselves: in place): "
        "(exp(x - lse) - onehot) dloss, 0 on ignored rows"}},
      "V = 1, 2, 97, 1025 (no multiple of a warp or a block) and GPT-2's 50257 (two rows); a "
      "quarter and a third of the targets ignored; U(±1) to U(±8); ×1000 (exp overflows "
      "without the row maximum), ×1e-3 (loss ≈ log V), and targets 120 below their row's "
      "maximum (p underflows to 0 in float32 while the loss is ≈ 120)",
      "ch05"};
}

}  // namespace llmlab::testing
