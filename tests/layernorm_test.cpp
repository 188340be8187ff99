/// \file
/// \brief layernorm, forward and backward: the reference against PyTorch's golden files, every
/// kernel version (fp32, and bf16 activations with fp32 statistics and parameter gradients)
/// against the reference with the ratio rule, deliberately wrong kernels that the oracle must
/// reject, determinism, and the launchers' argument errors.
///
/// Built twice: against the emulated kernels (layernorm_test) and, on a GPU machine, against the
/// nvcc-built ones (layernorm_test_gpu, this file compiled by nvcc).

#include "llmlab/ref/layernorm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/layernorm_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_golden;
using llmlab::oracle::compare_ratio;
using llmlab::oracle::Report;
using llmlab::oracle::Rule;
using llmlab::oracle::widen;
using llmlab::oracle::widen_bf16;
using llmlab::testing::bf16_bits;
using llmlab::testing::check;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::layernorm_reference;
using llmlab::testing::LayerNormCase;
using llmlab::testing::LayerNormRun;
using llmlab::testing::make_layernorm_case;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "layernorm";

// ---- the reference against PyTorch --------------------------------------------------------------

/// One golden case: the float32 inputs and PyTorch's float64 outputs.
struct GoldenCase {
  xt::xtensor<float, 3> x, dy;
  xt::xtensor<float, 1> w, b;
  xt::xarray<double> y, mean, rstd, dx, dw, db;
};

GoldenCase load_case(const std::string& c) {
  auto f = [&](const char* n) { return llmlab::load_npy<float>(kGolden / (c + "_" + n + ".npy")); };
  auto d = [&](const char* n) {
    return llmlab::load_npy<double>(kGolden / (c + "_" + n + ".npy"));
  };
  return {f("x"),    f("dy"),   f("w"),  f("b"),  d("out"),
          d("mean"), d("rstd"), d("dx"), d("dw"), d("db")};
}

/// The reference in T on a golden case's inputs: forward, then backward from zero gradients.
template <class T>
LayerNormRun<T> run_reference(const GoldenCase& g) {
  const xt::xtensor<T, 3> x = xt::cast<T>(g.x), dy = xt::cast<T>(g.dy);
  const xt::xtensor<T, 1> w = xt::cast<T>(g.w), b = xt::cast<T>(g.b);
  LayerNormRun<T> r{llmlab::ref::layernorm_forward(x, w, b), xt::zeros<T>(x.shape()),
                    xt::zeros<T>(w.shape()), xt::zeros<T>(w.shape())};
  llmlab::ref::layernorm_backward(dy, x, w, r.fwd.mean, r.fwd.rstd, r.dx, r.dw, r.db);
  return r;
}

std::span<const double> flat(const xt::xarray<double>& a) { return {a.data(), a.size()}; }

/// With C = 1, x − μ is exactly 0: dx and dw are exactly 0 in exact arithmetic, and the reference
/// computes exactly 0, while PyTorch's float64 autograd leaves rounding noise (|dx| ~ 3e-14: its
/// terms are ~rstd · |w dy| ≈ 300 and cancel). A relative rule against noise is meaningless, so
/// for C = 1 the reference must give exactly 0 and the golden values must be noise, below
/// 1e-12 · rstd · max|w dy|. @returns whether this was such a case (checked here).
template <class T>
bool expect_exact_zero_gradients_for_one_value_rows(const GoldenCase& g, const LayerNormRun<T>& r) {
  if (g.x.shape(2) != 1) return false;
  for (const T v : r.dx) EXPECT_EQ(v, T(0)) << "dx with C = 1";
  for (const T v : r.dw) EXPECT_EQ(v, T(0)) << "dw with C = 1";
  double scale = 0;
  for (std::size_t i = 0; i < g.dy.size(); ++i)
    scale = std::max(scale, std::fabs(g.rstd.flat(i) * g.w(0) * g.dy.flat(i)));
  for (const double v : g.dx) EXPECT_LE(std::fabs(v), 1e-12 * scale) << "PyTorch's dx, C = 1";
  for (const double v : g.dw) EXPECT_LE(std::fabs(v), 1e-12 * scale) << "PyTorch's dw, C = 1";
  return true;
}

