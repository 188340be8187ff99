/// \file
/// \brief cross-entropy \f$ \ell = \mathrm{lse}(x) - x_y \f$ and its backward
/// \f$ \mathrm{dx} = (\mathrm{softmax}(x) - \mathrm{onehot}(y)) \, \mathrm{d}\ell \f$: the
/// reference against PyTorch's golden files (per-token losses, the mean over non-ignored targets,
/// dlogits), every kernel version in fp32 and bf16 over cross_entropy's sweep
/// (llmlab/testing/cross_entropy_case.hpp) under each output's rule (k = 2 forward, k = 3
/// backward), the backward in place, NaN and ±∞ logits going where the reference's go, two wrong
/// kernels rejected (one forgets the row maximum, one takes −log of a softmax probability), and
/// the errors for bad targets and bad launches.
///
/// Built twice: against the emulated kernels (cross_entropy_test) and, on a GPU machine, against
/// the nvcc-built ones (cross_entropy_test_gpu).

#include "llmlab/cuda/cross_entropy.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "llmlab/cuda/softmax.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/cross_entropy.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/cross_entropy_case.hpp"
#include "llmlab/testing/cross_entropy_launch.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_golden;
using llmlab::oracle::Rule;
using llmlab::testing::all_agree;
using llmlab::testing::check;
using llmlab::testing::cross_entropy_expected;
using llmlab::testing::cross_entropy_shapes;
using llmlab::testing::CrossEntropyCase;
using llmlab::testing::CrossEntropyShape;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_all_agree;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::make_cross_entropy_case;
using llmlab::testing::only;
using llmlab::testing::Outputs;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "cross_entropy";
constexpr double kInf = std::numeric_limits<double>::infinity();

/// Test names for a version parameter: "Default" for 0 (the launcher's choice), "V1", "V2", ….
std::string version_name(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? std::string("Default") : "V" + std::to_string(info.param);
}

// ---- the reference against PyTorch --------------------------------------------------------------

/// A golden case's inputs as the reference in T takes them.
template <class T>
struct GoldenInputs {
  xt::xtensor<T, 3> logits;
  xt::xtensor<std::int32_t, 2> targets;
  xt::xtensor<T, 2> dlosses;
  explicit GoldenInputs(const std::string& c)
      : logits(xt::cast<T>(llmlab::load_npy<float>(kGolden / (c + "_logits.npy")))),
        targets(llmlab::load_npy<std::int32_t>(kGolden / (c + "_targets.npy"))),
        dlosses(xt::cast<T>(llmlab::load_npy<float>(kGolden / (c + "_dlosses.npy")))) {}
};

/// losses, the mean and dlogits of the reference in T on a golden case.
template <class T>
std::array<std::vector<double>, 3> reference_on(const std::string& c) {
  const GoldenInputs<T> in(c);
  const auto losses = llmlab::ref::cross_entropy_forward(in.logits, in.targets);
  const T mean = llmlab::ref::cross_entropy_mean(losses, in.targets);
  const auto dlogits = llmlab::ref::cross_entropy_backward(in.dlosses, in.logits, in.targets);
  return {widened(losses), {static_cast<double>(mean)}, widened(dlogits)};
}

std::vector<double> golden_file(const std::string& c, const char* what) {
  const xt::xarray<double> g = llmlab::load_npy<double>(kGolden / (c + "_" + what + ".npy"));
  return widened(g);
}

TEST(CrossEntropyReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases(kGolden);
  ASSERT_EQ(cases.size(), 5U) << "golden files in " << kGolden;
  for (const std::string& c : cases) {
    const auto got = reference_on<double>(c);
    // Both compute in double; exp, log and the sums' order differ by a few 1e-16.
    const char* what[] = {"out", "mean", "dlogits"};
    for (int i = 0; i < 3; ++i)
      LLMLAB_EXPECT_AGREES(
          compare_golden("ref<double> cross_entropy " + std::string(what[i]) + " " + c,
                         golden_file(c, what[i]), got[i], Rule::relative(1e-10)));
  }
}

