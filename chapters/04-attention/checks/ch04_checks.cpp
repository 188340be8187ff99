/// \file
/// \brief Chapter 04's checks: the FlashAttention-2 forward (O and L) and backward (dQ, dK, dV)
/// against the reference, fp32 and bf16, causal and full, and the handout's worked example —
/// forward, backward, and the backward rerun bitwise.
///
/// Each check runs a launcher (the solution's, or yours in lab/ in student mode) on attention's
/// sweep and compares its outputs with the reference computed in double by the oracle's ratio
/// rule (FlashAttention's): outputs may be off by at most twice what the same computation done
/// plainly in float is off (k = 2), gradients thrice (k = 3), plus a few ulps. A failure prints
/// both errors, the ratio and the first bad index (see "What the checker's messages mean" in the
/// handout).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/attention_case.hpp"
#include "llmlab/testing/attention_launch.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::attention_expected;
using llmlab::testing::attention_reference;
using llmlab::testing::attention_shapes;
using llmlab::testing::AttentionCase;
using llmlab::testing::AttentionShape;
using llmlab::testing::expect_all_agree;
using llmlab::testing::make_attention_case;
using llmlab::testing::only;
using llmlab::testing::Outputs;
using llmlab::testing::run_attention_backward;
using llmlab::testing::run_attention_forward;

/// "attention_forward f32 (2, 4, 128, 64) causal q,k~U(±1)": what a message names.
std::string case_name(const char* fn, const AttentionCase& c) {
  return std::string(fn) + " " + std::string(llmlab::dtype_name(c.dtype)) + " " + c.shape.label();
}

// The shapes, inputs, reference and rules are attention's one description
// (llmlab/testing/attention_case.hpp), the same `llmlab verify attention` and llmlab's own tests
// use: T = 1, 17, 64, 97, 128, 255 (one key, less than a tile, whole tiles, ragged tiles), D from
// 16 to 128 (80: no power of two), causal and full, and q, k ×30 (rows nearly one-hot: the running
// maximum jumps between tiles) and ×1e-3 (nearly uniform rows). Your kernels run through
// llmlab/testing/attention_launch.hpp: outputs NaN-filled first, the backward from the forward's
// out and lse computed in double.

template <class E>
void forward_agrees(DType dtype) {
  for (const AttentionShape& shape : attention_shapes()) {
    const AttentionCase c = make_attention_case(shape, dtype);
    Outputs got;
    const std::string error = run_attention_forward<E>(c, 0, got);
    if (!error.empty()) FAIL() << case_name("attention_forward", c) << ": " << error;
    expect_all_agree(case_name("attention_forward", c), only(attention_expected(c), {"out", "lse"}),
                     got);
  }
}

template <class E>
void backward_agrees(DType dtype) {
  for (const AttentionShape& shape : attention_shapes()) {
    const AttentionCase c = make_attention_case(shape, dtype);
    Outputs got;
    const std::string error = run_attention_backward<E>(c, 0, got);
    if (!error.empty()) FAIL() << case_name("attention_backward", c) << ": " << error;
    expect_all_agree(case_name("attention_backward", c),
                     only(attention_expected(c), {"dq", "dk", "dv"}), got);
  }
}

// ---- step 2: the forward ------------------------------------------------------------------------

TEST(Forward, Float32OutAndLseMatchReferenceWithinTwiceFloat32Error) {
  forward_agrees<float>(DType::f32);
}

TEST(Forward, Bf16OutIsComputedInFloatAndRoundedOnceLseStaysFloat32) {
  forward_agrees<__nv_bfloat16>(DType::bf16);
}

// ---- step 3: the backward -----------------------------------------------------------------------

TEST(Backward, Float32GradientsMatchReferenceWithinThriceFloat32Error) {
  backward_agrees<float>(DType::f32);
}

TEST(Backward, Bf16GradientsAreComputedInFloatAndRoundedOnce) {
  backward_agrees<__nv_bfloat16>(DType::bf16);
}

// ---- the handout's worked example ---------------------------------------------------------------

