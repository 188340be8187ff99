/// \file
/// \brief Chapter 06's checks: the fused AdamW step against the reference — the handout's worked
/// numbers, the optimizer's sweep in fp32 (steps 2 and 3) and with bf16 parameters and fp32 master
/// weights (step 4), and a bitwise rerun.
///
/// Each check runs adamw_step (the solution's, or yours in lab/ when built with
/// scripts/lab.sh 06). The sweep's outputs are judged by the oracle's ratio rule: at most twice
/// what the same step done plainly in float is off from the reference in double, plus 2 ulps.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/optimizer.cuh"
#include "llmlab/ref/optimizer.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/optimizer_case.hpp"
#include "llmlab/testing/optimizer_device.hpp"
#include "llmlab/testing/optimizer_sweep.hpp"

namespace {

using llmlab::DType;
using llmlab::cuda::AdamwHyper;
using llmlab::cuda::AdamwList;
using llmlab::cuda::AdamwTensor;
using llmlab::testing::check;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_all_agree;
using llmlab::testing::expect_optimizer_sweep_agrees;
using llmlab::testing::make_optimizer_case;
using llmlab::testing::optimizer_expected;
using llmlab::testing::optimizer_shapes;
using llmlab::testing::OptimizerCase;
using llmlab::testing::OptimizerDevice;
using llmlab::testing::OptimizerShape;
using llmlab::testing::Outputs;
using llmlab::testing::rerun_differences;
using llmlab::testing::run_optimizer_case;
using llmlab::testing::run_optimizer_outputs;
using llmlab::testing::stochastic_rounding_mismatches;

/// Your adamw_step on fp32 tensors held in one list: `steps` steps with the gradient g kept
/// constant; returns (p, m, v) after each step.
struct Trajectory {
  std::vector<std::vector<float>> p, m, v;  ///< [step − 1][element]
};

Trajectory run_constant_gradient(const std::vector<float>& p0, const std::vector<float>& g,
                                 int steps, float lr, float weight_decay) {
  const auto n = static_cast<std::int64_t>(p0.size());
  DeviceBuffer<float> p(p0), grad(g), m(n), v(n);
  const std::vector<AdamwTensor<float>> t = {
      {p.get(), nullptr, grad.cget(), m.get(), v.get(), n, 0}};
  const AdamwList<float> list(t);
  Trajectory out;
  for (int s = 1; s <= steps; ++s) {
    check(llmlab::cuda::adamw_step(list, AdamwHyper{lr, 0.9f, 0.999f, 1e-8f, weight_decay, s, 0}),
          "adamw_step");
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    out.p.push_back(p.download());
    out.m.push_back(m.download());
    out.v.push_back(v.download());
  }
  return out;
}

TEST(Ch06Handout, AdamWsFirstThreeStepsAsWorkedInTheHandout) {
  // "Adam's two moments, worked": p = 1, g = 0.5 every step, lr = 0.1, weight_decay = 0.1,
  // betas (0.9, 0.999), eps = 1e-8. Float's rounding of these numbers is ~1e-7; v carries more,
  // since 0.999 is no float: 1 − 0.999f = 0.00099998713, 1.3e-5 relative (hence 1e-8 on v).
  const Trajectory r = run_constant_gradient({1.0f}, {0.5f}, 3, 0.1f, 0.1f);
  EXPECT_NEAR(r.m[0][0], 0.05, 1e-7) << "m after step 1 = 0.1 · 0.5";
  EXPECT_NEAR(r.v[0][0], 0.00025, 1e-8) << "v after step 1 = 0.001 · 0.25";
  EXPECT_NEAR(r.p[0][0], 0.89, 1e-6) << "p after step 1 = 1 · 0.99 − 0.1 · 0.5 / 0.5";
  EXPECT_NEAR(r.m[1][0], 0.095, 1e-7);
  EXPECT_NEAR(r.v[1][0], 0.00049975, 1e-8);
  EXPECT_NEAR(r.p[1][0], 0.7811, 1e-6) << "p after step 2 = 0.89 · 0.99 − 0.1";
  EXPECT_NEAR(r.p[2][0], 0.673289, 1e-6) << "p after step 3 = 0.7811 · 0.99 − 0.1";
}

TEST(Ch06Handout, DecoupledWeightDecayAsWorkedInTheHandout) {
  // "Why AdamW is not Adam + L2": p = (1, 1), g = (2, 0) every step, lr = 0.01, wd = 0.1, 100
  // steps. AdamW decays the weight without a gradient by exactly (1 − lr·wd)^100 = 0.999^100.
  const Trajectory r = run_constant_gradient({1.0f, 1.0f}, {2.0f, 0.0f}, 100, 0.01f, 0.1f);
  EXPECT_NEAR(r.p[99][0], -0.0472864, 2e-6);
  EXPECT_NEAR(r.p[99][1], std::pow(0.999, 100), 2e-6) << "0.999^100 = 0.904792";
  // The handout's other column, Adam with L2 (the reference: the lab has no Adam kernel), takes the
  // gradient-free weight down to 0.2244 — its decay is normalised like a gradient.
  xt::xtensor<double, 1> p = {1.0, 1.0}, g = {2.0, 0.0}, m = {0.0, 0.0}, v = {0.0, 0.0};
  for (int s = 1; s <= 100; ++s)
    llmlab::ref::adam_step(p, g, m, v, s, llmlab::ref::AdamOptions{0.01, 0.9, 0.999, 1e-8, 0.1});
  EXPECT_NEAR(p(1), 0.224446, 1e-6);
}

// The shapes, inputs, reference and rules are the optimizer's one description
// (llmlab/testing/optimizer_case.hpp), the same `llmlab verify optimizer` and llmlab's own tests
// use: one tensor and several, an empty one among them, sizes no multiple of a block, t = 1 to
// 1000, gradients ×1000 and ×1e-3, and cases that clip by the global norm first (the norm is
// given; its clip factor reaches your kernel as grad_scale).
TEST(Ch06Fp32, EveryCaseOfTheSweepAgreesWithTheReference) {
  expect_optimizer_sweep_agrees(DType::f32);
}

TEST(Ch06Bf16, MasterWeightsAgreeWithTheReferenceAndParamsAreTheirRoundings) {
  // The bf16 parameters must also be store_param(master): the seeded stochastic rounding.
  expect_optimizer_sweep_agrees(DType::bf16);
}

TEST(Ch06Determinism, ARerunGivesTheSameBits) {
  // The handout promises it: no atomics, the same seed — the same bits, under every schedule.
  const OptimizerCase k = make_optimizer_case(optimizer_shapes()[2], DType::bf16);
  for (const auto& d : rerun_differences<__nv_bfloat16>(k, 3, {"reverse", "random:9"}))
    ADD_FAILURE() << d << " differs from the first run";
}

}  // namespace