TEST(CrossEntropyReference, InFloatMatchesPyTorchWithinTwoUlpsTimesRootV) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const auto got = reference_on<float>(c);
    const GoldenInputs<float> in(c);
    const auto V = static_cast<std::int64_t>(in.logits.shape(2));
    // losses and the mean: the V-term sum's ½ ulp per addition adds like a random walk, then log
    // and the subtraction of the target's logit round once each, relative to max|ℓ| (≥ the lse's
    // part); the mean adds ≤ B·T more roundings, fewer than V here.
    const Rule rule = Rule::within_ulps(2, V, DType::f32);
    LLMLAB_EXPECT_AGREES(
        compare_golden("ref<float> cross_entropy out " + c, golden_file(c, "out"), got[0], rule));
    LLMLAB_EXPECT_AGREES(
        compare_golden("ref<float> cross_entropy mean " + c, golden_file(c, "mean"), got[1], rule));
    // dlogits = (e^{x − lse} − [v = y]) dℓ: lse's rounding error, a few ulps of |lse| ≤ max|x| +
    // log V, becomes a relative error of p, and |p dℓ| ≤ 1 — so the ulps are taken at that
    // magnitude, not at max|dlogits| (logits ×1000 have lse ≈ 1000 and p ≈ 0.9: 2e-5 apart).
    const double lse_bound =
        static_cast<double>(xt::amax(xt::abs(in.logits))()) + std::log(static_cast<double>(V));
    LLMLAB_EXPECT_AGREES(compare_golden("ref<float> cross_entropy dlogits " + c,
                                        golden_file(c, "dlogits"), got[2],
                                        rule.at_magnitude(std::max(lse_bound, 1.0))));
  }
}

TEST(CrossEntropyReference, HugeLogitsStayFiniteAndUnlikelyTargetsKeepTheirLoss) {
  // e^1000 overflows double: the maximum comes out first. lse = 1000 + log(1 + e^-1).
  const xt::xtensor<double, 3> x = {{{1000.0, 999.0, -1000.0}}};
  const xt::xtensor<std::int32_t, 2> y = {{2}};
  const auto losses = llmlab::ref::cross_entropy_forward(x, y);
  EXPECT_NEAR(losses(0, 0), 2000.0 + std::log1p(std::exp(-1.0)), 1e-12);
  // A target 120 below the maximum: p = e^-120 is 0 in float, but the loss is ≈ 120, not ∞.
  const xt::xtensor<float, 3> xf = {{{0.0f, -120.0f}}};
  const auto lf = llmlab::ref::cross_entropy_forward(xf, xt::xtensor<std::int32_t, 2>{{1}});
  EXPECT_NEAR(lf(0, 0), 120.0f, 1e-4f);
}

TEST(CrossEntropyReference, MeanSkipsIgnoredTargetsAndPerplexityOfAUniformGuessIsV) {
  const std::size_t V = 7;
  const xt::xtensor<double, 3> x = xt::zeros<double>({std::size_t{1}, std::size_t{4}, V});
  const xt::xtensor<std::int32_t, 2> y = {{3, -100, 0, 6}};
  const auto losses = llmlab::ref::cross_entropy_forward(x, y);
  EXPECT_EQ(losses(0, 1), 0.0);
  const double mean = llmlab::ref::cross_entropy_mean(losses, y);
  EXPECT_NEAR(mean, std::log(7.0), 1e-15);
  EXPECT_NEAR(llmlab::ref::perplexity(mean), 7.0, 1e-13);
  const xt::xtensor<std::int32_t, 2> none = {{-100, -100, -100, -100}};
  EXPECT_TRUE(std::isnan(llmlab::ref::cross_entropy_mean(losses, none)));
}

