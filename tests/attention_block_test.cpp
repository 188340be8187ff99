/// \file
/// \brief The multi-head attention block GPT calls (c_attn, split into heads, attention, merge,
/// c_proj), forward and backward: the reference against PyTorch's golden files (nanoGPT's
/// CausalSelfAttention in float64), the CUDA block (composed from llmlab's matmul and attention
/// launchers) against the reference under the ratio rule in fp32 and bf16, reruns bitwise equal,
/// and the launchers' errors.

#include "llmlab/cuda/attention_block.cuh"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/attention_block.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
namespace cu = llmlab::cuda;
namespace ref = llmlab::ref;
using llmlab::DType;
using llmlab::oracle::compare_exact;
using llmlab::oracle::compare_golden;
using llmlab::oracle::Rule;
using llmlab::testing::check;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_all_agree;
using llmlab::testing::expect_error;
using llmlab::testing::Expected;
using llmlab::testing::golden_cases;
using llmlab::testing::Outputs;
using llmlab::testing::tensor;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "attention_block";

// ---- the reference against PyTorch --------------------------------------------------------------

template <std::size_t N>
xt::xtensor<double, N> input(const std::string& c, const char* what) {
  return xt::cast<double>(llmlab::load_npy<float>(kGolden / (c + "_" + what + ".npy")));
}

std::vector<double> golden(const std::string& c, const char* what) {
  const xt::xarray<double> g = llmlab::load_npy<double>(kGolden / (c + "_" + what + ".npy"));
  return widened(g);
}

TEST(AttentionBlockReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases(kGolden);
  ASSERT_EQ(cases.size(), 2u) << "golden files in " << kGolden;
  for (const std::string& c : cases) {
    const auto x = input<3>(c, "x");
    const ref::AttentionBlockParams<double> p{input<2>(c, "c_attn_w"), input<1>(c, "c_attn_b"),
                                              input<2>(c, "c_proj_w"), input<1>(c, "c_proj_b")};
    const std::int64_t H = std::stoll(c.substr(c.rfind("_h") + 2));
    const auto f = ref::attention_block_forward(x, p, H);
    xt::xtensor<double, 3> dx = xt::zeros<double>(x.shape());
    auto g = ref::attention_block_zero_grads<double>(static_cast<std::int64_t>(x.shape()[2]));
    ref::attention_block_backward(input<3>(c, "dy"), x, p, f.saved, H, dx, g);
    const auto agree = [&](const char* name, const std::vector<double>& got) {
      LLMLAB_EXPECT_AGREES(
          compare_golden(std::string("ref<double> attention_block ") + name + " " + c,
                         golden(c, name), got, Rule::relative(1e-10)));
    };
    agree("out", widened(f.y));
    agree("dx", widened(dx));
    agree("dc_attn_w", widened(g.c_attn_w));
    agree("dc_attn_b", widened(g.c_attn_b));
    agree("dc_proj_w", widened(g.c_proj_w));
    agree("dc_proj_b", widened(g.c_proj_b));
  }
}

TEST(AttentionBlockReference, RejectsHeadsThatDoNotDivideCAndWrongParameterShapes) {
  const xt::xtensor<double, 3> x = xt::zeros<double>({1, 2, 6});
  auto p = ref::attention_block_zero_grads<double>(6);
  expect_error([&] { ref::attention_block_forward(x, p, 4); },
               {"attention_block_forward", "H = 4 does not divide C = 6"});
  p.c_proj_b = xt::zeros<double>({5});
  expect_error([&] { ref::attention_block_forward(x, p, 2); },
               {"attention_block_forward", "c_proj_b is (5)"});
}

// ---- the CUDA block against the reference -------------------------------------------------------

/// One point of the block's sweep: x (B, T, C) with H heads.
struct BlockShape {
  std::int64_t B, T, C, H;
  std::string label() const {
    return "(B, T, C, H) = (" + std::to_string(B) + ", " + std::to_string(T) + ", " +
           std::to_string(C) + ", " + std::to_string(H) + ")";
  }
};

/// D = 8, 16, 32 and 64; T below, across and past a 32-key tile; B·T no multiple of a tile.
const std::vector<BlockShape> kShapes = {
    {2, 5, 16, 2}, {1, 17, 64, 4}, {2, 33, 96, 3}, {1, 64, 128, 2}};

/// Seeded inputs: x, dy, dx0 ~ U(±1); weights ~ U(±1/√C) (so the scores stay O(1)); biases and
/// the gradients' starting values ~ U(±0.1). Rounded to bf16 for a bf16 case (the gradients'
/// starting values are fp32 buffers and stay as they are, except dx0).
struct BlockCase {
  BlockShape s;
  DType dtype;
  std::vector<float> x, w_attn, b_attn, w_proj, b_proj, dy, dx0, dw_attn0, db_attn0, dw_proj0,
      db_proj0;
};

