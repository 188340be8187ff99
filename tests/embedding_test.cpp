/// \file
/// \brief embedding, \f$ \mathrm{out}_{b,t} = \mathrm{wte}_{\mathrm{ids}_{b,t}} + \mathrm{wpe}_t
/// \f$: the reference against PyTorch's golden files (forward and both gradients), every forward
/// version exact in fp32 and bf16, every backward version with the ratio rule and bitwise equal
/// on a rerun (determinism), all over embedding's sweep (llmlab/testing/embedding_case.hpp), a
/// scatter that loses repeated tokens rejected, and the errors.
///
/// Built twice: against the emulated kernels (embedding_test) and, on a GPU machine, against the
/// nvcc-built ones (embedding_test_gpu).

#include "llmlab/cuda/embedding.cuh"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/embedding.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/embedding_case.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_exact;
using llmlab::oracle::compare_golden;
using llmlab::oracle::Rule;
using llmlab::testing::all_agree;
using llmlab::testing::check;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::embedding_expected;
using llmlab::testing::embedding_shapes;
using llmlab::testing::EmbeddingCase;
using llmlab::testing::expect_all_agree;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::make_embedding_case;
using llmlab::testing::only;
using llmlab::testing::Outputs;
using llmlab::testing::widened;
using Ids = xt::xtensor<std::int32_t, 2>;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "embedding";

std::string name_of(const char* what, int version, const EmbeddingCase& k, std::int64_t offset) {
  return std::string(what) + " v" + std::to_string(version) + " " +
         std::string(llmlab::dtype_name(k.dtype)) + " " + k.shape.label() +
         " offset=" + std::to_string(offset);
}

/// Test names for a version parameter: "Default" for 0 (the launcher's choice), "V1", "V2", ….
std::string version_name(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? std::string("Default") : "V" + std::to_string(info.param);
}

// ---- the reference against PyTorch --------------------------------------------------------------

struct Golden {
  Ids ids;
  xt::xtensor<float, 2> wte, wpe;
  xt::xtensor<float, 3> dout;
};

Golden load(const std::string& c) {
  return {llmlab::load_npy<std::int32_t>(kGolden / (c + "_ids.npy")),
          llmlab::load_npy<float>(kGolden / (c + "_wte.npy")),
          llmlab::load_npy<float>(kGolden / (c + "_wpe.npy")),
          llmlab::load_npy<float>(kGolden / (c + "_dout.npy"))};
}

std::vector<double> golden_file(const std::string& c, const char* what) {
  const xt::xarray<double> g = llmlab::load_npy<double>(kGolden / (c + "_" + what + ".npy"));
  return widened(g);
}

/// The reference in T on a golden case: out, dwte, dwpe (gradients from zero).
template <class T>
std::array<std::vector<double>, 3> reference_on(const Golden& g) {
  const xt::xtensor<T, 2> wte = xt::cast<T>(g.wte), wpe = xt::cast<T>(g.wpe);
  const auto out = llmlab::ref::embedding_forward(g.ids, wte, wpe);
  xt::xtensor<T, 2> dwte = xt::zeros<T>(wte.shape()), dwpe = xt::zeros<T>(wpe.shape());
  llmlab::ref::embedding_backward(xt::xtensor<T, 3>(xt::cast<T>(g.dout)), g.ids, dwte, dwpe);
  return {widened(out), widened(dwte), widened(dwpe)};
}

constexpr const char* kOutputs[] = {"out", "dwte", "dwpe"};

TEST(EmbeddingReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const auto got = reference_on<double>(load(c));
    // A sum of two floats is exact in double; the gradients add a few rows in another order than
    // PyTorch's index_put, at most ~1e-15 relative apart — 1e-10 leaves room to spare.
    for (int i = 0; i < 3; ++i)
      LLMLAB_EXPECT_AGREES(
          compare_golden("ref<double> embedding " + std::string(kOutputs[i]) + " " + c,
                         golden_file(c, kOutputs[i]), got[i], Rule::relative(1e-10)));
  }
}

