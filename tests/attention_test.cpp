/// \file
/// \brief attention over heads, \f$ O = \mathrm{softmax}(Q K^\top / \sqrt{D})\, V \f$ with its
/// logsumexp L, and the backward dQ, dK, dV: the reference against PyTorch's golden files, every
/// kernel version in fp32 and bf16 over attention's sweep (llmlab/testing/attention_case.hpp)
/// under the FlashAttention rule (k = 2 for O and L, k = 3 for the gradients), bitwise-equal
/// reruns of the backward, the two deliberately broken flash kernels rejected, the launchers'
/// errors, and (emulated) the flash path's workspace growing like T where the naive one grows
/// like T².
///
/// Built twice: against the emulated kernels (attention_test) and, on a GPU machine, against the
/// nvcc-built ones (attention_test_gpu).

#include "llmlab/cuda/attention.cuh"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#include <xtensor/xarray.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/attention.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/attention_case.hpp"
#include "llmlab/testing/attention_launch.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
namespace cu = llmlab::cuda;
using llmlab::DType;
using llmlab::oracle::compare_exact;
using llmlab::oracle::compare_golden;
using llmlab::oracle::Rule;
using llmlab::testing::all_agree;
using llmlab::testing::attention_expected;
using llmlab::testing::attention_shapes;
using llmlab::testing::AttentionCase;
using llmlab::testing::AttentionShape;
using llmlab::testing::check;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_all_agree;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::make_attention_case;
using llmlab::testing::only;
using llmlab::testing::Outputs;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "attention";

// ---- the reference against PyTorch --------------------------------------------------------------

xt::xarray<double> golden(const std::string& c, const char* what) {
  return llmlab::load_npy<double>(kGolden / (c + "_" + what + ".npy"));
}

xt::xarray<double> golden_input(const std::string& c, const char* what) {
  return xt::cast<double>(llmlab::load_npy<float>(kGolden / (c + "_" + what + ".npy")));
}

TEST(AttentionReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases(kGolden);
  ASSERT_EQ(cases.size(), 4u) << "golden files in " << kGolden;
  for (const std::string& c : cases) {
    const bool causal = c.ends_with("_c1");
    const auto q = golden_input(c, "q"), k = golden_input(c, "k"), v = golden_input(c, "v");
    const auto f = llmlab::ref::attention_forward(q, k, v, causal);
    const auto g =
        llmlab::ref::attention_backward(golden_input(c, "dout"), q, k, v, f.out, f.lse, causal);
    // Both compute in double; exp, log and the sums' order differ by a few 1e-16.
    const std::array<std::pair<const char*, const xt::xarray<double>*>, 5> outputs = {
        {{"out", &f.out}, {"lse", &f.lse}, {"dq", &g.dq}, {"dk", &g.dk}, {"dv", &g.dv}}};
    for (const auto& [name, got] : outputs)
      LLMLAB_EXPECT_AGREES(compare_golden(std::string("ref<double> attention ") + name + " " + c,
                                          widened(golden(c, name)), widened(*got),
                                          Rule::relative(1e-10)));
  }
}

TEST(AttentionReference, CausalRowZeroIsValueZeroAndFullRowsAverageUniformScores) {
  // Row 0 of a causal head sees only key 0: O_0 = v_0, L_0 = S_00. With q = 0 every score is 0:
  // a full row is the mean of v and L = log T.
  xt::xarray<double> q = xt::zeros<double>({1, 1, 3, 2}), k = xt::ones<double>({1, 1, 3, 2});
  const xt::xarray<double> v = {{{{1.0, 2.0}, {3.0, 4.0}, {5.0, 9.0}}}};
  const auto causal = llmlab::ref::attention_forward(q, k, v, true);
  EXPECT_DOUBLE_EQ(causal.out(0, 0, 0, 1), 2.0);
  EXPECT_DOUBLE_EQ(causal.out(0, 0, 2, 1), 5.0);
  EXPECT_DOUBLE_EQ(causal.lse(0, 0, 0), 0.0);
  const auto full = llmlab::ref::attention_forward(q, k, v, false);
  EXPECT_DOUBLE_EQ(full.out(0, 0, 0, 0), 3.0);
  EXPECT_NEAR(full.lse(0, 0, 1), std::log(3.0), 1e-15);
}

