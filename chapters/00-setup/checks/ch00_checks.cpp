/// \file
/// \brief Chapter 00's checks: vector_add and reduce_sum, every version, against the reference.
///
/// Each check runs a launcher (the solution's, or yours in lab/ when built with
/// -DLLMLAB_CHECK_LAB=ON) on awkward sizes and compares its output with the reference computed in
/// double, by the oracle's ratio rule: the kernel's largest error may be at most twice the error of
/// the same computation done plainly in the kernel's precision (plus a couple of ulps), so an
/// honest kernel passes and a wrong one cannot hide. A failure prints both errors, the ratio and
/// the first bad index (see "What the checker's messages mean" in the handout).

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/reduce_sum.cuh"
#include "llmlab/cuda/vector_add.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/reduce_sum.hpp"
#include "llmlab/ref/vector_add.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/launch.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::oracle::Rule;
using llmlab::testing::bf16_bits;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::rounded_to_bf16;
using llmlab::testing::run;
using llmlab::testing::tensor;
using llmlab::testing::widened;

// ---- names --------------------------------------------------------------------------------------

/// "v0 (best)" or "v2" — how reports name the version.
std::string version_name(int v) { return v == 0 ? "v0 (best)" : "v" + std::to_string(v); }

/// gtest parameter names: Best, V1, V2, ...
std::string param_name(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? "Best" : "V" + std::to_string(info.param);
}

// ---- vector_add ---------------------------------------------------------------------------------

/// Lengths that are no multiple of a block (256) or a warp: 1, primes, one past a power of two,
/// and more than one grid-stride pass of 1024 × 256 threads.
constexpr std::int64_t kLengths[] = {1, 17, 97, 129, 1000, 4097, 65537, 1024 * 256 + 3};

class VectorAdd : public ::testing::TestWithParam<int> {};

TEST_P(VectorAdd, Float32MatchesReferenceWithinTwiceFloat32Error) {
  const int version = GetParam();
  for (const std::int64_t n : kLengths) {
    llmlab::Rng rng(1000 + static_cast<std::uint64_t>(n));
    const std::vector<float> a = rng.uniform_floats(static_cast<std::size_t>(n));
    const std::vector<float> b = rng.uniform_floats(static_cast<std::size_t>(n));
    const std::array<std::size_t, 1> s{a.size()};
    const auto ref64 = llmlab::ref::vector_add<double>(tensor<double>(a, s), tensor<double>(b, s));
    const auto ref32 = llmlab::ref::vector_add<float>(tensor<float>(a, s), tensor<float>(b, s));

    DeviceBuffer<float> da(a), db(b), dc(n);
    dc.fill_nan();  // an element the kernel never writes stays NaN
    const std::string error =
        run([&] { return llmlab::cuda::vector_add(da.get(), db.get(), dc.get(), n, version); });
    if (!error.empty()) {
      FAIL() << "vector_add f32 n=" << n << " " << version_name(version) << ": " << error;
    }
    LLMLAB_EXPECT_AGREES(llmlab::oracle::compare_ratio(
        "vector_add f32 n=" + std::to_string(n) + " " + version_name(version), widened(ref64),
        widened(ref32), llmlab::oracle::widen(dc.download()), Rule::forward(DType::f32)));
  }
}