TEST(EmbeddingReference, InFloatMatchesPyTorchWithinTwoUlpsTimesRootK) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const Golden g = load(c);
    const auto got = reference_on<float>(g);
    // out: one rounding of an exact sum (≤ ½ ulp). Each gradient element sums at most B·T rows
    // (every position carrying the same token), ½ ulp per addition adding like a random walk.
    const auto K = static_cast<std::int64_t>(g.ids.size());
    for (int i = 0; i < 3; ++i)
      LLMLAB_EXPECT_AGREES(compare_golden(
          "ref<float> embedding " + std::string(kOutputs[i]) + " " + c, golden_file(c, kOutputs[i]),
          got[i], Rule::within_ulps(2, i == 0 ? 1 : K, DType::f32)));
  }
}

TEST(EmbeddingReference, RejectsAnIdOutsideTheVocabularyNamingItsIndex) {
  const xt::xtensor<double, 2> wte = xt::zeros<double>({5, 3}), wpe = xt::zeros<double>({4, 3});
  const Ids ids = {{0, 1, 2}, {3, 5, 0}};
  expect_error([&] { llmlab::ref::embedding_forward(ids, wte, wpe); },
               {"embedding_forward", "ids[1, 1] = 5", "[0, V = 5)"});
  const Ids negative = {{0, -1, 2}};
  xt::xtensor<double, 2> dwte = wte, dwpe = wpe;
  const xt::xtensor<double, 3> dout = xt::zeros<double>({1, 3, 3});
  expect_error([&] { llmlab::ref::embedding_backward(dout, negative, dwte, dwpe); },
               {"embedding_backward", "ids[0, 1] = -1"});
}

TEST(EmbeddingReference, RejectsMorePositionsThanWpeAndMismatchedShapes) {
  const xt::xtensor<double, 2> wte = xt::zeros<double>({5, 3}), wpe = xt::zeros<double>({2, 3});
  const Ids ids = {{0, 1, 2}};
  expect_error([&] { llmlab::ref::embedding_forward(ids, wte, wpe); },
               {"embedding_forward", "T = 3", "maxT = 2"});
  const xt::xtensor<double, 2> wpe4 = xt::zeros<double>({4, 4});
  expect_error([&] { llmlab::ref::embedding_forward(ids, wte, wpe4); },
               {"embedding_forward", "wte is (5, 3) but wpe is (4, 4)"});
  xt::xtensor<double, 2> dwte = xt::zeros<double>({5, 3}), dwpe = xt::zeros<double>({4, 3});
  const xt::xtensor<double, 3> dout = xt::zeros<double>({1, 2, 3});
  expect_error([&] { llmlab::ref::embedding_backward(dout, ids, dwte, dwpe); },
               {"embedding_backward", "dout is (1, 2, 3) but ids is (1, 3)"});
}

// ---- the forward: data movement, exact ----------------------------------------------------------

/// One case through forward version v, the float pointers `offset` elements past a 16-byte
/// boundary (1: not wide-aligned, v2 falls back to scalar loads); out NaN first, so an unwritten
/// element cannot pass.
template <class E>
Outputs run_forward(const EmbeddingCase& k, int v, std::int64_t offset) {
  const auto& s = k.shape;
  DeviceBuffer<std::int32_t> ids(k.ids);
  DeviceBuffer<E> wte(device_values<E>(k.wte), offset), wpe(device_values<E>(k.wpe), offset),
      out(s.B * s.T * s.C, offset);
  out.fill_nan();
  check(llmlab::cuda::embedding_forward(ids.cget(), wte.cget(), wpe.cget(), out.get(), s.B, s.T,
                                        s.C, s.V, s.maxT, v),
        "embedding_forward");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {{"out", out.widened()}};
}

class EmbeddingForwardKernel : public ::testing::TestWithParam<int> {};