TEST(CrossEntropyReference, RejectsBadTargetsAndShapesNamingThem) {
  const xt::xtensor<double, 3> x = xt::zeros<double>({2, 3, 5});
  xt::xtensor<std::int32_t, 2> y = xt::zeros<std::int32_t>({2, 3});
  y(1, 2) = 5;
  expect_error([&] { llmlab::ref::cross_entropy_forward(x, y); },
               {"cross_entropy_forward", "targets[1, 2] = 5", "[0, V = 5)", "ignore_index = -100"});
  y(1, 2) = -1;
  expect_error([&] { llmlab::ref::cross_entropy_forward(x, y); },
               {"cross_entropy_forward", "targets[1, 2] = -1"});
  EXPECT_NO_THROW(llmlab::ref::cross_entropy_forward(x, y, -1));  // −1 is this call's ignore_index
  const xt::xtensor<double, 2> dl = xt::zeros<double>({2, 3});
  expect_error([&] { llmlab::ref::cross_entropy_backward(dl, x, y); },
               {"cross_entropy_backward", "targets[1, 2] = -1"});
  const xt::xtensor<std::int32_t, 2> wrong = xt::zeros<std::int32_t>({3, 2});
  expect_error([&] { llmlab::ref::cross_entropy_forward(x, wrong); },
               {"cross_entropy_forward", "logits is (2, 3, 5) but targets is (3, 2)"});
  const xt::xtensor<double, 3> empty = xt::zeros<double>({2, 3, 0});
  expect_error(
      [&] {
        llmlab::ref::cross_entropy_forward(empty, xt::zeros<std::int32_t>({2, 3}));
      },
      {"cross_entropy_forward", "(2, 3, 0)"});
}

// ---- every kernel version against the reference -------------------------------------------------

/// One case through forward version v: losses and lse (cross_entropy_launch.hpp; a failed launch
/// fails the test).
template <class E>
Outputs run_forward(const CrossEntropyCase& k, int v) {
  Outputs got;
  const std::string error = llmlab::testing::run_cross_entropy_forward<E>(k, v, got);
  EXPECT_EQ(error, "") << k.shape.label();
  return got;
}

/// One case through backward version v: dlogits, into its own buffer or in place over the logits.
template <class E>
Outputs run_backward(const CrossEntropyCase& k, int v, bool in_place = false) {
  Outputs got;
  const std::string error = llmlab::testing::run_cross_entropy_backward<E>(k, v, got, in_place);
  EXPECT_EQ(error, "") << k.shape.label();
  return got;
}

std::string case_name(const char* what, const CrossEntropyCase& k, int v) {
  return llmlab::testing::cross_entropy_case_name(what, k, v);
}

class CrossEntropyForwardKernel : public ::testing::TestWithParam<int> {};

TEST_P(CrossEntropyForwardKernel, Float32MatchesReferenceWithinTwiceFloat32Error) {
  llmlab::testing::expect_cross_entropy_forward_agrees<float>(GetParam());
}

TEST_P(CrossEntropyForwardKernel, Bfloat16LogitsMatchReferenceWithinTwiceFloat32Error) {
  llmlab::testing::expect_cross_entropy_forward_agrees<__nv_bfloat16>(GetParam());
}

TEST_P(CrossEntropyForwardKernel, RerunsAreBitwiseEqual) {
  const CrossEntropyCase k = make_cross_entropy_case({3, 17, 97, 4, 4}, DType::f32);
  EXPECT_EQ(run_forward<float>(k, GetParam()), run_forward<float>(k, GetParam()));
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, CrossEntropyForwardKernel,
                         ::testing::Range(0, llmlab::cuda::cross_entropy_forward_versions + 1),
                         version_name);

class CrossEntropyBackwardKernel : public ::testing::TestWithParam<int> {};

TEST_P(CrossEntropyBackwardKernel, Float32MatchesReferenceWithinThriceFloat32Error) {
  llmlab::testing::expect_cross_entropy_backward_agrees<float>(GetParam());
}

TEST_P(CrossEntropyBackwardKernel, Bfloat16MatchesReferenceWithinThriceBfloat16Error) {
  llmlab::testing::expect_cross_entropy_backward_agrees<__nv_bfloat16>(GetParam());
}

