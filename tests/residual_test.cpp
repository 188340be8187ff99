/// \file
/// \brief residual, \f$ \mathrm{out} = a + b \f$ and
/// \f$ \mathrm{da} \mathrel{+}= \mathrm{dout}, \ \mathrm{db} \mathrel{+}= \mathrm{dout} \f$: the
/// reference against PyTorch's golden files, every kernel version exact in fp32 and bf16 (each
/// element is one rounding), a backward that overwrites instead of accumulating rejected, and the
/// launchers' errors.

#include "llmlab/cuda/residual.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>
#include <xtensor/xarray.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/residual.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_exact;
using llmlab::oracle::compare_golden;
using llmlab::oracle::Report;
using llmlab::oracle::Rule;
using llmlab::testing::bf16_bits;
using llmlab::testing::check;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::rounded_to_bf16;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "residual";

/// Element counts: 1, odd, one past the wide vector, larger than the capped grid covers at once.
constexpr std::int64_t kSizes[] = {1, 17, 97, 1025, 300001};

template <class T>
xt::xarray<T> load_as(const std::string& c, const char* what) {
  return xt::cast<T>(llmlab::load_npy<float>(kGolden / (c + "_" + what + ".npy")));
}

template <class T>
xt::xarray<T> array_of(const std::vector<float>& v) {
  xt::xarray<T> a = xt::empty<T>({v.size()});
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

// ---- the reference against PyTorch --------------------------------------------------------------

/// out, da, db of the reference in T on a golden case (gradients from zero).
template <class T>
std::vector<std::vector<double>> reference_on(const std::string& c) {
  const auto a = load_as<T>(c, "a"), b = load_as<T>(c, "b"), dout = load_as<T>(c, "dout");
  xt::xarray<T> da = xt::zeros<T>(a.shape()), db = xt::zeros<T>(a.shape());
  const auto out = llmlab::ref::residual_forward(a, b);
  llmlab::ref::residual_backward(dout, da, db);
  return {widened(out), widened(da), widened(db)};
}

TEST(ResidualReference, InDoubleAndFloatMatchesPyTorchFloat64) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  const char* outputs[] = {"out", "da", "db"};
  for (const std::string& c : cases) {
    const auto got64 = reference_on<double>(c), got32 = reference_on<float>(c);
    for (int i = 0; i < 3; ++i) {
      const xt::xarray<double> g =
          llmlab::load_npy<double>(kGolden / (c + "_" + outputs[i] + ".npy"));
      // double: the sum of two floats is exact. float: one rounding, at most ½ ulp.
      LLMLAB_EXPECT_AGREES(
          compare_golden("ref<double> residual " + std::string(outputs[i]) + " " + c, widened(g),
                         got64[i], Rule::relative(1e-10)));
      LLMLAB_EXPECT_AGREES(
          compare_golden("ref<float> residual " + std::string(outputs[i]) + " " + c, widened(g),
                         got32[i], Rule::within_ulps(1, 1)));
    }
  }
}

TEST(ResidualReference, RejectsMismatchedShapesNamingThem) {
  const xt::xarray<double> a = xt::zeros<double>({2, 3}), b = xt::zeros<double>({3, 2});
  expect_error([&] { llmlab::ref::residual_forward(a, b); },
               {"residual_forward", "a is (2, 3) but b is (3, 2)"});
  xt::xarray<double> da = xt::zeros<double>({2, 3}), db = xt::zeros<double>({2, 4});
  expect_error([&] { llmlab::ref::residual_backward(a, da, db); },
               {"residual_backward", "dout is (2, 3) but db is (2, 4)"});
}

// ---- every kernel version, exact ----------------------------------------------------------------

/// {a + b, da0 + dout, db0 + dout} of the float reference; each element rounded to bf16 if asked.
std::vector<std::vector<double>> expected(const std::vector<float>& a, const std::vector<float>& b,
                                          const std::vector<float>& dout,
                                          const std::vector<float>& da0,
                                          const std::vector<float>& db0, bool to_bf16) {
  const auto out = llmlab::ref::residual_forward(array_of<float>(a), array_of<float>(b));
  auto da = array_of<float>(da0), db = array_of<float>(db0);
  llmlab::ref::residual_backward(array_of<float>(dout), da, db);
  std::vector<std::vector<double>> all = {widened(out), widened(da), widened(db)};
  if (to_bf16)
    for (auto& v : all)
      for (double& x : v) x = llmlab::round_to_bf16(static_cast<float>(x));
  return all;
}

class ResidualKernel : public ::testing::TestWithParam<int> {};

