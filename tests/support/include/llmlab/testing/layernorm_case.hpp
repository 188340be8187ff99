#pragma once
/// \file
/// \ingroup group_layernorm
/// \brief layernorm's one description (the component kit, component.hpp): its sweep, seeded
/// cases, the reference run, its named outputs with their rules, and its card. Used by
/// tests/layernorm_test.cpp, chapter 03's checks, `llmlab verify layernorm`,
/// bench/layernorm_bench.cpp and the Python tests (through `llmlab verify --describe`). Its users
/// link llmlab::reference.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/layernorm.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// What the rows of x hold, besides their scale.
enum class LayerNormRows {
  spread,        ///< x ~ U(−0.5, 1.5) · scale: rows with a non-zero mean
  constant,      ///< every row one value (bf16-exact, so any summation order is exact): σ² = 0
  one_dominant,  ///< spread, and one element per row (column r mod C) equal to 1000 · scale
};

/// One point of layernorm's sweep: N rows of C values, what they hold and at which scale.
struct LayerNormShape {
  std::int64_t N;                              ///< rows
  std::int64_t C;                              ///< columns (the normalised axis)
  double scale = 1;                            ///< every x multiplied by this
  LayerNormRows rows = LayerNormRows::spread;  ///< what each row holds
  /// "(6, 17) x~U(-0.5, 1.5)·1000", "(5, 768) constant rows", "(2, 1600) one x = 1000 per row".
  std::string label() const {
    char s[32];
    std::snprintf(s, sizeof s, "%g", scale);
    const std::string times = scale == 1 ? "" : std::string("·") + s;
    const std::string nc = "(" + std::to_string(N) + ", " + std::to_string(C) + ") ";
    switch (rows) {
      case LayerNormRows::constant:
        return nc + "constant rows" + times;
      case LayerNormRows::one_dominant:
        std::snprintf(s, sizeof s, "%g", 1000 * scale);
        return nc + "one x = " + s + " per row";
      case LayerNormRows::spread:
        break;
    }
    return nc + "x~U(-0.5, 1.5)" + times;
  }
};

/// The sweep every checker runs (tests, chapter 03, `llmlab verify`). Shapes: C = 1 (x − μ = 0
/// exactly: y = b, dx = dw = 0), C below a warp (17, 33, 40, 97), GPT-2 small's 768 and XL's
/// 1600 (above version 0's switch to a block per row), 1025 just past it; N = 1, 3, 6, 13 (not a
/// multiple of the 8 rows a block of warps takes), 70 and 130 (more than one of the dw/db pass's
/// 64-row chunks). Then the value edge cases: x ×1000 (y unchanged: LayerNorm is scale-invariant;
/// rstd ~1/577, so dx shrinks), x ×1e-3 (σ² ~3e-7 next to ε = 1e-5: y shrinks, ε is inside the
/// root), constant rows (σ² = 0: y = b, rstd = 1/√ε ≈ 316, dw gets nothing) and one dominant
/// value per row (μ and σ set by one element; the others' x̂ ≈ −1/√(C−1)).
inline const std::vector<LayerNormShape>& layernorm_shapes() {
  constexpr auto constant = LayerNormRows::constant;
  constexpr auto dominant = LayerNormRows::one_dominant;
  // clang-format off
  static const std::vector<LayerNormShape> shapes = {
      // shapes, x ~ U(-0.5, 1.5)
      {1, 1}, {3, 1}, {6, 17}, {13, 33}, {70, 97}, {130, 40}, {5, 768}, {3, 1025}, {2, 1600},
      // value edge cases
      {6, 17, 1000}, {5, 768, 1000}, {6, 17, 1e-3}, {5, 768, 1e-3},
      {6, 17, 1, constant}, {5, 768, 1, constant}, {6, 17, 1, dominant}, {2, 1600, 1, dominant}};
  // clang-format on
  return shapes;
}