TEST_P(EmbeddingForwardKernel, Float32IsExactlyTheFloatReference) {
  for (const auto& shape : embedding_shapes()) {
    for (const std::int64_t offset : {0, 1}) {
      const EmbeddingCase k = make_embedding_case(shape, DType::f32);
      expect_all_agree(name_of("embedding_forward", GetParam(), k, offset),
                       only(embedding_expected(k), {"out"}),
                       run_forward<float>(k, GetParam(), offset));
    }
  }
}

TEST_P(EmbeddingForwardKernel, Bfloat16IsExactlyTheFloatSumRoundedOnce) {
  for (const auto& shape : embedding_shapes()) {
    for (const std::int64_t offset : {0, 1}) {
      const EmbeddingCase k = make_embedding_case(shape, DType::bf16);
      expect_all_agree(name_of("embedding_forward", GetParam(), k, offset),
                       only(embedding_expected(k), {"out"}),
                       run_forward<__nv_bfloat16>(k, GetParam(), offset));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, EmbeddingForwardKernel,
                         ::testing::Range(0, llmlab::cuda::embedding_forward_versions + 1),
                         version_name);

// ---- the backward: a deterministic scatter ------------------------------------------------------

/// One case through backward version v, dout of element type E (float or bf16), dwte and dwpe
/// (fp32) accumulated onto dwte0 and dwpe0 (nonzero: the kernel must accumulate).
template <class E>
Outputs run_backward(const EmbeddingCase& k, int v) {
  const auto& s = k.shape;
  DeviceBuffer<std::int32_t> ids(k.ids);
  DeviceBuffer<E> dout(device_values<E>(k.dout));
  DeviceBuffer<float> dwte(k.dwte0), dwpe(k.dwpe0);
  check(llmlab::cuda::embedding_backward(dout.cget(), ids.cget(), dwte.get(), dwpe.get(), s.B, s.T,
                                         s.C, s.V, s.maxT, v),
        "embedding_backward");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {{"dwte", dwte.widened()}, {"dwpe", dwpe.widened()}};
}

class EmbeddingBackwardKernel : public ::testing::TestWithParam<int> {};

/// Checks every shape for one dtype of dout: the gradient rule against the reference, and a second
/// run bitwise equal to the first.
template <class E>
void check_backward(int version) {
  const DType dtype = sizeof(E) == 2 ? DType::bf16 : DType::f32;
  for (const auto& shape : embedding_shapes()) {
    const EmbeddingCase k = make_embedding_case(shape, dtype);
    const Outputs first = run_backward<E>(k, version), second = run_backward<E>(k, version);
    const std::string name = name_of("embedding_backward", version, k, 0);
    expect_all_agree(name, only(embedding_expected(k), {"dwte", "dwpe"}), first);
    // Determinism: the same inputs give the same bits (no atomics, a fixed order of additions).
    for (const char* g : {"dwte", "dwpe"})
      LLMLAB_EXPECT_AGREES(compare_exact(name + " " + g + " rerun", first.at(g), second.at(g)));
  }
}

TEST_P(EmbeddingBackwardKernel, Float32MatchesReferenceWithinThriceFloat32ErrorAndReruns) {
  check_backward<float>(GetParam());
}

TEST_P(EmbeddingBackwardKernel, Bfloat16DoutMatchesReferenceWithinThriceFloat32ErrorAndReruns) {
  check_backward<__nv_bfloat16>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, EmbeddingBackwardKernel,
                         ::testing::Range(0, llmlab::cuda::embedding_backward_versions + 1),
                         version_name);

// ---- the check can fail: a scatter that loses repeated tokens -----------------------------------

/// WRONG on purpose: one thread per position writes dwte[id] = old + dout[b, t] instead of adding
/// to what the other positions of the same token wrote — what an unsynchronised `+=` race gives
/// when the last writer wins, made deterministic so the test fails every time.
__global__ void embedding_backward_last_writer_wins(const float* __restrict__ dout,
                                                    const std::int32_t* __restrict__ ids,
                                                    const float* __restrict__ dwte0,
                                                    float* __restrict__ dwte, std::int64_t BT,
                                                    std::int64_t C) {
  const std::int64_t p = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p >= BT) return;
  const std::int64_t v = ids[p];
  for (std::int64_t c = 0; c < C; ++c) dwte[v * C + c] = dwte0[v * C + c] + dout[p * C + c];
}

TEST(EmbeddingOracle, RejectsAScatterThatLosesRepeatedTokens) {
  // 10 positions, 3 tokens: repeats are certain.
  const EmbeddingCase k = make_embedding_case({2, 5, 17, 3, 5}, DType::f32);
  const auto& s = k.shape;
  DeviceBuffer<std::int32_t> ids(k.ids);
  DeviceBuffer<float> dout(k.dout), dwte0(k.dwte0), dwte(k.dwte0);
  check(llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(1), dim3(64)),
                             embedding_backward_last_writer_wins, dout.cget(), ids.cget(),
                             dwte0.cget(), dwte.get(), s.B * s.T, s.C),
        "launch");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const auto expected = embedding_expected(k);
  EXPECT_FALSE(all_agree("embedding_backward last writer wins", only(expected, {"dwte"}),
                         {{"dwte", dwte.widened()}}));
  // …and the real kernels pass the same case: the check is not simply failing everything.
  EXPECT_TRUE(
      all_agree("embedding_backward", only(expected, {"dwte", "dwpe"}), run_backward<float>(k, 0)));
}

