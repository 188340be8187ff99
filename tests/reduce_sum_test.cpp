/// \file
/// \brief reduce_sum, \f$ \mathrm{out}_r = \sum_c x_{r,c} \f$: the reference against PyTorch's
/// golden files, every kernel version (fp32 and bf16 input, fp32 output) against the reference with
/// the ratio rule, a deliberately wrong kernel that the oracle must reject, and the launcher's
/// argument errors.
///
/// Built twice: against the emulated kernels (reduce_sum_test) and, on a GPU machine, against the
/// nvcc-built ones (reduce_sum_test_gpu, this file compiled by nvcc).

#include "llmlab/cuda/reduce_sum.cuh"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/reduce_sum.hpp"
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
using llmlab::testing::is_wide_aligned;
using llmlab::testing::golden_cases;
using llmlab::testing::matrix;
using llmlab::testing::rounded_to_bf16;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "reduce_sum";

/// (R, C) shapes where C is no multiple of the block (256), the warp (32) or the vector width,
/// shorter and longer than one block's stride, with rows starting at every alignment.
constexpr std::pair<std::int64_t, std::int64_t> kShapes[] = {
    {1, 1}, {1, 17}, {3, 97}, {2, 129}, {4, 1000}, {1, 4097}, {7, 33}};

/// Kernel inputs: uniform in [-0.25, 1), some negative (a kernel that drops signs fails) but with a
/// positive mean, so no row sums to nearly zero. The ratio rule's floor is in ulps of max|out|,
/// while any summation order errs on the scale of the partial sums, i.e. of Σ|x|; for a row of
/// mean-zero data that cancels to a small sum, an equally good order then misses the budget by
/// chance (uniform [-1, 1) failed 1–4 % of random single rows for every version; [-0.25, 1) none in
/// 10,000 per shape, simulated on the host in each version's exact order).
std::vector<float> kernel_inputs(std::uint64_t seed, std::int64_t count) {
  return llmlab::Rng(seed).uniform_floats(static_cast<std::size_t>(count), -0.25, 1.0);
}

xt::xtensor<float, 2> load_x(const std::string& c) {
  return llmlab::load_npy<float>(kGolden / (c + "_x.npy"));
}

// ---- the reference against PyTorch --------------------------------------------------------------

TEST(ReduceSumReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const xt::xtensor<double, 2> x = xt::cast<double>(load_x(c));
    const xt::xarray<double> golden = llmlab::load_npy<double>(kGolden / (c + "_out.npy"));
    const auto out = llmlab::ref::reduce_sum(x);
    // Both sum the same float inputs in double and only the order differs: each order's error is
    // below K · 2^-53 · Σ|x| ≈ 4e-13 relative for K = 4097, so 1e-10 has room to spare.
    LLMLAB_EXPECT_AGREES(compare_golden("ref<double> reduce_sum " + c,
                                        std::span(golden.data(), golden.size()), widened(out),
                                        Rule::relative(1e-10)));
  }
}

TEST(ReduceSumReference, InFloatMatchesPyTorchWithinTwoUlpsTimesRootK) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const xt::xtensor<float, 2> x = load_x(c);
    const xt::xarray<double> golden = llmlab::load_npy<double>(kGolden / (c + "_out.npy"));
    const auto out = llmlab::ref::reduce_sum(x);
    // Each of the K − 1 float additions rounds by at most ½ ulp of its partial sum; the errors add
    // like a random walk (≈ ½ · √K ulps), and partial sums may grow past the final sum. 2 ulps · √K
    // covers both: the worst golden case (1 × 4097) measures 0.65 ulps · √K.
    const auto K = static_cast<std::int64_t>(x.shape(1));
    LLMLAB_EXPECT_AGREES(compare_golden("ref<float> reduce_sum " + c,
                                        std::span(golden.data(), golden.size()), widened(out),
                                        Rule::within_ulps(2, K, DType::f32)));
  }
}

