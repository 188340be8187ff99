/// \file
/// \brief Chapter 03's checks: LayerNorm forward (every version) and backward against the
/// reference, fp32 and bf16, and the handout's worked examples.
///
/// Each check runs a launcher (the solution's, or yours in lab/ when built with
/// -DLLMLAB_CHECK_LAB=ON) on awkward shapes and compares its outputs with the reference computed in
/// double by the oracle's ratio rule: forward outputs may be off by at most twice what the same
/// computation done plainly in float is off (k = 2), gradients thrice (k = 3), plus a few ulps. A
/// failure prints both errors, the ratio and the first bad index (see "What the checker's messages
/// mean" in the handout).

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/gelu.hpp"
#include "llmlab/ref/layernorm.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/launch.hpp"
#include "llmlab/testing/layernorm_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::oracle::compare_ratio;
using llmlab::oracle::Rule;
using llmlab::oracle::widen;
using llmlab::oracle::widen_bf16;
using llmlab::testing::bf16_bits;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::layernorm_reference;
using llmlab::testing::LayerNormCase;
using llmlab::testing::LayerNormRun;
using llmlab::testing::make_layernorm_case;
using llmlab::testing::run;
using llmlab::testing::widened;

std::string version_name(int v) { return v == 0 ? "v0 (best)" : "v" + std::to_string(v); }

std::string param_name(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? "Best" : "V" + std::to_string(info.param);
}

// ---- inputs and the reference -------------------------------------------------------------------

/// (N, C): one value per row (y = b), C below a warp, GPT-2 small's 768, XL's 1600 (one block per
/// row by default), N not a multiple of the 8 rows a block of warps takes.
constexpr std::array<std::array<std::int64_t, 2>, 6> kShapes{
    {{3, 1}, {6, 17}, {5, 768}, {2, 1600}, {13, 33}, {70, 97}}};

/// The float reference's values rounded once to bf16: the baseline of a bf16 output.
template <class E>
std::vector<double> rounded(const E& t) {
  std::vector<double> out;
  for (const float v : t) out.push_back(llmlab::round_to_bf16(v));
  return out;
}

// ---- forward ------------------------------------------------------------------------------------

class LayerNormForward : public ::testing::TestWithParam<int> {};

TEST_P(LayerNormForward, Float32MatchesReferenceWithinTwiceFloat32Error) {
  const int v = GetParam();
  for (const auto& [N, C] : kShapes) {
    const LayerNormCase in =
        make_layernorm_case(3000 + static_cast<std::uint64_t>(N * C), N, C, false);
    const LayerNormRun<double> r64 = layernorm_reference<double>(in);
    const LayerNormRun<float> r32 = layernorm_reference<float>(in);
    DeviceBuffer<float> x(in.x), w(in.w), b(in.b), y(N * C), mean(N), rstd(N);
    y.fill_nan();  // an element the kernel never writes stays NaN
    const std::string name =
        "layernorm_forward f32 " + llmlab::shape_str({N, C}) + " " + version_name(v);
    const std::string error = run([&] {
      return llmlab::cuda::layernorm_forward(x.get(), w.get(), b.get(), y.get(), mean.get(),
                                             rstd.get(), N, C, 1e-5f, v);
    });
    if (!error.empty()) FAIL() << name << ": " << error;
    const Rule rule = Rule::forward(DType::f32);
    LLMLAB_EXPECT_AGREES(compare_ratio(name + " y", widened(r64.fwd.y), widened(r32.fwd.y),
                                       widen(y.download()), rule));
    LLMLAB_EXPECT_AGREES(compare_ratio(name + " mean", widened(r64.fwd.mean), widened(r32.fwd.mean),
                                       widen(mean.download()), rule));
    LLMLAB_EXPECT_AGREES(compare_ratio(name + " rstd", widened(r64.fwd.rstd), widened(r32.fwd.rstd),
                                       widen(rstd.download()), rule));
  }
}

