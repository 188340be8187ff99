/// \file
/// \brief Chapter 00's checks: vector_add and reduce_sum, every version, against the reference.
///
/// Each check runs a launcher (the solution's, or yours in lab/ when built with
/// scripts/lab.sh 00) over the component's sweep (awkward sizes and value edge cases, from
/// llmlab/testing/vector_add_case.hpp and reduce_sum_case.hpp — the same cases `llmlab verify`
/// runs) and compares its output with the reference computed in double, by the oracle's ratio
/// rule: the kernel's largest error may be at most twice the error of the same computation done
/// plainly in the kernel's precision (plus a couple of ulps), so an honest kernel passes and a
/// wrong one cannot hide. A failure prints both errors, the ratio and the first bad index (see
/// "What the checker's messages mean" in the handout).

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/reduce_sum.cuh"
#include "llmlab/cuda/vector_add.cuh"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/launch.hpp"
#include "llmlab/testing/reduce_sum_case.hpp"
#include "llmlab/testing/values.hpp"
#include "llmlab/testing/vector_add_case.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_all_agree;
using llmlab::testing::make_reduce_sum_case;
using llmlab::testing::make_vector_add_case;
using llmlab::testing::reduce_sum_expected;
using llmlab::testing::reduce_sum_shapes;
using llmlab::testing::ReduceSumCase;
using llmlab::testing::ReduceSumShape;
using llmlab::testing::run;
using llmlab::testing::vector_add_expected;
using llmlab::testing::vector_add_shapes;
using llmlab::testing::VectorAddCase;
using llmlab::testing::VectorAddShape;

// ---- names --------------------------------------------------------------------------------------

/// "v0 (best)" or "v2" — how reports name the version.
std::string version_name(int v) { return v == 0 ? "v0 (best)" : "v" + std::to_string(v); }

/// gtest parameter names: Best, V1, V2, ...
std::string param_name(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? "Best" : "V" + std::to_string(info.param);
}

// ---- vector_add ---------------------------------------------------------------------------------

/// vector_add's sweep (llmlab/testing/vector_add_case.hpp: lengths no multiple of a block or a
/// warp, 0 and 1, inputs ×1000 and ×1e-3, b ≈ −a), plus more than one grid-stride pass of
/// 1024 × 256 threads.
std::vector<VectorAddShape> vector_add_lengths() {
  std::vector<VectorAddShape> shapes = vector_add_shapes();
  shapes.push_back({1024 * 256 + 3, 1});
  return shapes;
}

/// Adds one case with `version` (E: float or __nv_bfloat16) and judges c by its rule; c starts as
/// NaN, so an element the kernel never writes cannot pass. FAILs (fatally) when the launch fails.
template <class E>
void expect_sums_agree(const VectorAddCase& k, int version) {
  const std::string name = "vector_add " + std::string(llmlab::dtype_name(k.dtype)) + " " +
                           k.shape.label() + " " + version_name(version);
  DeviceBuffer<E> a(device_values<E>(k.a)), b(device_values<E>(k.b)), c(k.shape.n);
  c.fill_nan();
  const std::string error = run(
      [&] { return llmlab::cuda::vector_add(a.cget(), b.cget(), c.get(), k.shape.n, version); });
  if (!error.empty()) {
    FAIL() << name << ": " << error;
  }
  expect_all_agree(name, vector_add_expected(k), {{"c", c.widened()}});
}

class VectorAdd : public ::testing::TestWithParam<int> {};

