/// \file
/// \brief Chapter 03's checks: LayerNorm forward (every version) and backward against the
/// reference, fp32 and bf16, and the handout's worked examples.
///
/// Each check runs a launcher (the solution's, or yours in lab/ when built with
/// scripts/lab.sh 03) on LayerNorm's sweep (awkward shapes and value edge cases) and compares
/// its outputs with the reference computed in double by the oracle's ratio rule: forward outputs
/// may be off by at most twice what the same computation done plainly in float is off (k = 2),
/// gradients thrice (k = 3), plus a few ulps. A failure prints both errors, the ratio and the first
/// bad index (see "What the checker's messages mean" in the handout).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/ref/gelu.hpp"
#include "llmlab/ref/layernorm.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/layernorm_case.hpp"
#include "llmlab/testing/layernorm_launch.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::expect_all_agree;
using llmlab::testing::layernorm_expected;
using llmlab::testing::layernorm_reference;
using llmlab::testing::layernorm_shapes;
using llmlab::testing::LayerNormCase;
using llmlab::testing::LayerNormRun;
using llmlab::testing::LayerNormShape;
using llmlab::testing::make_layernorm_case;
using llmlab::testing::only;
using llmlab::testing::Outputs;
using llmlab::testing::run_layernorm_backward;
using llmlab::testing::run_layernorm_forward;

std::string version_name(int v) { return v == 0 ? "v0 (best)" : "v" + std::to_string(v); }

std::string param_name(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? "Best" : "V" + std::to_string(info.param);
}

/// "layernorm_forward f32 (6, 17) x~U(-0.5, 1.5) v1": what a message names.
std::string case_name(const char* fn, const LayerNormCase& k, int v) {
  return std::string(fn) + " " + std::string(llmlab::dtype_name(k.dtype)) + " " + k.shape.label() +
         " " + version_name(v);
}

// The shapes, inputs, reference and rules are LayerNorm's one description
// (llmlab/testing/layernorm_case.hpp), the same `llmlab verify layernorm` and llmlab's own tests
// use: C = 1, below a warp, GPT-2's 768 and 1600, N not a multiple of 8, and x scaled ×1000 and
// ×1e-3, constant rows and rows with one dominant value. Your kernels run through
// llmlab/testing/layernorm_launch.hpp: outputs NaN-filled first, the backward from what a float
// forward saved and onto nonzero starting gradients.

// ---- forward ------------------------------------------------------------------------------------

class LayerNormForward : public ::testing::TestWithParam<int> {};

TEST_P(LayerNormForward, Float32MatchesReferenceWithinTwiceFloat32Error) {
  for (const LayerNormShape& shape : layernorm_shapes()) {
    const LayerNormCase k = make_layernorm_case(shape, DType::f32);
    const std::string name = case_name("layernorm_forward", k, GetParam());
    Outputs got;
    const std::string error = run_layernorm_forward<float>(k, GetParam(), got);
    if (!error.empty()) FAIL() << name << ": " << error;
    expect_all_agree(name, only(layernorm_expected(k), {"y", "mean", "rstd"}), got);
  }
}