TEST(LayerNormReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases(kGolden);
  ASSERT_EQ(cases.size(), 4u) << "golden files in " << kGolden;
  for (const std::string& c : cases) {
    const GoldenCase g = load_case(c);
    const LayerNormRun<double> r = run_reference<double>(g);
    // Both compute in double from the same float inputs; only the order of operations differs
    // (PyTorch's Welford variance, autograd's grouping), each off by ~C · 2^-53 relative to the
    // terms — for C = 1600 about 2e-13 — so 1e-10 has room to spare and catches any wrong term.
    const Rule rule = Rule::relative(1e-10);
    const std::string n = "ref<double> layernorm " + c + " ";
    LLMLAB_EXPECT_AGREES(compare_golden(n + "y", flat(g.y), widened(r.fwd.y), rule));
    LLMLAB_EXPECT_AGREES(compare_golden(n + "mean", flat(g.mean), widened(r.fwd.mean), rule));
    LLMLAB_EXPECT_AGREES(compare_golden(n + "rstd", flat(g.rstd), widened(r.fwd.rstd), rule));
    LLMLAB_EXPECT_AGREES(compare_golden(n + "db", flat(g.db), widened(r.db), rule));
    if (expect_exact_zero_gradients_for_one_value_rows(g, r)) continue;
    LLMLAB_EXPECT_AGREES(compare_golden(n + "dx", flat(g.dx), widened(r.dx), rule));
    LLMLAB_EXPECT_AGREES(compare_golden(n + "dw", flat(g.dw), widened(r.dw), rule));
  }
}

TEST(LayerNormReference, InFloatMatchesPyTorchWithinTwoUlpsTimesRootK) {
  const auto cases = golden_cases(kGolden);
  ASSERT_EQ(cases.size(), 4u) << "golden files in " << kGolden;
  for (const std::string& c : cases) {
    const GoldenCase g = load_case(c);
    const LayerNormRun<float> r = run_reference<float>(g);
    const auto C = static_cast<std::int64_t>(g.x.shape(2));
    const auto N = static_cast<std::int64_t>(g.x.shape(0) * g.x.shape(1));
    // Every output is a chain of K-term float sums followed by a few roundings (÷C, sqrt, the
    // products): √K ulps for the sums' random walk, a handful for the chain. K = C for the row
    // statistics, y and dx; db sums N rows (K = N); dw sums N rows of x̂, whose error comes from
    // the C-term statistics (K = C + N). Measured over the four cases: at most 0.56 ulps · √K
    // (rstd at C = 1; dx at C = 17: 0.52), so 2 ulps · √K leaves a factor 3.5.
    const std::string n = "ref<float> layernorm " + c + " ";
    const Rule row = Rule::within_ulps(2, C, DType::f32);
    const Rule rows = Rule::within_ulps(2, N, DType::f32);
    const Rule both = Rule::within_ulps(2, C + N, DType::f32);
    LLMLAB_EXPECT_AGREES(compare_golden(n + "y", flat(g.y), widened(r.fwd.y), row));
    LLMLAB_EXPECT_AGREES(compare_golden(n + "mean", flat(g.mean), widened(r.fwd.mean), row));
    LLMLAB_EXPECT_AGREES(compare_golden(n + "rstd", flat(g.rstd), widened(r.fwd.rstd), row));
    LLMLAB_EXPECT_AGREES(compare_golden(n + "db", flat(g.db), widened(r.db), rows));
    if (expect_exact_zero_gradients_for_one_value_rows(g, r)) continue;
    LLMLAB_EXPECT_AGREES(compare_golden(n + "dx", flat(g.dx), widened(r.dx), row));
    LLMLAB_EXPECT_AGREES(compare_golden(n + "dw", flat(g.dw), widened(r.dw), both));
  }
}

