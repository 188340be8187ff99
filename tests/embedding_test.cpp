/// \file
/// \brief embedding, \f$ \mathrm{out}_{b,t} = \mathrm{wte}_{\mathrm{ids}_{b,t}} + \mathrm{wpe}_t
/// \f$: the reference against PyTorch's golden files (forward and both gradients), every forward
/// version exact in fp32 and bf16, every backward version with the ratio rule and bitwise equal
/// on a rerun (determinism), a scatter that loses repeated tokens rejected, and the errors.
///
/// Built twice: against the emulated kernels (embedding_test) and, on a GPU machine, against the
/// nvcc-built ones (embedding_test_gpu).

#include "llmlab/cuda/embedding.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/embedding.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_exact;
using llmlab::oracle::compare_golden;
using llmlab::oracle::compare_ratio;
using llmlab::oracle::Report;
using llmlab::oracle::Rule;
using llmlab::testing::bf16_bits;
using llmlab::testing::check;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::rounded_to_bf16;
using llmlab::testing::tensor;
using llmlab::testing::widened;
using Ids = xt::xtensor<std::int32_t, 2>;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "embedding";

/// One kernel case: sizes and an offset for the float arrays (1: not wide-aligned, v2 falls back
/// to scalar loads).
struct Shape {
  std::int64_t B, T, C, V, maxT;
};

/// C = 1, 17 (no multiple of the vector width), 64 and 768 (the wide path); V = 131 (no multiple
/// of 128); T = maxT; a single token repeated B·T times (V = 1).
constexpr Shape kShapes[] = {
    {2, 3, 1, 5, 4}, {3, 17, 17, 131, 20}, {2, 5, 768, 37, 8}, {1, 7, 64, 10, 7}, {2, 4, 8, 1, 4}};

std::string name_of(const char* what, int version, const char* dtype, const Shape& s,
                    std::int64_t offset) {
  return std::string(what) + " v" + std::to_string(version) + " " + dtype + " " +
         llmlab::shape_str({s.B, s.T, s.C}) + " V=" + std::to_string(s.V) +
         " offset=" + std::to_string(offset);
}

/// B·T ids uniform in [0, V), the last one a copy of the first, so every case repeats a token.
std::vector<std::int32_t> random_ids(std::uint64_t seed, const Shape& s) {
  llmlab::Rng rng(seed);
  std::vector<std::int32_t> ids(static_cast<std::size_t>(s.B * s.T));
  for (auto& id : ids)
    id = static_cast<std::int32_t>(std::min<double>(rng.uniform() * s.V, s.V - 1));
  ids.back() = ids.front();
  return ids;
}

Ids ids_tensor(const std::vector<std::int32_t>& v, const Shape& s) {
  Ids ids = xt::empty<std::int32_t>({static_cast<std::size_t>(s.B), static_cast<std::size_t>(s.T)});
  std::copy(v.begin(), v.end(), ids.begin());
  return ids;
}

