#pragma once
/// \file
/// \ingroup group_residual
/// \brief residual's one description (the component kit, component.hpp): its sweep, seeded cases,
/// the reference run, its named outputs with their rules, and its card. Used by
/// tests/residual_test.cpp and `llmlab verify residual` (fp32: the C ABI has no bf16 residual; the
/// test also runs the bf16 launchers). Its users link llmlab::reference.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/residual.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// One point of residual's sweep: n elements; the stream a and the incoming dout uniform in
/// ±scale, the branch b and the gradients gathered so far (da0, db0) in ±b_scale.
struct ResidualShape {
  std::int64_t n;  ///< elements (the (B, T, C) stream flattened)
  double scale;    ///< a, dout ~ U(−scale, scale)
  double b_scale;  ///< b, da0, db0 ~ U(−b_scale, b_scale)
  /// "(97) U(±1)", "(4097) a,dout~U(±1000) b,da0,db0~U(±0.001)".
  std::string label() const {
    char s[32], t[32];
    std::snprintf(s, sizeof s, "%g", scale);
    std::snprintf(t, sizeof t, "%g", b_scale);
    const std::string n_ = "(" + std::to_string(n) + ")";
    if (scale == b_scale) return n_ + " U(±" + s + ")";
    return n_ + " a,dout~U(±" + s + ") b,da0,db0~U(±" + t + ")";
  }
};

/// The sweep every checker runs: lengths 1, odd, one past the wide vector (1025) and no multiple of
/// a block or vector width (4097, 65537), in U(±1); then the value edge cases: ×1000, ×1e-3, and a
/// stream of ±1000 plus a branch of ±1e-3, where the sum keeps only the branch's leading bits (one
/// rounding that any other order of operations, or a bf16 intermediate, would change).
inline const std::vector<ResidualShape>& residual_shapes() {
  static const std::vector<ResidualShape> shapes = {
      {1, 1, 1},     {17, 1, 1},         {97, 1, 1},         {1025, 1, 1},      {4097, 1, 1},
      {65537, 1, 1}, {4097, 1000, 1000}, {4097, 1e-3, 1e-3}, {4097, 1000, 1e-3}};
  return shapes;
}

/// Inputs of one case; with bf16, every value a bf16 kernel reads is rounded to bf16 first.
struct ResidualCase {
  ResidualShape shape;      ///< the sweep point
  DType dtype;              ///< the kernels' dtype: f32 or bf16
  std::vector<float> a;     ///< (n) the stream
  std::vector<float> b;     ///< (n) the branch
  std::vector<float> dout;  ///< (n) the output's gradient
  std::vector<float> da0;   ///< (n) da before the backward accumulates into it
  std::vector<float> db0;   ///< (n) db before the backward accumulates into it
};

/// The case for `shape` in `dtype`, from a generator seeded by `seed` and n.
inline ResidualCase make_residual_case(const ResidualShape& shape, DType dtype,
                                       std::uint64_t seed = 0x4e51'0000u) {
  Rng rng(seed + static_cast<std::uint64_t>(shape.n));
  const auto m = static_cast<std::size_t>(shape.n);
  const double s = shape.scale, t = shape.b_scale;
  ResidualCase k{shape,
                 dtype,
                 rng.uniform_floats(m, -s, s),
                 rng.uniform_floats(m, -t, t),
                 rng.uniform_floats(m, -s, s),
                 rng.uniform_floats(m, -t, t),
                 rng.uniform_floats(m, -t, t)};
  if (dtype == DType::bf16)
    for (auto* v : {&k.a, &k.b, &k.dout, &k.da0, &k.db0}) *v = rounded_to_bf16(*v);
  return k;
}

/// The reference's answers on a case: out = a + b, da = da0 + dout, db = db0 + dout.
template <class T>
struct ResidualRun {
  xt::xarray<T> out;  ///< (n)
  xt::xarray<T> da;   ///< (n): da0 + dout
  xt::xarray<T> db;   ///< (n): db0 + dout
};

/// The reference in T on a case.
template <class T>
ResidualRun<T> residual_reference(const ResidualCase& k) {
  ResidualRun<T> r{ref::residual_forward<T>(tensor<T>(k.a), tensor<T>(k.b)), tensor<T>(k.da0),
                   tensor<T>(k.db0)};
  ref::residual_backward<T>(tensor<T>(k.dout), r.da, r.db);
  return r;
}

/// The outputs residual's kernels write, all exact in the case's dtype (component.hpp's
/// exact_rule): each element is one addition, rounded once, so a kernel equals the reference in
/// float bit for bit (for bf16: that value rounded once to bf16).
inline std::vector<Expected> residual_expected(const ResidualCase& k) {
  const auto r64 = residual_reference<double>(k);
  const auto r32 = residual_reference<float>(k);
  const oracle::Rule exact = exact_rule(k.dtype);
  return {{"out", exact, widened(r64.out), widened(r32.out)},
          {"da", exact, widened(r64.da), widened(r32.da)},
          {"db", exact, widened(r64.db), widened(r32.db)}};
}

/// residual's card: what its page says besides its C symbols. No Python bindings.
inline ComponentCard residual_card() {
  return {"residual",
          "the residual add out = a + b and its accumulating backward da += dout, db += dout "
          "(fp32 in the C ABI; each element one rounding: exact)",
          {"llmlab.ref.residual_forward(a, b) -> out", "llmlab.ref.residual_backward(dout) -> (da, db)",
           "llmlab.cuda.residual_forward(a, b, dtype='float32') -> out",
           "llmlab.cuda.residual_backward(dout, dtype='float32') -> (da, db)"},
          {{"out", "(n), fp32, overwritten"},
           {"da", "(n), fp32, accumulated: da += dout"},
           {"db", "(n), fp32, accumulated: db += dout"}},
          "lengths 1, odd, one past the wide vector (1025) and no multiple of a block or vector "
          "width; U(±1), ×1000, ×1e-3, and a ±1000 stream plus a ±1e-3 branch, where the one "
          "rounding of the sum keeps only the branch's leading bits",
          "ch03"};
}

}  // namespace llmlab::testing