TEST_P(CrossEntropyBackwardKernel, InPlaceOverTheLogitsEqualsOutOfPlaceBitwise) {
  // dlogits written over the logits (llm.c's fused classifier) must be what a separate buffer
  // gets: every logit is read before its own gradient overwrites it.
  for (const CrossEntropyShape& shape :
       {CrossEntropyShape{3, 17, 97, 4, 4}, CrossEntropyShape{1, 3, 1025, 8}}) {
    for (const DType d : {DType::f32, DType::bf16}) {
      const CrossEntropyCase k = make_cross_entropy_case(shape, d);
      if (d == DType::f32)
        EXPECT_EQ(run_backward<float>(k, GetParam(), true), run_backward<float>(k, GetParam()))
            << shape.label();
      else
        EXPECT_EQ(run_backward<__nv_bfloat16>(k, GetParam(), true),
                  run_backward<__nv_bfloat16>(k, GetParam()))
            << shape.label();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, CrossEntropyBackwardKernel,
                         ::testing::Range(0, llmlab::cuda::cross_entropy_backward_versions + 1),
                         version_name);

// ---- NaN and ±∞ logits: where the reference's arithmetic takes them -----------------------------

class CrossEntropyNonFinite : public ::testing::TestWithParam<int> {};

TEST_P(CrossEntropyNonFinite, NanAndInfinityInARowGoWhereTheReferencesGo) {
  // Row 0 holds a NaN, row 1 a +∞ (lse NaN: e^{∞−∞}), row 2 a −∞ that is not the target
  // (probability 0, finite loss), row 3 only −∞ (lse −∞, loss NaN), row 4 a −∞ at its target
  // (loss +∞); row 5 is left finite and must stay so.
  CrossEntropyCase k = make_cross_entropy_case({1, 6, 97, 4}, DType::f32);
  const auto at = [&](std::size_t r, std::size_t v) -> float& { return k.logits[r * 97 + v]; };
  at(0, 40) = NAN;
  at(1, 3) = INFINITY;
  at(2, (static_cast<std::size_t>(k.targets[2]) + 1) % 97) = -INFINITY;
  for (std::size_t v = 0; v < 97; ++v) at(3, v) = -INFINITY;
  at(4, static_cast<std::size_t>(k.targets[4])) = -INFINITY;
  const auto lse64 =
      llmlab::ref::logsumexp<double>(llmlab::testing::tensor<double>(k.logits, k.logits_shape()));
  k.lse.assign(lse64.begin(), lse64.end());
  const auto expected = cross_entropy_expected(k);
  const auto& want = expected[0].ref64;  // losses
  ASSERT_TRUE(std::isnan(want[0]) && std::isnan(want[1]) && std::isfinite(want[2]) &&
              std::isnan(want[3]) && want[4] == kInf && std::isfinite(want[5]));
  expect_all_agree(case_name("cross_entropy_forward non-finite", k, GetParam()),
                   only(expected, {"losses", "lse"}), run_forward<float>(k, GetParam()));
  expect_all_agree(case_name("cross_entropy_backward non-finite", k, GetParam()),
                   only(expected, {"dlogits"}), run_backward<float>(k, GetParam()));
}

// The reference's row maximum is a vector reduction (reference/src/cross_entropy.cpp), where a NaN
// may or may not win: wherever the NaN sits (each lane of a 16-wide vector, the tail), and whether
// the rest of the row is finite or all −∞, the row's lse must still be NaN.
TEST(CrossEntropyReference, ANanAnywhereInARowMakesItsLogsumexpNan) {
  constexpr std::size_t V = 37;  // two 16-wide vectors and a tail of 5
  for (const bool rest_minus_inf : {false, true})
    for (std::size_t at = 0; at < V; ++at) {
      xt::xtensor<float, 3> logits = xt::zeros<float>({std::size_t{1}, std::size_t{1}, V});
      for (std::size_t v = 0; v < V; ++v)
        logits(0, 0, v) = rest_minus_inf ? -INFINITY : 0.1f * static_cast<float>(v);
      logits(0, 0, at) = NAN;
      EXPECT_TRUE(std::isnan(llmlab::ref::logsumexp<float>(logits)(0, 0)))
          << "NaN at " << at << (rest_minus_inf ? " among -inf" : " among finite logits");
    }
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, CrossEntropyNonFinite,
                         ::testing::Range(0, llmlab::cuda::cross_entropy_forward_versions + 1),
                         version_name);

// ---- the check can fail: two kernels that are algebraically right ------------------------------

/// WRONG on purpose: \f$ \mathrm{lse} = \log \sum_v e^{x_v} \f$ without taking the row maximum out
/// — the same number in exact arithmetic, but e^{x} overflows float32 beyond x ≈ 88.7, so logits
/// ×1000 give lse = ∞ and a loss of ∞ (or ∞ − ∞ = NaN). One thread per row.
__global__ void cross_entropy_without_max(const float* __restrict__ x,
                                          const std::int32_t* __restrict__ targets,
                                          float* __restrict__ losses, float* __restrict__ lse,
                                          std::int64_t rows, std::int64_t V) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float sum = 0.0f;
  for (std::int64_t v = 0; v < V; ++v) sum += expf(x[r * V + v]);
  lse[r] = logf(sum);
  const std::int32_t y = targets[r];
  losses[r] = y == llmlab::cuda::kCrossEntropyIgnoreIndex ? 0.0f : lse[r] - x[r * V + y];
}

/// WRONG on purpose: \f$ \ell = -\log p_y \f$ from llmlab's own softmax (exact in every digit it
/// keeps), then a log. Where the target's probability underflows float32 (e^{-120} < the smallest
/// denormal ≈ e^{-103}) p = 0 and the loss is ∞ instead of ≈ 120.
__global__ void nll_of_probabilities(const float* __restrict__ p,
                                     const std::int32_t* __restrict__ targets,
                                     float* __restrict__ losses, std::int64_t rows,
                                     std::int64_t V) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const std::int32_t y = targets[r];
  losses[r] = y == llmlab::cuda::kCrossEntropyIgnoreIndex ? 0.0f : -logf(p[r * V + y]);
}