TEST(AttentionReference, RejectsMismatchedShapesAndEmptyHeadsNamingThem) {
  const xt::xarray<double> q = xt::zeros<double>({1, 2, 3, 4}), k = xt::zeros<double>({1, 2, 3, 5});
  expect_error([&] { llmlab::ref::attention_forward(q, k, q); },
               {"attention_forward", "k is (1, 2, 3, 5) but q is (1, 2, 3, 4)"});
  expect_error([&] { llmlab::ref::attention_forward(q, q, k); }, {"attention_forward", "v is"});
  const xt::xarray<double> flat = xt::zeros<double>({2, 3, 4});
  expect_error([&] { llmlab::ref::attention_forward(flat, flat, flat); },
               {"attention_forward", "q is (2, 3, 4)", "(B, H, T, D)"});
  const xt::xarray<double> empty = xt::zeros<double>({1, 1, 0, 4});
  expect_error([&] { llmlab::ref::attention_forward(empty, empty, empty); },
               {"attention_forward", "T = 0"});
  const auto f = llmlab::ref::attention_forward(q, q, q);
  const xt::xarray<double> bad_lse = xt::zeros<double>({1, 2, 4});
  expect_error([&] { llmlab::ref::attention_backward(q, q, q, q, f.out, bad_lse); },
               {"attention_backward", "lse is (1, 2, 4)"});
  expect_error([&] { llmlab::ref::attention_backward(k, q, q, q, f.out, f.lse); },
               {"attention_backward", "dout is (1, 2, 3, 5)"});
}

// ---- every kernel version against the reference -------------------------------------------------

/// One case through forward version v: out and lse (attention_launch.hpp; a failure is fatal).
template <class E>
Outputs run_forward(const AttentionCase& c, int v) {
  Outputs got;
  const std::string error = llmlab::testing::run_attention_forward<E>(c, v, got);
  if (!error.empty()) throw std::runtime_error("attention_forward: " + error);
  return got;
}

/// One case through backward version v: dq, dk, dv from the case's out and lse.
template <class E>
Outputs run_backward(const AttentionCase& c, int v) {
  Outputs got;
  const std::string error = llmlab::testing::run_attention_backward<E>(c, v, got);
  if (!error.empty()) throw std::runtime_error("attention_backward: " + error);
  return got;
}

std::string case_name(const char* what, const AttentionCase& c, int v) {
  return std::string(what) + " v" + std::to_string(v) + " " +
         std::string(llmlab::dtype_name(c.dtype)) + " " + c.shape.label();
}

/// Every forward and backward version (0 = the launcher's choice) on every shape of the sweep in
/// dtype E; the reference runs once per case.
template <class E>
void every_version_agrees(DType dtype) {
  for (const AttentionShape& shape : attention_shapes()) {
    const AttentionCase c = make_attention_case(shape, dtype);
    const auto expected = attention_expected(c);
    for (int v = 0; v <= cu::attention_forward_versions; ++v)
      expect_all_agree(case_name("attention_forward", c, v), only(expected, {"out", "lse"}),
                       run_forward<E>(c, v));
    for (int v = 0; v <= cu::attention_backward_versions; ++v)
      expect_all_agree(case_name("attention_backward", c, v), only(expected, {"dq", "dk", "dv"}),
                       run_backward<E>(c, v));
  }
}

TEST(AttentionKernels, Float32EveryVersionMatchesReferenceUnderTheFlashAttentionRule) {
  every_version_agrees<float>(DType::f32);
}

TEST(AttentionKernels, Bfloat16EveryVersionMatchesReferenceUnderTheFlashAttentionRule) {
  every_version_agrees<__nv_bfloat16>(DType::bf16);
}