TEST_P(VectorAdd, Bf16SumIsFormedInFloatAndRoundedOnce) {
  const int version = GetParam();
  for (const std::int64_t n : kLengths) {
    llmlab::Rng rng(2000 + static_cast<std::uint64_t>(n));
    const std::vector<float> a = rounded_to_bf16(rng.uniform_floats(static_cast<std::size_t>(n)));
    const std::vector<float> b = rounded_to_bf16(rng.uniform_floats(static_cast<std::size_t>(n)));
    const std::array<std::size_t, 1> s{a.size()};
    const auto ref64 = llmlab::ref::vector_add<double>(tensor<double>(a, s), tensor<double>(b, s));
    // The baseline: the sum in float, rounded once to bf16 — what a correct bf16 kernel writes.
    std::vector<double> ref32 =
        widened(llmlab::ref::vector_add<float>(tensor<float>(a, s), tensor<float>(b, s)));
    for (double& v : ref32) v = llmlab::round_to_bf16(static_cast<float>(v));

    DeviceBuffer<__nv_bfloat16> da(bf16_bits(a)), db(bf16_bits(b)), dc(n);
    dc.fill_nan();  // an element the kernel never writes stays NaN
    const std::string error =
        run([&] { return llmlab::cuda::vector_add(da.get(), db.get(), dc.get(), n, version); });
    if (!error.empty()) {
      FAIL() << "vector_add bf16 n=" << n << " " << version_name(version) << ": " << error;
    }
    LLMLAB_EXPECT_AGREES(llmlab::oracle::compare_ratio(
        "vector_add bf16 n=" + std::to_string(n) + " " + version_name(version), widened(ref64),
        ref32, llmlab::oracle::widen_bf16(dc.download<std::uint16_t>()),
        Rule::forward(DType::bf16)));
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, VectorAdd,
                         ::testing::Range(0, llmlab::cuda::vector_add_versions + 1), param_name);

// ---- reduce_sum ---------------------------------------------------------------------------------

struct Shape {
  std::int64_t R, C;
};

/// One element; rows shorter than a warp, between a warp and a block, longer than a block and
/// one past a power of two; several rows (so a wrong row offset shows); and an empty row (C = 0,
/// whose sum is 0).
constexpr Shape kShapes[] = {{1, 1},    {1, 17},   {3, 97}, {2, 129},
                             {4, 1000}, {1, 4097}, {7, 33}, {3, 0}};

/// Sums x (R, C) with `version` and judges it by the ratio rule in fp32 (both dtypes write fp32).
/// x_device (R·C) is what the kernel reads: x itself (float), or x's bf16 bits (std::uint16_t).
template <class Elem>
void expect_row_sums_agree(const char* dtype, const std::vector<float>& x,
                           const std::vector<Elem>& x_device, Shape shape, int version) {
  using Device = std::conditional_t<std::is_same_v<Elem, float>, float, __nv_bfloat16>;
  const auto [R, C] = shape;
  const std::array<std::size_t, 2> s{static_cast<std::size_t>(R), static_cast<std::size_t>(C)};
  const auto ref64 = llmlab::ref::reduce_sum<double>(tensor<double>(x, s));
  const auto ref32 = llmlab::ref::reduce_sum<float>(tensor<float>(x, s));
  const std::string name = std::string("reduce_sum ") + dtype + " " + llmlab::shape_str({R, C}) +
                           " " + version_name(version);

  DeviceBuffer<Device> dx(x_device);
  DeviceBuffer<float> dout(R);
  dout.fill_nan();  // a row the kernel never writes stays NaN (C = 0 must still write 0)
  const std::string error =
      run([&] { return llmlab::cuda::reduce_sum(dx.get(), dout.get(), R, C, version); });
  if (!error.empty()) {
    FAIL() << name << ": " << error;
  }
  // The floor's ulps are taken at max_r sum_c |x_rc|: any summation order's rounding scales with
  // the terms, not with a row sum that cancellation made small.
  LLMLAB_EXPECT_AGREES(llmlab::oracle::compare_ratio(
      name, widened(ref64), widened(ref32), llmlab::oracle::widen(dout.download()),
      Rule::forward(DType::f32).at_magnitude(llmlab::testing::max_row_abs_sum(x, R, C))));
}

class ReduceSum : public ::testing::TestWithParam<int> {};

TEST_P(ReduceSum, Float32RowSumsMatchReferenceWithinTwiceFloat32Error) {
  for (const Shape shape : kShapes) {
    llmlab::Rng rng(3000 + static_cast<std::uint64_t>(shape.R * 10007 + shape.C));
    const std::vector<float> x = rng.uniform_floats(static_cast<std::size_t>(shape.R * shape.C));
    expect_row_sums_agree("f32", x, x, shape, GetParam());
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_P(ReduceSum, Bf16InputsAreSummedInFloat32) {
  for (const Shape shape : kShapes) {
    llmlab::Rng rng(4000 + static_cast<std::uint64_t>(shape.R * 10007 + shape.C));
    const std::vector<float> x =
        rounded_to_bf16(rng.uniform_floats(static_cast<std::size_t>(shape.R * shape.C)));
    expect_row_sums_agree("bf16", x, bf16_bits(x), shape, GetParam());
    if (::testing::Test::HasFatalFailure()) return;
  }
}

/// The handout's example: 1 followed by 256 copies of 2^-8. In float every partial sum is exact
/// and the total is 2; a bf16 accumulator rounds 1 + 2^-8 back to 1 (a tie, to even) every time.
TEST_P(ReduceSum, OnePlus256TimesTwoToTheMinus8IsTwoInFloat32) {
  std::vector<float> x(257, 1.0f / 256.0f);
  x[0] = 1.0f;
  expect_row_sums_agree("bf16", x, bf16_bits(x), Shape{1, 257}, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Versions, ReduceSum,
                         ::testing::Range(0, llmlab::cuda::reduce_sum_versions + 1), param_name);

}  // namespace