/// The sweep's labels whose losses a wrong forward gets wrong; `run` writes losses (B·T) for a
/// case.
template <class Run>
std::vector<std::string> rejected_by_the_sweep(const char* what, Run run) {
  std::vector<std::string> rejected;
  for (const auto& shape : cross_entropy_shapes()) {
    const CrossEntropyCase k = make_cross_entropy_case(shape, DType::f32);
    DeviceBuffer<float> logits(k.logits), losses(shape.B * shape.T);
    DeviceBuffer<std::int32_t> targets(k.targets);
    losses.fill_nan();
    run(k, logits, targets, losses);
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    const auto expected = only(cross_entropy_expected(k), {"losses"});
    if (!all_agree(std::string(what) + " " + shape.label(), expected,
                   {{"losses", losses.widened()}}))
      rejected.push_back(shape.label());
    EXPECT_TRUE(all_agree("cross_entropy " + shape.label(), expected, run_forward<float>(k, 0)))
        << shape.label();
  }
  return rejected;
}

TEST(CrossEntropyOracle, RejectsAKernelThatForgetsTheRowMaximumWhereExpOverflows) {
  const auto rejected = rejected_by_the_sweep(
      "cross_entropy without the max",
      [](const CrossEntropyCase& k, auto& logits, auto& targets, auto& losses) {
        const std::int64_t N = k.shape.B * k.shape.T;
        DeviceBuffer<float> lse(N);
        check(llmlab::cuda::launch(llmlab::cuda::thread_per_item_config(N, 32),
                                   cross_entropy_without_max, logits.cget(), targets.cget(),
                                   losses.get(), lse.get(), N, k.shape.V),
              "launch");
      });
  // V = 1 too: there the loss is exactly 0 and lse exactly x, and log(e^x) − x is not.
  const std::vector<std::string> want = {"(2, 3, 1) x~U(±1)", "(2, 5, 97) x~U(±1000)",
                                         "(2, 3, 1025) x~U(±1000), 1 in 3 targets ignored"};
  EXPECT_EQ(rejected, want);
}