TEST_P(LayerNormForward, Bf16IsComputedInFloatAndRoundedOnce) {
  // y is bf16, judged against the float reference rounded once; mean and rstd stay fp32.
  for (const LayerNormShape& shape : layernorm_shapes()) {
    const LayerNormCase k = make_layernorm_case(shape, DType::bf16);
    const std::string name = case_name("layernorm_forward", k, GetParam());
    Outputs got;
    const std::string error = run_layernorm_forward<__nv_bfloat16>(k, GetParam(), got);
    if (!error.empty()) FAIL() << name << ": " << error;
    expect_all_agree(name, only(layernorm_expected(k), {"y", "mean", "rstd"}), got);
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, LayerNormForward,
                         ::testing::Range(0, llmlab::cuda::layernorm_forward_versions + 1),
                         param_name);

// ---- backward -----------------------------------------------------------------------------------

class LayerNormBackward : public ::testing::TestWithParam<int> {};

TEST_P(LayerNormBackward, GradientsMatchReferenceWithinThriceFloat32Error) {
  for (const LayerNormShape& shape : layernorm_shapes()) {
    const LayerNormCase k = make_layernorm_case(shape, DType::f32);
    const std::string name = case_name("layernorm_backward", k, GetParam());
    Outputs got;
    const std::string error = run_layernorm_backward<float>(k, GetParam(), got);
    if (!error.empty()) FAIL() << name << ": " << error;
    expect_all_agree(name, only(layernorm_expected(k), {"dx", "dw", "db"}), got);
  }
}

TEST_P(LayerNormBackward, Bf16DxIsAccumulatedInFloatAndRoundedOnce) {
  // dx is bf16 (read, added to in fp32, rounded once); dw and db stay fp32.
  for (const LayerNormShape& shape : layernorm_shapes()) {
    const LayerNormCase k = make_layernorm_case(shape, DType::bf16);
    const std::string name = case_name("layernorm_backward", k, GetParam());
    Outputs got;
    const std::string error = run_layernorm_backward<__nv_bfloat16>(k, GetParam(), got);
    if (!error.empty()) FAIL() << name << ": " << error;
    expect_all_agree(name, only(layernorm_expected(k), {"dx", "dw", "db"}), got);
  }
}

// The lab writes one backward (what version 0 runs); llmlab's solution has three, checked each.
INSTANTIATE_TEST_SUITE_P(Versions, LayerNormBackward,
                         ::testing::Range(0, LLMLAB_CHECKING_LAB
                                                 ? 1
                                                 : llmlab::cuda::layernorm_backward_versions + 1),
                         param_name);

// ---- the handout's worked examples --------------------------------------------------------------

/// The row x = (1, 2, 3, 6), w = 1, b = 0, dy = (1, 0, 0, 0) of the handout: μ = 3, σ² = 3.5,
/// y = (−2, −1, 0, 3)/√3.5, dx = (13, −11, −7, 5)/(28√3.5), dw = (−2/√3.5, 0, 0, 0), db = dy —
/// the reference (in double) gives them, and so does your kernel (by the oracle's rule).
TEST(Handout, LayerNormWorkedExample) {
  const LayerNormCase in{LayerNormShape{1, 4}, DType::f32,   {1, 2, 3, 6},
                         {1, 1, 1, 1},         {0, 0, 0, 0}, {1, 0, 0, 0},
                         {0, 0, 0, 0},         {0, 0, 0, 0}, {0, 0, 0, 0}};
  const LayerNormRun<double> r = layernorm_reference<double>(in);
  const double s = 1.0 / std::sqrt(3.5 + 1e-5);
  const double y[] = {-2 * s, -1 * s, 0, 3 * s};
  const double dx[] = {13.0 / 28, -11.0 / 28, -7.0 / 28, 5.0 / 28};
  EXPECT_DOUBLE_EQ(r.fwd.mean(0, 0), 3.0);
  EXPECT_NEAR(r.fwd.rstd(0, 0), s, 1e-15);
  for (int c = 0; c < 4; ++c) {
    EXPECT_NEAR(r.fwd.y(0, 0, c), y[c], 1e-12) << "y[" << c << "]";
    // The handout's dx ignores ε (1e-5 next to σ² = 3.5): equal to ~6 digits.
    EXPECT_NEAR(r.dx(0, 0, c), dx[c] * s, 1e-6) << "dx[" << c << "]";
  }
  EXPECT_NEAR(r.dw(0), -2 * s, 1e-12);
  EXPECT_EQ(r.db(0), 1.0);
  EXPECT_NEAR(r.dx(0, 0, 0) + r.dx(0, 0, 1) + r.dx(0, 0, 2) + r.dx(0, 0, 3), 0.0, 1e-15)
      << "dx sums to 0 over a row: shifting every x_c by the same amount leaves y unchanged";

  // Your kernels on the same row (version 0), forward and backward, judged by the oracle.
  Outputs got;
  std::string error = run_layernorm_forward<float>(in, 0, got);
  if (!error.empty()) FAIL() << "layernorm_forward on the handout's row: " << error;
  expect_all_agree("handout row", only(layernorm_expected(in), {"y", "mean", "rstd"}), got);
  error = run_layernorm_backward<float>(in, 0, got);
  if (!error.empty()) FAIL() << "layernorm_backward on the handout's row: " << error;
  expect_all_agree("handout row", only(layernorm_expected(in), {"dx", "dw", "db"}), got);
}

/// The handout's promise for the backward: dw and db are sums in a fixed order, so two runs on the
/// same input give the same bits — under any schedule and with blocks on several threads
/// (scripts/lab.sh runs with LLMLAB_EMU_THREADS=4). A `dw[c] +=` from many threads at once breaks it.
TEST(LayerNormBackwardDeterminism, BackwardRerunsAreBitwiseEqual) {
  for (const LayerNormShape shape : {LayerNormShape{64, 768}, LayerNormShape{97, 17}}) {
    const LayerNormCase k = make_layernorm_case(shape, DType::f32);
    Outputs first, second;
    for (Outputs* got : {&first, &second}) {
      const std::string error = run_layernorm_backward<float>(k, 0, *got);
      if (!error.empty()) FAIL() << "layernorm_backward " << shape.label() << ": " << error;
    }
    for (const char* name : {"dx", "dw", "db"}) {
      const auto& a = first.at(name);
      const auto& b = second.at(name);
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::memcmp(&a[i], &b[i], sizeof(double)) == 0) continue;
        ADD_FAILURE() << "layernorm_backward " << shape.label() << " " << name
                      << ": two runs on the same input differ bitwise, first at " << name << "["
                      << i << "] (column " << i % static_cast<std::size_t>(shape.C)
                      << "): " << a[i] << " then " << b[i];
        break;
      }
    }
  }
}

/// GELU(1) = 0.841192 and GELU'(1) = 1.082964; GELU(−2) = −0.045402 and GELU'(−2) = −0.086099
/// (the handout's table; PyTorch's F.gelu(approximate='tanh') gives the same).
TEST(Handout, GeluWorkedExample) {
  const xt::xtensor<double, 1> x = {1.0, -2.0};
  const auto y = llmlab::ref::gelu_forward(x);
  xt::xtensor<double, 1> dx = xt::zeros<double>({2});
  llmlab::ref::gelu_backward(xt::xtensor<double, 1>{1.0, 1.0}, x, dx);
  EXPECT_NEAR(y(0), 0.841192, 5e-7);
  EXPECT_NEAR(dx(0), 1.082964, 5e-7);
  EXPECT_NEAR(y(1), -0.045402, 5e-7);
  EXPECT_NEAR(dx(1), -0.086099, 5e-7);
}

}  // namespace