BlockCase make_case(const BlockShape& s, DType dtype) {
  llmlab::Rng rng(0xb10c + static_cast<std::uint64_t>(s.B * 1000 + s.T * 10 + s.C));
  const auto n = static_cast<std::size_t>(s.B * s.T * s.C), C = static_cast<std::size_t>(s.C);
  const double w = 1.0 / std::sqrt(static_cast<double>(s.C));
  BlockCase k{s,
              dtype,
              rng.uniform_floats(n),
              rng.uniform_floats(3 * C * C, -w, w),
              rng.uniform_floats(3 * C, -0.1, 0.1),
              rng.uniform_floats(C * C, -w, w),
              rng.uniform_floats(C, -0.1, 0.1),
              rng.uniform_floats(n),
              rng.uniform_floats(n),
              rng.uniform_floats(3 * C * C, -0.1, 0.1),
              rng.uniform_floats(3 * C, -0.1, 0.1),
              rng.uniform_floats(C * C, -0.1, 0.1),
              rng.uniform_floats(C, -0.1, 0.1)};
  if (dtype == DType::bf16)
    for (auto* v : {&k.x, &k.w_attn, &k.b_attn, &k.w_proj, &k.b_proj, &k.dy, &k.dx0})
      *v = llmlab::testing::rounded_to_bf16(*v);
  return k;
}

template <class T>
struct BlockRun {
  xt::xtensor<T, 3> y, dx;
  ref::AttentionBlockParams<T> grads;
};

/// The reference in T: y, and dx, grads accumulated onto the case's starting values.
template <class T>
BlockRun<T> reference(const BlockCase& k) {
  const auto B = static_cast<std::size_t>(k.s.B), Tn = static_cast<std::size_t>(k.s.T),
             C = static_cast<std::size_t>(k.s.C);
  const std::array<std::size_t, 3> act{B, Tn, C};
  const auto x = tensor<T>(k.x, act);
  const ref::AttentionBlockParams<T> p{
      tensor<T>(k.w_attn, std::array<std::size_t, 2>{3 * C, C}), tensor<T>(k.b_attn),
      tensor<T>(k.w_proj, std::array<std::size_t, 2>{C, C}), tensor<T>(k.b_proj)};
  const auto f = ref::attention_block_forward<T>(x, p, k.s.H);
  BlockRun<T> r{f.y,
                tensor<T>(k.dx0, act),
                {tensor<T>(k.dw_attn0, std::array<std::size_t, 2>{3 * C, C}), tensor<T>(k.db_attn0),
                 tensor<T>(k.dw_proj0, std::array<std::size_t, 2>{C, C}), tensor<T>(k.db_proj0)}};
  ref::attention_block_backward<T>(tensor<T>(k.dy, act), x, p, f.saved, k.s.H, r.dx, r.grads);
  return r;
}

/// The block's outputs with their rules: y and dx in the case's dtype; the parameter gradients
/// are fp32 buffers in every dtype (conventions), judged at fp32 precision in an fp32 block. In a
/// bf16 block they are judged at bf16 precision — the float reference rounded once to bf16 as the
/// baseline (k = 3): every activation they are summed from (c_proj's input, and d[Q|K|V] for
/// c_attn) is itself a bf16 tensor of the block, rounded in the forward or the backward, so each
/// product carries bf16's relative error, ~200× fp32's, which no fp32 summation order recovers.
/// y and dx pass bf16's own rule without that reason.
std::vector<Expected> expected(const BlockCase& k) {
  const auto r64 = reference<double>(k);
  const auto r32 = reference<float>(k);
  const Rule param = Rule::gradient(k.dtype);
  return {{"y", Rule::forward(k.dtype), widened(r64.y), widened(r32.y)},
          {"dx", Rule::gradient(k.dtype), widened(r64.dx), widened(r32.dx)},
          {"dc_attn_w", param, widened(r64.grads.c_attn_w), widened(r32.grads.c_attn_w)},
          {"dc_attn_b", param, widened(r64.grads.c_attn_b), widened(r32.grads.c_attn_b)},
          {"dc_proj_w", param, widened(r64.grads.c_proj_w), widened(r32.grads.c_proj_w)},
          {"dc_proj_b", param, widened(r64.grads.c_proj_b), widened(r32.grads.c_proj_b)}};
}

