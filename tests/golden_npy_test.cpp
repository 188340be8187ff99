/// \file
/// \brief The golden files load through llmlab::load_npy with the shapes the script wrote, and
/// PyTorch's float64 outputs are what the math says: a plain double sum of the float32 inputs.
///
/// This validates the files and the loader before any reference is compared against them.

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::oracle::compare_golden;
using llmlab::oracle::Rule;

/// tests/golden, set by CMake.
const fs::path kGolden = LLMLAB_GOLDEN_DIR;

/// The elements of an xarray, as doubles in row-major order.
template <class T>
std::vector<double> flat(const xt::xarray<T>& a) {
  return std::vector<double>(a.begin(), a.end());
}

/// Both are float64 and only the order of additions could differ. Here every sum is even exact:
/// float32 inputs in [-1, 1) are multiples of 2^-23 and the sums stay under 2^13, so 36 bits
/// suffice. 1e-12 relative is far above any double rounding, far below one float's worth of error.
constexpr double kTol = 1e-12;

class VectorAddGolden : public ::testing::TestWithParam<int> {};

TEST_P(VectorAddGolden, TorchOutputIsTheDoubleSumOfTheFloatInputs) {
  const int n = GetParam();
  const std::string stem = "n" + std::to_string(n);
  const auto a = llmlab::load_npy<float>(kGolden / "vector_add" / (stem + "_a.npy"));
  const auto b = llmlab::load_npy<float>(kGolden / "vector_add" / (stem + "_b.npy"));
  const auto out = llmlab::load_npy<double>(kGolden / "vector_add" / (stem + "_out.npy"));
  ASSERT_EQ(a.dimension(), 1u);
  ASSERT_EQ(a.shape(0), static_cast<std::size_t>(n));
  ASSERT_EQ(b.shape(0), static_cast<std::size_t>(n));
  ASSERT_EQ(out.dimension(), 1u);
  ASSERT_EQ(out.shape(0), static_cast<std::size_t>(n));

  std::vector<double> c(n);
  for (int i = 0; i < n; ++i) {
    c[i] = static_cast<double>(a(i)) + static_cast<double>(b(i));
    ASSERT_TRUE(a(i) >= -1.0f && a(i) < 1.0f) << "a[" << i << "] = " << a(i) << " outside [-1, 1)";
  }
  LLMLAB_EXPECT_AGREES(
      compare_golden("vector_add golden " + stem, flat(out), c, Rule::relative(kTol)));
}

INSTANTIATE_TEST_SUITE_P(Sizes, VectorAddGolden, ::testing::Values(1, 17, 97, 1000));

struct RC {
  int R, C;
};

class ReduceSumGolden : public ::testing::TestWithParam<RC> {};

TEST_P(ReduceSumGolden, TorchOutputIsTheDoubleRowSumOfTheFloatInputs) {
  const auto [R, C] = GetParam();
  const std::string stem = "r" + std::to_string(R) + "_c" + std::to_string(C);
  const auto x = llmlab::load_npy<float>(kGolden / "reduce_sum" / (stem + "_x.npy"));
  const auto out = llmlab::load_npy<double>(kGolden / "reduce_sum" / (stem + "_out.npy"));
  ASSERT_EQ(x.dimension(), 2u);
  ASSERT_EQ(x.shape(0), static_cast<std::size_t>(R));
  ASSERT_EQ(x.shape(1), static_cast<std::size_t>(C));
  ASSERT_EQ(out.dimension(), 1u);
  ASSERT_EQ(out.shape(0), static_cast<std::size_t>(R));

  std::vector<double> sums(R, 0.0);
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) sums[r] += static_cast<double>(x(r, c));
  auto rep = compare_golden("reduce_sum golden " + stem, flat(out), sums, Rule::relative(kTol));
  LLMLAB_EXPECT_AGREES(rep);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ReduceSumGolden,
                         ::testing::Values(RC{1, 1}, RC{3, 17}, RC{5, 97}, RC{2, 1000},
                                           RC{1, 4097}),
                         [](const auto& info) {
                           return "R" + std::to_string(info.param.R) + "C" +
                                  std::to_string(info.param.C);
                         });

/// Runs `load` and returns the llmlab::Error message it throws ("" if it throws none).
template <class F>
std::string error_of(F load) {
  try {
    load();
  } catch (const llmlab::Error& e) {
    return e.what();
  }
  return "";
}

TEST(GoldenNpy, AMissingFileThrowsAnErrorNamingIt) {
  const fs::path missing = kGolden / "vector_add" / "n2_a.npy";
  const std::string msg = error_of([&] { (void)llmlab::load_npy<float>(missing); });
  EXPECT_NE(msg.find(missing.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("load_npy"), std::string::npos) << msg;
}

TEST(GoldenNpy, AFileOfAnotherDtypeThrowsAnErrorNamingIt) {
  // The inputs are float32: reading one as float64 must refuse, not reinterpret the bytes.
  const fs::path f32 = kGolden / "vector_add" / "n17_a.npy";
  const std::string msg = error_of([&] { (void)llmlab::load_npy<double>(f32); });
  EXPECT_NE(msg.find(f32.string()), std::string::npos) << msg;
  // And the outputs are float64: reading one as float32 must refuse too.
  const fs::path f64 = kGolden / "vector_add" / "n17_out.npy";
  const std::string msg64 = error_of([&] { (void)llmlab::load_npy<float>(f64); });
  EXPECT_NE(msg64.find(f64.string()), std::string::npos) << msg64;
}

}  // namespace
