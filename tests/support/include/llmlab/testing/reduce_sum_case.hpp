#pragma once
/// \file
/// \ingroup group_reduce_sum
/// \brief reduce_sum's one description (the component kit, component.hpp): its sweep, seeded
/// cases, the reference run, its named output with its rule, and its card. Used by
/// tests/reduce_sum_test.cpp, chapter 00's checks, `llmlab verify reduce_sum`,
/// bench/reduce_sum_bench.cpp and the Python tests (through `llmlab verify --describe`). Its users
/// link llmlab::reference.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/reduce_sum.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// How the values of a reduce_sum case are drawn.
enum class ReduceSumValues {
  uniform,     ///< every \f$ x_{r,c} \f$ ~ U(−scale, scale)
  cancelling,  ///< pairs \f$ \pm s (1 + u), \mp s (1 + u') \f$, u ~ U(±1/64): rows sum to ~0
  constant,    ///< each row one value ~ U(−scale, scale), repeated C times
};

/// One point of reduce_sum's sweep: an (R, C) matrix and how its values are drawn.
struct ReduceSumShape {
  std::int64_t rows;                                  ///< R
  std::int64_t cols;                                  ///< C (0: every row sums to 0)
  double scale;                                       ///< the values' scale s
  ReduceSumValues values = ReduceSumValues::uniform;  ///< how the values are drawn
  /// "(3, 97) x~U(±1)", "(4, 1000) x=±1(1+U(±1/64)) in cancelling pairs" or
  /// "(3, 4097) constant rows ~U(±1)".
  std::string label() const {
    char s[32];
    std::snprintf(s, sizeof s, "%g", scale);
    const std::string rc = "(" + std::to_string(rows) + ", " + std::to_string(cols) + ") ";
    switch (values) {
      case ReduceSumValues::cancelling:
        return rc + "x=±" + s + "(1+U(±1/64)) in cancelling pairs";
      case ReduceSumValues::constant:
        return rc + "constant rows ~U(±" + s + ")";
      case ReduceSumValues::uniform:
        break;
    }
    return rc + "x~U(±" + s + ")";
  }
};

/// The sweep every checker runs. Row lengths no multiple of the block (256), the warp (32) or a
/// vector width, shorter and longer than one block's stride, one past a power of two, several rows
/// (a wrong row offset shows), and C = 0 (rows of no columns sum to 0, and must still be written),
/// at x ~ U(±1); then the value edge cases: ±1000 and ±1e-3 (the same roundings at other
/// exponents), rows of ±1 that cancel to ~0 (the rule's floor is taken at
/// \f$ \max_r \sum_c |x_{r,c}| \f$, not at the tiny sums), and constant rows (every partial sum
/// grows one way, where a left-to-right float sum errs most).
inline const std::vector<ReduceSumShape>& reduce_sum_shapes() {
  constexpr auto cancelling = ReduceSumValues::cancelling;
  constexpr auto constant = ReduceSumValues::constant;
  // clang-format off
  static const std::vector<ReduceSumShape> shapes = {
      {1, 1, 1},      {1, 17, 1},      {3, 97, 1},               {2, 129, 1},
      {7, 33, 1},     {4, 1000, 1},    {1, 4097, 1},             {3, 0, 1},
      {4, 1000, 1000}, {4, 1000, 1e-3}, {4, 1000, 1, cancelling}, {1, 4097, 1, cancelling},
      {3, 4097, 1, constant}};
  // clang-format on
  return shapes;
}

/// Inputs of one case; with bf16, x is rounded to bf16 first, so both references start from the
/// kernel's own inputs (either dtype sums in fp32 and writes fp32).
struct ReduceSumCase {
  ReduceSumShape shape;  ///< the sweep point
  DType dtype;           ///< the kernel's input dtype: f32 or bf16
  std::vector<float> x;  ///< (R·C) the input, row-major
};