TEST(CrossEntropyOracle, RejectsMinusLogOfASoftmaxProbabilityWhereTheTargetsUnderflow) {
  const auto rejected = rejected_by_the_sweep(
      "cross_entropy as -log softmax",
      [](const CrossEntropyCase& k, auto& logits, auto& targets, auto& losses) {
        const std::int64_t N = k.shape.B * k.shape.T, V = k.shape.V;
        DeviceBuffer<float> p(N * V);
        check(llmlab::cuda::softmax_forward(logits.cget(), p.get(), N, V), "softmax_forward");
        check(
            llmlab::cuda::launch(llmlab::cuda::thread_per_item_config(N, 32), nll_of_probabilities,
                                 p.cget(), targets.cget(), losses.get(), N, V),
            "launch");
      });
  // Logits ×1000 are one-hot rows: a target that is not its row's maximum has p ≈ e^{-hundreds}.
  const std::vector<std::string> want = {"(2, 5, 97) x~U(±1000)",
                                         "(2, 7, 97) x~U(±2), targets at max-120",
                                         "(2, 3, 1025) x~U(±1000), 1 in 3 targets ignored"};
  EXPECT_EQ(rejected, want);
}

// ---- bad targets and bad launches ---------------------------------------------------------------

TEST(CrossEntropyLauncher, RejectsTargetsOutsideTheVocabularyNamingPositionAndValue) {
  DeviceBuffer<float> logits(2 * 3 * 5), losses(6), lse(6), dl(6);
  DeviceBuffer<std::int32_t> targets(std::vector<std::int32_t>{0, 1, 2, 3, 4, 5});
  expect_error(
      [&] {
        llmlab::cuda::cross_entropy_forward(logits.cget(), targets.cget(), losses.get(), lse.get(),
                                            2, 3, 5);
      },
      {"cross_entropy_forward", "targets[1, 2] = 5", "[0, V = 5)", "ignore_index = -100"});
  targets.upload(std::vector<std::int32_t>{0, -1, 2, 3, 4, -100});
  expect_error(
      [&] {
        llmlab::cuda::cross_entropy_backward(logits.cget(), targets.cget(), lse.cget(), dl.cget(),
                                             logits.get(), 2, 3, 5);
      },
      {"cross_entropy_backward", "targets[0, 1] = -1"});
  targets.upload(std::vector<std::int32_t>{0, -1, 2, 3, 4, -1});
  EXPECT_EQ(llmlab::cuda::cross_entropy_forward(logits.cget(), targets.cget(), losses.get(),
                                                lse.get(), 2, 3, 5, -1),
            cudaSuccess);  // −1 is this call's ignore_index
}

TEST(CrossEntropyLauncher, RejectsBadArgumentsNamingThem) {
  DeviceBuffer<float> logits(6), losses(2), lse(2);
  DeviceBuffer<std::int32_t> targets(2);
  const auto fwd = [&](std::int64_t B, std::int64_t T, std::int64_t V, float* out, int v = 0) {
    llmlab::cuda::cross_entropy_forward(logits.cget(), targets.cget(), out, lse.get(), B, T, V,
                                        -100, v);
  };
  expect_error([&] { fwd(-1, 2, 3, losses.get()); }, {"cross_entropy_forward", "B = -1"});
  expect_error([&] { fwd(1, 2, 0, losses.get()); }, {"cross_entropy_forward", "(1, 2, 0)"});
  expect_error([&] { fwd(INT64_MAX / 2, 3, 3, losses.get()); },
               {"cross_entropy_forward", "too many positions"});
  expect_error([&] { fwd(1, 2, 3, nullptr); },
               {"cross_entropy_forward", "losses is null", "(1, 2, 3)"});
  const int too_high = llmlab::cuda::cross_entropy_forward_versions + 1;
  expect_error([&] { fwd(1, 2, 3, losses.get(), too_high); },
               {"cross_entropy_forward", "version = " + std::to_string(too_high)});
  expect_error(
      [&] {
        llmlab::cuda::cross_entropy_backward(logits.cget(), targets.cget(), nullptr, lse.cget(),
                                             logits.get(), 1, 2, 3);
      },
      {"cross_entropy_backward", "lse is null"});
  EXPECT_EQ(llmlab::cuda::cross_entropy_forward(static_cast<const float*>(nullptr), nullptr,
                                                nullptr, nullptr, 0, 5, 3),
            cudaSuccess);
}

}  // namespace