/// The CUDA block's forward then backward on a case in element type E (with_workspace: the
/// overloads taking the caller's workspace, which must allocate nothing).
template <class E>
Outputs run_block(const BlockCase& k, bool with_workspace = false) {
  const auto& s = k.s;
  const std::int64_t n = s.B * s.T * s.C;
  DeviceBuffer<E> x(device_values<E>(k.x)), wa(device_values<E>(k.w_attn)),
      ba(device_values<E>(k.b_attn)), wp(device_values<E>(k.w_proj)),
      bp(device_values<E>(k.b_proj)), y(n), heads(3 * n), merged(n), dy(device_values<E>(k.dy)),
      dx(device_values<E>(k.dx0));
  DeviceBuffer<float> lse(s.B * s.H * s.T), dwa(k.dw_attn0), dba(k.db_attn0), dwp(k.dw_proj0),
      dbp(k.db_proj0);
  y.fill_nan();
  const cu::AttentionBlockWeights<E> w{wa.cget(), ba.cget(), wp.cget(), bp.cget()};
  const cu::AttentionBlockSaved<E> saved{heads.get(), merged.get(), lse.get()};
  const cu::AttentionBlockDims dims{s.B, s.T, s.C, s.H};
  const cu::AttentionBlockGrads grads{dwa.get(), dba.get(), dwp.get(), dbp.get()};
  if (with_workspace) {
    const cu::AttentionBlockWorkspaceSize size = cu::attention_block_workspace_size(dims);
    EXPECT_EQ(size.elements, 9 * n);
    DeviceBuffer<E> ws_e(size.elements);
    DeviceBuffer<float> ws_f(size.floats);
    const cu::AttentionBlockWorkspace<E> ws{ws_e.get(), ws_f.get()};
#if LLMLAB_EMULATED
    llmlab::emu::reset_memory_counters();
#endif
    check(cu::attention_block_forward(x.cget(), w, y.get(), saved, dims, true, ws),
          "attention_block_forward");
    check(cu::attention_block_backward(dy.cget(), x.cget(), w, saved, dx.get(), grads, dims, true,
                                       ws),
          "attention_block_backward");
#if LLMLAB_EMULATED
    EXPECT_EQ(llmlab::emu::memory_counters().allocations, 0);
#endif
  } else {
    check(cu::attention_block_forward(x.cget(), w, y.get(), saved, dims),
          "attention_block_forward");
    check(cu::attention_block_backward(dy.cget(), x.cget(), w, saved, dx.get(), grads, dims),
          "attention_block_backward");
  }
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return {{"y", y.widened()},           {"dx", dx.widened()},         {"dc_attn_w", dwa.widened()},
          {"dc_attn_b", dba.widened()}, {"dc_proj_w", dwp.widened()}, {"dc_proj_b", dbp.widened()}};
}

TEST(AttentionBlockKernels, Float32MatchesReferenceUnderTheRatioRule) {
  for (const BlockShape& s : kShapes) {
    const BlockCase k = make_case(s, DType::f32);
    expect_all_agree("attention_block f32 " + s.label(), expected(k), run_block<float>(k));
  }
}

TEST(AttentionBlockKernels, Bfloat16MatchesReferenceUnderTheRatioRule) {
  for (const BlockShape& s : kShapes) {
    const BlockCase k = make_case(s, DType::bf16);
    expect_all_agree("attention_block bf16 " + s.label(), expected(k), run_block<__nv_bfloat16>(k));
  }
}

TEST(AttentionBlockKernels, TwoRunsGiveBitwiseEqualResults) {
  const BlockCase k = make_case(kShapes[2], DType::f32);
  const Outputs first = run_block<float>(k), second = run_block<float>(k);
  for (const auto& [name, values] : first)
    LLMLAB_EXPECT_AGREES(compare_exact("rerun " + name, values, second.at(name)));
}

TEST(AttentionBlockKernels, TheCallersWorkspaceGivesTheSameBitsAndAllocatesNothing) {
  const BlockCase k = make_case(kShapes[2], DType::f32);
  const Outputs own = run_block<float>(k), given = run_block<float>(k, true);
  for (const auto& [name, values] : own)
    LLMLAB_EXPECT_AGREES(compare_exact("workspace " + name, values, given.at(name)));
}

TEST(AttentionBlockLauncher, RejectsBadArgumentsNamingThem) {
  DeviceBuffer<float> b(3 * 2 * 6 * 6);
  float* p = b.get();
  const cu::AttentionBlockWeights<float> w{p, p, p, p};
  const cu::AttentionBlockSaved<float> saved{p, p, p};
  expect_error(
      [&] {
        cu::attention_block_forward(p, w, p, saved, {1, 2, 6, 4});
      },
      {"attention_block_forward", "H = 4 does not divide C = 6"});
  expect_error(
      [&] {
        cu::attention_block_forward(p, w, p, saved, {1, 0, 6, 2});
      },
      {"attention_block_forward", "T = 0"});
  expect_error(
      [&] {
        cu::attention_block_forward(p, w, nullptr, saved, {1, 2, 6, 2});
      },
      {"attention_block_forward", "y is null"});
  expect_error(
      [&] {
        cu::attention_block_backward(p, p, w, saved, p, {p, nullptr, p, p}, {1, 2, 6, 2});
      },
      {"attention_block_backward", "grads.c_attn_b is null"});
  expect_error(
      [&] {
        cu::attention_block_forward(p, w, p, saved, {1, 2, 6, 2}, true,
                                    cu::AttentionBlockWorkspace<float>{nullptr, p});
      },
      {"attention_block_forward", "workspace.e is null"});
  expect_error(
      [&] {
        cu::attention_block_backward(p, p, w, saved, p, {p, p, p, p}, {1, 2, 6, 2}, true,
                                     cu::AttentionBlockWorkspace<float>{p, nullptr});
      },
      {"attention_block_backward", "workspace.f is null"});
}

}  // namespace
