#pragma once
/// \file
/// \ingroup group_layernorm
/// \brief One LayerNorm case for the kernel checks (tests/layernorm_test.cpp, chapter 03's checks,
/// `llmlab verify layernorm`): seeded inputs, and the reference run on them in double or float.
/// Its users link llmlab::reference.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/rng.hpp"
#include "llmlab/ref/layernorm.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// Inputs of one (N, C) case: x uniform in [-0.5, 1.5) (rows with a non-zero mean); w, b, dy and
/// the gradients' starting values dx0, dw0, db0 uniform in [-1, 1) (the kernels accumulate).
struct LayerNormCase {
  std::int64_t N;           ///< rows
  std::int64_t C;           ///< columns
  std::vector<float> x;     ///< (N·C) the input
  std::vector<float> w;     ///< (C) the gain
  std::vector<float> b;     ///< (C) the bias
  std::vector<float> dy;    ///< (N·C) the output's gradient
  std::vector<float> dx0;   ///< (N·C) dx before the backward accumulates into it
  std::vector<float> dw0;   ///< (C) dw before the backward
  std::vector<float> db0;   ///< (C) db before the backward
};

/// The case for `seed`; with `bf16`, every value a bf16 kernel reads (x, w, b, dy, dx0) is rounded
/// to bf16 first, so both references start from the kernel's own inputs.
inline LayerNormCase make_layernorm_case(std::uint64_t seed, std::int64_t N, std::int64_t C,
                                         bool bf16) {
  Rng rng(seed);
  const auto nc = static_cast<std::size_t>(N * C), c = static_cast<std::size_t>(C);
  LayerNormCase k{N, C, {}, {}, {}, {}, {}, {}, {}};
  k.x = rng.uniform_floats(nc, -0.5, 1.5);
  k.w = rng.uniform_floats(c);
  k.b = rng.uniform_floats(c);
  k.dy = rng.uniform_floats(nc);
  k.dx0 = rng.uniform_floats(nc);
  k.dw0 = rng.uniform_floats(c);
  k.db0 = rng.uniform_floats(c);
  if (bf16)
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

/// The reference in T on (1, N, C) views of the case: forward, then backward onto dx0, dw0, db0
/// from the forward's own mean and rstd.
template <class T>
LayerNormRun<T> layernorm_reference(const LayerNormCase& k) {
  const std::array<std::size_t, 3> s{1, static_cast<std::size_t>(k.N),
                                     static_cast<std::size_t>(k.C)};
  const auto x = tensor<T>(k.x, s), dy = tensor<T>(k.dy, s);
  const auto w = tensor<T>(k.w), b = tensor<T>(k.b);
  LayerNormRun<T> r{ref::layernorm_forward(x, w, b), tensor<T>(k.dx0, s), tensor<T>(k.dw0),
                    tensor<T>(k.db0)};
  ref::layernorm_backward(dy, x, w, r.fwd.mean, r.fwd.rstd, r.dx, r.dw, r.db);
  return r;
}

}  // namespace llmlab::testing
