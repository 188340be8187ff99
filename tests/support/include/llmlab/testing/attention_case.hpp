#pragma once
/// \file
/// \ingroup group_attention
/// \brief attention's one description (the component kit, component.hpp): its sweep, seeded
/// cases, the reference run, its named outputs with their rules, and its card. Used by
/// tests/attention_test.cpp, chapter 04's checks, `llmlab verify attention`,
/// bench/attention_bench.cpp and the Python tests (through `llmlab describe`). Its users link
/// llmlab::reference.

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/attention.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// One point of attention's sweep: q, k, v (B, H, T, D); q and k uniform in ±scale (so the scores
/// scale by scale²), v and dout uniform in ±1.
struct AttentionShape {
  std::int64_t B;    ///< batch
  std::int64_t H;    ///< heads
  std::int64_t T;    ///< sequence length (queries = keys)
  std::int64_t D;    ///< head dimension
  bool causal;       ///< query i sees keys j ≤ i only
  double scale = 1;  ///< q, k ~ U(±scale)
  /// "(2, 4, 128, 64) causal q,k~U(±1)"
  std::string label() const {
    char s[32];
    std::snprintf(s, sizeof s, "%g", scale);
    return "(" + std::to_string(B) + ", " + std::to_string(H) + ", " + std::to_string(T) + ", " +
           std::to_string(D) + ") " + (causal ? "causal" : "full") + " q,k~U(±" + s + ")";
  }
  /// B·H·T·D, the elements of q (and of k, v, out, each gradient).
  std::int64_t elements() const { return B * H * T * D; }
};

/// The sweep every checker runs: a representative cross-product of T ∈ {1, 17, 64, 97, 128, 255}
/// (one query; shorter than a tile; whole tiles; no multiple of 32; 255 one short of 256),
/// D ∈ {16, 32, 64, 80, 128} (80 no power of two; 128 the supported maximum) and B·H from 1 to 8,
/// each T with at least two D, causal and not; then the value scales: q, k ×30 (scores of
/// hundreds: rows nearly one-hot, and the running maximum jumps by hundreds between key tiles, so
/// a kernel that does not rescale its accumulator is far off) and ×1e-3 (nearly uniform rows: O ≈
/// mean of v).
inline const std::vector<AttentionShape>& attention_shapes() {
  static const std::vector<AttentionShape> shapes = {
      {1, 1, 1, 16, true},      {1, 2, 1, 128, false},     {1, 2, 17, 32, false},
      {2, 1, 17, 80, true},     {1, 3, 64, 64, true},      {2, 2, 64, 16, false},
      {2, 2, 97, 16, false},    {1, 1, 97, 128, true},     {2, 4, 128, 64, true},
      {1, 2, 128, 80, false},   {1, 1, 255, 32, true},     {1, 1, 255, 128, false},
      {1, 2, 97, 64, true, 30}, {1, 2, 64, 32, false, 30}, {1, 2, 97, 64, true, 1e-3}};
  return shapes;
}

/// Inputs of one case; with bf16, every value a bf16 kernel reads is rounded to bf16 first, so
/// both references start from the kernel's own inputs. The backward's out and lse are the
/// forward's in double, out stored in the case's dtype and lse in fp32 (what a forward hands on).
struct AttentionCase {
  AttentionShape shape;     ///< the sweep point
  DType dtype;              ///< the kernels' dtype: f32 or bf16
  std::vector<float> q;     ///< (B, H, T, D)
  std::vector<float> k;     ///< (B, H, T, D)
  std::vector<float> v;     ///< (B, H, T, D)
  std::vector<float> dout;  ///< (B, H, T, D) the output's gradient, U(−1, 1)
  std::vector<float> out;   ///< (B, H, T, D) the backward's O
  std::vector<float> lse;   ///< (B, H, T) the backward's L, fp32 in every dtype
};

/// (B, H, T, D) as an xarray shape.
inline std::vector<std::size_t> attention_dims(const AttentionShape& s, bool with_d = true) {
  std::vector<std::size_t> d = {static_cast<std::size_t>(s.B), static_cast<std::size_t>(s.H),
                                static_cast<std::size_t>(s.T)};
  if (with_d) d.push_back(static_cast<std::size_t>(s.D));
  return d;
}