TEST(AttentionKernels, TwoBackwardRunsGiveBitwiseEqualGradients) {
  // No atomics: every gradient element is summed by one thread in a fixed order.
  for (const AttentionShape shape :
       {AttentionShape{2, 4, 128, 64, true}, AttentionShape{1, 2, 97, 80, false}}) {
    const AttentionCase c = make_attention_case(shape, DType::f32);
    for (int v = 1; v <= cu::attention_backward_versions; ++v) {
      const Outputs first = run_backward<float>(c, v), second = run_backward<float>(c, v);
      for (const char* g : {"dq", "dk", "dv"})
        LLMLAB_EXPECT_AGREES(
            compare_exact(case_name("rerun", c, v) + " " + g, first.at(g), second.at(g)));
    }
  }
}

// ---- the check can fail: the two broken flash kernels -------------------------------------------

/// The sweep's labels on which the flash forward with `flaw` is rejected (out and lse judged); the
/// real flash forward must pass each of them.
std::vector<std::string> rejected_with(cu::AttentionFlaw flaw) {
  std::vector<std::string> rejected;
  for (const AttentionShape& shape : attention_shapes()) {
    const AttentionCase c = make_attention_case(shape, DType::f32);
    const AttentionShape& s = c.shape;
    DeviceBuffer<float> q(c.q), k(c.k), v(c.v), out(s.elements()), lse(s.B * s.H * s.T);
    check(cu::attention_forward_flawed(q.cget(), k.cget(), v.cget(), out.get(), lse.get(), s.B, s.H,
                                       s.T, s.D, s.causal, flaw),
          "attention_forward_flawed");
    const auto expected = only(attention_expected(c), {"out", "lse"});
    if (!all_agree("flawed " + shape.label(), expected,
                   {{"out", out.widened()}, {"lse", lse.widened()}}))
      rejected.push_back(shape.label());
  }
  return rejected;
}

TEST(AttentionOracle, RejectsAFlashKernelThatDoesNotRescaleItsAccumulator) {
  // Without the rescale, keys of earlier tiles keep weights e^{S − m_old} instead of
  // e^{S − m_new}: wrong wherever a row's maximum grows after its first tile of 32 keys, which is
  // every shape with T > 32 (T ≤ 32 is one tile, where the kernel is right by accident) — but for
  // nearly uniform rows (q, k ×1e-3: scores ~1e-7) the maximum moves so little that
  // e^{m_old − m_new} rounds to 1 in fp32 and the missing factor changes nothing.
  const std::vector<std::string> want = {
      "(1, 3, 64, 64) causal q,k~U(±1)",  "(2, 2, 64, 16) full q,k~U(±1)",
      "(2, 2, 97, 16) full q,k~U(±1)",    "(1, 1, 97, 128) causal q,k~U(±1)",
      "(2, 4, 128, 64) causal q,k~U(±1)", "(1, 2, 128, 80) full q,k~U(±1)",
      "(1, 1, 255, 32) causal q,k~U(±1)", "(1, 1, 255, 128) full q,k~U(±1)",
      "(1, 2, 97, 64) causal q,k~U(±30)", "(1, 2, 64, 32) full q,k~U(±30)"};
  EXPECT_EQ(rejected_with(cu::AttentionFlaw::no_rescale), want);
}

TEST(AttentionOracle, RejectsAFlashKernelThatAttendsToTheFuture) {
  // Seeing later keys of its own tile changes every causal row but the tile's last: rejected on
  // every causal shape with T > 1, passed on the full ones, where nothing is masked.
  const std::vector<std::string> want = {
      "(2, 1, 17, 80) causal q,k~U(±1)",    "(1, 3, 64, 64) causal q,k~U(±1)",
      "(1, 1, 97, 128) causal q,k~U(±1)",   "(2, 4, 128, 64) causal q,k~U(±1)",
      "(1, 1, 255, 32) causal q,k~U(±1)",   "(1, 2, 97, 64) causal q,k~U(±30)",
      "(1, 2, 97, 64) causal q,k~U(±0.001)"};
  EXPECT_EQ(rejected_with(cu::AttentionFlaw::attends_future), want);
}

// ---- the launchers' argument errors -------------------------------------------------------------