/// Inputs of one case: x as its shape says; w, b, dy and the gradients' starting values dx0,
/// dw0, db0 uniform in [−1, 1) (the backward accumulates). With bf16, every value a bf16 kernel
/// reads (x, w, b, dy, dx0) is rounded to bf16 first, so both references start from the kernel's
/// own inputs; dw0 and db0 stay fp32 (the parameter gradients are fp32 in both dtypes).
struct LayerNormCase {
  LayerNormShape shape;    ///< the sweep point
  DType dtype;             ///< the kernel's activation dtype: f32 or bf16
  std::vector<float> x;    ///< (N·C) the input
  std::vector<float> w;    ///< (C) the gain
  std::vector<float> b;    ///< (C) the bias
  std::vector<float> dy;   ///< (N·C) the output's gradient
  std::vector<float> dx0;  ///< (N·C) dx before the backward accumulates into it
  std::vector<float> dw0;  ///< (C) dw before the backward (fp32)
  std::vector<float> db0;  ///< (C) db before the backward (fp32)
};

/// The case for `shape` in `dtype`, from a generator seeded by `seed`, N and C (so the scaled
/// variants of a shape hold the same draws, scaled).
inline LayerNormCase make_layernorm_case(const LayerNormShape& shape, DType dtype,
                                         std::uint64_t seed = 0x1a7e'0000u) {
  const std::int64_t N = shape.N, C = shape.C;
  Rng rng(seed + static_cast<std::uint64_t>(N * 100003 + C));
  const auto nc = static_cast<std::size_t>(N * C), c = static_cast<std::size_t>(C);
  LayerNormCase k{shape, dtype, {}, {}, {}, {}, {}, {}, {}};
  k.x = rng.uniform_floats(nc, -0.5 * shape.scale, 1.5 * shape.scale);
  k.w = rng.uniform_floats(c);
  k.b = rng.uniform_floats(c);
  k.dy = rng.uniform_floats(nc);
  k.dx0 = rng.uniform_floats(nc);
  k.dw0 = rng.uniform_floats(c);
  k.db0 = rng.uniform_floats(c);
  for (std::int64_t r = 0; r < N; ++r) {
    float* row = k.x.data() + r * C;
    if (shape.rows == LayerNormRows::constant) {
      // bf16-exact (8 significant bits): every partial sum of up to 2^16 copies is exact in
      // float, so every kernel's μ is the value itself and x − μ = 0 exactly, as in the reference.
      const float v = round_to_bf16(row[0]);
      for (std::int64_t j = 0; j < C; ++j) row[j] = v;
    } else if (shape.rows == LayerNormRows::one_dominant) {
      row[r % C] = static_cast<float>(1000 * shape.scale);
    }
  }
  if (dtype == DType::bf16)
    for (auto* v : {&k.x, &k.w, &k.b, &k.dy, &k.dx0}) *v = rounded_to_bf16(*v);
  return k;
}

/// The reference's answers on a case: the forward, and the gradients after one backward.
template <class T>
struct LayerNormRun {
  ref::LayerNormForward<T> fwd;  ///< y (1, N, C), mean and rstd (1, N)
  xt::xtensor<T, 3> dx;          ///< (1, N, C): dx0 + the backward's dx
  xt::xtensor<T, 1> dw;          ///< (C): dw0 + the backward's dw
  xt::xtensor<T, 1> db;          ///< (C): db0 + the backward's db
};

/// The reference in T on (1, N, C) views of the case: forward (ε = 1e-5), then backward onto
/// dx0, dw0, db0 from the forward's own mean and rstd.
template <class T>
LayerNormRun<T> layernorm_reference(const LayerNormCase& k) {
  const std::array<std::size_t, 3> s{1, static_cast<std::size_t>(k.shape.N),
                                     static_cast<std::size_t>(k.shape.C)};
  const auto x = tensor<T>(k.x, s), dy = tensor<T>(k.dy, s);
  const auto w = tensor<T>(k.w), b = tensor<T>(k.b);
  LayerNormRun<T> r{ref::layernorm_forward(x, w, b), tensor<T>(k.dx0, s), tensor<T>(k.dw0),
                    tensor<T>(k.db0)};
  ref::layernorm_backward(dy, x, w, r.fwd.mean, r.fwd.rstd, r.dx, r.dw, r.db);
  return r;
}

