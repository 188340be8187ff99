/// \file
/// \brief residual, \f$ \mathrm{out} = a + b \f$ and
/// \f$ \mathrm{da} \mathrel{+}= \mathrm{dout}, \ \mathrm{db} \mathrel{+}= \mathrm{dout} \f$: the
/// reference against PyTorch's golden files, every kernel version exact in fp32 and bf16 (each
/// element is one rounding) over residual's sweep (llmlab/testing/residual_case.hpp), a backward
/// that overwrites instead of accumulating rejected, and the launchers' errors.

#include "llmlab/cuda/residual.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/residual.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/residual_case.hpp"
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
using llmlab::testing::judge;
using llmlab::testing::make_residual_case;
using llmlab::testing::only;
using llmlab::testing::Outputs;
using llmlab::testing::residual_expected;
using llmlab::testing::residual_shapes;
using llmlab::testing::ResidualCase;
using llmlab::testing::ResidualShape;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "residual";

template <class T>
xt::xarray<T> load_as(const std::string& c, const char* what) {
  return xt::cast<T>(llmlab::load_npy<float>(kGolden / (c + "_" + what + ".npy")));
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

/// One case through forward version vf and backward version vb: out (its buffer NaN first, so an
/// unwritten element cannot pass), da and db accumulated onto da0 and db0.
template <class E>
Outputs run_kernels(const ResidualCase& k, int vf, int vb) {
  const std::int64_t n = k.shape.n;
  DeviceBuffer<E> a(device_values<E>(k.a)), b(device_values<E>(k.b)),
      dout(device_values<E>(k.dout)), da(device_values<E>(k.da0)), db(device_values<E>(k.db0)),
      out(n);
  out.fill_nan();
  check(llmlab::cuda::residual_forward(a.cget(), b.cget(), out.get(), n, vf), "residual_forward");
  check(llmlab::cuda::residual_backward(dout.cget(), da.get(), db.get(), n, vb),
        "residual_backward");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {{"out", out.widened()}, {"da", da.widened()}, {"db", db.widened()}};
}

/// residual's sweep, plus one length larger than the capped grid covers at once.
std::vector<ResidualShape> test_shapes() {
  std::vector<ResidualShape> shapes = residual_shapes();
  shapes.push_back({300001, 1, 1});
  return shapes;
}

class ResidualKernel : public ::testing::TestWithParam<int> {};

/// Forward version v and backward version min(v, residual_backward_versions), dtype E.
template <class E>
void check_residual(int version) {
  const int bwd = std::min(version, llmlab::cuda::residual_backward_versions);
  const DType dtype = sizeof(E) == 2 ? DType::bf16 : DType::f32;
  for (const ResidualShape& shape : test_shapes()) {
    const ResidualCase k = make_residual_case(shape, dtype);
    expect_all_agree("residual v" + std::to_string(version) + " " +
                         std::string(llmlab::dtype_name(dtype)) + " " + shape.label(),
                     residual_expected(k), run_kernels<E>(k, version, bwd));
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
  const ResidualCase k = make_residual_case({97, 1, 1}, DType::f32);
  const std::int64_t n = k.shape.n;
  DeviceBuffer<float> dout(k.dout), da(k.da0), db(k.db0);
  check(llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(1), dim3(128)),
                             residual_backward_overwriting, dout.cget(), da.get(), db.get(), n),
        "launch");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const auto expected = residual_expected(k);
  const Outputs wrong_da = {{"da", da.widened()}};
  EXPECT_FALSE(all_agree("residual_backward overwriting da", only(expected, {"da"}), wrong_da));
  EXPECT_EQ(judge("residual_backward overwriting", only(expected, {"da"}), wrong_da)[0].first_bad,
            0);  // wrong from the first element on
  EXPECT_FALSE(all_agree("residual_backward overwriting db", only(expected, {"db"}),
                         {{"db", db.widened()}}));
  // …and the real kernels pass the same case: the check is not simply failing everything.
  EXPECT_TRUE(all_agree("residual", expected, run_kernels<float>(k, 0, 0)));
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
