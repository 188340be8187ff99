/// \file
/// \brief layernorm, forward and backward: the reference against PyTorch's golden files, every
/// kernel version (fp32, and bf16 activations with fp32 statistics and parameter gradients) over
/// layernorm's sweep (llmlab/testing/layernorm_case.hpp) under each output's rule, deliberately
/// wrong kernels that the oracle must reject, determinism, and the launchers' argument errors.
///
/// Built twice: against the emulated kernels (layernorm_test) and, on a GPU machine, against the
/// nvcc-built ones (layernorm_test_gpu, this file compiled by nvcc).

#include "llmlab/ref/layernorm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/layernorm_case.hpp"
#include "llmlab/testing/layernorm_launch.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_golden;
using llmlab::oracle::Rule;
using llmlab::testing::all_agree;
using llmlab::testing::check;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_all_agree;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::layernorm_expected;
using llmlab::testing::layernorm_saved;
using llmlab::testing::layernorm_shapes;
using llmlab::testing::LayerNormCase;
using llmlab::testing::LayerNormRun;
using llmlab::testing::LayerNormSaved;
using llmlab::testing::LayerNormShape;
using llmlab::testing::make_layernorm_case;
using llmlab::testing::only;
using llmlab::testing::Outputs;
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

/// One case through forward version v (llmlab/testing/layernorm_launch.hpp): y, mean and rstd.
/// @throws std::runtime_error naming the failed launch.
template <class E>
Outputs run_forward(const LayerNormCase& k, int v) {
  Outputs got;
  const std::string error = llmlab::testing::run_layernorm_forward<E>(k, v, got);
  if (!error.empty()) throw std::runtime_error("layernorm_forward: " + error);
  return got;
}

/// One case through backward version v, from the statistics a float forward saved: dx, dw, db.
/// @throws std::runtime_error naming the failed launch.
template <class E>
Outputs run_backward(const LayerNormCase& k, int v) {
  Outputs got;
  const std::string error = llmlab::testing::run_layernorm_backward<E>(k, v, got);
  if (!error.empty()) throw std::runtime_error("layernorm_backward: " + error);
  return got;
}

std::string case_name(const char* what, const LayerNormCase& k, int v) {
  return std::string("layernorm ") + what + " v" + std::to_string(v) + " " +
         std::string(llmlab::dtype_name(k.dtype)) + " " + k.shape.label();
}

/// One kernel version, 0 (the launcher's pick by C) through 3.
class LayerNormKernel : public ::testing::TestWithParam<int> {};

TEST_P(LayerNormKernel, ForwardFloat32MatchesReferenceWithinTwiceFloat32Error) {
  for (const LayerNormShape& shape : layernorm_shapes()) {
    const LayerNormCase k = make_layernorm_case(shape, DType::f32);
    expect_all_agree(case_name("forward", k, GetParam()),
                     only(layernorm_expected(k), {"y", "mean", "rstd"}),
                     run_forward<float>(k, GetParam()));
  }
}

TEST_P(LayerNormKernel, ForwardBf16MatchesReferenceWithinTwiceItsRoundedError) {
  // y is bf16 (its rule's baseline: the float reference rounded once); mean and rstd stay fp32.
  for (const LayerNormShape& shape : layernorm_shapes()) {
    const LayerNormCase k = make_layernorm_case(shape, DType::bf16);
    expect_all_agree(case_name("forward", k, GetParam()),
                     only(layernorm_expected(k), {"y", "mean", "rstd"}),
                     run_forward<__nv_bfloat16>(k, GetParam()));
  }
}

TEST_P(LayerNormKernel, BackwardFloat32MatchesReferenceWithinThriceFloat32Error) {
  for (const LayerNormShape& shape : layernorm_shapes()) {
    const LayerNormCase k = make_layernorm_case(shape, DType::f32);
    expect_all_agree(case_name("backward", k, GetParam()),
                     only(layernorm_expected(k), {"dx", "dw", "db"}),
                     run_backward<float>(k, GetParam()));
  }
}

