#pragma once
/// \file
/// \ingroup group_softmax
/// \brief softmax's one description (the component kit, component.hpp): its sweep, seeded cases,
/// the reference run, its named outputs with their rules, and its card. Used by
/// tests/softmax_test.cpp, `llmlab verify softmax`, bench/softmax_bench.cpp and the Python tests
/// (through `llmlab describe`). Its users link llmlab::reference.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/softmax.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// How the logits of a softmax sweep point are drawn.
enum class SoftmaxRows {
  uniform,   ///< \f$ x \sim \mathrm{center} + U(\pm\mathrm{spread}) \f$
  dominant,  ///< \f$ x \sim U(\pm\mathrm{spread}) \f$, one random column per row set to center
  constant,  ///< every \f$ x = \mathrm{center} \f$ (spread unused)
};

/// One point of softmax's sweep: R rows of C logits, drawn as `rows` says.
struct SoftmaxShape {
  std::int64_t R;  ///< rows
  std::int64_t C;  ///< columns: the softmax runs over each row's C values
  double center;   ///< the logits' center (uniform), the dominant or constant value
  double spread;   ///< the half-width of the uniform part
  SoftmaxRows rows = SoftmaxRows::uniform;  ///< how the logits are drawn
  /// "(4, 65) x~90+U(±8)", "(5, 97) x~U(±1000)", "(6, 200) x~U(±1), one x=100 per row",
  /// "(3, 129) x=-120 (constant rows)".
  std::string label() const {
    char c[32], s[32];
    std::snprintf(c, sizeof c, "%g", center);
    std::snprintf(s, sizeof s, "%g", spread);
    const std::string shape = "(" + std::to_string(R) + ", " + std::to_string(C) + ")";
    switch (rows) {
      case SoftmaxRows::dominant:
        return shape + " x~U(±" + s + "), one x=" + c + " per row";
      case SoftmaxRows::constant:
        return shape + " x=" + c + " (constant rows)";
      case SoftmaxRows::uniform:
        break;
    }
    return shape + " x~" + (center != 0 ? std::string(c) + "+" : "") + "U(±" + s + ")";
  }
};

/// The sweep every checker runs. Rows of C = 1, shorter and longer than a warp (17, 33), no
/// multiple of 32 (97, 129, 1025), GPT-2's 768; R no multiple of a block's 8 rows; logits U(±1)
/// to U(±30) (a wide spread: most terms underflow). Then the value edge cases: logits ×1000
/// (U(±1000): one-hot rows, e^x overflows without the max), ×1e-3 (nearly uniform rows, y ≈ 1/C),
/// logits near +90 (e^90 > float's max ≈ e^88.7: a softmax that forgets to subtract the row
/// maximum overflows), one dominant logit per row (100 over U(±1): y = 1 there, ~e^-100, an fp32
/// denormal, elsewhere) and constant rows at −120 (y = 1/C; without the max every e^x underflows
/// to 0 and the row is 0/0).
inline const std::vector<SoftmaxShape>& softmax_shapes() {
  static const std::vector<SoftmaxShape> shapes = {{1, 1, 0, 1},
                                                   {3, 17, 0, 4},
                                                   {9, 33, 0, 1},
                                                   {5, 97, 0, 2},
                                                   {3, 129, 0, 30},
                                                   {2, 768, 0, 3},
                                                   {4, 1025, 0, 30},
                                                   {5, 97, 0, 1000},
                                                   {5, 97, 0, 1e-3},
                                                   {9, 65, 90, 8},
                                                   {6, 200, 100, 1, SoftmaxRows::dominant},
                                                   {3, 129, -120, 0, SoftmaxRows::constant}};
  return shapes;
}

/// Inputs of one case; with bf16, every value a bf16 kernel reads is rounded to bf16 first, so
/// both references start from the kernel's own inputs.
struct SoftmaxCase {
  SoftmaxShape shape;      ///< the sweep point
  DType dtype;             ///< the kernels' dtype: f32 or bf16
  std::vector<float> x;    ///< (R, C) the forward's logits
  std::vector<float> y;    ///< (R, C) the backward's y: softmax(x) in double, stored in dtype
  std::vector<float> dy;   ///< (R, C) the output's gradient, U(−1, 1)
  std::vector<float> dx0;  ///< (R, C) dx before the backward accumulates into it, U(−1, 1)
};

