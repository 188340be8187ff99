#pragma once
/// \file
/// \ingroup group_gelu
/// \brief gelu's one description (the component kit, component.hpp): its sweep, seeded cases,
/// the reference run, its named outputs with their rules, and its card. Used by
/// tests/gelu_test.cpp, chapter 03's checks, `llmlab verify gelu`, bench/gelu_bench.cpp and the
/// Python tests (through `llmlab verify --describe`). Its users link llmlab::reference.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/gelu.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// One point of gelu's sweep: n elements, x uniform in [−scale, scale).
struct GeluShape {
  std::int64_t n;  ///< elements
  double scale;    ///< x ~ U(−scale, scale)
  /// "(97) x~U(±5)"
  std::string label() const {
    char s[32];
    std::snprintf(s, sizeof s, "%g", scale);
    return "(" + std::to_string(n) + ") x~U(±" + s + ")";
  }
};

/// The sweep every checker runs. Lengths no multiple of a block, a warp or a vector width, at
/// x ~ U(±5) (both tails and the bend); then the value edge cases: ±1000 (tanh saturated, y = x or
/// −0, the cubic term ~4e7), ±1e-3 (the linear part, y ≈ x/2), and ±10 (x³ large while 1 + tanh u
/// cancels for x < 0).
inline const std::vector<GeluShape>& gelu_shapes() {
  static const std::vector<GeluShape> shapes = {
      {1, 5},    {3, 5},       {17, 5},   {97, 5},     {1000, 5},
      {4097, 5}, {65537, 5},   {1000, 1000}, {1000, 1e-3}, {4097, 10}};
  return shapes;
}

/// Inputs of one case; with bf16, every value a bf16 kernel reads is rounded to bf16 first, so
/// both references start from the kernel's own inputs.
struct GeluCase {
  GeluShape shape;          ///< the sweep point
  DType dtype;              ///< the kernel's dtype: f32 or bf16
  std::vector<float> x;     ///< (n) the input
  std::vector<float> dy;    ///< (n) the output's gradient, U(−1, 1)
  std::vector<float> dx0;   ///< (n) dx before the backward accumulates into it, U(−1, 1)
};

/// The case for `shape` in `dtype`, from a generator seeded by `seed` and n.
inline GeluCase make_gelu_case(const GeluShape& shape, DType dtype,
                               std::uint64_t seed = 0x6e10'0000u) {
  Rng rng(seed + static_cast<std::uint64_t>(shape.n));
  const auto m = static_cast<std::size_t>(shape.n);
  GeluCase k{shape, dtype, rng.uniform_floats(m, -shape.scale, shape.scale),
             rng.uniform_floats(m), rng.uniform_floats(m)};
  if (dtype == DType::bf16)
    for (auto* v : {&k.x, &k.dy, &k.dx0}) *v = rounded_to_bf16(*v);
  return k;
}

/// The reference's answers on a case: y, and dx = dx0 + gelu'(x) · dy.
template <class T>
struct GeluRun {
  xt::xtensor<T, 1> y;   ///< (n)
  xt::xtensor<T, 1> dx;  ///< (n): dx0 + the backward's dx
};

/// The reference in T on a case.
template <class T>
GeluRun<T> gelu_reference(const GeluCase& k) {
  GeluRun<T> r{ref::gelu_forward(tensor<T>(k.x)), tensor<T>(k.dx0)};
  ref::gelu_backward(tensor<T>(k.dy), tensor<T>(k.x), r.dx);
  return r;
}

/// The outputs gelu's kernels write, each with its rule: y (forward, k = 2) and dx (gradient,
/// k = 3), both in the case's dtype.
inline std::vector<Expected> gelu_expected(const GeluCase& k) {
  const auto r64 = gelu_reference<double>(k);
  const auto r32 = gelu_reference<float>(k);
  return {{"y", oracle::Rule::forward(k.dtype), widened(r64.y), widened(r32.y)},
          {"dx", oracle::Rule::gradient(k.dtype), widened(r64.dx), widened(r32.dx)}};
}

/// gelu's card: what its page says besides its C symbols.
inline ComponentCard gelu_card() {
  return {"gelu",
          "GPT-2's GELU, y = x/2 (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))), and its accumulating "
          "backward (fp32; bf16 computed in fp32, rounded once)",
          {"llmlab.ref.gelu_forward(x) -> y", "llmlab.ref.gelu_backward(dy, x) -> dx",
           "llmlab.cuda.gelu_forward(x, dtype='float32', version=0) -> y",
           "llmlab.cuda.gelu_backward(dy, x, dtype='float32', version=0) -> dx",
           "llmlab.cuda.gelu_versions"},
          {{"y", "(n), the input's dtype, overwritten (may be x itself: in place)"},
           {"dx", "(n), the input's dtype, accumulated: dx += gelu'(x) dy"}},
          "lengths no multiple of a block (256), a warp (32) or a vector width (4); x ~ U(±5) for "
          "the bend and both tails, U(±1000) saturated, U(±1e-3) linear, U(±10) where 1 + tanh u "
          "cancels",
          "ch03"};
}

}  // namespace llmlab::testing
