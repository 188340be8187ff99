/// \file
/// \brief Chapter 02's checks: the linear layer \f$ y = x W^\top + b \f$, every version, fp32 and
/// bf16, against the reference.
///
/// Each check runs `llmlab::cuda::matmul_forward` (the solution's, or yours in lab/ when built with
/// scripts/lab.sh 02) over matmul's sweep (llmlab/testing/matmul_case.hpp) — no size a
/// multiple of a tile, so every kernel meets partial tiles at all three edges; N = 1, out = 1,
/// in = 0 (y = b); x and W ×1000 and ×1e-3 — and compares y with the reference computed in double
/// by the oracle's ratio rule: your largest error may be at most twice the error of the plain
/// float triple loop (plus 2 ulps), so an honest kernel passes and a missing product cannot hide.
/// A failure prints both errors, the ratio and the first bad (n, o) (see "What the checker's
/// messages mean" in the handout).

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/matmul.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/launch.hpp"
#include "llmlab/testing/matmul_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::make_matmul_case;
using llmlab::testing::matmul_expected;
using llmlab::testing::matmul_shapes;
using llmlab::testing::MatmulCase;
using llmlab::testing::MatmulShape;
using llmlab::testing::run;

/// "v0 (best)" or "v3" — how reports name the version.
std::string version_name(int v) { return v == 0 ? "v0 (best)" : "v" + std::to_string(v); }

/// Computes y = x Wᵀ + b (or x Wᵀ without bias) with `version` in element type T (float or
/// __nv_bfloat16) on matmul's case for `shape`, and judges it under y's rule (the bf16 case's
/// inputs are bf16 values already: the references see what the kernel sees).
template <class T>
void expect_linear_agrees(const MatmulShape& shape, int version, bool with_bias) {
  constexpr DType dtype = std::is_same_v<T, float> ? DType::f32 : DType::bf16;
  const MatmulCase k = make_matmul_case(shape, dtype);
  const auto& [N, in, out, scale] = k.shape;
  DeviceBuffer<T> x(device_values<T>(k.x)), w(device_values<T>(k.w)), b(device_values<T>(k.b)),
      y(N * out);
  y.fill_nan();  // an element the kernel never writes stays NaN
  const std::string name = "matmul_forward " + std::string(llmlab::dtype_name(dtype)) + " " +
                           shape.label() + " " + version_name(version) +
                           (with_bias ? "" : " (no bias)");
  const std::string error = run([&] {
    return llmlab::cuda::matmul_forward(x.cget(), w.cget(), with_bias ? b.cget() : nullptr, y.get(),
                                        N, in, out, version);
  });
  if (!error.empty()) FAIL() << name << ": " << error;

  for (llmlab::oracle::Report& r :
       llmlab::testing::judge(name, llmlab::testing::only(matmul_expected(k, with_bias), {"y"}),
                              {{"y", y.widened()}})) {
    r.shape = {N, out};  // the first bad index prints as [n, o]
    LLMLAB_EXPECT_AGREES(r);
  }
}

class Matmul : public ::testing::TestWithParam<int> {};

TEST_P(Matmul, Float32MatchesReferenceWithinTwiceFloat32Error) {
  for (const MatmulShape& s : matmul_shapes()) {
    expect_linear_agrees<float>(s, GetParam(), true);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_P(Matmul, Bf16IsSummedInFloat32AndRoundedOnce) {
  for (const MatmulShape& s : matmul_shapes()) {
    expect_linear_agrees<__nv_bfloat16>(s, GetParam(), true);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_P(Matmul, WithoutBiasIsJustXTimesWTransposed) {
  expect_linear_agrees<float>({33, 65, 97}, GetParam(), false);
}

/// The handout's worked example: x = (1 2), W = ((3 4) (5 6)), b = (0.5 −1) give y = (11.5 16) —
/// exactly (every product and sum is a small multiple of 0.5) — through your kernel.
TEST_P(Matmul, HandoutWorkedExample) {
  DeviceBuffer<float> x(std::vector<float>{1, 2}), w(std::vector<float>{3, 4, 5, 6}),
      b(std::vector<float>{0.5f, -1.0f}), y(2);
  y.fill_nan();
  const std::string error = run([&] {
    return llmlab::cuda::matmul_forward(x.cget(), w.cget(), b.cget(), y.get(), 1, 2, 2, GetParam());
  });
  if (!error.empty()) FAIL() << "matmul_forward on the handout's example: " << error;
  const std::vector<double> got = y.widened();
  EXPECT_EQ(got.at(0), 11.5) << "y[0, 0] = 1·3 + 2·4 + 0.5, " << version_name(GetParam());
  EXPECT_EQ(got.at(1), 16.0) << "y[0, 1] = 1·5 + 2·6 − 1, " << version_name(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Versions, Matmul, ::testing::Range(0, llmlab::cuda::matmul_versions + 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Best")
                                                  : "V" + std::to_string(info.param);
                         });

}  // namespace
