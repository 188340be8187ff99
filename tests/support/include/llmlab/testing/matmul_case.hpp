#pragma once
/// \file
/// \ingroup group_matmul
/// \brief matmul's one description (the component kit, component.hpp): its sweep, seeded cases,
/// the reference run, its named outputs with their rules, and its card. Used by
/// tests/matmul_test.cpp, chapter 02's checks, `llmlab verify matmul`, bench/matmul_bench.cpp and
/// the Python tests (through `llmlab verify --describe`). Its users link llmlab::reference.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/matmul.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// One point of matmul's sweep: x (N, in), W (out, in), x and W uniform in [−scale, scale).
struct MatmulShape {
  std::int64_t N;    ///< rows of x (B·T flattened)
  std::int64_t in;   ///< the inner dimension: products per output
  std::int64_t out;  ///< rows of W: outputs per row of x
  double scale = 1;  ///< x, W ~ U(−scale, scale); b ~ U(±scale²) and dx, dW start at U(±scale)
  /// "(N, in, out) = (17, 97, 129) x,W~U(±1)"
  std::string label() const {
    char s[32];
    std::snprintf(s, sizeof s, "%g", scale);
    return "(N, in, out) = (" + std::to_string(N) + ", " + std::to_string(in) + ", " +
           std::to_string(out) + ") x,W~U(±" + s + ")";
  }
};

/// The sweep every checker runs. Sizes below, between and just past the kernels' tiles (8, 16, 32,
/// 64) and never a multiple of one, so every version meets partial tiles at all three edges: a
/// single product; N = 1 (one row of activations: a decode step); out = 1 (one column); in = 1
/// and in = 0 (an empty sum: y = b, dx and dW empty, db = Σ dy); GPT-2's in = 768 (24 whole v3
/// tiles). Then the value edge cases: x and W ×1000 (y ~ 1e6 · √in, bf16's relative rounding at
/// large magnitude) and ×1e-3 (y ~ 1e-6 · √in: an absolute floor would hide every error there).
inline const std::vector<MatmulShape>& matmul_shapes() {
  static const std::vector<MatmulShape> shapes = {
      {1, 1, 1},          {1, 17, 1},          {1, 300, 67},       {5, 17, 33},
      {17, 97, 1},        {97, 17, 1},         {129, 1, 17},       {4, 0, 7},
      {3, 768, 65},       {17, 97, 129},       {33, 65, 97},       {65, 129, 17},
      {65, 129, 97},      {17, 97, 129, 1000}, {3, 768, 65, 1000}, {17, 97, 129, 1e-3},
      {65, 129, 97, 1e-3}};
  return shapes;
}

/// Inputs of one case. With bf16, every value a bf16 kernel reads in bf16 (x, W, b, dy and dx0) is
/// rounded to bf16 first, so both references start from the kernel's own inputs; dw0 and db0 stay
/// fp32 (parameter gradients are fp32 in a bf16 run: \ref conventions).
struct MatmulCase {
  MatmulShape shape;       ///< the sweep point
  DType dtype;             ///< the kernel's dtype: f32 or bf16
  std::vector<float> x;    ///< (N, in) the activations
  std::vector<float> w;    ///< (out, in) the weight
  std::vector<float> b;    ///< (out) the bias
  std::vector<float> dy;   ///< (N, out) the output's gradient, U(−1, 1)
  std::vector<float> dx0;  ///< (N, in) dx before the backward accumulates into it
  std::vector<float> dw0;  ///< (out, in) dW before the backward accumulates into it (fp32)
  std::vector<float> db0;  ///< (out) db before the backward accumulates into it (fp32)
};

/// The case for `shape` in `dtype`, from a generator seeded by `seed` and the sizes (the same
/// sizes at another scale draw the same values, scaled).
inline MatmulCase make_matmul_case(const MatmulShape& shape, DType dtype,
                                   std::uint64_t seed = 0x3a73'0000u) {
  const auto& [N, in, out, scale] = shape;
  Rng rng(seed + static_cast<std::uint64_t>(N * 1000003 + in * 1009 + out));
  auto draw = [&](std::int64_t n, double s) {
    return rng.uniform_floats(static_cast<std::size_t>(n), -s, s);
  };
  MatmulCase k{shape,
               dtype,
               draw(N * in, scale),
               draw(out * in, scale),
               draw(out, scale * scale),
               draw(N * out, 1),
               draw(N * in, scale),
               draw(out * in, scale),
               draw(out, 1)};
  if (dtype == DType::bf16)
    for (auto* v : {&k.x, &k.w, &k.b, &k.dy, &k.dx0}) *v = rounded_to_bf16(*v);
  return k;
}