TEST(ReduceSumReference, SumsOfEmptyRowsAreZero) {
  const xt::xtensor<double, 2> x = xt::zeros<double>({3, 0});
  const auto out = llmlab::ref::reduce_sum(x);
  ASSERT_EQ(out.size(), 3u);
  for (const double v : out) EXPECT_EQ(v, 0.0);
}

// ---- every kernel version against the reference -------------------------------------------------

/// One kernel version, 0 (the launcher's default) through reduce_sum_versions.
class ReduceSumKernel : public ::testing::TestWithParam<int> {};

TEST_P(ReduceSumKernel, Float32MatchesReferenceWithinTwiceFloat32Error) {
  const int version = GetParam();
  for (const auto& [R, C] : kShapes) {
    for (const std::int64_t offset : {0, 1}) {  // 1: x not 16-byte aligned
      const std::vector<float> x = kernel_inputs(4000 + static_cast<std::uint64_t>(R * C), R * C);
      const auto ref64 = llmlab::ref::reduce_sum(matrix<double>(x, R, C));
      const auto ref32 = llmlab::ref::reduce_sum(matrix<float>(x, R, C));

      DeviceBuffer<float> dx(R * C, offset), dout(R);
      if (offset == 0) EXPECT_TRUE(is_wide_aligned(dx.get())) << "cudaMalloc returned a pointer that is not 16-byte aligned";
      dx.upload(x);
      const cudaError_t err = llmlab::cuda::reduce_sum(dx.get(), dout.get(), R, C, version);
      ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
      check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");

      const std::string name = "reduce_sum v" + std::to_string(version) + " f32 (" +
                               std::to_string(R) + ", " + std::to_string(C) +
                               ") offset=" + std::to_string(offset);
      LLMLAB_EXPECT_AGREES(compare_ratio(name, widened(ref64), widened(ref32),
                                         llmlab::oracle::widen(dout.download<float>()),
                                         Rule::forward(DType::f32)));
    }
  }
}

TEST_P(ReduceSumKernel, Bfloat16InputMatchesReferenceWithinTwiceFloat32Error) {
  const int version = GetParam();
  for (const auto& [R, C] : kShapes) {
    for (const std::int64_t offset : {0, 1}) {  // 1: x not 4-byte aligned
      // The kernel sees bf16 inputs, so both references start from the same rounded values; the
      // sum is in float, so the float reference on those values is the baseline.
      const std::vector<float> x =
          rounded_to_bf16(kernel_inputs(5000 + static_cast<std::uint64_t>(R * C), R * C));
      const auto ref64 = llmlab::ref::reduce_sum(matrix<double>(x, R, C));
      const auto ref32 = llmlab::ref::reduce_sum(matrix<float>(x, R, C));

      DeviceBuffer<__nv_bfloat16> dx(R * C, offset);
      DeviceBuffer<float> dout(R);
      dx.upload(bf16_bits(x));
      const cudaError_t err = llmlab::cuda::reduce_sum(dx.get(), dout.get(), R, C, version);
      ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
      check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");

      const std::string name = "reduce_sum v" + std::to_string(version) + " bf16 (" +
                               std::to_string(R) + ", " + std::to_string(C) +
                               ") offset=" + std::to_string(offset);
      LLMLAB_EXPECT_AGREES(compare_ratio(name, widened(ref64), widened(ref32),
                                         llmlab::oracle::widen(dout.download<float>()),
                                         Rule::forward(DType::f32)));
    }
  }
}

