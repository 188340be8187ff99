/// \file
/// \brief vector_add, \f$ c_i = a_i + b_i \f$: the reference against PyTorch's golden files, every
/// kernel version (fp32 and bf16) against the reference with the ratio rule, a deliberately wrong
/// kernel that the oracle must reject, and the launcher's argument errors.
///
/// Built twice: against the emulated kernels (vector_add_test) and, on a GPU machine, against the
/// nvcc-built ones (vector_add_test_gpu, this file compiled by nvcc).

#include "llmlab/cuda/vector_add.cuh"

#include <gtest/gtest.h>

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
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/vector_add.hpp"
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
using llmlab::testing::rounded_to_bf16;
using llmlab::testing::tensor;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "vector_add";

/// Lengths no block, warp or float4 divides (plus 0 and 1), and one past 2^16 so v2's grid-stride
/// loop goes round several times.
constexpr std::int64_t kSizes[] = {0, 1, 17, 97, 129, 1000, 4097, 65537};

xt::xtensor<float, 1> load_input(const std::string& c, const std::string& input) {
  return llmlab::load_npy<float>(kGolden / (c + "_" + input + ".npy"));
}

// ---- the reference against PyTorch --------------------------------------------------------------

TEST(VectorAddReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const xt::xtensor<double, 1> a = xt::cast<double>(load_input(c, "a"));
    const xt::xtensor<double, 1> b = xt::cast<double>(load_input(c, "b"));
    const xt::xarray<double> golden = llmlab::load_npy<double>(kGolden / (c + "_out.npy"));
    const auto out = llmlab::ref::vector_add(a, b);
    // Both sides are one double addition of the same float inputs: only the rounding of that one
    // addition could differ, so 1e-10 relative (the oracle's double-vs-PyTorch rule) is generous.
    LLMLAB_EXPECT_AGREES(compare_golden("ref<double> vector_add " + c,
                                        std::span(golden.data(), golden.size()), widened(out),
                                        Rule::relative(1e-10)));
  }
}

TEST(VectorAddReference, InFloatMatchesPyTorchWithinOneUlp) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const xt::xtensor<float, 1> a = load_input(c, "a");
    const xt::xtensor<float, 1> b = load_input(c, "b");
    const xt::xarray<double> golden = llmlab::load_npy<double>(kGolden / (c + "_out.npy"));
    const auto out = llmlab::ref::vector_add(a, b);
    // The inputs are the golden float32 values exactly, so each output is the exact sum rounded
    // once: at most ½ ulp off. 1 ulp (K = 1: one addition per output) leaves a factor 2 of room.
    LLMLAB_EXPECT_AGREES(compare_golden("ref<float> vector_add " + c,
                                        std::span(golden.data(), golden.size()), widened(out),
                                        Rule::within_ulps(1, 1, DType::f32)));
  }
}

TEST(VectorAddReference, RejectsVectorsOfDifferentLengthsNamingBothShapes) {
  const xt::xtensor<double, 1> a = xt::zeros<double>({3});
  const xt::xtensor<double, 1> b = xt::zeros<double>({4});
  expect_error([&] { llmlab::ref::vector_add(a, b); }, {"vector_add", "a is (3)", "b is (4)"});
}

// ---- every kernel version against the reference -------------------------------------------------

/// One kernel version, 0 (the launcher's default) through vector_add_versions.
class VectorAddKernel : public ::testing::TestWithParam<int> {};

TEST_P(VectorAddKernel, Float32MatchesReferenceWithinTwiceFloat32Error) {
  const int version = GetParam();
  for (const std::int64_t n : kSizes) {
    for (const std::int64_t offset : {0, 1}) {  // 1: a, b, c not 16-byte aligned
      llmlab::Rng rng(1000 + static_cast<std::uint64_t>(n));
      const std::vector<float> a = rng.uniform_floats(static_cast<std::size_t>(n));
      const std::vector<float> b = rng.uniform_floats(static_cast<std::size_t>(n));
      const auto ref64 = llmlab::ref::vector_add(tensor<double>(a), tensor<double>(b));
      const auto ref32 = llmlab::ref::vector_add(tensor<float>(a), tensor<float>(b));

      DeviceBuffer<float> da(n, offset), db(n, offset), dc(n, offset);
      if (offset == 0) EXPECT_TRUE(is_wide_aligned(da.get())) << "cudaMalloc returned a pointer that is not 16-byte aligned";
      da.upload(a);
      db.upload(b);
      const cudaError_t err = llmlab::cuda::vector_add(da.get(), db.get(), dc.get(), n, version);
      ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
      check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      const std::vector<float> c = dc.download<float>();

      const std::string name = "vector_add v" + std::to_string(version) +
                               " f32 n=" + std::to_string(n) + " offset=" + std::to_string(offset);
      LLMLAB_EXPECT_AGREES(compare_ratio(name, widened(ref64), widened(ref32),
                                         llmlab::oracle::widen(c), Rule::forward(DType::f32)));
    }
  }
}