/// The reference's answers on a case: y = x Wᵀ (+ b), and the gradients accumulated onto dx0,
/// dw0 and db0.
template <class T>
struct MatmulRun {
  xt::xtensor<T, 2> y;   ///< (N, out)
  xt::xtensor<T, 2> dx;  ///< (N, in): dx0 + dy W
  xt::xtensor<T, 2> dw;  ///< (out, in): dw0 + dyᵀ x
  xt::xtensor<T, 1> db;  ///< (out): db0 + Σₙ dy (db0 itself without bias)
};

/// The reference (the triple loop) in T on a case, with the bias or without it.
template <class T>
MatmulRun<T> matmul_reference(const MatmulCase& k, bool with_bias = true) {
  const auto& [N, in, out, scale] = k.shape;
  const auto x = matrix<T>(k.x, N, in), w = matrix<T>(k.w, out, in);
  MatmulRun<T> r{with_bias ? ref::matmul_forward(x, w, tensor<T>(k.b)) : ref::matmul_forward(x, w),
                 matrix<T>(k.dx0, N, in), matrix<T>(k.dw0, out, in), tensor<T>(k.db0)};
  if (with_bias)
    ref::matmul_backward(matrix<T>(k.dy, N, out), x, w, r.dx, r.dw, r.db);
  else
    ref::matmul_backward(matrix<T>(k.dy, N, out), x, w, r.dx, r.dw);
  return r;
}

/// The outputs matmul's kernels write, each with its rule: y (forward, k = 2) and dx (gradient,
/// k = 3) in the case's dtype; dw and db (gradient, k = 3) always in fp32, the dtype they are
/// stored in. Without the bias, y is x Wᵀ and db is not an output (it must be left alone).
inline std::vector<Expected> matmul_expected(const MatmulCase& k, bool with_bias = true) {
  const auto r64 = matmul_reference<double>(k, with_bias);
  const auto r32 = matmul_reference<float>(k, with_bias);
  std::vector<Expected> e = {
      {"y", oracle::Rule::forward(k.dtype), widened(r64.y), widened(r32.y)},
      {"dx", oracle::Rule::gradient(k.dtype), widened(r64.dx), widened(r32.dx)},
      {"dw", oracle::Rule::gradient(DType::f32), widened(r64.dw), widened(r32.dw)}};
  if (with_bias)
    e.push_back({"db", oracle::Rule::gradient(DType::f32), widened(r64.db), widened(r32.db)});
  return e;
}

/// matmul's card: what its page says besides its C symbols.
inline ComponentCard matmul_card() {
  return {"matmul",
          "The linear layer y = x W^T + b for x (N, in), W (out, in), b (out), and its "
          "accumulating backward dx, dW, db (fp32; bf16 summed in fp32 and rounded once, with "
          "fp32 dW and db)",
          {"llmlab.ref.matmul_forward(x, w, b=None) -> y",
           "llmlab.ref.matmul_backward(dy, x, w) -> (dx, dw, db)",
           "llmlab.cuda.matmul_forward(x, w, b=None, dtype='float32', version=0) -> y",
           "llmlab.cuda.matmul_backward(dy, x, w, dtype='float32', version=0) -> (dx, dw, db)",
           "llmlab.cuda.matmul_versions"},
          {{"y", "(N, out), the input's dtype, overwritten (no aliasing with the inputs)"},
           {"dx", "(N, in), the input's dtype, accumulated: dx += dy W"},
           {"dw", "(out, in), fp32 in both dtypes, accumulated: dW += dy^T x"},
           {"db", "(out), fp32 in both dtypes, accumulated: db += column sums of dy"}},
          "sizes never a multiple of a tile (8, 16, 32, 64), a single product, N = 1, out = 1, "
          "in = 1 and in = 0 (y = b), GPT-2's in = 768; x and W ~ U(±1), U(±1000) (y ~ 1e6) and "
          "U(±1e-3) (y ~ 1e-6: no absolute floor may hide an error), b ~ U(±scale²)",
          "ch02"};
}

}  // namespace llmlab::testing
