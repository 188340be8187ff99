/// \file
/// \brief softmax over the last axis, \f$ y_j = e^{x_j - m} / \sum_k e^{x_k - m} \f$, and its
/// backward \f$ \mathrm{dx}_i \mathrel{+}= y_i (\mathrm{dy}_i - \sum_j \mathrm{dy}_j y_j) \f$: the
/// reference against PyTorch's golden files, every kernel version in fp32 and bf16 with the ratio
/// rule (k = 2 forward, k = 3 backward), a kernel that forgets to subtract the maximum rejected on
/// large logits, and the launchers' errors.
///
/// Built twice: against the emulated kernels (softmax_test) and, on a GPU machine, against the
/// nvcc-built ones (softmax_test_gpu).

#include "llmlab/cuda/softmax.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>
#include <xtensor/xarray.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/softmax.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_golden;
using llmlab::oracle::compare_ratio;
using llmlab::oracle::Report;
using llmlab::oracle::Rule;
using llmlab::testing::bf16_bits;
using llmlab::testing::check;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::rounded_to_bf16;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "softmax";

/// A kernel case: R rows of C logits uniform in [offset − scale, offset + scale).
struct Case {
  std::int64_t R, C;
  double offset, scale;
};

/// C = 1, shorter and longer than a warp, no multiple of 32, GPT-2's 768; R not a multiple of
/// the 8 rows of a block; logits near 90, where e^x overflows float32 unless the max is
/// subtracted; a wide spread (±30), where most terms underflow.
constexpr Case kCases[] = {{1, 1, 0, 1},   {3, 17, 0, 4},  {5, 97, 0, 2},  {9, 33, 0, 1},
                           {2, 768, 0, 3}, {4, 65, 90, 8}, {3, 129, 0, 30}};

std::string case_name(const char* what, int version, const char* dtype, const Case& c) {
  return std::string(what) + " v" + std::to_string(version) + " " + dtype + " " +
         llmlab::shape_str({c.R, c.C});
}