/// Forward version v and backward version min(v, residual_backward_versions), dtype Dev.
template <class Dev>
void check_residual(int version) {
  constexpr bool bf16 = std::is_same_v<Dev, __nv_bfloat16>;
  const char* dtype = bf16 ? "bf16" : "f32";
  const int bwd = std::min(version, llmlab::cuda::residual_backward_versions);
  for (const std::int64_t n : kSizes) {
    const auto seed = static_cast<std::uint64_t>(11000 + n + (bf16 ? 1 : 0));
    std::vector<std::vector<float>> in(5);
    for (std::size_t k = 0; k < in.size(); ++k) {
      in[k] = llmlab::Rng(seed + k).uniform_floats(static_cast<std::size_t>(n));
      if (bf16) in[k] = rounded_to_bf16(in[k]);
    }
    const auto want = expected(in[0], in[1], in[2], in[3], in[4], bf16);
    std::vector<std::vector<double>> got;
    const auto run = [&](const auto& host) {
      DeviceBuffer<Dev> a(host(in[0])), b(host(in[1])), dout(host(in[2])), da(host(in[3])),
          db(host(in[4])), out(n);
      check(llmlab::cuda::residual_forward(a.get(), b.get(), out.get(), n, version), "forward");
      check(llmlab::cuda::residual_backward(dout.get(), da.get(), db.get(), n, bwd), "backward");
      check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      for (const auto* buf : {&out, &da, &db}) {
        if constexpr (bf16)
          got.push_back(llmlab::oracle::widen_bf16(buf->template download<std::uint16_t>()));
        else
          got.push_back(llmlab::oracle::widen(buf->template download<float>()));
      }
    };
    if constexpr (bf16)
      run([](const std::vector<float>& v) { return bf16_bits(v); });
    else
      run([](const std::vector<float>& v) { return v; });
    const char* outputs[] = {"out", "da", "db"};
    for (int i = 0; i < 3; ++i)
      LLMLAB_EXPECT_AGREES(compare_exact("residual v" + std::to_string(version) + " " + dtype +
                                             " " + outputs[i] + " n=" + std::to_string(n),
                                         want[i], got[i]));
  }
}

TEST_P(ResidualKernel, Float32IsExactlyTheFloatReference) { check_residual<float>(GetParam()); }

TEST_P(ResidualKernel, Bfloat16IsExactlyTheFloatReferenceRoundedOnce) {
  check_residual<__nv_bfloat16>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, ResidualKernel,
                         ::testing::Range(0, llmlab::cuda::residual_forward_versions + 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Default")
                                                  : "V" + std::to_string(info.param);
                         });

// ---- the check can fail: a backward that forgets to accumulate ----------------------------------

/// WRONG on purpose: da = dout and db = dout, overwriting the gradients gathered so far.
__global__ void residual_backward_overwriting(const float* __restrict__ dout,
                                              float* __restrict__ da, float* __restrict__ db,
                                              std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  da[i] = dout[i];
  db[i] = dout[i];
}

TEST(ResidualOracle, RejectsABackwardThatOverwritesInsteadOfAccumulating) {
  const std::int64_t n = 97;
  const std::vector<float> dout = llmlab::Rng(11900).uniform_floats(n);
  const std::vector<float> da0 = llmlab::Rng(11901).uniform_floats(n);
  const auto want = expected(dout, dout, dout, da0, da0, false);
  DeviceBuffer<float> d_dout(dout), da(da0), db(da0);
  const cudaError_t err =
      llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(1), dim3(128)),
                           residual_backward_overwriting, d_dout.cget(), da.get(), db.get(), n);
  ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const Report r =
      compare_exact("residual_backward overwriting", want[1], llmlab::oracle::widen(da.download()));
  EXPECT_FALSE(r.pass) << r.detail();
  EXPECT_EQ(r.first_bad, 0) << r.detail();
}

// ---- the launchers' argument errors -------------------------------------------------------------

TEST(ResidualLauncher, RejectsBadArgumentsNamingThem) {
  DeviceBuffer<float> a(4), b(4), out(4);
  expect_error([&] { llmlab::cuda::residual_forward(a.get(), b.get(), out.get(), -1); },
               {"residual_forward", "n = -1"});
  expect_error([&] { llmlab::cuda::residual_forward(a.get(), nullptr, out.get(), 4); },
               {"residual_forward", "b is null but n = 4"});
  expect_error([&] { llmlab::cuda::residual_backward(a.get(), nullptr, out.get(), 4); },
               {"residual_backward", "da is null but n = 4"});
  const int too_high = llmlab::cuda::residual_backward_versions + 1;
  expect_error([&] { llmlab::cuda::residual_backward(a.get(), b.get(), out.get(), 4, too_high); },
               {"residual_backward", "version = " + std::to_string(too_high)});
}

}  // namespace
