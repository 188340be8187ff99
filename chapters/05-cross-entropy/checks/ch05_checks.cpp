/// \file
/// \brief Chapter 05's checks: the fused cross-entropy forward (losses and lse) and backward
/// (dlogits, also in place) against the reference, fp32 and bf16 logits, bitwise reruns, and the
/// handout's worked examples through your kernels.
///
/// Each check runs a launcher (the solution's, or yours in lab/ when built with
/// scripts/lab.sh 05) on cross-entropy's sweep (V = 1 to GPT-2's 50257, logits ×1000 and
/// ×1e-3, targets whose probability underflows, ignored targets) and compares its outputs with the
/// reference computed in double by the oracle's ratio rule: forward outputs may be off by at most
/// twice what the same computation done plainly in float is off (k = 2), gradients thrice (k = 3),
/// plus a few ulps. A failure prints both errors, the ratio and the first bad index.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/cross_entropy.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/cross_entropy_case.hpp"
#include "llmlab/testing/cross_entropy_launch.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::cross_entropy_expected;
using llmlab::testing::CrossEntropyCase;
using llmlab::testing::CrossEntropyShape;
using llmlab::testing::expect_all_agree;
using llmlab::testing::expect_cross_entropy_backward_agrees;
using llmlab::testing::expect_cross_entropy_forward_agrees;
using llmlab::testing::make_cross_entropy_case;
using llmlab::testing::only;
using llmlab::testing::Outputs;
using llmlab::testing::run_cross_entropy_backward;
using llmlab::testing::run_cross_entropy_forward;

// The shapes, inputs, reference and rules are cross-entropy's one description
// (llmlab/testing/cross_entropy_case.hpp), the same `llmlab verify cross_entropy` and llmlab's own
// tests use. Your kernels run through llmlab/testing/cross_entropy_launch.hpp: outputs NaN-filled
// first, the backward from the lse the double reference computed; every case of the sweep is
// judged, and the first failed launch (e.g. "not implemented") stops the sweep with its message.

// The lab has one version of each kernel, the fused one; the launcher's default (version 0) runs
// it, and in solution mode version 0 is llmlab's fused v2.

TEST(FusedForward, Float32LogitsMatchReferenceWithinTwiceFloat32Error) {
  expect_cross_entropy_forward_agrees<float>(0);
}

TEST(FusedForward, Bf16LogitsAreReadAsFloatLossesStayFloat32) {
  expect_cross_entropy_forward_agrees<__nv_bfloat16>(0);
}

TEST(FusedBackward, Float32GradientMatchesReferenceWithinThriceFloat32Error) {
  expect_cross_entropy_backward_agrees<float>(0);
}

TEST(FusedBackward, Bf16GradientIsComputedInFloatAndRoundedOnce) {
  expect_cross_entropy_backward_agrees<__nv_bfloat16>(0);
}

TEST(FusedBackward, InPlaceOverTheLogitsEqualsAFreshBufferBitwise) {
  const CrossEntropyCase k = make_cross_entropy_case({3, 17, 97, 4, 4}, DType::f32);
  Outputs fresh, in_place;
  const std::string e1 = run_cross_entropy_backward<float>(k, 0, fresh);
  const std::string e2 = run_cross_entropy_backward<float>(k, 0, in_place, true);
  if (!e1.empty() || !e2.empty()) FAIL() << e1 << (e1.empty() || e2.empty() ? "" : "; ") << e2;
  EXPECT_EQ(fresh, in_place) << "dlogits written over the logits differs from a separate buffer: "
                                "some lane read a logit after another lane overwrote it";
}

TEST(Determinism, RerunsGiveTheSameBits) {
  // The handout promises it: the warp merges in a fixed butterfly order, no atomics.
  const CrossEntropyCase k = make_cross_entropy_case({1, 2, 50257, 4}, DType::f32);
  Outputs a, b, da, db;
  for (const std::string& e :
       {run_cross_entropy_forward<float>(k, 0, a), run_cross_entropy_forward<float>(k, 0, b),
        run_cross_entropy_backward<float>(k, 0, da), run_cross_entropy_backward<float>(k, 0, db)})
    if (!e.empty()) FAIL() << e;
  EXPECT_EQ(a, b);
  EXPECT_EQ(da, db);
}