TEST(LayerNormReference, OneValuePerRowGivesTheBiasAndNoGradientThroughX) {
  // C = 1: x − μ = 0 exactly, so y = b, dx = 0 and dw = 0 whatever dy is; db = Σ dy.
  const xt::xtensor<double, 3> x = {{{3.0}}, {{-2.0}}};
  const xt::xtensor<double, 1> w = {0.5}, b = {0.25};
  const auto fwd = llmlab::ref::layernorm_forward(x, w, b);
  EXPECT_EQ(fwd.y(0, 0, 0), 0.25);
  EXPECT_EQ(fwd.y(1, 0, 0), 0.25);
  xt::xtensor<double, 3> dx = xt::zeros<double>({2, 1, 1});
  xt::xtensor<double, 1> dw = {0.0}, db = {0.0};
  const xt::xtensor<double, 3> dy = {{{1.0}}, {{2.0}}};
  llmlab::ref::layernorm_backward(dy, x, w, fwd.mean, fwd.rstd, dx, dw, db);
  EXPECT_EQ(dx(0, 0, 0), 0.0);
  EXPECT_EQ(dw(0), 0.0);
  EXPECT_EQ(db(0), 3.0);
}

TEST(LayerNormReference, RejectsMismatchedShapesNamingThem) {
  const xt::xtensor<double, 3> x = xt::zeros<double>({2, 3, 5});
  const xt::xtensor<double, 1> w = xt::zeros<double>({5}), w4 = xt::zeros<double>({4});
  expect_error([&] { llmlab::ref::layernorm_forward(x, w4, w); },
               {"layernorm_forward", "x is (2, 3, 5) but w is (4)"});
  expect_error([&] { llmlab::ref::layernorm_forward(x, w, w4); },
               {"layernorm_forward", "b is (4)"});
  expect_error([&] { llmlab::ref::layernorm_forward(x, w, w, 0.0); }, {"layernorm_forward", "eps"});
  const xt::xtensor<double, 3> empty = xt::zeros<double>({2, 3, 0});
  const xt::xtensor<double, 1> w0 = xt::zeros<double>({0});
  expect_error([&] { llmlab::ref::layernorm_forward(empty, w0, w0); },
               {"layernorm_forward", "(2, 3, 0)", "C must be >= 1"});

  const auto fwd = llmlab::ref::layernorm_forward(x, w, w);
  xt::xtensor<double, 3> dx = xt::zeros<double>({2, 3, 5});
  xt::xtensor<double, 1> dw = xt::zeros<double>({5}), db = xt::zeros<double>({5});
  const xt::xtensor<double, 3> dy_bad = xt::zeros<double>({2, 4, 5});
  expect_error(
      [&] { llmlab::ref::layernorm_backward(dy_bad, x, w, fwd.mean, fwd.rstd, dx, dw, db); },
      {"layernorm_backward", "x is (2, 3, 5) but dy is (2, 4, 5)"});
  const xt::xtensor<double, 2> mean_bad = xt::zeros<double>({3, 2});
  expect_error([&] { llmlab::ref::layernorm_backward(x, x, w, mean_bad, fwd.rstd, dx, dw, db); },
               {"layernorm_backward", "mean is (3, 2)"});
  xt::xtensor<double, 1> db_bad = xt::zeros<double>({6});
  expect_error(
      [&] { llmlab::ref::layernorm_backward(x, x, w, fwd.mean, fwd.rstd, dx, dw, db_bad); },
      {"layernorm_backward", "db is (6)"});
}

// ---- every kernel version against the reference -------------------------------------------------

/// (N, C): one value; C below a warp, at GPT-2 small's 768 and XL's 1600 (above v0's switch to a
/// block per row), C = 1025 just past it; N not a multiple of v2's 8 rows per block, and N = 70
/// and 130 over more than one of the dw/db pass's 64-row chunks.
constexpr std::array<std::array<std::int64_t, 2>, 8> kShapes{
    {{1, 1}, {6, 17}, {5, 768}, {2, 1600}, {13, 33}, {70, 97}, {130, 40}, {3, 1025}}};

/// Each element rounded to bf16 (the baseline of a bf16 output: the float result rounded once).
template <class E>
std::vector<double> bf16_rounded(const E& t) {
  std::vector<double> out;
  for (const auto v : t) out.push_back(llmlab::round_to_bf16(static_cast<float>(v)));
  return out;
}

