/// \file
/// \brief softmax over the last axis, \f$ y_j = e^{x_j - m} / \sum_k e^{x_k - m} \f$, and its
/// backward \f$ \mathrm{dx}_i \mathrel{+}= y_i (\mathrm{dy}_i - \sum_j \mathrm{dy}_j y_j) \f$: the
/// reference against PyTorch's golden files, every kernel version in fp32 and bf16 over softmax's
/// sweep (llmlab/testing/softmax_case.hpp) under each output's rule (k = 2 forward, k = 3
/// backward), a kernel that forgets to subtract the maximum rejected wherever e^x overflows or
/// underflows, and the launchers' errors.
///
/// Built twice: against the emulated kernels (softmax_test) and, on a GPU machine, against the
/// nvcc-built ones (softmax_test_gpu).

#include "llmlab/cuda/softmax.cuh"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/softmax.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/softmax_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_golden;
using llmlab::oracle::Rule;
using llmlab::testing::all_agree;
using llmlab::testing::check;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_all_agree;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::make_softmax_case;
using llmlab::testing::only;
using llmlab::testing::Outputs;
using llmlab::testing::softmax_expected;
using llmlab::testing::softmax_shapes;
using llmlab::testing::SoftmaxCase;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "softmax";

/// Test names for a version parameter: "Default" for 0 (the launcher's choice), "V1", "V2", ….
std::string version_name(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? std::string("Default") : "V" + std::to_string(info.param);
}

// ---- the reference against PyTorch --------------------------------------------------------------

template <class T>
xt::xarray<T> load_as(const std::string& c, const char* what) {
  return xt::cast<T>(llmlab::load_npy<float>(kGolden / (c + "_" + what + ".npy")));
}

/// y and dx (from zero, using this reference's own y) of the reference in T on a golden case.
template <class T>
std::array<std::vector<double>, 2> reference_on(const std::string& c) {
  const auto x = load_as<T>(c, "x"), dy = load_as<T>(c, "dy");
  const auto y = llmlab::ref::softmax_forward(x);
  xt::xarray<T> dx = xt::zeros<T>(x.shape());
  llmlab::ref::softmax_backward(dy, y, dx);
  return {widened(y), widened(dx)};
}

std::vector<double> golden_file(const std::string& c, const char* what) {
  const xt::xarray<double> g = llmlab::load_npy<double>(kGolden / (c + "_" + what + ".npy"));
  return widened(g);
}

TEST(SoftmaxReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const auto got = reference_on<double>(c);
    // Both compute in double; exp, the sum's order and the division differ by a few 1e-16.
    LLMLAB_EXPECT_AGREES(compare_golden("ref<double> softmax out " + c, golden_file(c, "out"),
                                        got[0], Rule::relative(1e-10)));
    LLMLAB_EXPECT_AGREES(compare_golden("ref<double> softmax dx " + c, golden_file(c, "dx"), got[1],
                                        Rule::relative(1e-10)));
  }
}

TEST(SoftmaxReference, InFloatMatchesPyTorchWithinTwoUlpsTimesRootC) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const auto got = reference_on<float>(c);
    const auto C =
        static_cast<std::int64_t>(llmlab::load_npy<float>(kGolden / (c + "_x.npy")).shape().back());
    // y: exp and the division round once each (≤ 1 ulp together) and the C-term sum's ½ ulp per
    // addition add like a random walk, relative to y, and y ≤ max y. dx: the C-term dot product
    // the same way, and the dot is at most max|dy| ≤ 1 while max|dx| is of that order.
    LLMLAB_EXPECT_AGREES(compare_golden("ref<float> softmax out " + c, golden_file(c, "out"),
                                        got[0], Rule::within_ulps(2, C, DType::f32)));
    LLMLAB_EXPECT_AGREES(compare_golden("ref<float> softmax dx " + c, golden_file(c, "dx"), got[1],
                                        Rule::within_ulps(2, C, DType::f32)));
  }
}