// ---- the handout's worked examples, through your kernels ----------------------------------------

/// One row of V = 3 logits, its target and dloss = 1, as a case of the description.
CrossEntropyCase handout_row(std::vector<float> logits, std::int32_t target, float lse) {
  return {CrossEntropyShape{1, 1, 3, 1}, DType::f32, std::move(logits), {target}, {1.0f}, {lse}};
}

/// Logits (2, 1, 0.1) with target 0: lse = 2.417030, loss = 0.417030 (perplexity 1.517), and
/// dlogits = p − onehot = (−0.340999, 0.242433, 0.098566).
TEST(Handout, LogitsTwoOneAndATenthWithTargetZero) {
  const CrossEntropyCase k = handout_row({2.0f, 1.0f, 0.1f}, 0, 2.4170300f);
  Outputs fwd, bwd;
  const std::string e1 = run_cross_entropy_forward<float>(k, 0, fwd);
  const std::string e2 = run_cross_entropy_backward<float>(k, 0, bwd);
  if (!e1.empty() || !e2.empty()) FAIL() << e1 << (e1.empty() || e2.empty() ? "" : "; ") << e2;
  EXPECT_NEAR(fwd.at("lse")[0], 2.417030, 1e-6);
  EXPECT_NEAR(fwd.at("losses")[0], 0.417030, 1e-6);
  EXPECT_NEAR(std::exp(fwd.at("losses")[0]), 1.517448, 1e-5) << "perplexity";
  const double want[] = {-0.340999, 0.242433, 0.098566};
  for (int v = 0; v < 3; ++v) EXPECT_NEAR(bwd.at("dlogits")[v], want[v], 1e-6) << "dlogits " << v;
  expect_all_agree("handout row", only(cross_entropy_expected(k), {"losses", "lse"}), fwd);
  expect_all_agree("handout row", only(cross_entropy_expected(k), {"dlogits"}), bwd);
}

/// Logits (1000, 999, 998) with target 2: e^1000 overflows (float's largest is ≈ e^88.7), but with
/// the maximum taken out lse = 1000 + log(1 + e^−1 + e^−2) = 1000.407606 and the loss is 2.407606,
/// the same loss as logits (2, 1, 0): a softmax does not see a shift of every logit.
TEST(Handout, LogitsNearAThousandDoNotOverflow) {
  const CrossEntropyCase k = handout_row({1000.0f, 999.0f, 998.0f}, 2, 1000.407606f);
  Outputs fwd, bwd;
  const std::string e1 = run_cross_entropy_forward<float>(k, 0, fwd);
  const std::string e2 = run_cross_entropy_backward<float>(k, 0, bwd);
  if (!e1.empty() || !e2.empty()) FAIL() << e1 << (e1.empty() || e2.empty() ? "" : "; ") << e2;
  // float's spacing at 1000 is 6.1e-5: lse and the loss carry that much.
  EXPECT_NEAR(fwd.at("lse")[0], 1000.407606, 1.2e-4);
  EXPECT_NEAR(fwd.at("losses")[0], 2.407606, 1.2e-4);
  const double want[] = {0.665241, 0.244728,
                         0.090031 - 1.0};  // p − onehot, p ≈ (0.665, 0.245, 0.090)
  for (int v = 0; v < 3; ++v) EXPECT_NEAR(bwd.at("dlogits")[v], want[v], 1e-4) << "dlogits " << v;
  expect_all_agree("handout row x1000", only(cross_entropy_expected(k), {"losses", "lse"}), fwd);
  expect_all_agree("handout row x1000", only(cross_entropy_expected(k), {"dlogits"}), bwd);
}

}  // namespace