// ---- the launchers' argument errors -------------------------------------------------------------

TEST(EmbeddingLauncher, RejectsAnIdOutsideTheVocabularyNamingItsIndex) {
  DeviceBuffer<std::int32_t> ids(std::vector<std::int32_t>{0, 1, 2, 3, 7, 0});
  DeviceBuffer<float> wte(5 * 2), wpe(3 * 2), out(6 * 2), dout(6 * 2);
  expect_error(
      [&] {
        llmlab::cuda::embedding_forward(ids.get(), wte.get(), wpe.get(), out.get(), 2, 3, 2, 5, 3);
      },
      {"embedding_forward", "ids[1, 1] = 7", "[0, V = 5)"});
  expect_error(
      [&] {
        llmlab::cuda::embedding_backward(dout.get(), ids.get(), wte.get(), wpe.get(), 2, 3, 2, 5,
                                         3);
      },
      {"embedding_backward", "ids[1, 1] = 7"});
}

TEST(EmbeddingLauncher, RejectsTooManyPositionsNullPointersAndUnknownVersions) {
  DeviceBuffer<std::int32_t> ids(6);
  DeviceBuffer<float> wte(5 * 2), wpe(3 * 2), out(6 * 2);
  expect_error(
      [&] {
        llmlab::cuda::embedding_forward(ids.get(), wte.get(), wpe.get(), out.get(), 2, 3, 2, 5, 2);
      },
      {"embedding_forward", "T = 3", "maxT = 2"});
  expect_error(
      [&] {
        llmlab::cuda::embedding_forward(ids.get(), wte.get(), nullptr, out.get(), 2, 3, 2, 5, 3);
      },
      {"embedding_forward", "wpe is null", "(2, 3, 2)"});
  expect_error(
      [&] {
        llmlab::cuda::embedding_forward(ids.get(), wte.get(), wpe.get(), out.get(), -1, 3, 2, 5, 3);
      },
      {"embedding_forward", "B = -1"});
  const int too_high = llmlab::cuda::embedding_backward_versions + 1;
  expect_error(
      [&] {
        llmlab::cuda::embedding_backward(out.get(), ids.get(), wte.get(), wpe.get(), 2, 3, 2, 5, 3,
                                         too_high);
      },
      {"embedding_backward", "version = " + std::to_string(too_high)});
}

}  // namespace