TEST_P(VectorAdd, Float32MatchesReferenceWithinTwiceFloat32Error) {
  for (const VectorAddShape& shape : vector_add_lengths()) {
    expect_sums_agree<float>(make_vector_add_case(shape, DType::f32), GetParam());
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_P(VectorAdd, Bf16SumIsFormedInFloatAndRoundedOnce) {
  // The rule's baseline for a bf16 output: the float sum rounded once to bf16 — what a correct
  // bf16 kernel writes.
  for (const VectorAddShape& shape : vector_add_lengths()) {
    expect_sums_agree<__nv_bfloat16>(make_vector_add_case(shape, DType::bf16), GetParam());
    if (::testing::Test::HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, VectorAdd,
                         ::testing::Range(0, llmlab::cuda::vector_add_versions + 1), param_name);

// ---- reduce_sum ---------------------------------------------------------------------------------

/// Sums one case with `version` (E: float or __nv_bfloat16 input) and judges the fp32 row sums by
/// their rule, whose floor is taken at \f$ \max_r \sum_c |x_{r,c}| \f$: any summation order's
/// rounding scales with the terms, not with a row sum that cancellation made small. out starts as
/// NaN, so a row the kernel never writes cannot pass (C = 0 must still write 0). FAILs (fatally)
/// when the launch fails. `what` names the case (default: its shape's label).
template <class E>
void expect_row_sums_agree(const ReduceSumCase& k, int version, std::string what = "") {
  const auto R = k.shape.rows, C = k.shape.cols;
  const std::string name = "reduce_sum " + std::string(llmlab::dtype_name(k.dtype)) + " " +
                           (what.empty() ? k.shape.label() : what) + " " + version_name(version);
  DeviceBuffer<E> x(device_values<E>(k.x));
  DeviceBuffer<float> out(R);
  out.fill_nan();
  const std::string error =
      run([&] { return llmlab::cuda::reduce_sum(x.cget(), out.get(), R, C, version); });
  if (!error.empty()) {
    FAIL() << name << ": " << error;
  }
  expect_all_agree(name, reduce_sum_expected(k), {{"out", out.widened()}});
}

class ReduceSum : public ::testing::TestWithParam<int> {};

/// reduce_sum's sweep (llmlab/testing/reduce_sum_case.hpp): one element; rows shorter than a warp,
/// between a warp and a block, longer than a block and one past a power of two; several rows (so a
/// wrong row offset shows); an empty row (C = 0, whose sum is 0); inputs ×1000 and ×1e-3, rows of
/// ±1 that cancel to ~0, and constant rows.
TEST_P(ReduceSum, Float32RowSumsMatchReferenceWithinTwiceFloat32Error) {
  for (const ReduceSumShape& shape : reduce_sum_shapes()) {
    expect_row_sums_agree<float>(make_reduce_sum_case(shape, DType::f32), GetParam());
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_P(ReduceSum, Bf16InputsAreSummedInFloat32) {
  for (const ReduceSumShape& shape : reduce_sum_shapes()) {
    expect_row_sums_agree<__nv_bfloat16>(make_reduce_sum_case(shape, DType::bf16), GetParam());
    if (::testing::Test::HasFatalFailure()) return;
  }
}

/// The handout's example: 1 followed by 256 copies of 2^-8. In float every partial sum is exact
/// and the total is 2; a bf16 accumulator rounds 1 + 2^-8 back to 1 (a tie, to even) every time.
TEST_P(ReduceSum, OnePlus256TimesTwoToTheMinus8IsTwoInFloat32) {
  std::vector<float> x(257, 1.0f / 256.0f);
  x[0] = 1.0f;
  const ReduceSumCase k{{1, 257, 1}, DType::bf16, x};  // every value bf16-exact
  expect_row_sums_agree<__nv_bfloat16>(k, GetParam(), "(1, 257) 1 then 256 x 2^-8");
}

/// The handout's worked example: the row (3, 1, 4, 1, 5, 9, 2, 6) sums to 31 — exactly, in any
/// order (small integers) — through your kernel, each version.
TEST_P(ReduceSum, HandoutRowOfEightSumsTo31) {
  DeviceBuffer<float> x(std::vector<float>{3, 1, 4, 1, 5, 9, 2, 6});
  DeviceBuffer<float> out(1);
  out.fill_nan();
  const std::string error =
      run([&] { return llmlab::cuda::reduce_sum(x.cget(), out.get(), 1, 8, GetParam()); });
  if (!error.empty()) FAIL() << "reduce_sum on the handout's row: " << error;
  EXPECT_EQ(out.widened().at(0), 31.0) << "reduce_sum of (3, 1, 4, 1, 5, 9, 2, 6), "
                                       << version_name(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Versions, ReduceSum,
                         ::testing::Range(0, llmlab::cuda::reduce_sum_versions + 1), param_name);

}  // namespace