TEST_P(ReduceSumKernel, WritesZerosForRowsOfNoColumns) {
  DeviceBuffer<float> dout(3);
  dout.fill_nan();  // NaN until written
  const cudaError_t err =
      llmlab::cuda::reduce_sum(static_cast<const float*>(nullptr), dout.get(), 3, 0, GetParam());
  ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  for (const float v : dout.download<float>()) EXPECT_EQ(v, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, ReduceSumKernel,
                         ::testing::Range(0, llmlab::cuda::reduce_sum_versions + 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Default")
                                                  : "V" + std::to_string(info.param);
                         });

// ---- the check can fail: a deliberately wrong kernel --------------------------------------------

/// WRONG on purpose: each row's loop stops at `cols - 1`, so the last column is never added.
/// Otherwise a fair v1 (strided slices, shared-memory tree).
__global__ void reduce_sum_skipping_last_column(const float* __restrict__ x,
                                                float* __restrict__ out, std::int64_t cols) {
  __shared__ float partial[64];
  const float* row = x + static_cast<std::int64_t>(blockIdx.x) * cols;
  const int t = static_cast<int>(threadIdx.x);
  float sum = 0.0f;
  for (std::int64_t c = t; c < cols - 1; c += 64) sum += row[c];
  partial[t] = sum;
  __syncthreads();
  for (int s = 32; s > 0; s /= 2) {
    if (t < s) partial[t] += partial[t + s];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = partial[0];
}

TEST(ReduceSumOracle, RejectsAKernelThatSkipsTheLastColumn) {
  const std::int64_t R = 3, C = 97;
  std::vector<float> x = kernel_inputs(6000, R * C);
  for (std::int64_t r = 0; r < R; ++r) x[r * C + C - 1] = 0.5f;  // a last column worth missing
  const auto ref64 = llmlab::ref::reduce_sum(matrix<double>(x, R, C));
  const auto ref32 = llmlab::ref::reduce_sum(matrix<float>(x, R, C));

  DeviceBuffer<float> dx(R * C), dout(R);
  dx.upload(x);
  const cudaError_t err =
      llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(static_cast<unsigned>(R)), dim3(64)),
                           reduce_sum_skipping_last_column, dx.cget(), dout.get(), C);
  ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");

  const Report r =
      compare_ratio("reduce_sum skipping the last column", widened(ref64), widened(ref32),
                    llmlab::oracle::widen(dout.download<float>()), Rule::forward(DType::f32));
  EXPECT_FALSE(r.pass) << r.detail();
  EXPECT_EQ(r.first_bad, 0) << r.detail();
}

// ---- the launcher's argument errors -------------------------------------------------------------

TEST(ReduceSumLauncher, RejectsNegativeSizesNamingThem) {
  DeviceBuffer<float> x(4), out(4);
  expect_error([&] { llmlab::cuda::reduce_sum(x.get(), out.get(), -2, 2); },
               {"reduce_sum", "rows = -2"});
  expect_error([&] { llmlab::cuda::reduce_sum(x.get(), out.get(), 2, -3); },
               {"reduce_sum", "cols = -3"});
}

TEST(ReduceSumLauncher, RejectsNullPointersNamingTheArgumentAndShape) {
  DeviceBuffer<float> x(6), out(2);
  expect_error(
      [&] { llmlab::cuda::reduce_sum(static_cast<const float*>(nullptr), out.get(), 2, 3); },
      {"reduce_sum", "x is null", "(2, 3)"});
  expect_error([&] { llmlab::cuda::reduce_sum(x.get(), nullptr, 2, 3); },
               {"reduce_sum", "out is null", "rows = 2"});
  expect_error(
      [&] {
        llmlab::cuda::reduce_sum(static_cast<const __nv_bfloat16*>(nullptr), out.get(), 2, 3);
      },
      {"reduce_sum", "x is null"});
}

TEST(ReduceSumLauncher, RejectsAnUnknownVersionNamingIt) {
  DeviceBuffer<float> x(6), out(2);
  const int too_high = llmlab::cuda::reduce_sum_versions + 1;
  expect_error([&] { llmlab::cuda::reduce_sum(x.get(), out.get(), 2, 3, too_high); },
               {"reduce_sum", "version = " + std::to_string(too_high)});
}

TEST(ReduceSumLauncher, AcceptsZeroRowsWithoutLaunching) {
  EXPECT_EQ(llmlab::cuda::reduce_sum(static_cast<const float*>(nullptr), nullptr, 0, 5),
            cudaSuccess);
}

}  // namespace