template <class T>
xt::xtensor<T, 2> mat(const std::vector<float>& v, std::int64_t rows, std::int64_t cols) {
  return tensor<T>(v, std::array<std::size_t, 2>{static_cast<std::size_t>(rows),
                                                 static_cast<std::size_t>(cols)});
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

class EmbeddingForwardKernel : public ::testing::TestWithParam<int> {};

TEST_P(EmbeddingForwardKernel, Float32IsExactlyTheFloatReference) {
  const int version = GetParam();
  for (const Shape& s : kShapes) {
    for (const std::int64_t offset : {0, 1}) {
      const auto seed = static_cast<std::uint64_t>(7000 + s.B * s.T * s.C + s.V);
      const std::vector<std::int32_t> ids = random_ids(seed, s);
      const std::vector<float> wte = llmlab::Rng(seed + 1).uniform_floats(s.V * s.C);
      const std::vector<float> wpe = llmlab::Rng(seed + 2).uniform_floats(s.maxT * s.C);
      const auto want = llmlab::ref::embedding_forward(
          ids_tensor(ids, s), mat<float>(wte, s.V, s.C), mat<float>(wpe, s.maxT, s.C));

      DeviceBuffer<std::int32_t> d_ids(ids);
      DeviceBuffer<float> d_wte(wte, offset), d_wpe(wpe, offset), d_out(s.B * s.T * s.C, offset);
      d_out.fill_nan();
      const cudaError_t err = llmlab::cuda::embedding_forward(
          d_ids.get(), d_wte.get(), d_wpe.get(), d_out.get(), s.B, s.T, s.C, s.V, s.maxT, version);
      ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
      check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      Report r = compare_exact(name_of("embedding_forward", version, "f32", s, offset),
                               widened(want), llmlab::oracle::widen(d_out.download()));
      r.shape = {s.B, s.T, s.C};
      LLMLAB_EXPECT_AGREES(r);
    }
  }
}

TEST_P(EmbeddingForwardKernel, Bfloat16IsExactlyTheFloatSumRoundedOnce) {
  const int version = GetParam();
  for (const Shape& s : kShapes) {
    for (const std::int64_t offset : {0, 1}) {
      const auto seed = static_cast<std::uint64_t>(8000 + s.B * s.T * s.C + s.V);
      const std::vector<std::int32_t> ids = random_ids(seed, s);
      const std::vector<float> wte =
          rounded_to_bf16(llmlab::Rng(seed + 1).uniform_floats(s.V * s.C));
      const std::vector<float> wpe =
          rounded_to_bf16(llmlab::Rng(seed + 2).uniform_floats(s.maxT * s.C));
      // What a bf16 kernel must write: the float reference on the bf16 inputs, rounded once.
      const auto sum = llmlab::ref::embedding_forward(ids_tensor(ids, s), mat<float>(wte, s.V, s.C),
                                                      mat<float>(wpe, s.maxT, s.C));
      std::vector<double> want(sum.size());
      for (std::size_t i = 0; i < want.size(); ++i) want[i] = llmlab::round_to_bf16(sum.flat(i));

      DeviceBuffer<std::int32_t> d_ids(ids);
      DeviceBuffer<__nv_bfloat16> d_wte(bf16_bits(wte), offset), d_wpe(bf16_bits(wpe), offset),
          d_out(s.B * s.T * s.C, offset);
      d_out.fill_nan();
      const cudaError_t err = llmlab::cuda::embedding_forward(
          d_ids.get(), d_wte.get(), d_wpe.get(), d_out.get(), s.B, s.T, s.C, s.V, s.maxT, version);
      ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
      check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      LLMLAB_EXPECT_AGREES(
          compare_exact(name_of("embedding_forward", version, "bf16", s, offset), want,
                        llmlab::oracle::widen_bf16(d_out.download<std::uint16_t>())));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, EmbeddingForwardKernel,
                         ::testing::Range(0, llmlab::cuda::embedding_forward_versions + 1),
                         version_name);

// ---- the backward: a deterministic scatter ------------------------------------------------------

/// One backward case on the device: dout in E (float or bf16 bits), ids, dwte and dwpe starting
/// from `dwte0` and `dwpe0` (nonzero: the kernel must accumulate).
struct BackwardRun {
  std::vector<float> dwte, dwpe;
};

template <class Elem, class Dev>
BackwardRun run_backward(int version, const Shape& s, const std::vector<std::int32_t>& ids,
                         const std::vector<Elem>& dout, const std::vector<float>& dwte0,
                         const std::vector<float>& dwpe0) {
  DeviceBuffer<std::int32_t> d_ids(ids);
  DeviceBuffer<Dev> d_dout(dout);
  DeviceBuffer<float> d_dwte(dwte0), d_dwpe(dwpe0);
  const cudaError_t err = llmlab::cuda::embedding_backward(
      d_dout.get(), d_ids.get(), d_dwte.get(), d_dwpe.get(), s.B, s.T, s.C, s.V, s.maxT, version);
  if (err != cudaSuccess) throw std::runtime_error(cudaGetErrorString(err));
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {d_dwte.download(), d_dwpe.download()};
}

/// The reference in T from the same starting gradients: {dwte, dwpe} widened.
template <class T>
std::array<std::vector<double>, 2> reference_backward(const Shape& s,
                                                      const std::vector<std::int32_t>& ids,
                                                      const std::vector<float>& dout,
                                                      const std::vector<float>& dwte0,
                                                      const std::vector<float>& dwpe0) {
  auto dwte = mat<T>(dwte0, s.V, s.C), dwpe = mat<T>(dwpe0, s.maxT, s.C);
  const auto d = tensor<T>(
      dout, std::array<std::size_t, 3>{static_cast<std::size_t>(s.B), static_cast<std::size_t>(s.T),
                                       static_cast<std::size_t>(s.C)});
  llmlab::ref::embedding_backward(d, ids_tensor(ids, s), dwte, dwpe);
  return {widened(dwte), widened(dwpe)};
}

class EmbeddingBackwardKernel : public ::testing::TestWithParam<int> {};

/// Checks every shape for one dtype of dout: the ratio rule against the reference, and a second
/// run bitwise equal to the first.
template <class Dev>
void check_backward(int version, const char* dtype) {
  constexpr bool bf16 = std::is_same_v<Dev, __nv_bfloat16>;
  for (const Shape& s : kShapes) {
    const auto seed = static_cast<std::uint64_t>(9000 + s.B * s.T * s.C + s.V + (bf16 ? 1 : 0));
    const std::vector<std::int32_t> ids = random_ids(seed, s);
    std::vector<float> dout = llmlab::Rng(seed + 1).uniform_floats(s.B * s.T * s.C);
    if (bf16) dout = rounded_to_bf16(dout);
    const std::vector<float> dwte0 = llmlab::Rng(seed + 2).uniform_floats(s.V * s.C);
    const std::vector<float> dwpe0 = llmlab::Rng(seed + 3).uniform_floats(s.maxT * s.C);
    const auto ref64 = reference_backward<double>(s, ids, dout, dwte0, dwpe0);
    const auto ref32 = reference_backward<float>(s, ids, dout, dwte0, dwpe0);

    BackwardRun first, second;
    if constexpr (bf16) {
      first = run_backward<std::uint16_t, Dev>(version, s, ids, bf16_bits(dout), dwte0, dwpe0);
      second = run_backward<std::uint16_t, Dev>(version, s, ids, bf16_bits(dout), dwte0, dwpe0);
    } else {
      first = run_backward<float, Dev>(version, s, ids, dout, dwte0, dwpe0);
      second = run_backward<float, Dev>(version, s, ids, dout, dwte0, dwpe0);
    }
    const std::string name = name_of("embedding_backward", version, dtype, s, 0);
    LLMLAB_EXPECT_AGREES(compare_ratio(name + " dwte", ref64[0], ref32[0],
                                       llmlab::oracle::widen(first.dwte),
                                       Rule::gradient(DType::f32)));
    LLMLAB_EXPECT_AGREES(compare_ratio(name + " dwpe", ref64[1], ref32[1],
                                       llmlab::oracle::widen(first.dwpe),
                                       Rule::gradient(DType::f32)));
    // Determinism: the same inputs give the same bits (no atomics, a fixed order of additions).
    LLMLAB_EXPECT_AGREES(compare_exact(name + " dwte rerun", llmlab::oracle::widen(first.dwte),
                                       llmlab::oracle::widen(second.dwte)));
    LLMLAB_EXPECT_AGREES(compare_exact(name + " dwpe rerun", llmlab::oracle::widen(first.dwpe),
                                       llmlab::oracle::widen(second.dwpe)));
  }
}

TEST_P(EmbeddingBackwardKernel, Float32MatchesReferenceWithinThriceFloat32ErrorAndReruns) {
  check_backward<float>(GetParam(), "f32");
}

TEST_P(EmbeddingBackwardKernel, Bfloat16DoutMatchesReferenceWithinThriceFloat32ErrorAndReruns) {
  check_backward<__nv_bfloat16>(GetParam(), "bf16");
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
  const Shape s{2, 5, 17, 3, 5};  // 10 positions, 3 tokens: repeats are certain
  const std::vector<std::int32_t> ids = random_ids(9900, s);
  const std::vector<float> dout = llmlab::Rng(9901).uniform_floats(s.B * s.T * s.C);
  const std::vector<float> dwte0(static_cast<std::size_t>(s.V * s.C), 0.0f), dwpe0(s.maxT * s.C);
  const auto ref64 = reference_backward<double>(s, ids, dout, dwte0, dwpe0);
  const auto ref32 = reference_backward<float>(s, ids, dout, dwte0, dwpe0);

  DeviceBuffer<std::int32_t> d_ids(ids);
  DeviceBuffer<float> d_dout(dout), d_dwte0(dwte0), d_dwte(s.V * s.C);
  const cudaError_t err = llmlab::cuda::launch(
      llmlab::cuda::launch_config(dim3(1), dim3(64)), embedding_backward_last_writer_wins,
      d_dout.cget(), d_ids.cget(), d_dwte0.cget(), d_dwte.get(), s.B * s.T, s.C);
  ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const Report r =
      compare_ratio("embedding_backward last writer wins", ref64[0], ref32[0],
                    llmlab::oracle::widen(d_dwte.download()), Rule::gradient(DType::f32));
  EXPECT_FALSE(r.pass) << r.detail();
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