/// v as an xarray of T shaped (B, H, T, D), or (B, H, T) when `with_d` is false.
template <class T>
xt::xarray<T> heads(const std::vector<float>& v, const AttentionShape& s, bool with_d = true) {
  xt::xarray<T> a = xt::empty<T>(attention_dims(s, with_d));
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

/// The case for `shape` in `dtype`, from a generator seeded by `seed` and the shape.
inline AttentionCase make_attention_case(const AttentionShape& shape, DType dtype,
                                         std::uint64_t seed = 0xa77e'0000u) {
  Rng rng(seed + static_cast<std::uint64_t>(shape.elements() * 2 + (shape.causal ? 1 : 0)));
  const auto n = static_cast<std::size_t>(shape.elements());
  AttentionCase c{shape,
                  dtype,
                  rng.uniform_floats(n, -shape.scale, shape.scale),
                  rng.uniform_floats(n, -shape.scale, shape.scale),
                  rng.uniform_floats(n),
                  rng.uniform_floats(n),
                  {},
                  {}};
  if (dtype == DType::bf16)
    for (auto* x : {&c.q, &c.k, &c.v, &c.dout}) *x = rounded_to_bf16(*x);
  const auto f =
      ref::attention_forward<double>(heads<double>(c.q, shape), heads<double>(c.k, shape),
                                     heads<double>(c.v, shape), shape.causal);
  c.out.assign(f.out.begin(), f.out.end());
  c.lse.assign(f.lse.begin(), f.lse.end());
  if (dtype == DType::bf16) c.out = rounded_to_bf16(c.out);
  return c;
}

/// The reference's answers on a case: the forward's O and L from q, k, v, and the backward's
/// gradients from the case's own out and lse.
template <class T>
struct AttentionRun {
  ref::AttentionForward<T> fwd;  ///< out (B, H, T, D), lse (B, H, T)
  ref::AttentionGrads<T> grads;  ///< dq, dk, dv (B, H, T, D)
};

/// The reference in T on a case.
template <class T>
AttentionRun<T> attention_reference(const AttentionCase& c) {
  const auto& s = c.shape;
  const auto q = heads<T>(c.q, s), k = heads<T>(c.k, s), v = heads<T>(c.v, s);
  return {ref::attention_forward<T>(q, k, v, s.causal),
          ref::attention_backward<T>(heads<T>(c.dout, s), q, k, v, heads<T>(c.out, s),
                                     heads<T>(c.lse, s, false), s.causal)};
}

/// The outputs attention's kernels write, each with its rule: out (forward, k = 2, the case's
/// dtype), lse (forward, k = 2, always fp32) and dq, dk, dv (gradients, k = 3, the case's dtype).
inline std::vector<Expected> attention_expected(const AttentionCase& c) {
  const auto r64 = attention_reference<double>(c);
  const auto r32 = attention_reference<float>(c);
  return {{"out", oracle::Rule::forward(c.dtype), widened(r64.fwd.out), widened(r32.fwd.out)},
          {"lse", oracle::Rule::forward(DType::f32), widened(r64.fwd.lse), widened(r32.fwd.lse)},
          {"dq", oracle::Rule::gradient(c.dtype), widened(r64.grads.dq), widened(r32.grads.dq)},
          {"dk", oracle::Rule::gradient(c.dtype), widened(r64.grads.dk), widened(r32.grads.dk)},
          {"dv", oracle::Rule::gradient(c.dtype), widened(r64.grads.dv), widened(r32.grads.dv)}};
}

/// attention's card: what its page says besides its C symbols.
inline ComponentCard attention_card() {
  return {"attention",
          "scaled dot-product attention over heads, O = softmax(Q K^T / sqrt(D), causal mask) V "
          "with the rows' logsumexp L, and its backward dQ, dK, dV from P recomputed out of L "
          "(fp32; bf16 computed in fp32, rounded once)",
          {"llmlab.ref.attention_forward(q, k, v, causal=True) -> (out, lse)",
           "llmlab.ref.attention_backward(dout, q, k, v, out, lse, causal=True) -> (dq, dk, dv)",
           "llmlab.cuda.attention_forward(q, k, v, causal=True, dtype='float32', version=0) -> "
           "(out, lse)",
           "llmlab.cuda.attention_backward(dout, q, k, v, out, lse, causal=True, "
           "dtype='float32', version=0) -> (dq, dk, dv)",
           "llmlab.cuda.attention_forward_versions", "llmlab.cuda.attention_backward_versions"},
          {{"out", "(B, H, T, D), the input's dtype, overwritten"},
           {"lse", "(B, H, T), fp32 in every dtype, overwritten: L_i = log sum_j exp(S_ij)"},
           {"dq", "(B, H, T, D), the input's dtype, overwritten"},
           {"dk", "(B, H, T, D), the input's dtype, overwritten"},
           {"dv", "(B, H, T, D), the input's dtype, overwritten"}},
          "a representative cross-product, not the full one (CI stays fast): T in {1, 17, 64, 97, "
          "128, 255}, each with two or more of D in {16, 32, 64, 80, 128}, B*H from 1 to 8, "
          "causal and full; q, k ~U(±1), then ×30 (nearly one-hot rows whose running maximum "
          "jumps between key tiles: an accumulator that is not rescaled is far off) and ×1e-3 "
          "(nearly uniform rows)",
          "ch04"};
}

}  // namespace llmlab::testing