TEST(SoftmaxReference, RowsOfHugeLogitsStayFinite) {
  const xt::xarray<double> x = {{1000.0, 999.0, -1000.0}};
  const auto y = llmlab::ref::softmax_forward(x);
  EXPECT_NEAR(y(0, 0), 1.0 / (1.0 + std::exp(-1.0)), 1e-15);
  EXPECT_NEAR(y(0, 1), std::exp(-1.0) / (1.0 + std::exp(-1.0)), 1e-15);
  EXPECT_EQ(y(0, 2), 0.0);
}

TEST(SoftmaxReference, RejectsEmptyRowsAndMismatchedShapesNamingThem) {
  const xt::xarray<double> empty = xt::zeros<double>({2, 0});
  expect_error([&] { llmlab::ref::softmax_forward(empty); }, {"softmax_forward", "(2, 0)"});
  const xt::xarray<double> dy = xt::zeros<double>({2, 3}), y = xt::zeros<double>({3, 2});
  xt::xarray<double> dx = xt::zeros<double>({2, 3});
  expect_error([&] { llmlab::ref::softmax_backward(dy, y, dx); },
               {"softmax_backward", "dy is (2, 3) but y is (3, 2)"});
}

// ---- every kernel version against the reference -------------------------------------------------

/// One case through forward version v: y (its buffer NaN first, so an unwritten element cannot
/// pass).
template <class E>
Outputs run_forward(const SoftmaxCase& k, int v) {
  const std::int64_t R = k.shape.R, C = k.shape.C;
  DeviceBuffer<E> x(device_values<E>(k.x)), y(R * C);
  y.fill_nan();
  check(llmlab::cuda::softmax_forward(x.cget(), y.get(), R, C, v), "softmax_forward");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {{"y", y.widened()}};
}

/// One case through backward version v: dx accumulated onto dx0 from the case's y and dy.
template <class E>
Outputs run_backward(const SoftmaxCase& k, int v) {
  DeviceBuffer<E> dy(device_values<E>(k.dy)), y(device_values<E>(k.y)), dx(device_values<E>(k.dx0));
  check(llmlab::cuda::softmax_backward(dy.cget(), y.cget(), dx.get(), k.shape.R, k.shape.C, v),
        "softmax_backward");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {{"dx", dx.widened()}};
}

std::string case_name(const char* what, const SoftmaxCase& k, int v) {
  return std::string(what) + " v" + std::to_string(v) + " " +
         std::string(llmlab::dtype_name(k.dtype)) + " " + k.shape.label();
}

class SoftmaxForwardKernel : public ::testing::TestWithParam<int> {};

TEST_P(SoftmaxForwardKernel, Float32MatchesReferenceWithinTwiceFloat32Error) {
  for (const auto& shape : softmax_shapes()) {
    const SoftmaxCase k = make_softmax_case(shape, DType::f32);
    expect_all_agree(case_name("softmax_forward", k, GetParam()), only(softmax_expected(k), {"y"}),
                     run_forward<float>(k, GetParam()));
  }
}

TEST_P(SoftmaxForwardKernel, Bfloat16MatchesReferenceWithinTwiceBfloat16Error) {
  for (const auto& shape : softmax_shapes()) {
    const SoftmaxCase k = make_softmax_case(shape, DType::bf16);
    expect_all_agree(case_name("softmax_forward", k, GetParam()), only(softmax_expected(k), {"y"}),
                     run_forward<__nv_bfloat16>(k, GetParam()));
  }
}

TEST_P(SoftmaxForwardKernel, MaskedLogitsGetZeroAndTheRestSumToOne) {
  // Causal attention masks scores to −∞: rows whose first few logits are finite and the rest −∞
  // (so most lanes of a warp-per-row version see nothing but −∞). Masked entries must come out 0
  // and the others agree with the reference — not NaN from e^{−∞ − (−∞)}.
  SoftmaxCase k = make_softmax_case({5, 97, 0, 4}, DType::f32);
  for (std::int64_t r = 0; r < 5; ++r)
    for (std::int64_t c = 2 * r + 1; c < 97; ++c)
      k.x[static_cast<std::size_t>(r * 97 + c)] = -INFINITY;
  const Outputs got = run_forward<float>(k, GetParam());
  expect_all_agree(case_name("softmax_forward masked", k, GetParam()),
                   only(softmax_expected(k), {"y"}), got);
  for (std::int64_t r = 0; r < 5; ++r)
    for (std::int64_t c = 2 * r + 1; c < 97; ++c)
      EXPECT_EQ(got.at("y")[static_cast<std::size_t>(r * 97 + c)], 0.0)
          << "row " << r << ", col " << c;
}