/// The case for `shape` in `dtype`, from a generator seeded by `seed` and the shape.
inline SoftmaxCase make_softmax_case(const SoftmaxShape& shape, DType dtype,
                                     std::uint64_t seed = 0x50f7'0000u) {
  Rng rng(seed + static_cast<std::uint64_t>(shape.R * 100003 + shape.C));
  const auto n = static_cast<std::size_t>(shape.R * shape.C);
  SoftmaxCase k{shape, dtype, {}, {}, {}, {}};
  switch (shape.rows) {
    case SoftmaxRows::uniform:
      k.x = rng.uniform_floats(n, shape.center - shape.spread, shape.center + shape.spread);
      break;
    case SoftmaxRows::dominant:
      k.x = rng.uniform_floats(n, -shape.spread, shape.spread);
      for (std::int64_t r = 0; r < shape.R; ++r) {
        const auto c = std::min<std::int64_t>(
            static_cast<std::int64_t>(rng.uniform() * static_cast<double>(shape.C)), shape.C - 1);
        k.x[static_cast<std::size_t>(r * shape.C + c)] = static_cast<float>(shape.center);
      }
      break;
    case SoftmaxRows::constant:
      k.x.assign(n, static_cast<float>(shape.center));
      break;
  }
  if (dtype == DType::bf16) k.x = rounded_to_bf16(k.x);
  const auto y64 = ref::softmax_forward<double>(matrix<double>(k.x, shape.R, shape.C));
  k.y.assign(y64.begin(), y64.end());
  k.dy = rng.uniform_floats(n);
  k.dx0 = rng.uniform_floats(n);
  if (dtype == DType::bf16)
    for (auto* v : {&k.y, &k.dy, &k.dx0}) *v = rounded_to_bf16(*v);
  return k;
}

/// The reference's answers on a case: y = softmax(x), and dx = dx0 + y (dy − Σ dy y) from the
/// case's own y.
template <class T>
struct SoftmaxRun {
  xt::xarray<T> y;   ///< (R, C)
  xt::xarray<T> dx;  ///< (R, C): dx0 + the backward's dx
};

/// The reference in T on a case.
template <class T>
SoftmaxRun<T> softmax_reference(const SoftmaxCase& k) {
  const std::int64_t R = k.shape.R, C = k.shape.C;
  SoftmaxRun<T> r{ref::softmax_forward<T>(matrix<T>(k.x, R, C)), matrix<T>(k.dx0, R, C)};
  ref::softmax_backward<T>(matrix<T>(k.dy, R, C), matrix<T>(k.y, R, C), r.dx);
  return r;
}

/// The outputs softmax's kernels write, each with its rule: y (forward, k = 2) and dx (gradient,
/// k = 3), both in the case's dtype.
inline std::vector<Expected> softmax_expected(const SoftmaxCase& k) {
  const auto r64 = softmax_reference<double>(k);
  const auto r32 = softmax_reference<float>(k);
  return {{"y", oracle::Rule::forward(k.dtype), widened(r64.y), widened(r32.y)},
          {"dx", oracle::Rule::gradient(k.dtype), widened(r64.dx), widened(r32.dx)}};
}

/// softmax's card: what its page says besides its C symbols.
inline ComponentCard softmax_card() {
  return {"softmax",
          "row-wise softmax y = exp(x - max) / sum exp(x - max) and its accumulating backward "
          "dx += y (dy - sum(dy y)) (fp32; bf16 computed in fp32, rounded once)",
          {"llmlab.ref.softmax_forward(x) -> y", "llmlab.ref.softmax_backward(dy, y) -> dx",
           "llmlab.cuda.softmax_forward(x, dtype='float32', version=0) -> y",
           "llmlab.cuda.softmax_backward(dy, y, dtype='float32', version=0) -> dx",
           "llmlab.cuda.softmax_forward_versions", "llmlab.cuda.softmax_backward_versions"},
          {{"y", "(R, C), the input's dtype, overwritten (may not alias x)"},
           {"dx", "(R, C), the input's dtype, accumulated: dx += y (dy - sum_j dy_j y_j)"}},
          "C = 1, shorter and longer than a warp (17, 33), no multiple of 32 (97, 129, 1025) and "
          "GPT-2's 768, R no multiple of a block's 8 rows; logits U(±1) to U(±30); ×1000 "
          "(one-hot rows) and ×1e-3 (y ≈ 1/C); near +90, one logit of 100 per row and constant "
          "rows at −120, where a softmax that does not subtract the row maximum overflows or "
          "underflows to NaN",
          ""};
}

}  // namespace llmlab::testing