/// The case for `shape` with input `dtype`, from a generator seeded by `seed` and (R, C).
inline ReduceSumCase make_reduce_sum_case(const ReduceSumShape& shape, DType dtype,
                                          std::uint64_t seed = 0x5a3d'0000u) {
  const std::int64_t R = shape.rows, C = shape.cols;
  Rng rng(seed + static_cast<std::uint64_t>(R * 100003 + C));
  const auto m = static_cast<std::size_t>(R * C);
  const double s = shape.scale;
  ReduceSumCase k{shape, dtype, {}};
  switch (shape.values) {
    case ReduceSumValues::uniform:
      k.x = rng.uniform_floats(m, -s, s);
      break;
    case ReduceSumValues::constant: {
      const std::vector<float> v = rng.uniform_floats(static_cast<std::size_t>(R), -s, s);
      for (std::int64_t r = 0; r < R; ++r) k.x.insert(k.x.end(), static_cast<std::size_t>(C), v[r]);
      break;
    }
    case ReduceSumValues::cancelling: {
      // x[2j] = σ s (1 + u), x[2j+1] = −σ s (1 + u'); an odd row's last element is s u.
      const std::vector<float> u = rng.uniform_floats(m, -1.0 / 64, 1.0 / 64);
      const std::vector<float> sign = rng.uniform_floats(m);
      k.x.resize(m);
      const auto sf = static_cast<float>(s);
      for (std::int64_t r = 0; r < R; ++r)
        for (std::int64_t c = 0; c < C; c += 2) {
          const auto i = static_cast<std::size_t>(r * C + c);
          if (c + 1 == C) {
            k.x[i] = sf * u[i];
            continue;
          }
          const float sigma = sign[i] < 0 ? -sf : sf;
          k.x[i] = sigma * (1.0f + u[i]);
          k.x[i + 1] = -sigma * (1.0f + u[i + 1]);
        }
      break;
    }
  }
  if (dtype == DType::bf16) k.x = rounded_to_bf16(k.x);
  return k;
}

/// The reference in T on a case: \f$ \mathrm{out}_r = \sum_c x_{r,c} \f$, (R).
template <class T>
xt::xtensor<T, 1> reduce_sum_reference(const ReduceSumCase& k) {
  return ref::reduce_sum<T>(matrix<T>(k.x, k.shape.rows, k.shape.cols));
}

/// The output reduce_sum's kernels write, with its rule: out (forward, k = 2) in fp32 for either
/// input dtype, the floor's ulps taken at \f$ \max_r \sum_c |x_{r,c}| \f$ — any summation order's
/// rounding scales with the terms, not with a row sum that cancellation made small.
inline std::vector<Expected> reduce_sum_expected(const ReduceSumCase& k) {
  const double magnitude = max_row_abs_sum(k.x, k.shape.rows, k.shape.cols);
  return {{"out", oracle::Rule::forward(DType::f32).at_magnitude(magnitude),
           widened(reduce_sum_reference<double>(k)), widened(reduce_sum_reference<float>(k))}};
}

/// reduce_sum's card: what its page says besides its C symbols.
inline ComponentCard reduce_sum_card() {
  return {"reduce_sum",
          "row sums out_r = sum_c x[r, c] of an (R, C) matrix (fp32 or bf16 in, summed and "
          "written in fp32)",
          {"llmlab.ref.reduce_sum(x) -> out",
           "llmlab.cuda.reduce_sum(x, dtype='float32', version=0) -> out",
           "llmlab.cuda.reduce_sum_versions"},
          {{"out", "(R), fp32 for either input dtype, overwritten (C = 0 writes zeros)"}},
          "row lengths no multiple of a block (256), a warp (32) or a vector width, shorter and "
          "longer than a block's stride, several rows, and C = 0; x ~ U(±1), U(±1000) and "
          "U(±1e-3), rows of ±1 that cancel to ~0 (hence the floor at max_r sum_c |x_rc|), and "
          "constant rows",
          "ch00"};
}

}  // namespace llmlab::testing