std::string case_name(const char* what, const char* dtype, const LayerNormCase& in, int version) {
  return std::string("layernorm ") + what + " v" + std::to_string(version) + " " + dtype + " " +
         llmlab::shape_str({in.N, in.C});
}

/// Runs layernorm_forward on the device. D is float or __nv_bfloat16; activations travel as
/// `bits` (float, or bf16 bit patterns).
template <class D, class Bits>
struct ForwardOut {
  std::vector<Bits> y;
  std::vector<float> mean, rstd;
};

template <class D, class Bits>
ForwardOut<D, Bits> forward_on_device(const LayerNormCase& in, int version,
                                      std::vector<Bits> (*to_device)(std::span<const float>)) {
  DeviceBuffer<D> dx(to_device(in.x)), dw(to_device(in.w)), db(to_device(in.b)), dy(in.N * in.C);
  DeviceBuffer<float> dmean(in.N), drstd(in.N);
  dy.fill_nan();  // an element the kernel never writes stays NaN
  const cudaError_t err = llmlab::cuda::layernorm_forward(
      dx.get(), dw.get(), db.get(), dy.get(), dmean.get(), drstd.get(), in.N, in.C, 1e-5f, version);
  check(err, "layernorm_forward");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {dy.template download<Bits>(), dmean.download(), drstd.download()};
}

std::vector<float> as_floats(std::span<const float> v) { return {v.begin(), v.end()}; }
std::vector<std::uint16_t> as_bf16(std::span<const float> v) { return bf16_bits(v); }

/// One kernel version, 0 (the launcher's pick by C) through 3.
class LayerNormKernel : public ::testing::TestWithParam<int> {};

TEST_P(LayerNormKernel, ForwardFloat32MatchesReferenceWithinTwiceFloat32Error) {
  const int v = GetParam();
  for (const auto& [N, C] : kShapes) {
    const LayerNormCase in =
        make_layernorm_case(100 + static_cast<std::uint64_t>(N * C), N, C, false);
    const auto ref64 = layernorm_reference<double>(in);
    const auto ref32 = layernorm_reference<float>(in);
    const auto got = forward_on_device<float, float>(in, v, as_floats);
    const Rule rule = Rule::forward(DType::f32);
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("y", "f32", in, v), widened(ref64.fwd.y),
                                       widened(ref32.fwd.y), widen(got.y), rule));
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("mean", "f32", in, v), widened(ref64.fwd.mean),
                                       widened(ref32.fwd.mean), widen(got.mean), rule));
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("rstd", "f32", in, v), widened(ref64.fwd.rstd),
                                       widened(ref32.fwd.rstd), widen(got.rstd), rule));
  }
}

TEST_P(LayerNormKernel, ForwardBf16MatchesReferenceWithinTwiceItsRoundedError) {
  const int v = GetParam();
  for (const auto& [N, C] : kShapes) {
    const LayerNormCase in =
        make_layernorm_case(200 + static_cast<std::uint64_t>(N * C), N, C, true);
    const auto ref64 = layernorm_reference<double>(in);
    const auto ref32 = layernorm_reference<float>(in);
    const auto got = forward_on_device<__nv_bfloat16, std::uint16_t>(in, v, as_bf16);
    // y is bf16: its baseline is the float reference rounded once; mean and rstd stay fp32.
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("y", "bf16", in, v), widened(ref64.fwd.y),
                                       bf16_rounded(ref32.fwd.y), widen_bf16(got.y),
                                       Rule::forward(DType::bf16)));
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("mean", "bf16", in, v), widened(ref64.fwd.mean),
                                       widened(ref32.fwd.mean), widen(got.mean),
                                       Rule::forward(DType::f32)));
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("rstd", "bf16", in, v), widened(ref64.fwd.rstd),
                                       widened(ref32.fwd.rstd), widen(got.rstd),
                                       Rule::forward(DType::f32)));
  }
}

/// Runs layernorm_backward on the device from the float reference's statistics (what a float
/// forward pass would have saved), gradients starting at dx0, dw0, db0.
template <class D, class Bits>
struct BackwardOut {
  std::vector<Bits> dx;
  std::vector<float> dw, db;
};

