/// \file
/// \brief vector_add, \f$ c_i = a_i + b_i \f$: the reference against PyTorch's golden files, every
/// kernel version (fp32 and bf16, aligned and not) over vector_add's sweep
/// (llmlab/testing/vector_add_case.hpp) under its output's rule, a deliberately wrong kernel that
/// the oracle must reject, and the launcher's argument errors.
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
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/vector_add.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/values.hpp"
#include "llmlab/testing/vector_add_case.hpp"

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
using llmlab::testing::make_vector_add_case;
using llmlab::testing::Outputs;
using llmlab::testing::vector_add_expected;
using llmlab::testing::vector_add_shapes;
using llmlab::testing::VectorAddCase;
using llmlab::testing::VectorAddShape;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "vector_add";

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

/// One case through kernel version v, its pointers `offset` elements past a 16-byte boundary (1: no
/// pointer aligned for wide loads, so the scalar path runs); c NaN first, so an unwritten element
/// cannot pass.
template <class E>
Outputs run_kernels(const VectorAddCase& k, int v, std::int64_t offset) {
  const std::int64_t n = k.shape.n;
  DeviceBuffer<E> a(device_values<E>(k.a), offset), b(device_values<E>(k.b), offset), c(n, offset);
  if (offset == 0) {
    EXPECT_TRUE(is_wide_aligned(a.get()))
        << "cudaMalloc returned a pointer that is not 16-byte aligned";
  }
  c.fill_nan();
  check(llmlab::cuda::vector_add(a.cget(), b.cget(), c.get(), n, v), "vector_add");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {{"c", c.widened()}};
}

std::string case_name(const VectorAddCase& k, int v, std::int64_t offset) {
  return "vector_add v" + std::to_string(v) + " " + std::string(llmlab::dtype_name(k.dtype)) + " " +
         k.shape.label() + " offset=" + std::to_string(offset);
}

/// One kernel version, 0 (the launcher's default) through vector_add_versions.
class VectorAddKernel : public ::testing::TestWithParam<int> {};

TEST_P(VectorAddKernel, Float32MatchesReferenceWithinTwiceFloat32Error) {
  // vector_add's sweep, plus one length past one pass of v2's capped grid (1024 blocks × 256
  // threads), as chapter 00's check has.
  std::vector<VectorAddShape> shapes = vector_add_shapes();
  shapes.push_back({1024 * 256 + 3, 1});
  for (const VectorAddShape& shape : shapes) {
    for (const std::int64_t offset : {0, 1}) {  // 1: a, b, c not 16-byte aligned
      const VectorAddCase k = make_vector_add_case(shape, DType::f32);
      expect_all_agree(case_name(k, GetParam(), offset), vector_add_expected(k),
                       run_kernels<float>(k, GetParam(), offset));
    }
  }
}

TEST_P(VectorAddKernel, Bfloat16MatchesReferenceWithinTwiceBfloat16Error) {
  for (const VectorAddShape& shape : vector_add_shapes()) {
    for (const std::int64_t offset : {0, 1}) {  // 1: a, b, c not 4-byte aligned
      const VectorAddCase k = make_vector_add_case(shape, DType::bf16);
      expect_all_agree(case_name(k, GetParam(), offset), vector_add_expected(k),
                       run_kernels<__nv_bfloat16>(k, GetParam(), offset));
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
  const VectorAddCase k = make_vector_add_case({97, 1}, DType::f32);
  const std::int64_t n = k.shape.n;
  DeviceBuffer<float> a(k.a), b(k.b), c(n);  // c starts as zeros
  check(llmlab::cuda::launch(
            llmlab::cuda::launch_config(dim3(llmlab::cuda::ceil_div(n, 32)), dim3(32)),
            vector_add_skipping_last, a.cget(), b.cget(), c.get(), n),
        "launch");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const auto expected = vector_add_expected(k);
  const Outputs wrong = {{"c", c.widened()}};
  EXPECT_FALSE(all_agree("vector_add skipping the last element", expected, wrong));
  const auto reports = judge("vector_add skipping the last element", expected, wrong);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].first_bad, n - 1) << reports[0].detail();
  // …and the same case passes through the real kernel: the check is not simply failing everything.
  EXPECT_TRUE(all_agree("vector_add", expected, run_kernels<float>(k, 0, 0)));
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