TEST_P(LayerNormForward, Bf16IsComputedInFloatAndRoundedOnce) {
  const int v = GetParam();
  for (const auto& [N, C] : kShapes) {
    const LayerNormCase in =
        make_layernorm_case(4000 + static_cast<std::uint64_t>(N * C), N, C, true);
    const LayerNormRun<double> r64 = layernorm_reference<double>(in);
    const LayerNormRun<float> r32 = layernorm_reference<float>(in);
    DeviceBuffer<__nv_bfloat16> x(bf16_bits(in.x)), w(bf16_bits(in.w)), b(bf16_bits(in.b)),
        y(N * C);
    DeviceBuffer<float> mean(N), rstd(N);
    y.fill_nan();
    const std::string name =
        "layernorm_forward bf16 " + llmlab::shape_str({N, C}) + " " + version_name(v);
    const std::string error = run([&] {
      return llmlab::cuda::layernorm_forward(x.get(), w.get(), b.get(), y.get(), mean.get(),
                                             rstd.get(), N, C, 1e-5f, v);
    });
    if (!error.empty()) FAIL() << name << ": " << error;
    LLMLAB_EXPECT_AGREES(compare_ratio(name + " y", widened(r64.fwd.y), rounded(r32.fwd.y),
                                       widen_bf16(y.download<std::uint16_t>()),
                                       Rule::forward(DType::bf16)));
    LLMLAB_EXPECT_AGREES(compare_ratio(name + " rstd", widened(r64.fwd.rstd), widened(r32.fwd.rstd),
                                       widen(rstd.download()), Rule::forward(DType::f32)));
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, LayerNormForward,
                         ::testing::Range(0, llmlab::cuda::layernorm_forward_versions + 1),
                         param_name);

// ---- backward -----------------------------------------------------------------------------------

class LayerNormBackward : public ::testing::TestWithParam<int> {};

TEST_P(LayerNormBackward, GradientsMatchReferenceWithinThriceFloat32Error) {
  const int v = GetParam();
  for (const auto& [N, C] : kShapes) {
    const LayerNormCase in =
        make_layernorm_case(5000 + static_cast<std::uint64_t>(N * C), N, C, false);
    const LayerNormRun<double> r64 = layernorm_reference<double>(in);
    const LayerNormRun<float> r32 = layernorm_reference<float>(in);
    // The kernel starts from what a float forward pass saved, and onto nonzero gradients.
    DeviceBuffer<float> dy(in.dy), x(in.x), w(in.w), dx(in.dx0), dw(in.dw0), db(in.db0);
    DeviceBuffer<float> mean(std::vector<float>(r32.fwd.mean.begin(), r32.fwd.mean.end()));
    DeviceBuffer<float> rstd(std::vector<float>(r32.fwd.rstd.begin(), r32.fwd.rstd.end()));
    DeviceBuffer<float> scratch(llmlab::cuda::layernorm_backward_scratch(N, C));
    const std::string name =
        "layernorm_backward f32 " + llmlab::shape_str({N, C}) + " " + version_name(v);
    const std::string error = run([&] {
      return llmlab::cuda::layernorm_backward(dy.get(), x.get(), w.get(), mean.get(), rstd.get(),
                                              dx.get(), dw.get(), db.get(), scratch.get(), N, C, v);
    });
    if (!error.empty()) FAIL() << name << ": " << error;
    const Rule rule = Rule::gradient(DType::f32);
    LLMLAB_EXPECT_AGREES(
        compare_ratio(name + " dx", widened(r64.dx), widened(r32.dx), widen(dx.download()), rule));
    LLMLAB_EXPECT_AGREES(
        compare_ratio(name + " dw", widened(r64.dw), widened(r32.dw), widen(dw.download()), rule));
    LLMLAB_EXPECT_AGREES(
        compare_ratio(name + " db", widened(r64.db), widened(r32.db), widen(db.download()), rule));
  }
}

TEST_P(LayerNormBackward, Bf16DxIsAccumulatedInFloatAndRoundedOnce) {
  const int v = GetParam();
  for (const auto& [N, C] : kShapes) {
    const LayerNormCase in =
        make_layernorm_case(6000 + static_cast<std::uint64_t>(N * C), N, C, true);
    const LayerNormRun<double> r64 = layernorm_reference<double>(in);
    const LayerNormRun<float> r32 = layernorm_reference<float>(in);
    DeviceBuffer<__nv_bfloat16> dy(bf16_bits(in.dy)), x(bf16_bits(in.x)), w(bf16_bits(in.w)),
        dx(bf16_bits(in.dx0));
    DeviceBuffer<float> dw(in.dw0), db(in.db0);
    DeviceBuffer<float> mean(std::vector<float>(r32.fwd.mean.begin(), r32.fwd.mean.end()));
    DeviceBuffer<float> rstd(std::vector<float>(r32.fwd.rstd.begin(), r32.fwd.rstd.end()));
    DeviceBuffer<float> scratch(llmlab::cuda::layernorm_backward_scratch(N, C));
    const std::string name =
        "layernorm_backward bf16 " + llmlab::shape_str({N, C}) + " " + version_name(v);
    const std::string error = run([&] {
      return llmlab::cuda::layernorm_backward(dy.get(), x.get(), w.get(), mean.get(), rstd.get(),
                                              dx.get(), dw.get(), db.get(), scratch.get(), N, C, v);
    });
    if (!error.empty()) FAIL() << name << ": " << error;
    LLMLAB_EXPECT_AGREES(compare_ratio(name + " dx", widened(r64.dx), rounded(r32.dx),
                                       widen_bf16(dx.download<std::uint16_t>()),
                                       Rule::gradient(DType::bf16)));
    LLMLAB_EXPECT_AGREES(compare_ratio(name + " dw", widened(r64.dw), widened(r32.dw),
                                       widen(dw.download()), Rule::gradient(DType::f32)));
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, LayerNormBackward,
                         ::testing::Range(0, llmlab::cuda::layernorm_backward_versions + 1),
                         param_name);

// ---- the handout's worked examples --------------------------------------------------------------

/// The row x = (1, 2, 3, 6), w = 1, b = 0, dy = (1, 0, 0, 0) of the handout: μ = 3, σ² = 3.5,
/// y = (−2, −1, 0, 3)/√3.5, dx = (13, −11, −7, 5)/(28√3.5), dw = (−2/√3.5, 0, 0, 0), db = dy —
/// the reference (in double) gives them, and so does your kernel (by the oracle's rule).
TEST(Handout, LayerNormWorkedExample) {
  const LayerNormCase in{1,
                         4,
                         {1, 2, 3, 6},
                         {1, 1, 1, 1},
                         {0, 0, 0, 0},
                         {1, 0, 0, 0},
                         {0, 0, 0, 0},
                         {0, 0, 0, 0},
                         {0, 0, 0, 0}};
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

  // Your kernels on the same row (version 0), judged by the oracle.
  const LayerNormRun<float> r32 = layernorm_reference<float>(in);
  DeviceBuffer<float> dx_(in.x), w(in.w), b(in.b), y_(4), mean(1), rstd(1);
  std::string error = run([&] {
    return llmlab::cuda::layernorm_forward(dx_.get(), w.get(), b.get(), y_.get(), mean.get(),
                                           rstd.get(), 1, 4);
  });
  if (!error.empty()) FAIL() << "layernorm_forward on the handout's row: " << error;
  LLMLAB_EXPECT_AGREES(compare_ratio("handout row y", widened(r.fwd.y), widened(r32.fwd.y),
                                     widen(y_.download()), Rule::forward(DType::f32)));
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