TEST_P(VectorAddKernel, Bfloat16MatchesReferenceWithinTwiceBfloat16Error) {
  const int version = GetParam();
  for (const std::int64_t n : kSizes) {
    for (const std::int64_t offset : {0, 1}) {  // 1: a, b, c not 4-byte aligned
      llmlab::Rng rng(2000 + static_cast<std::uint64_t>(n));
      // The kernel sees bf16 inputs, so both references start from the same rounded values.
      const std::vector<float> a = rounded_to_bf16(rng.uniform_floats(static_cast<std::size_t>(n)));
      const std::vector<float> b = rounded_to_bf16(rng.uniform_floats(static_cast<std::size_t>(n)));
      const auto ref64 = llmlab::ref::vector_add(tensor<double>(a), tensor<double>(b));
      // The baseline at the kernel's precision: the float sum rounded to bf16 once.
      std::vector<double> baseline =
          widened(llmlab::ref::vector_add(tensor<float>(a), tensor<float>(b)));
      for (double& x : baseline) x = llmlab::round_to_bf16(static_cast<float>(x));

      DeviceBuffer<__nv_bfloat16> da(n, offset), db(n, offset), dc(n, offset);
      da.upload(bf16_bits(a));
      db.upload(bf16_bits(b));
      const cudaError_t err = llmlab::cuda::vector_add(da.get(), db.get(), dc.get(), n, version);
      ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
      check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      const std::vector<std::uint16_t> c = dc.download<std::uint16_t>();

      const std::string name = "vector_add v" + std::to_string(version) +
                               " bf16 n=" + std::to_string(n) + " offset=" + std::to_string(offset);
      LLMLAB_EXPECT_AGREES(compare_ratio(name, widened(ref64), baseline,
                                         llmlab::oracle::widen_bf16(c),
                                         Rule::forward(DType::bf16)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, VectorAddKernel,
                         ::testing::Range(0, llmlab::cuda::vector_add_versions + 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Default")
                                                  : "V" + std::to_string(info.param);
                         });

// ---- the check can fail: a deliberately wrong kernel --------------------------------------------

/// WRONG on purpose: `i < n - 1` is an off-by-one bound, so the last element is never written.
__global__ void vector_add_skipping_last(const float* __restrict__ a, const float* __restrict__ b,
                                         float* __restrict__ c, std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n - 1) c[i] = a[i] + b[i];
}

TEST(VectorAddOracle, RejectsAKernelThatSkipsTheLastElement) {
  const std::int64_t n = 97;
  llmlab::Rng rng(3000);
  const std::vector<float> a = rng.uniform_floats(n);
  const std::vector<float> b = rng.uniform_floats(n);
  const auto ref64 = llmlab::ref::vector_add(tensor<double>(a), tensor<double>(b));
  const auto ref32 = llmlab::ref::vector_add(tensor<float>(a), tensor<float>(b));

  DeviceBuffer<float> da(n), db(n), dc(n);  // dc starts as zeros
  da.upload(a);
  db.upload(b);
  const cudaError_t err = llmlab::cuda::launch(
      llmlab::cuda::launch_config(dim3(llmlab::cuda::ceil_div(n, 32)), dim3(32)),
      vector_add_skipping_last, da.cget(), db.cget(), dc.get(), n);
  ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");

  const Report r =
      compare_ratio("vector_add skipping the last element", widened(ref64), widened(ref32),
                    llmlab::oracle::widen(dc.download<float>()), Rule::forward(DType::f32));
  EXPECT_FALSE(r.pass) << r.detail();
  EXPECT_EQ(r.first_bad, n - 1) << r.detail();
}

// ---- the launcher's argument errors -------------------------------------------------------------

TEST(VectorAddLauncher, RejectsANegativeLengthNamingIt) {
  DeviceBuffer<float> d(4);
  expect_error([&] { llmlab::cuda::vector_add(d.get(), d.get(), d.get(), -1); },
               {"vector_add", "n = -1"});
}

TEST(VectorAddLauncher, RejectsNullPointersNamingTheArgument) {
  DeviceBuffer<float> a(4), b(4), c(4);
  expect_error([&] { llmlab::cuda::vector_add(nullptr, b.get(), c.get(), 4); },
               {"vector_add", "a is null", "n = 4"});
  expect_error([&] { llmlab::cuda::vector_add(a.get(), nullptr, c.get(), 4); },
               {"vector_add", "b is null"});
  const __nv_bfloat16* none = nullptr;
  expect_error([&] { llmlab::cuda::vector_add(none, none, nullptr, 4); },
               {"vector_add", "a is null"});
}

TEST(VectorAddLauncher, RejectsAnUnknownVersionNamingIt) {
  DeviceBuffer<float> d(4);
  const int too_high = llmlab::cuda::vector_add_versions + 1;
  expect_error([&] { llmlab::cuda::vector_add(d.get(), d.get(), d.get(), 4, too_high); },
               {"vector_add", "version = " + std::to_string(too_high)});
  expect_error([&] { llmlab::cuda::vector_add(d.get(), d.get(), d.get(), 4, -1); },
               {"vector_add", "version = -1"});
}

TEST(VectorAddLauncher, AcceptsAnEmptyVectorWithoutLaunching) {
  EXPECT_EQ(llmlab::cuda::vector_add(static_cast<const float*>(nullptr), nullptr, nullptr, 0),
            cudaSuccess);
}

}  // namespace