/// What a forward pass in float saved for the backward: the statistics every checker hands the
/// kernels' backward (the float reference's \f$ \mu \f$ and \f$ s = 1/\sqrt{\sigma^2 + \epsilon}
/// \f$, fp32 in both dtypes), so the backward is judged on its own error alone.
struct LayerNormSaved {
  std::vector<float> mean;  ///< (N) \f$ \mu \f$ of each row
  std::vector<float> rstd;  ///< (N) \f$ s \f$ of each row
};

/// The float reference's mean and rstd on a case (the backward's inputs).
inline LayerNormSaved layernorm_saved(const LayerNormCase& k) {
  const auto fwd = layernorm_reference<float>(k).fwd;
  return {{fwd.mean.begin(), fwd.mean.end()}, {fwd.rstd.begin(), fwd.rstd.end()}};
}

/// The outputs layernorm's kernels write, each with its rule. Forward (k = 2): y in the case's
/// dtype, mean and rstd always fp32. Backward, from layernorm_saved's statistics (k = 3): dx in
/// the case's dtype, dw and db always fp32 (parameter gradients summed over N rows).
inline std::vector<Expected> layernorm_expected(const LayerNormCase& k) {
  const auto r64 = layernorm_reference<double>(k);
  const auto r32 = layernorm_reference<float>(k);
  using oracle::Rule;
  return {{"y", Rule::forward(k.dtype), widened(r64.fwd.y), widened(r32.fwd.y)},
          {"mean", Rule::forward(DType::f32), widened(r64.fwd.mean), widened(r32.fwd.mean)},
          {"rstd", Rule::forward(DType::f32), widened(r64.fwd.rstd), widened(r32.fwd.rstd)},
          {"dx", Rule::gradient(k.dtype), widened(r64.dx), widened(r32.dx)},
          {"dw", Rule::gradient(DType::f32), widened(r64.dw), widened(r32.dw)},
          {"db", Rule::gradient(DType::f32), widened(r64.db), widened(r32.db)}};
}

/// layernorm's card: what its page says besides its C symbols.
inline ComponentCard layernorm_card() {
  return {"layernorm",
          "layer normalisation over the last axis, y = (x - mean) rstd w + b with rstd = "
          "1/sqrt(var + eps) (biased variance), forward (y, mean, rstd) and accumulating backward "
          "(dx, dw, db); fp32, or bf16 activations with fp32 statistics and fp32 dw, db",
          {"llmlab.ref.layernorm_forward(x, w, b, eps=1e-5) -> (y, mean, rstd)",
           "llmlab.ref.layernorm_backward(dy, x, w, mean, rstd) -> (dx, dw, db)",
           "llmlab.cuda.layernorm_forward(x, w, b, eps=1e-5, dtype='float32', version=0) -> "
           "(y, mean, rstd)",
           "llmlab.cuda.layernorm_backward(dy, x, w, mean, rstd, dtype='float32', version=0) -> "
           "(dx, dw, db)",
           "llmlab.cuda.layernorm_forward_versions", "llmlab.cuda.layernorm_backward_versions"},
          {{"y", "(N, C), the input's dtype, overwritten"},
           {"mean", "(N), fp32 in both dtypes, overwritten"},
           {"rstd", "(N), fp32 in both dtypes, overwritten"},
           {"dx",
            "(N, C), the input's dtype, accumulated: dx += s (g - mean(g) - xhat mean(g xhat)), "
            "g = w dy"},
           {"dw", "(C), fp32 in both dtypes, accumulated: dw += sum over rows of xhat dy"},
           {"db", "(C), fp32 in both dtypes, accumulated: db += sum over rows of dy"}},
          "C = 1, below a warp, GPT-2's 768 and 1600 and just past a block's 1024; N not a "
          "multiple of 8 rows per block, and over several 64-row dw/db chunks; x ~ U(-0.5, 1.5) "
          "(non-zero means), x1000 (scale-invariant y), x1e-3 (variance below eps), constant rows "
          "(variance 0: y = b, rstd = 1/sqrt(eps)) and one dominant value per row",
          "ch03"};
}

}  // namespace llmlab::testing