template <class D, class Bits>
BackwardOut<D, Bits> backward_on_device(const LayerNormCase& in, const LayerNormRun<float>& ref32,
                                        int version,
                                        std::vector<Bits> (*to_device)(std::span<const float>)) {
  DeviceBuffer<D> ddy(to_device(in.dy)), dx(to_device(in.x)), dw(to_device(in.w)),
      ddx(to_device(in.dx0));
  DeviceBuffer<float> dmean(in.N), drstd(in.N), ddw(in.dw0), ddb(in.db0);
  dmean.upload(std::vector<float>(ref32.fwd.mean.begin(), ref32.fwd.mean.end()));
  drstd.upload(std::vector<float>(ref32.fwd.rstd.begin(), ref32.fwd.rstd.end()));
  DeviceBuffer<float> scratch(llmlab::cuda::layernorm_backward_scratch(in.N, in.C));
  const cudaError_t err = llmlab::cuda::layernorm_backward(
      ddy.get(), dx.get(), dw.get(), dmean.get(), drstd.get(), ddx.get(), ddw.get(), ddb.get(),
      scratch.get(), in.N, in.C, version);
  check(err, "layernorm_backward");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {ddx.template download<Bits>(), ddw.download(), ddb.download()};
}

TEST_P(LayerNormKernel, BackwardFloat32MatchesReferenceWithinThriceFloat32Error) {
  const int v = GetParam();
  for (const auto& [N, C] : kShapes) {
    const LayerNormCase in =
        make_layernorm_case(300 + static_cast<std::uint64_t>(N * C), N, C, false);
    const auto ref64 = layernorm_reference<double>(in);
    const auto ref32 = layernorm_reference<float>(in);
    const auto got = backward_on_device<float, float>(in, ref32, v, as_floats);
    const Rule rule = Rule::gradient(DType::f32);
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("dx", "f32", in, v), widened(ref64.dx),
                                       widened(ref32.dx), widen(got.dx), rule));
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("dw", "f32", in, v), widened(ref64.dw),
                                       widened(ref32.dw), widen(got.dw), rule));
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("db", "f32", in, v), widened(ref64.db),
                                       widened(ref32.db), widen(got.db), rule));
  }
}

TEST_P(LayerNormKernel, BackwardBf16MatchesReferenceWithinThriceItsRoundedError) {
  const int v = GetParam();
  for (const auto& [N, C] : kShapes) {
    const LayerNormCase in =
        make_layernorm_case(400 + static_cast<std::uint64_t>(N * C), N, C, true);
    const auto ref64 = layernorm_reference<double>(in);
    const auto ref32 = layernorm_reference<float>(in);
    const auto got = backward_on_device<__nv_bfloat16, std::uint16_t>(in, ref32, v, as_bf16);
    // dx is bf16 (baseline: the float reference rounded once); dw and db stay fp32.
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("dx", "bf16", in, v), widened(ref64.dx),
                                       bf16_rounded(ref32.dx), widen_bf16(got.dx),
                                       Rule::gradient(DType::bf16)));
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("dw", "bf16", in, v), widened(ref64.dw),
                                       widened(ref32.dw), widen(got.dw),
                                       Rule::gradient(DType::f32)));
    LLMLAB_EXPECT_AGREES(compare_ratio(case_name("db", "bf16", in, v), widened(ref64.db),
                                       widened(ref32.db), widen(got.db),
                                       Rule::gradient(DType::f32)));
  }
}

TEST_P(LayerNormKernel, BackwardRerunsAreBitwiseEqual) {
  const LayerNormCase in = make_layernorm_case(500, 130, 40, false);
  const auto ref32 = layernorm_reference<float>(in);
  const auto a = backward_on_device<float, float>(in, ref32, GetParam(), as_floats);
  const auto b = backward_on_device<float, float>(in, ref32, GetParam(), as_floats);
  EXPECT_EQ(a.dx, b.dx);
  EXPECT_EQ(a.dw, b.dw);  // no float atomics: the sum over rows has one fixed order
  EXPECT_EQ(a.db, b.db);
}

