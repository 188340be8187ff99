/// \file
/// \brief Chapter 03's checks of the embedding and the residual stream (no lab: they check the
/// kernels the chapter reads, llmlab::cuda::embedding_* and residual_*, against the reference,
/// each output under its rule from the component's description: llmlab/testing/embedding_case.hpp
/// and residual_case.hpp).
///
/// The numbers are the handout's worked example: V = 4 tokens of C = 2, T = 3 positions,
/// ids = [2, 0, 2] — token 2 twice, so its gradient row gathers two rows of dout.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/cuda/embedding.cuh"
#include "llmlab/cuda/residual.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/embedding.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/embedding_case.hpp"
#include "llmlab/testing/residual_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::oracle::compare_exact;
using llmlab::testing::check;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::EmbeddingCase;
using llmlab::testing::expect_all_agree;
using llmlab::testing::only;
using llmlab::testing::Outputs;
using llmlab::testing::ResidualCase;

const std::vector<float> kWte = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};  // (4, 2)
const std::vector<float> kWpe = {0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f};        // (3, 2)
const std::vector<std::int32_t> kIds = {2, 0, 2};                                  // (1, 3)
const std::vector<float> kDout = {1, 0, 0, 1, 1, 1};                               // (1, 3, 2)

template <class T>
xt::xtensor<T, 2> table(const std::vector<float>& v, std::size_t rows) {
  return llmlab::testing::tensor<T>(v, std::array<std::size_t, 2>{rows, 2});
}

const xt::xtensor<std::int32_t, 2> kIdsTensor = {{2, 0, 2}};

TEST(Ch03Embedding, TheWorkedExampleLooksUpTokenRowPlusPositionRow) {
  const auto out =
      llmlab::ref::embedding_forward(kIdsTensor, table<double>(kWte, 4), table<double>(kWpe, 3));
  // out[t] = wte[ids[t]] + wpe[t]: [0.5 + 0.01, 0.6 + 0.02], [0.1 + 0.03, ...], [0.5 + 0.05, ...]
  const double want[] = {0.51, 0.62, 0.13, 0.24, 0.55, 0.66};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(out.flat(i), want[i], 1e-7) << "element " << i;
}

TEST(Ch03Embedding, TheWorkedExampleGathersBothRowsOfTheRepeatedToken) {
  xt::xtensor<double, 2> dwte = xt::zeros<double>({4, 2}), dwpe = xt::zeros<double>({3, 2});
  const xt::xtensor<double, 3> dout = {{{1, 0}, {0, 1}, {1, 1}}};
  llmlab::ref::embedding_backward(dout, kIdsTensor, dwte, dwpe);
  // Token 2 sits at t = 0 and t = 2: dwte[2] = dout[0] + dout[2] = [2, 1]; token 0 at t = 1.
  const double want_dwte[] = {0, 1, 0, 0, 2, 1, 0, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(dwte.flat(i), want_dwte[i]) << "dwte element " << i;
  for (int i = 0; i < 6; ++i) EXPECT_EQ(dwpe.flat(i), dout.flat(i)) << "dwpe element " << i;
}

TEST(Ch03Embedding, TheKernelsGiveTheReferencesBitsOnTheWorkedExample) {
  // The worked example as a case of embedding's description: fp32, gradients from zero.
  const EmbeddingCase k{{1, 3, 2, 4, 3},
                        DType::f32,
                        kIds,
                        kWte,
                        kWpe,
                        kDout,
                        std::vector<float>(8, 0.0f),
                        std::vector<float>(6, 0.0f)};
  const auto expected = llmlab::testing::embedding_expected(k);
  for (int version = 0; version <= llmlab::cuda::embedding_forward_versions; ++version) {
    DeviceBuffer<std::int32_t> ids(kIds);
    DeviceBuffer<float> wte(kWte), wpe(kWpe), out(6), dout(kDout), gte(8), gpe(6);
    check(llmlab::cuda::embedding_forward(ids.get(), wte.get(), wpe.get(), out.get(), 1, 3, 2, 4, 3,
                                          version),
          "embedding_forward");
    check(llmlab::cuda::embedding_backward(dout.get(), ids.get(), gte.get(), gpe.get(), 1, 3, 2, 4,
                                           3, version),
          "embedding_backward");
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    const std::string v = "embedding v" + std::to_string(version);
    const Outputs got = {{"out", out.widened()}, {"dwte", gte.widened()}, {"dwpe", gpe.widened()}};
    // The forward only moves data and adds once: exact under its rule. The gradients pass their
    // rule, and more: the backward adds in the reference's order, so it gives its bits.
    expect_all_agree(v, expected, got);
    for (const auto& e : only(expected, {"dwte", "dwpe"}))
      LLMLAB_EXPECT_AGREES(compare_exact(v + " " + e.name + " bits", e.ref32, got.at(e.name)));
  }
}

TEST(Ch03ResidualStream, TheGradientOfTheStreamPassesToBothBranchesAndAccumulates) {
  // x feeds both the skip path and the block, so its gradient is the sum of both: residual_backward
  // adds dout to what the block's backward already left in dx (da0), and the branch's gradient,
  // from zero (db0), is dout itself.
  const ResidualCase k{{3, 1, 1},          DType::f32,          {0.0f, 0.0f, 0.0f},
                       {0.0f, 0.0f, 0.0f}, {1.0f, -2.0f, 0.5f}, {0.25f, 0.25f, 0.25f},
                       {0.0f, 0.0f, 0.0f}};
  DeviceBuffer<float> dout(k.dout), dx(k.da0), dbranch(k.db0);
  check(llmlab::cuda::residual_backward(dout.get(), dx.get(), dbranch.get(), 3), "residual");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  expect_all_agree("residual stream", only(llmlab::testing::residual_expected(k), {"da", "db"}),
                   {{"da", dx.widened()}, {"db", dbranch.widened()}});
}

}  // namespace