TEST_P(SoftmaxForwardKernel, NaNAndInfinityReachTheWholeRowAsInTheReference) {
  // Issue 12: the online version (v3) once returned [nan, nan, 0.731] for [1, nan, 2] — fmaxf
  // dropped the NaN when two lanes' states merged. A NaN or a +inf makes the reference's whole row
  // NaN (e^{x - max} with max = +inf is e^{inf - inf}); −inf alone is a masked entry (0). Rows:
  // [1, nan, 2]; a NaN in the last lane of a 97-wide row; +inf at column 40; −inf and a NaN; a row
  // of −inf but one finite value; an ordinary row (which must stay finite).
  SoftmaxCase k = make_softmax_case({6, 97, 0, 1}, DType::f32);
  const auto at = [&](std::int64_t r, std::int64_t c) -> float& {
    return k.x[static_cast<std::size_t>(r * 97 + c)];
  };
  at(0, 0) = 1.0f, at(0, 1) = NAN, at(0, 2) = 2.0f;
  at(1, 96) = NAN;
  at(2, 40) = INFINITY;
  at(3, 5) = -INFINITY, at(3, 70) = NAN;
  for (std::int64_t c = 0; c < 97; ++c) at(4, c) = c == 33 ? 0.5f : -INFINITY;
  const Outputs got = run_forward<float>(k, GetParam());
  expect_all_agree(case_name("softmax_forward NaN/inf", k, GetParam()),
                   only(softmax_expected(k), {"y"}), got);
  for (std::int64_t r = 0; r < 4; ++r)
    for (std::int64_t c = 0; c < 97; ++c)
      EXPECT_TRUE(std::isnan(got.at("y")[static_cast<std::size_t>(r * 97 + c)]))
          << "row " << r << ", col " << c;
  EXPECT_EQ(got.at("y")[4 * 97 + 33], 1.0);
  for (std::int64_t c = 0; c < 97; ++c)
    EXPECT_TRUE(std::isfinite(got.at("y")[static_cast<std::size_t>(5 * 97 + c)])) << "col " << c;

  // Rows of 3: the lane holding the NaN sees nothing else, so its state is (−∞, NaN) — the one a
  // merge with an empty lane used to drop, giving [nan, nan, 0.731] for [1, nan, 2].
  SoftmaxCase short_rows = make_softmax_case({3, 3, 0, 1}, DType::f32);
  short_rows.x = {1.0f, NAN, 2.0f, NAN, 1.0f, 2.0f, 1.0f, 2.0f, NAN};
  const Outputs short_got = run_forward<float>(short_rows, GetParam());
  expect_all_agree(case_name("softmax_forward NaN, rows of 3", short_rows, GetParam()),
                   only(softmax_expected(short_rows), {"y"}), short_got);
  for (std::size_t i = 0; i < 9; ++i) EXPECT_TRUE(std::isnan(short_got.at("y")[i])) << "index " << i;
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, SoftmaxForwardKernel,
                         ::testing::Range(0, llmlab::cuda::softmax_forward_versions + 1),
                         version_name);

class SoftmaxBackwardKernel : public ::testing::TestWithParam<int> {};

TEST_P(SoftmaxBackwardKernel, Float32MatchesReferenceWithinThriceFloat32Error) {
  for (const auto& shape : softmax_shapes()) {
    const SoftmaxCase k = make_softmax_case(shape, DType::f32);
    expect_all_agree(case_name("softmax_backward", k, GetParam()),
                     only(softmax_expected(k), {"dx"}), run_backward<float>(k, GetParam()));
  }
}

