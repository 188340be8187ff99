/// \file
/// \brief Tests of my kernels with llmlab's oracle, against a plain computation in double.
///
/// The ratio rule: my kernel's largest error against the exact (double) answer may be at most
/// twice that of the same computation done plainly in float, plus 2 ulps.

#include <gtest/gtest.h>
#include <llmlab/cuda/abi/reduce_sum.h>
#include <llmlab/cuda/abi/vector_add.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <llmlab/core/dtype.hpp>
#include <llmlab/core/rng.hpp>
#include <llmlab/cuda/kernel.cuh>
#include <llmlab/oracle/gtest.hpp>
#include <vector>

namespace {

using llmlab::oracle::Rule;

/// A device copy of `host` (cudaMalloc + cudaMemcpy), freed at scope exit.
template <class T>
struct Device {
  explicit Device(const std::vector<T>& host) : n(host.size()) {
    cudaMalloc(&ptr, (n ? n : 1) * sizeof(T));
    cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~Device() { cudaFree(ptr); }
  std::vector<T> download() const {
    std::vector<T> host(n);
    cudaMemcpy(host.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }
  std::size_t n;
  T* ptr = nullptr;
};

TEST(MyReduceSum, RowSumsAgreeWithDoubleWithinTwiceFloatError) {
  for (const auto [R, C] : {std::pair<int, int>{1, 1}, {3, 97}, {2, 1000}, {5, 4097}}) {
    llmlab::Rng rng(42 + R * 10000 + C);
    const std::vector<float> x = rng.uniform_floats(static_cast<std::size_t>(R) * C);
    std::vector<double> want(R), plain_float(R);  // the exact-ish answer and the baseline
    double magnitude = 0;                         // max_r sum_c |x_rc|, the scale of any rounding
    for (int r = 0; r < R; ++r) {
      double s64 = 0, abs64 = 0;
      float s32 = 0;
      for (int c = 0; c < C; ++c) {
        s64 += x[r * C + c];
        s32 += x[r * C + c];
        abs64 += std::fabs(x[r * C + c]);
      }
      want[r] = s64;
      plain_float[r] = s32;
      magnitude = std::max(magnitude, abs64);
    }
    Device<float> dx(x), dout{std::vector<float>(R)};
    ASSERT_EQ(llmlab_reduce_sum_f32(dx.ptr, dout.ptr, R, C), 0);
    const auto report = llmlab::oracle::compare_ratio(
        "my reduce_sum f32 (" + std::to_string(R) + ", " + std::to_string(C) + ")", want,
        plain_float, llmlab::oracle::widen(dout.download()),
        Rule::forward().at_magnitude(magnitude));
    LLMLAB_EXPECT_AGREES(report);
  }
}

TEST(MyVectorAdd, Bf16SumsAreRoundedOnce) {
  const std::size_t n = 1000;
  llmlab::Rng rng(7);
  std::vector<float> a = rng.uniform_floats(n), b = rng.uniform_floats(n);
  std::vector<std::uint16_t> a16(n), b16(n);
  std::vector<double> want(n), baseline(n);
  for (std::size_t i = 0; i < n; ++i) {
    a16[i] = llmlab::float_to_bf16_bits(a[i]);
    b16[i] = llmlab::float_to_bf16_bits(b[i]);
    const float ar = llmlab::bf16_bits_to_float(a16[i]), br = llmlab::bf16_bits_to_float(b16[i]);
    want[i] = double(ar) + double(br);
    baseline[i] = llmlab::round_to_bf16(ar + br);
  }
  Device<std::uint16_t> da(a16), db(b16), dc{std::vector<std::uint16_t>(n)};
  ASSERT_EQ(llmlab_vector_add_bf16(da.ptr, db.ptr, dc.ptr, static_cast<std::int64_t>(n)), 0);
  LLMLAB_EXPECT_AGREES(llmlab::oracle::compare_ratio("my vector_add bf16", want, baseline,
                                                     llmlab::oracle::widen_bf16(dc.download()),
                                                     Rule::forward(llmlab::DType::bf16)));
}

}  // namespace