/// One head, T = 2, D = 1 (so τ = 1), causal: q = (1, 1), k = (0, ln 3), v = (4, 8),
/// dO = (0, 1). Row 0 sees key 0 only: O_0 = 4, L_0 = 0. Row 1: S = (0, ln 3), P = (1/4, 3/4),
/// O_1 = 7, L_1 = ln 4 — and online, key by key: (m, ℓ, acc) = (0, 1, 4), then
/// α = e^{0 − ln 3} = 1/3, (ln 3, 4/3, 28/3), O_1 = acc/ℓ = 7. Backward: D_1 = 7,
/// dV = (1/4, 3/4), dS_1 = (−3/4, 3/4), dQ = (0, (3/4) ln 3), dK = (−3/4, 3/4).
AttentionCase handout_case() {
  const float ln3 = std::log(3.0f);
  AttentionCase c{{1, 1, 2, 1, true}, DType::f32, {1, 1}, {0, ln3}, {4, 8}, {0, 1}, {}, {}};
  const auto r = attention_reference<double>(c);  // the backward's out and lse, as a forward saves
  c.out.assign(r.fwd.out.begin(), r.fwd.out.end());
  c.lse.assign(r.fwd.lse.begin(), r.fwd.lse.end());
  return c;
}

TEST(Handout, WorkedExampleForward) {
  const AttentionCase c = handout_case();
  const double out[] = {4, 7}, lse[] = {0, std::log(4.0)};
  const auto r = attention_reference<double>(c);
  for (int i = 0; i < 2; ++i) {  // the reference in double gives the handout's numbers
    EXPECT_NEAR(r.fwd.out(0, 0, i, 0), out[i], 1e-6) << "out[" << i << "]";
    EXPECT_NEAR(r.fwd.lse(0, 0, i), lse[i], 1e-6) << "lse[" << i << "]";
  }
  Outputs got;  // and so does your kernel, by the oracle's rule
  const std::string error = run_attention_forward<float>(c, 0, got);
  if (!error.empty()) FAIL() << "attention_forward on the handout's example: " << error;
  expect_all_agree("handout forward", only(attention_expected(c), {"out", "lse"}), got);
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(got.at("out")[i], out[i], 1e-5) << "your out[" << i << "]";
}

TEST(Handout, WorkedExampleBackward) {
  const AttentionCase c = handout_case();
  const double ln3 = std::log(3.0);
  const double dq[] = {0, 0.75 * ln3}, dk[] = {-0.75, 0.75}, dv[] = {0.25, 0.75};
  const auto r = attention_reference<double>(c);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(r.grads.dq(0, 0, i, 0), dq[i], 1e-6) << "dq[" << i << "]";
    EXPECT_NEAR(r.grads.dk(0, 0, i, 0), dk[i], 1e-6) << "dk[" << i << "]";
    EXPECT_NEAR(r.grads.dv(0, 0, i, 0), dv[i], 1e-6) << "dv[" << i << "]";
  }
  Outputs got;
  const std::string error = run_attention_backward<float>(c, 0, got);
  if (!error.empty()) FAIL() << "attention_backward on the handout's example: " << error;
  expect_all_agree("handout backward", only(attention_expected(c), {"dq", "dk", "dv"}), got);
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(got.at("dk")[i], dk[i], 1e-5) << "your dk[" << i << "]";
}

TEST(Handout, BackwardRerunIsBitwiseEqual) {
  // The handout promises determinism: one thread sums each gradient element, in a fixed order.
  const AttentionCase c = make_attention_case({2, 4, 128, 64, true}, DType::f32);
  Outputs first, second;
  for (Outputs* o : {&first, &second}) {
    const std::string error = run_attention_backward<float>(c, 0, *o);
    if (!error.empty()) FAIL() << "attention_backward: " << error;
  }
  for (const char* g : {"dq", "dk", "dv"})
    LLMLAB_EXPECT_AGREES(
        llmlab::oracle::compare_exact(std::string("rerun ") + g, first.at(g), second.at(g)));
}

}  // namespace