TEST_P(SoftmaxBackwardKernel, Bfloat16MatchesReferenceWithinThriceBfloat16Error) {
  for (const auto& shape : softmax_shapes()) {
    const SoftmaxCase k = make_softmax_case(shape, DType::bf16);
    expect_all_agree(case_name("softmax_backward", k, GetParam()),
                     only(softmax_expected(k), {"dx"}), run_backward<__nv_bfloat16>(k, GetParam()));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, SoftmaxBackwardKernel,
                         ::testing::Range(0, llmlab::cuda::softmax_backward_versions + 1),
                         version_name);

// ---- the check can fail: a softmax that forgets the maximum -------------------------------------

/// WRONG on purpose: \f$ e^{x_j} / \sum_k e^{x_k} \f$ without subtracting the row maximum —
/// algebraically the same, but e^{90} overflows float32 (max ≈ 3.4e38 ≈ e^{88.7}) and the row
/// becomes inf / inf = NaN, while e^{-120} underflows to 0 and a row of them is 0 / 0. One thread
/// per row, otherwise v1.
__global__ void softmax_without_max(const float* __restrict__ x, float* __restrict__ y,
                                    std::int64_t rows, std::int64_t cols) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float sum = 0.0f;
  for (std::int64_t k = 0; k < cols; ++k) sum += expf(x[r * cols + k]);
  for (std::int64_t j = 0; j < cols; ++j) y[r * cols + j] = expf(x[r * cols + j]) / sum;
}

TEST(SoftmaxOracle, RejectsAKernelThatForgetsTheMaximumWhereExpOverflowsOrUnderflows) {
  // The forgetful kernel is algebraically right, so it passes where every e^x stays a normal float
  // and fails exactly at the sweep's points where it overflows (U(±1000), near +90, a logit of 100)
  // or underflows (constant rows at −120); the real kernels pass every one of those cases.
  std::vector<std::string> rejected;
  for (const auto& shape : softmax_shapes()) {
    const SoftmaxCase k = make_softmax_case(shape, DType::f32);
    const std::int64_t R = k.shape.R, C = k.shape.C;
    DeviceBuffer<float> x(k.x), y(R * C);
    y.fill_nan();
    const auto cfg =
        llmlab::cuda::launch_config(dim3(static_cast<unsigned>((R + 31) / 32)), dim3(32));
    check(llmlab::cuda::launch(cfg, softmax_without_max, x.cget(), y.get(), R, C), "launch");
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    const auto expected = only(softmax_expected(k), {"y"});
    if (!all_agree("softmax without the max " + shape.label(), expected, {{"y", y.widened()}}))
      rejected.push_back(shape.label());
    EXPECT_TRUE(all_agree("softmax " + shape.label(), expected, run_forward<float>(k, 0)))
        << shape.label();
  }
  const std::vector<std::string> want = {"(5, 97) x~U(±1000)", "(9, 65) x~90+U(±8)",
                                         "(6, 200) x~U(±1), one x=100 per row",
                                         "(3, 129) x=-120 (constant rows)"};
  EXPECT_EQ(rejected, want);
}

// ---- the launchers' argument errors -------------------------------------------------------------

TEST(SoftmaxLauncher, RejectsBadArgumentsNamingThem) {
  DeviceBuffer<float> x(6), y(6), dx(6);
  expect_error([&] { llmlab::cuda::softmax_forward(x.get(), y.get(), -2, 3); },
               {"softmax_forward", "rows = -2"});
  expect_error([&] { llmlab::cuda::softmax_forward(x.get(), y.get(), 2, 0); },
               {"softmax_forward", "(2, 0)", "0 values"});
  expect_error([&] { llmlab::cuda::softmax_forward(x.get(), nullptr, 2, 3); },
               {"softmax_forward", "y is null", "(2, 3)"});
  expect_error([&] { llmlab::cuda::softmax_backward(x.get(), y.get(), nullptr, 2, 3); },
               {"softmax_backward", "dx is null", "(2, 3)"});
  const int too_high = llmlab::cuda::softmax_forward_versions + 1;
  expect_error([&] { llmlab::cuda::softmax_forward(x.get(), y.get(), 2, 3, too_high); },
               {"softmax_forward", "version = " + std::to_string(too_high)});
  EXPECT_EQ(llmlab::cuda::softmax_forward(static_cast<const float*>(nullptr), nullptr, 0, 3),
            cudaSuccess);
}

}  // namespace