TEST_P(LayerNormKernel, ForwardMaySkipSavingTheStatistics) {
  const LayerNormCase in = make_layernorm_case(600, 5, 33, false);
  const auto ref64 = layernorm_reference<double>(in);
  const auto ref32 = layernorm_reference<float>(in);
  DeviceBuffer<float> dx(in.x), dw(in.w), db(in.b), dy(in.N * in.C);
  check(llmlab::cuda::layernorm_forward(dx.get(), dw.get(), db.get(), dy.get(), nullptr, nullptr,
                                        in.N, in.C, 1e-5f, GetParam()),
        "layernorm_forward");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  LLMLAB_EXPECT_AGREES(compare_ratio("layernorm y without mean/rstd", widened(ref64.fwd.y),
                                     widened(ref32.fwd.y), widen(dy.download()),
                                     Rule::forward(DType::f32)));
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, LayerNormKernel,
                         ::testing::Range(0, llmlab::cuda::layernorm_forward_versions + 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Default")
                                                  : "V" + std::to_string(info.param);
                         });
static_assert(llmlab::cuda::layernorm_forward_versions == llmlab::cuda::layernorm_backward_versions,
              "the suite runs every version of both");

// ---- the checks can fail: deliberately wrong kernels --------------------------------------------

/// WRONG on purpose: the variance divides by C − 1 (the unbiased estimator, torch.var's default)
/// instead of C, as layer_norm does. Otherwise a fair v1.
__global__ void layernorm_forward_unbiased(const float* __restrict__ x, const float* __restrict__ w,
                                           const float* __restrict__ b, float* __restrict__ y,
                                           std::int64_t rows, std::int64_t cols) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const float* row = x + r * cols;
  float sum = 0.0f;
  for (std::int64_t c = 0; c < cols; ++c) sum += row[c];
  const float mu = sum / static_cast<float>(cols);
  float sq = 0.0f;
  for (std::int64_t c = 0; c < cols; ++c) sq += (row[c] - mu) * (row[c] - mu);
  const float s = 1.0f / sqrtf(sq / static_cast<float>(cols - 1) + 1e-5f);
  for (std::int64_t c = 0; c < cols; ++c) y[r * cols + c] = (row[c] - mu) * s * w[c] + b[c];
}

TEST(LayerNormOracle, RejectsAForwardKernelWithTheUnbiasedVariance) {
  const LayerNormCase in = make_layernorm_case(700, 6, 17, false);
  const auto ref64 = layernorm_reference<double>(in);
  const auto ref32 = layernorm_reference<float>(in);
  DeviceBuffer<float> dx(in.x), dw(in.w), db(in.b), dy(in.N * in.C);
  check(llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(1), dim3(32)),
                             layernorm_forward_unbiased, dx.cget(), dw.cget(), db.cget(), dy.get(),
                             in.N, in.C),
        "launch");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const Report r =
      compare_ratio("layernorm with the unbiased variance", widened(ref64.fwd.y),
                    widened(ref32.fwd.y), widen(dy.download()), Rule::forward(DType::f32));
  EXPECT_FALSE(r.pass) << r.detail();
}

/// WRONG on purpose: dw and db stop one row short (`r < rows - 1`), so the last row's
/// contribution is lost. Otherwise a fair v1 column pass.
__global__ void layernorm_dwdb_dropping_last_row(const float* __restrict__ dy,
                                                 const float* __restrict__ x,
                                                 const float* __restrict__ mean,
                                                 const float* __restrict__ rstd,
                                                 float* __restrict__ dw, float* __restrict__ db,
                                                 std::int64_t rows, std::int64_t cols) {
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  for (std::int64_t r = 0; r < rows - 1; ++r) {
    dw[c] += (x[r * cols + c] - mean[r]) * rstd[r] * dy[r * cols + c];
    db[c] += dy[r * cols + c];
  }
}