TEST_P(LayerNormKernel, BackwardBf16MatchesReferenceWithinThriceItsRoundedError) {
  // dx is bf16 (baseline: the float reference rounded once); dw and db stay fp32.
  for (const LayerNormShape& shape : layernorm_shapes()) {
    const LayerNormCase k = make_layernorm_case(shape, DType::bf16);
    expect_all_agree(case_name("backward", k, GetParam()),
                     only(layernorm_expected(k), {"dx", "dw", "db"}),
                     run_backward<__nv_bfloat16>(k, GetParam()));
  }
}

TEST_P(LayerNormKernel, BackwardRerunsAreBitwiseEqual) {
  const LayerNormCase k = make_layernorm_case({130, 40}, DType::f32);
  const Outputs a = run_backward<float>(k, GetParam());
  const Outputs b = run_backward<float>(k, GetParam());
  EXPECT_EQ(a.at("dx"), b.at("dx"));
  EXPECT_EQ(a.at("dw"), b.at("dw"));  // no float atomics: the sum over rows has one fixed order
  EXPECT_EQ(a.at("db"), b.at("db"));
}

TEST_P(LayerNormKernel, ForwardMaySkipSavingTheStatistics) {
  const LayerNormCase k = make_layernorm_case({13, 33}, DType::f32);
  const std::int64_t N = k.shape.N, C = k.shape.C;
  DeviceBuffer<float> x(k.x), w(k.w), b(k.b), y(N * C);
  y.fill_nan();
  check(llmlab::cuda::layernorm_forward(x.cget(), w.cget(), b.cget(), y.get(), nullptr, nullptr, N,
                                        C, 1e-5f, GetParam()),
        "layernorm_forward");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  expect_all_agree("layernorm without mean/rstd", only(layernorm_expected(k), {"y"}),
                   {{"y", y.widened()}});
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
  const LayerNormCase k = make_layernorm_case({6, 17}, DType::f32);
  const std::int64_t N = k.shape.N, C = k.shape.C;
  DeviceBuffer<float> x(k.x), w(k.w), b(k.b), y(N * C);
  check(
      llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(1), dim3(32)),
                           layernorm_forward_unbiased, x.cget(), w.cget(), b.cget(), y.get(), N, C),
      "launch");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const auto expected = layernorm_expected(k);
  EXPECT_FALSE(all_agree("layernorm with the unbiased variance", only(expected, {"y"}),
                         {{"y", y.widened()}}));
  // …and the real kernels pass on the same case: the check is not simply failing everything.
  EXPECT_TRUE(all_agree("layernorm forward", only(expected, {"y", "mean", "rstd"}),
                        run_forward<float>(k, 0)));
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
  const LayerNormCase k = make_layernorm_case({70, 97}, DType::f32);
  const LayerNormSaved saved = layernorm_saved(k);
  DeviceBuffer<float> dy(k.dy), x(k.x), mean(saved.mean), rstd(saved.rstd), dw(k.dw0), db(k.db0);
  check(llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(1), dim3(128)),
                             layernorm_dwdb_dropping_last_row, dy.cget(), x.cget(), mean.cget(),
                             rstd.cget(), dw.get(), db.get(), k.shape.N, k.shape.C),
        "launch");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const auto expected = layernorm_expected(k);
  EXPECT_FALSE(all_agree("layernorm dw dropping the last row", only(expected, {"dw"}),
                         {{"dw", dw.widened()}}));
  EXPECT_FALSE(all_agree("layernorm db dropping the last row", only(expected, {"db"}),
                         {{"db", db.widened()}}));
  // …and the real backward passes on the same case.
  EXPECT_TRUE(all_agree("layernorm backward", only(expected, {"dx", "dw", "db"}),
                        run_backward<float>(k, 0)));
}

// ---- the launchers' argument errors -------------------------------------------------------------

TEST(LayerNormLauncher, RejectsBadSizesEpsAndVersionsNamingThem) {
  DeviceBuffer<float> a(12), w(4), y(12), s(3);
  namespace cu = llmlab::cuda;
  expect_error(
      [&] { cu::layernorm_forward(a.get(), w.get(), w.get(), y.get(), s.get(), s.get(), -1, 4); },
      {"layernorm_forward", "N = -1"});
  expect_error(
      [&] { cu::layernorm_forward(a.get(), w.get(), w.get(), y.get(), s.get(), s.get(), 3, 0); },
      {"layernorm_forward", "C = 0"});
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