template <class T>
xt::xarray<T> matrix_of(const std::vector<float>& v, std::int64_t R, std::int64_t C) {
  xt::xarray<T> a = xt::empty<T>({static_cast<std::size_t>(R), static_cast<std::size_t>(C)});
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

std::vector<float> logits(std::uint64_t seed, const Case& c) {
  return llmlab::Rng(seed).uniform_floats(static_cast<std::size_t>(c.R * c.C), c.offset - c.scale,
                                          c.offset + c.scale);
}

/// v widened, each element first rounded to bf16 when `to_bf16` (the baseline of a bf16 output).
std::vector<double> baseline(const xt::xarray<float>& v, bool to_bf16) {
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    out[i] = to_bf16 ? llmlab::round_to_bf16(v.flat(i)) : v.flat(i);
  return out;
}

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

/// Host values as the device element type: floats, or their bf16 bits.
template <class Dev>
auto device_values(const std::vector<float>& v) {
  if constexpr (std::is_same_v<Dev, __nv_bfloat16>)
    return bf16_bits(v);
  else
    return v;
}

/// A device buffer's values widened to double.
template <class Dev>
std::vector<double> widened_from(const DeviceBuffer<Dev>& d) {
  if constexpr (std::is_same_v<Dev, __nv_bfloat16>)
    return llmlab::oracle::widen_bf16(d.template download<std::uint16_t>());
  else
    return llmlab::oracle::widen(d.template download<float>());
}

template <class Dev>
void check_forward(int version) {
  constexpr bool bf16 = std::is_same_v<Dev, __nv_bfloat16>;
  const char* dtype = bf16 ? "bf16" : "f32";
  for (const Case& c : kCases) {
    std::vector<float> x = logits(12000 + static_cast<std::uint64_t>(c.R * c.C), c);
    if (bf16) x = rounded_to_bf16(x);  // both references start from the kernel's inputs
    const auto ref64 = llmlab::ref::softmax_forward(matrix_of<double>(x, c.R, c.C));
    const auto ref32 = llmlab::ref::softmax_forward(matrix_of<float>(x, c.R, c.C));

    DeviceBuffer<Dev> dx(device_values<Dev>(x)), dy(c.R * c.C);
    dy.fill_nan();
    const cudaError_t err = llmlab::cuda::softmax_forward(dx.get(), dy.get(), c.R, c.C, version);
    ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    Report r = compare_ratio(case_name("softmax_forward", version, dtype, c), widened(ref64),
                             baseline(ref32, bf16), widened_from(dy),
                             Rule::forward(bf16 ? DType::bf16 : DType::f32));
    r.shape = {c.R, c.C};
    LLMLAB_EXPECT_AGREES(r);
  }
}

class SoftmaxForwardKernel : public ::testing::TestWithParam<int> {};

TEST_P(SoftmaxForwardKernel, Float32MatchesReferenceWithinTwiceFloat32Error) {
  check_forward<float>(GetParam());
}

TEST_P(SoftmaxForwardKernel, Bfloat16MatchesReferenceWithinTwiceBfloat16Error) {
  check_forward<__nv_bfloat16>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, SoftmaxForwardKernel,
                         ::testing::Range(0, llmlab::cuda::softmax_forward_versions + 1),
                         version_name);

template <class Dev>
void check_backward(int version) {
  constexpr bool bf16 = std::is_same_v<Dev, __nv_bfloat16>;
  const char* dtype = bf16 ? "bf16" : "f32";
  for (const Case& c : kCases) {
    const auto seed = static_cast<std::uint64_t>(13000 + c.R * c.C);
    // y: a real softmax output (from the double reference, stored in the kernel's dtype); dy and
    // the gradient gathered so far, dx0, uniform in [-1, 1).
    const auto y64 = llmlab::ref::softmax_forward(matrix_of<double>(logits(seed, c), c.R, c.C));
    std::vector<float> y(y64.begin(), y64.end());
    std::vector<float> dy = llmlab::Rng(seed + 1).uniform_floats(y.size());
    std::vector<float> dx0 = llmlab::Rng(seed + 2).uniform_floats(y.size());
    if (bf16) {
      y = rounded_to_bf16(y);
      dy = rounded_to_bf16(dy);
      dx0 = rounded_to_bf16(dx0);
    }
    auto ref64 = matrix_of<double>(dx0, c.R, c.C);
    auto ref32 = matrix_of<float>(dx0, c.R, c.C);
    llmlab::ref::softmax_backward(matrix_of<double>(dy, c.R, c.C), matrix_of<double>(y, c.R, c.C),
                                  ref64);
    llmlab::ref::softmax_backward(matrix_of<float>(dy, c.R, c.C), matrix_of<float>(y, c.R, c.C),
                                  ref32);

    DeviceBuffer<Dev> d_dy(device_values<Dev>(dy)), d_y(device_values<Dev>(y)),
        d_dx(device_values<Dev>(dx0));
    const cudaError_t err =
        llmlab::cuda::softmax_backward(d_dy.get(), d_y.get(), d_dx.get(), c.R, c.C, version);
    ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    Report r = compare_ratio(case_name("softmax_backward", version, dtype, c), widened(ref64),
                             baseline(ref32, bf16), widened_from(d_dx),
                             Rule::gradient(bf16 ? DType::bf16 : DType::f32));
    r.shape = {c.R, c.C};
    LLMLAB_EXPECT_AGREES(r);
  }
}

class SoftmaxBackwardKernel : public ::testing::TestWithParam<int> {};

TEST_P(SoftmaxBackwardKernel, Float32MatchesReferenceWithinThriceFloat32Error) {
  check_backward<float>(GetParam());
}

TEST_P(SoftmaxBackwardKernel, Bfloat16MatchesReferenceWithinThriceBfloat16Error) {
  check_backward<__nv_bfloat16>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, SoftmaxBackwardKernel,
                         ::testing::Range(0, llmlab::cuda::softmax_backward_versions + 1),
                         version_name);

// ---- the check can fail: a softmax that forgets the maximum -------------------------------------

/// WRONG on purpose: \f$ e^{x_j} / \sum_k e^{x_k} \f$ without subtracting the row maximum —
/// algebraically the same, but e^{90} overflows float32 (max ≈ 3.4e38 ≈ e^{88.7}) and the row
/// becomes inf / inf = NaN. One thread per row, otherwise v1.
__global__ void softmax_without_max(const float* __restrict__ x, float* __restrict__ y,
                                    std::int64_t rows, std::int64_t cols) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float sum = 0.0f;
  for (std::int64_t k = 0; k < cols; ++k) sum += expf(x[r * cols + k]);
  for (std::int64_t j = 0; j < cols; ++j) y[r * cols + j] = expf(x[r * cols + j]) / sum;
}

TEST(SoftmaxOracle, RejectsAKernelThatForgetsToSubtractTheMaximum) {
  const Case c{4, 65, 90, 8};  // logits in [82, 98)
  const std::vector<float> x = logits(12900, c);
  const auto ref64 = llmlab::ref::softmax_forward(matrix_of<double>(x, c.R, c.C));
  const auto ref32 = llmlab::ref::softmax_forward(matrix_of<float>(x, c.R, c.C));
  DeviceBuffer<float> dx(x), dy(c.R * c.C);
  const cudaError_t err = llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(1), dim3(32)),
                                               softmax_without_max, dx.cget(), dy.get(), c.R, c.C);
  ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const Report r = compare_ratio("softmax without the max", widened(ref64), baseline(ref32, false),
                                 llmlab::oracle::widen(dy.download()), Rule::forward(DType::f32));
  EXPECT_FALSE(r.pass) << r.detail();
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