TEST(LayerNormOracle, RejectsABackwardKernelThatDropsTheLastRow) {
  const LayerNormCase in = make_layernorm_case(800, 70, 97, false);
  const auto ref64 = layernorm_reference<double>(in);
  const auto ref32 = layernorm_reference<float>(in);
  DeviceBuffer<float> ddy(in.dy), dx(in.x), ddw(in.dw0), ddb(in.db0);
  DeviceBuffer<float> dmean(std::vector<float>(ref32.fwd.mean.begin(), ref32.fwd.mean.end()));
  DeviceBuffer<float> drstd(std::vector<float>(ref32.fwd.rstd.begin(), ref32.fwd.rstd.end()));
  check(llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(1), dim3(128)),
                             layernorm_dwdb_dropping_last_row, ddy.cget(), dx.cget(), dmean.cget(),
                             drstd.cget(), ddw.get(), ddb.get(), in.N, in.C),
        "launch");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const Report rw =
      compare_ratio("layernorm dw dropping the last row", widened(ref64.dw), widened(ref32.dw),
                    widen(ddw.download()), Rule::gradient(DType::f32));
  const Report rb =
      compare_ratio("layernorm db dropping the last row", widened(ref64.db), widened(ref32.db),
                    widen(ddb.download()), Rule::gradient(DType::f32));
  EXPECT_FALSE(rw.pass) << rw.detail();
  EXPECT_FALSE(rb.pass) << rb.detail();
}

// ---- the launchers' argument errors -------------------------------------------------------------

TEST(LayerNormLauncher, RejectsBadSizesEpsAndVersionsNamingThem) {
  DeviceBuffer<float> a(12), w(4), y(12), s(3);
  namespace cu = llmlab::cuda;
  expect_error(
      [&] { cu::layernorm_forward(a.get(), w.get(), w.get(), y.get(), s.get(), s.get(), -1, 4); },
      {"layernorm_forward", "rows = -1"});
  expect_error(
      [&] { cu::layernorm_forward(a.get(), w.get(), w.get(), y.get(), s.get(), s.get(), 3, 0); },
      {"layernorm_forward", "cols = 0"});
  expect_error(
      [&] {
        cu::layernorm_forward(a.get(), w.get(), w.get(), y.get(), s.get(), s.get(), 3, 4, 0.0f);
      },
      {"layernorm_forward", "eps"});
  expect_error(
      [&] {
        cu::layernorm_forward(a.get(), w.get(), w.get(), y.get(), s.get(), s.get(), 3, 4, 1e-5f, 4);
      },
      {"layernorm_forward", "version = 4"});
  expect_error(
      [&] {
        cu::layernorm_backward(a.get(), a.get(), w.get(), s.get(), s.get(), y.get(), w.get(),
                               w.get(), nullptr, 3, 4, 9);
      },
      {"layernorm_backward", "version = 9"});
}

TEST(LayerNormLauncher, RejectsNullPointersNamingTheArgumentAndShape) {
  DeviceBuffer<float> a(12), w(4), y(12), s(3),
      scratch(llmlab::cuda::layernorm_backward_scratch(3, 4));
  namespace cu = llmlab::cuda;
  expect_error(
      [&] {
        cu::layernorm_forward(static_cast<const float*>(nullptr), w.get(), w.get(), y.get(),
                              s.get(), s.get(), 3, 4);
      },
      {"layernorm_forward", "x is null", "(3, 4)"});
  expect_error(
      [&] { cu::layernorm_forward(a.get(), w.get(), w.get(), nullptr, s.get(), s.get(), 3, 4); },
      {"layernorm_forward", "y is null"});
  expect_error(
      [&] {
        cu::layernorm_backward(a.get(), a.get(), w.get(), nullptr, s.get(), y.get(), w.get(),
                               w.get(), scratch.get(), 3, 4);
      },
      {"layernorm_backward", "mean is null", "(3, 4)"});
  expect_error(
      [&] {
        cu::layernorm_backward(a.get(), a.get(), w.get(), s.get(), s.get(), y.get(), w.get(),
                               w.get(), nullptr, 3, 4, 2);
      },
      {"layernorm_backward", "scratch is null"});
}

TEST(LayerNormLauncher, AcceptsZeroRowsWithoutLaunching) {
  EXPECT_EQ(llmlab::cuda::layernorm_forward(static_cast<const float*>(nullptr), nullptr, nullptr,
                                            nullptr, nullptr, nullptr, 0, 768),
            cudaSuccess);
  EXPECT_EQ(llmlab::cuda::layernorm_backward_scratch(0, 768), 0);
}

}  // namespace
