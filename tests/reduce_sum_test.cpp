/// \file
/// \brief reduce_sum, \f$ \mathrm{out}_r = \sum_c x_{r,c} \f$: the reference against PyTorch's
/// golden files, every kernel version (fp32 and bf16 input, fp32 output; aligned and not) over
/// reduce_sum's sweep (llmlab/testing/reduce_sum_case.hpp) under its output's rule, a deliberately
/// wrong kernel that the oracle must reject, and the launcher's argument errors.
///
/// Built twice: against the emulated kernels (reduce_sum_test) and, on a GPU machine, against the
/// nvcc-built ones (reduce_sum_test_gpu, this file compiled by nvcc).

#include "llmlab/cuda/reduce_sum.cuh"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/reduce_sum.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/reduce_sum_case.hpp"
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
using llmlab::testing::is_wide_aligned;
using llmlab::testing::judge;
using llmlab::testing::make_reduce_sum_case;
using llmlab::testing::Outputs;
using llmlab::testing::reduce_sum_expected;
using llmlab::testing::reduce_sum_shapes;
using llmlab::testing::ReduceSumCase;
using llmlab::testing::ReduceSumShape;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "reduce_sum";

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

/// One case through kernel version v, x `offset` elements past a 16-byte boundary (1: no row
/// aligned for wide loads, so the scalar path runs); out NaN first, so an unwritten row (C = 0
/// included) cannot pass.
template <class E>
Outputs run_kernels(const ReduceSumCase& k, int v, std::int64_t offset) {
  const std::int64_t R = k.shape.rows, C = k.shape.cols;
  DeviceBuffer<E> x(device_values<E>(k.x), offset);
  DeviceBuffer<float> out(R);
  if (offset == 0) {
    EXPECT_TRUE(is_wide_aligned(x.get()))
        << "cudaMalloc returned a pointer that is not 16-byte aligned";
  }
  out.fill_nan();
  check(llmlab::cuda::reduce_sum(x.cget(), out.get(), R, C, v), "reduce_sum");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {{"out", out.widened()}};
}

std::string case_name(const ReduceSumCase& k, int v, std::int64_t offset) {
  return "reduce_sum v" + std::to_string(v) + " " + std::string(llmlab::dtype_name(k.dtype)) + " " +
         k.shape.label() + " offset=" + std::to_string(offset);
}

/// One kernel version, 0 (the launcher's default) through reduce_sum_versions.
class ReduceSumKernel : public ::testing::TestWithParam<int> {};

TEST_P(ReduceSumKernel, Float32MatchesReferenceWithinTwiceFloat32Error) {
  for (const ReduceSumShape& shape : reduce_sum_shapes()) {
    for (const std::int64_t offset : {0, 1}) {  // 1: x not 16-byte aligned
      const ReduceSumCase k = make_reduce_sum_case(shape, DType::f32);
      expect_all_agree(case_name(k, GetParam(), offset), reduce_sum_expected(k),
                       run_kernels<float>(k, GetParam(), offset));
    }
  }
}

TEST_P(ReduceSumKernel, Bfloat16InputMatchesReferenceWithinTwiceFloat32Error) {
  for (const ReduceSumShape& shape : reduce_sum_shapes()) {
    for (const std::int64_t offset : {0, 1}) {  // 1: x not 4-byte aligned
      // The kernel reads bf16 but sums in float: the float reference on the same rounded inputs is
      // the baseline (the rule's dtype is f32).
      const ReduceSumCase k = make_reduce_sum_case(shape, DType::bf16);
      expect_all_agree(case_name(k, GetParam(), offset), reduce_sum_expected(k),
                       run_kernels<__nv_bfloat16>(k, GetParam(), offset));
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
  ReduceSumCase k = make_reduce_sum_case({3, 97, 1}, DType::f32);
  const std::int64_t R = k.shape.rows, C = k.shape.cols;
  for (std::int64_t r = 0; r < R; ++r) k.x[r * C + C - 1] = 0.5f;  // a last column worth missing

  DeviceBuffer<float> x(k.x), out(R);
  check(llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(static_cast<unsigned>(R)), dim3(64)),
                             reduce_sum_skipping_last_column, x.cget(), out.get(), C),
        "launch");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const auto expected = reduce_sum_expected(k);
  const Outputs wrong = {{"out", out.widened()}};
  EXPECT_FALSE(all_agree("reduce_sum skipping the last column", expected, wrong));
  const auto reports = judge("reduce_sum skipping the last column", expected, wrong);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].first_bad, 0) << reports[0].detail();
  // …and the same case passes through the real kernel: the check is not simply failing everything.
  EXPECT_TRUE(all_agree("reduce_sum", expected, run_kernels<float>(k, 0, 0)));
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
