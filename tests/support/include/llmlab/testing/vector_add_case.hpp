#pragma once
/// \file
/// \ingroup group_vector_add
/// \brief vector_add's one description (the component kit, component.hpp): its sweep, seeded
/// cases, the reference run, its named output with its rule, and its card. Used by
/// tests/vector_add_test.cpp, chapter 00's checks, `llmlab verify vector_add` and the Python tests
/// (through `llmlab verify --describe`). Its users link llmlab::reference.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/vector_add.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// One point of vector_add's sweep: n elements, a uniform in [−scale, scale), and b either drawn
/// the same way or nearly −a, so that \f$ a + b \f$ cancels.
struct VectorAddShape {
  std::int64_t n;           ///< elements
  double scale;             ///< a ~ U(−scale, scale)
  bool cancelling = false;  ///< b = −a (1 + u), u ~ U(±0.01), instead of b ~ U(−scale, scale)
  /// "(97) a,b~U(±1)", or "(4097) a~U(±1), b=-a(1+U(±0.01))" when cancelling.
  std::string label() const {
    char s[32];
    std::snprintf(s, sizeof s, "%g", scale);
    const std::string n_s = "(" + std::to_string(n) + ") ";
    if (cancelling) return n_s + "a~U(±" + s + "), b=-a(1+U(±0.01))";
    return n_s + "a,b~U(±" + s + ")";
  }
};

/// The sweep every checker runs. Lengths no multiple of a block (256), a warp (32) or a vector
/// width (4) — 0 and 1 among them — at a, b ~ U(±1); then the value edge cases: ±1000 and ±1e-3
/// (the same single rounding at other exponents), and b ≈ −a, where \f$ a + b \f$ is exact in
/// float (Sterbenz) and small against the inputs, so the rule's floor at max|c| is tight.
inline const std::vector<VectorAddShape>& vector_add_shapes() {
  static const std::vector<VectorAddShape> shapes = {
      {0, 1},    {1, 1},     {17, 1},      {97, 1},      {129, 1},       {1000, 1},
      {4097, 1}, {65537, 1}, {1000, 1000}, {1000, 1e-3}, {4097, 1, true}};
  return shapes;
}

/// Inputs of one case; with bf16, every value a bf16 kernel reads is rounded to bf16 first, so
/// both references start from the kernel's own inputs.
struct VectorAddCase {
  VectorAddShape shape;  ///< the sweep point
  DType dtype;           ///< the kernel's dtype: f32 or bf16
  std::vector<float> a;  ///< (n) the first summand
  std::vector<float> b;  ///< (n) the second summand
};

/// The case for `shape` in `dtype`, from a generator seeded by `seed` and n.
inline VectorAddCase make_vector_add_case(const VectorAddShape& shape, DType dtype,
                                          std::uint64_t seed = 0x7ec7'0000u) {
  Rng rng(seed + static_cast<std::uint64_t>(shape.n));
  const auto m = static_cast<std::size_t>(shape.n);
  VectorAddCase k{shape, dtype, rng.uniform_floats(m, -shape.scale, shape.scale), {}};
  if (shape.cancelling) {
    const std::vector<float> u = rng.uniform_floats(m, -0.01, 0.01);
    k.b.resize(m);
    for (std::size_t i = 0; i < m; ++i) k.b[i] = -k.a[i] * (1.0f + u[i]);
  } else {
    k.b = rng.uniform_floats(m, -shape.scale, shape.scale);
  }
  if (dtype == DType::bf16)
    for (auto* v : {&k.a, &k.b}) *v = rounded_to_bf16(*v);
  return k;
}

/// The reference in T on a case: \f$ c_i = a_i + b_i \f$, (n).
template <class T>
xt::xtensor<T, 1> vector_add_reference(const VectorAddCase& k) {
  return ref::vector_add<T>(tensor<T>(k.a), tensor<T>(k.b));
}

/// The output vector_add's kernels write, with its rule: c (forward, k = 2) in the case's dtype —
/// for bf16 the float sum rounded once, which compare_ratio's bf16 baseline stands for.
inline std::vector<Expected> vector_add_expected(const VectorAddCase& k) {
  return {{"c", oracle::Rule::forward(k.dtype), widened(vector_add_reference<double>(k)),
           widened(vector_add_reference<float>(k))}};
}

/// vector_add's card: what its page says besides its C symbols.
inline ComponentCard vector_add_card() {
  return {"vector_add",
          "c = a + b element-wise (fp32; bf16 summed in float, rounded once)",
          {"llmlab.ref.vector_add(a, b) -> c",
           "llmlab.cuda.vector_add(a, b, dtype='float32', version=0) -> c",
           "llmlab.cuda.vector_add_versions"},
          {{"c", "(n), the inputs' dtype, overwritten"}},
          "lengths no multiple of a block (256), a warp (32) or a vector width (4), 0 and 1 "
          "included; a, b ~ U(±1), U(±1000) and U(±1e-3) (one rounding at any exponent), and "
          "b = -a(1 + U(±0.01)), where a + b cancels to a small exact sum",
          "ch00"};
}

}  // namespace llmlab::testing