TEST(AttentionLauncher, RejectsBadArgumentsNamingThem) {
  DeviceBuffer<float> x(2 * 3 * 4), lse(2 * 3);
  float* p = x.get();
  expect_error([&] { cu::attention_forward(p, p, p, p, lse.get(), 1, 2, 0, 4); },
               {"attention_forward", "T = 0"});
  expect_error([&] { cu::attention_forward(p, p, p, p, lse.get(), 1, 1, 3, 129); },
               {"attention_forward", "D = 129", "supported maximum 128"});
  expect_error([&] { cu::attention_forward(p, p, p, p, lse.get(), -1, 2, 3, 4); },
               {"attention_forward", "B = -1"});
  expect_error([&] { cu::attention_forward(p, nullptr, p, p, lse.get(), 1, 2, 3, 4); },
               {"attention_forward", "k is null", "(1, 2, 3, 4)"});
  expect_error([&] { cu::attention_forward(p, p, p, p, nullptr, 1, 2, 3, 4); },
               {"attention_forward", "lse is null"});
  expect_error([&] { cu::attention_backward(p, p, p, p, p, lse.get(), p, nullptr, p, 1, 2, 3, 4); },
               {"attention_backward", "dk is null"});
  expect_error([&] { cu::attention_backward(p, p, p, p, p, lse.get(), p, p, p, 1, 2, 3, 0); },
               {"attention_backward", "D = 0"});
  const int too_high = cu::attention_forward_versions + 1;
  expect_error([&] { cu::attention_forward(p, p, p, p, lse.get(), 1, 2, 3, 4, true, too_high); },
               {"attention_forward", "version = " + std::to_string(too_high)});
  EXPECT_EQ(cu::attention_forward(static_cast<const float*>(nullptr), nullptr, nullptr, nullptr,
                                  nullptr, 0, 2, 3, 4),
            cudaSuccess);
}

// ---- memory: the flash path's workspace is O(B·H·T·D), the naive one's O(T²) --------------------

#if LLMLAB_EMULATED
/// The bytes cudaMalloc'd by one forward and one backward of version v at (1, 2, T, 16): the
/// launchers' workspace alone (the test's own buffers exist before the count starts).
std::size_t workspace_bytes(std::int64_t T, int v) {
  const AttentionCase c = make_attention_case({1, 2, T, 16, true}, DType::f32);
  const AttentionShape& s = c.shape;
  DeviceBuffer<float> q(c.q), k(c.k), vv(c.v), dout(c.dout), out(s.elements()),
      lse(s.B * s.H * s.T), dq(s.elements()), dk(s.elements()), dv(s.elements());
  llmlab::emu::reset_memory_counters();
  check(cu::attention_forward(q.cget(), k.cget(), vv.cget(), out.get(), lse.get(), s.B, s.H, s.T,
                              s.D, true, v),
        "attention_forward");
  check(cu::attention_backward(dout.cget(), q.cget(), k.cget(), vv.cget(), out.cget(), lse.cget(),
                               dq.get(), dk.get(), dv.get(), s.B, s.H, s.T, s.D, true, v),
        "attention_backward");
  return llmlab::emu::memory_counters().allocated_bytes;
}

TEST(AttentionMemory, FlashWorkspaceDoublesWithTWhileNaiveQuadruples) {
  const std::size_t flash64 = workspace_bytes(64, 2), flash128 = workspace_bytes(128, 2);
  const std::size_t naive64 = workspace_bytes(64, 1), naive128 = workspace_bytes(128, 1);
  // Flash: D_i, B·H·T floats — within B·H·T·D, and exactly twice as much at twice the T.
  EXPECT_EQ(flash64, 2u * 64 * sizeof(float));
  EXPECT_EQ(flash128, 2 * flash64);
  EXPECT_LE(flash128, 2u * 128 * 16 * sizeof(float));
  // Naive: the forward's S and the backward's P and dS, B·H·T·T floats each, plus D_i.
  EXPECT_EQ(naive64, (3u * 2 * 64 * 64 + 2 * 64) * sizeof(float));
  EXPECT_GT(static_cast<double>(naive128) / static_cast<double>(naive64), 3.9);
}
#endif

}  // namespace
