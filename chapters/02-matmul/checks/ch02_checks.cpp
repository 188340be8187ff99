/// \file
/// \brief Chapter 02's checks: the linear layer \f$ y = x W^\top + b \f$, every version, fp32 and
/// bf16, against the reference.
///
/// Each check runs `llmlab::cuda::matmul_forward` (the solution's, or yours in lab/ when built with
/// -DLLMLAB_CHECK_LAB=ON) on awkward shapes — no size a multiple of a tile, so every kernel meets
/// partial tiles at all three edges — and compares y with the reference computed in double by the
/// oracle's ratio rule: your largest error may be at most twice the error of the plain float
/// triple loop (plus 2 ulps), so an honest kernel passes and a missing product cannot hide. A
/// failure prints both errors, the ratio and the first bad (n, o) (see "What the checker's messages
/// mean" in the handout).

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/matmul.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/matmul.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/launch.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::oracle::Rule;
using llmlab::testing::bf16_bits;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::matrix;
using llmlab::testing::rounded_to_bf16;
using llmlab::testing::run;
using llmlab::testing::tensor;
using llmlab::testing::widened;

/// "v0 (best)" or "v3" — how reports name the version.
std::string version_name(int v) { return v == 0 ? "v0 (best)" : "v" + std::to_string(v); }

struct Shape {
  std::int64_t N, in, out;
};

/// One of each: a single product; in = 17 (less than a tile) and 97 (three tiles and one element
/// of a fourth); out = 1 (one column); GPT-2's in = 768 (24 whole tiles — the partial ones are in
/// N and out); sizes just past 32 and 64 in every dimension.
constexpr Shape kShapes[] = {{1, 1, 1},    {5, 17, 33},  {17, 97, 1},
                             {3, 768, 65}, {33, 65, 97}, {65, 129, 17}};

/// Computes y = x Wᵀ + b (or x Wᵀ without bias) with `version` in element type T (float or
/// __nv_bfloat16) and judges it by the ratio rule against the reference in double.
template <class T>
void expect_linear_agrees(const Shape& s, int version, bool with_bias) {
  constexpr bool f32 = std::is_same_v<T, float>;
  llmlab::Rng rng(2000 + static_cast<std::uint64_t>(s.N * 1009 + s.in * 31 + s.out));
  auto draw = [&](std::int64_t n) {
    std::vector<float> v = rng.uniform_floats(static_cast<std::size_t>(n));
    return f32 ? v : rounded_to_bf16(v);  // bf16 kernels see bf16 values: so do the references
  };
  const std::vector<float> x = draw(s.N * s.in), w = draw(s.out * s.in), b = draw(s.out);

  // The references: in double (the truth) and in float (the baseline; rounded to bf16 for bf16).
  auto reference = [&]<class R>(R) {
    const auto X = matrix<R>(x, s.N, s.in), W = matrix<R>(w, s.out, s.in);
    return with_bias ? llmlab::ref::matmul_forward(X, W, tensor<R>(b))
                     : llmlab::ref::matmul_forward(X, W);
  };
  const std::vector<double> ref64 = widened(reference(0.0));
  std::vector<double> ref32 = widened(reference(0.0f));
  if (!f32)
    for (double& v : ref32) v = llmlab::round_to_bf16(static_cast<float>(v));

  auto device = [](const std::vector<float>& v) {
    if constexpr (f32)
      return DeviceBuffer<T>(v);
    else
      return DeviceBuffer<T>(bf16_bits(v));
  };
  DeviceBuffer<T> dx = device(x), dw = device(w), db = device(b), dy(s.N * s.out);
  dy.fill_nan();  // an element the kernel never writes stays NaN
  const std::string name = std::string("matmul_forward ") + (f32 ? "f32 " : "bf16 ") +
                           llmlab::shape_str({s.N, s.in, s.out}) + " " + version_name(version) +
                           (with_bias ? "" : " (no bias)");
  const std::string error = run([&] {
    return llmlab::cuda::matmul_forward(dx.cget(), dw.cget(), with_bias ? db.cget() : nullptr,
                                        dy.get(), s.N, s.in, s.out, version);
  });
  if (!error.empty()) FAIL() << name << ": " << error;

  std::vector<double> got;
  if constexpr (f32)
    got = llmlab::oracle::widen(dy.download());
  else
    got = llmlab::oracle::widen_bf16(dy.template download<std::uint16_t>());
  llmlab::oracle::Report r = llmlab::oracle::compare_ratio(
      name, ref64, ref32, got, Rule::forward(f32 ? DType::f32 : DType::bf16));
  r.shape = {s.N, s.out};  // the first bad index prints as [n, o]
  LLMLAB_EXPECT_AGREES(r);
}

class Matmul : public ::testing::TestWithParam<int> {};

TEST_P(Matmul, Float32MatchesReferenceWithinTwiceFloat32Error) {
  for (const Shape& s : kShapes) {
    expect_linear_agrees<float>(s, GetParam(), true);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_P(Matmul, Bf16IsSummedInFloat32AndRoundedOnce) {
  for (const Shape& s : kShapes) {
    expect_linear_agrees<__nv_bfloat16>(s, GetParam(), true);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_P(Matmul, WithoutBiasIsJustXTimesWTransposed) {
  expect_linear_agrees<float>({33, 65, 97}, GetParam(), false);
}

INSTANTIATE_TEST_SUITE_P(Versions, Matmul, ::testing::Range(0, llmlab::cuda::matmul_versions + 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Best")
                                                  : "V" + std::to_string(info.param);
                         });

}  // namespace
