/// \file
/// \brief The GPT-2 model in the reference against PyTorch (tests/golden/gpt, nanoGPT's GPT in
/// float64 on V = 64, block_size = 8, L = 2, H = 2, C = 16): logits, the mean loss and every
/// parameter's gradient; the float reference within a float bound; ten training steps (AdamW,
/// clipping, the schedule) against torch.optim.AdamW; the configuration's and the inputs' errors.

#include "llmlab/ref/gpt.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/npy.hpp"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/compose.hpp"
#include "llmlab/ref/residual.hpp"
#include "llmlab/ref/train.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/gpt_golden.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
namespace ref = llmlab::ref;
using llmlab::oracle::compare_golden;
using llmlab::oracle::Rule;
using llmlab::testing::expect_error;
using llmlab::testing::widened;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "gpt";

template <class T>
xt::xarray<T> load(const char* what) {
  return llmlab::testing::load_gpt_golden<T>(kGolden, what);
}

template <class T>
llmlab::testing::GptGoldenCase<T> golden_case() {
  return llmlab::testing::load_gpt_golden_case<T>(kGolden);
}

/// Logits, loss and every gradient of the T-precision reference against PyTorch under `rule`.
template <class T>
void expect_matches_pytorch(const Rule& rule, const std::string& label) {
  auto k = golden_case<T>();
  const auto f = ref::gpt_forward(k.cfg, k.p, k.ids, k.targets);
  auto g = ref::gpt_backward(k.cfg, k.p, k.ids, k.targets, f);
  llmlab::testing::expect_gpt_matches_golden(kGolden, rule, label, f, g);
}

TEST(GptReference, InDoubleMatchesPyTorchFloat64ToTwelveDigits) {
  // PyTorch and the reference differ only in the order of float64 sums (BLAS blocks its own way):
  // measured at most 1e-15 of the largest value (logits and every gradient); 1e-12 leaves 1,000×
  // room for another BLAS's order, and is 1,000× tighter than the 1e-9.
  expect_matches_pytorch<double>(Rule::relative(1e-12), "ref<double> gpt");
}

TEST(GptReference, InFloatMatchesPyTorchWithinFloatRounding) {
  // float32 throughout: some 20 layers deep (forward and backward) each rounding at 2^-24 ≈ 6e-8,
  // and the sums over N·C and 4C terms: measured at most 1.3e-6 of the largest value (ln_1's
  // gain's gradient, at the bottom of the backward); 1e-5 leaves 8× room, and still lies far
  // below a wrong gradient's error (a dropped term is O(1) relative).
  expect_matches_pytorch<float>(Rule::relative(1e-5), "ref<float> gpt");
}

TEST(GptReference, TenAdamWStepsWithClippingMatchPyTorch) {
  // The whole training step (forward, backward, global-norm clipping to 1, AdamW with decay on the
  // 2-D tensors, warm-up 2 + cosine to step 10 from 1e-2 to 1e-3) ten times on the golden batch,
  // in float, against torch.optim.AdamW in float64.
  auto k = golden_case<float>();
  ref::TrainOptions o;
  o.batch = 2;
  o.steps = 10;
  o.warmup = 2;
  o.lr = 1e-2;
  o.min_lr = 1e-3;
  o.weight_decay = 0.1;
  o.beta1 = 0.9;
  o.beta2 = 0.95;
  o.eps = 1e-8;
  o.clip = 1.0;
  ref::TrainState s = ref::train_init(k.cfg, o);
  s.params = k.p;
  std::vector<double> losses, norms;
  for (int i = 0; i < 10; ++i) {
    const ref::StepStats st = ref::train_step(s, ref::Batch{k.ids, k.targets});
    losses.push_back(st.loss);
    norms.push_back(st.grad_norm);
  }
  // float's rounding of the gradients (≤ 1.3e-6 of the largest, above) passes through Adam's
  // m / √v, which does not shrink it, for ten steps of at most lr = 1e-2 each: measured at most
  // 4.6e-6 of the largest parameter (h.1.mlp.c_fc.weight); 3e-5 leaves 6× room, and a wrong
  // step moves the parameters by ~lr = 1e-2, far outside it (without the clipping 30 of the 31
  // comparisons fail).
  const Rule rule = Rule::relative(3e-5);
  LLMLAB_EXPECT_AGREES(compare_golden("ref<float> adamw10 losses",
                                      widened(load<double>("adamw10_losses")), losses, rule));
  LLMLAB_EXPECT_AGREES(compare_golden("ref<float> adamw10 norms",
                                      widened(load<double>("adamw10_norms")), norms, rule));
  const xt::xarray<double> want = load<double>("adamw10_params");
  std::size_t at = 0;
  const std::size_t C = static_cast<std::size_t>(k.cfg.n_embd);
  for (const auto& t : ref::gpt_tensors(s.params)) {
    std::vector<double> w(want.data() + at, want.data() + at + t.size),
        got(t.data, t.data + t.size);
    if (t.name.ends_with("attn.c_attn.bias")) {
      // The key's bias [C, 2C) adds q·b_k to every score of a query's row, which softmax ignores:
      // its gradient is exactly 0, computed as rounding noise (1e-9 in float, 1e-17 in float64),
      // and Adam's m / √v turns any noise into steps of ±lr. Both sides' values there are noise
      // of no effect on the loss, so only the query's and the value's biases are compared.
      w.erase(w.begin() + static_cast<std::ptrdiff_t>(C),
              w.begin() + static_cast<std::ptrdiff_t>(2 * C));
      got.erase(got.begin() + static_cast<std::ptrdiff_t>(C),
                got.begin() + static_cast<std::ptrdiff_t>(2 * C));
    }
    LLMLAB_EXPECT_AGREES(compare_golden("ref<float> adamw10 " + t.name, w, got, rule));
    at += t.size;
  }
}

TEST(GptReference, TheWeightIsTiedAndUnusedPositionsGetNoGradient) {
  auto k = golden_case<double>();
  const auto f = ref::gpt_forward(k.cfg, k.p, k.ids, k.targets);
  const auto g = ref::gpt_backward(k.cfg, k.p, k.ids, k.targets, f);
  // T = 7 < block_size = 8: wpe's last row is never read
  for (std::size_t c = 0; c < g.wpe.shape()[1]; ++c) EXPECT_EQ(g.wpe(7, c), 0.0);
  // the ignored target counts in neither the loss nor the mean: |S| = 13
  EXPECT_EQ(f.losses(1, 3), 0.0);
  EXPECT_EQ(ref::gpt_num_params(k.cfg), 64 * 16 + 8 * 16 + 2 * (12 * 256 + 13 * 16) + 32);
  std::size_t n = 0;
  for (const auto& t : ref::gpt_tensors(k.p)) n += t.size;
  EXPECT_EQ(static_cast<std::int64_t>(n), ref::gpt_num_params(k.cfg));
}

TEST(GptReference, InitIsSeededAndShapedAsNanoGpt) {
  const ref::GptConfig cfg{32, 8, 2, 2, 16};
  auto a = ref::gpt_init<float>(cfg, 7), b = ref::gpt_init<float>(cfg, 7);
  EXPECT_EQ(a.wte, b.wte);
  EXPECT_TRUE(xt::all(xt::equal(a.h[1].ln_2_w, 1.0f)));
  EXPECT_TRUE(xt::all(xt::equal(a.h[0].fc_b, 0.0f)));
  // N(0, 0.02²) on wte's 512 draws: the sample deviation within 15 % of 0.02
  const double sd = std::sqrt(static_cast<double>(xt::mean(a.wte * a.wte)()));
  EXPECT_NEAR(sd, 0.02, 0.003);
  const double sdp = std::sqrt(static_cast<double>(xt::mean(a.h[0].proj_w * a.h[0].proj_w)()));
  EXPECT_NEAR(sdp, 0.01, 0.0015);  // 0.02 / √(2L) with L = 2
}

TEST(GptReference, RejectsBadConfigurationsAndInputsByName) {
  expect_error(
      [] {
        ref::gpt_zeros<float>({64, 8, 2, 3, 16});
      },
      {"gpt", "n_head = 3 does not divide n_embd = 16"});
  expect_error([] { ref::gpt_zeros<float>({0, 8, 2, 2, 16}); }, {"gpt", "vocab_size = 0"});
  const ref::GptConfig cfg{32, 4, 1, 2, 8};
  auto p = ref::gpt_init<float>(cfg, 1);
  const xt::xtensor<std::int32_t, 2> none = xt::zeros<std::int32_t>({0, 0});
  expect_error(
      [&] {
        ref::gpt_forward(cfg, p, xt::xtensor<std::int32_t, 2>(xt::zeros<std::int32_t>({1, 5})),
                         none);
      },
      {"gpt_forward", "block_size = 4"});
  expect_error(
      [&] {
        ref::gpt_forward(cfg, p, xt::xtensor<std::int32_t, 2>{{1, 32}}, none);
      },
      {"32"});
  expect_error(
      [&] {
        ref::gpt_forward(cfg, p, xt::xtensor<std::int32_t, 2>{{1, 2}},
                         xt::xtensor<std::int32_t, 2>{{1}});
      },
      {"gpt_forward", "targets is (1, 1)"});
  p.h[0].fc_b = xt::zeros<float>({7});
  expect_error(
      [&] {
        ref::gpt_forward(cfg, p, xt::xtensor<std::int32_t, 2>{{1, 2}}, none);
      },
      {"gpt_forward", "h.0.mlp.c_fc.bias is (7)"});
}

// The composition's glue (compose.hpp): a temporary reshaped keeps its elements where they are,
// and the residual on (B, T, C) is residual_forward's sum with its errors.
TEST(GptCompose, ReshapedMovesATemporarysElementsAndChecksTheSize) {
  xt::xtensor<float, 3> t = xt::empty<float>({2, 3, 4});
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i);
  const float* storage = t.data();
  const xt::xtensor<float, 2> rows = ref::reshaped<float, 2>(std::move(t), {6, 4});
  EXPECT_EQ(rows.data(), storage);  // moved, not copied
  EXPECT_EQ(rows(1, 0), 4.0f);      // row-major: (0, 1, 0) is row 1
  EXPECT_EQ(rows(5, 3), 23.0f);
  const xt::xtensor<float, 3> copy = ref::reshaped<float, 3>(rows, {3, 2, 4});  // an lvalue: copied
  EXPECT_NE(copy.data(), rows.data());
  EXPECT_EQ(copy(2, 1, 3), 23.0f);
  xt::xtensor<float, 2> other = xt::zeros<float>({5, 5});
  expect_error([&] { ref::reshaped<float, 1>(std::move(other), {24}); },
               {"reshaped", "25 elements", "24"});
}

TEST(GptCompose, ResidualAddIsTheResidualComponentOnActivations) {
  xt::xtensor<double, 3> a = xt::empty<double>({2, 3, 4}), b = a;
  for (std::size_t i = 0; i < a.size(); ++i) {
    a.data()[i] = 0.1 * static_cast<double>(i);
    b.data()[i] = 1.0 / (1.0 + static_cast<double>(i));
  }
  const xt::xtensor<double, 3> sum = ref::residual_add(a, b);
  const xt::xarray<double> expected = ref::residual_forward<double>(a, b);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(sum.data()[i], expected.data()[i]);
  xt::xtensor<double, 3> da = xt::ones<double>({2, 3, 4}), db = xt::zeros<double>({2, 3, 4});
  ref::residual_add_backward(b, da, db);  // both accumulate dout
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(da.data()[i], 1.0 + b.data()[i]);
    EXPECT_EQ(db.data()[i], b.data()[i]);
  }
  xt::xtensor<double, 3> wrong = xt::zeros<double>({2, 3, 5});
  expect_error([&] { ref::residual_add(a, wrong); },
               {"residual_forward", "a is (2, 3, 4) but b is (2, 3, 5)"});
  expect_error([&] { ref::residual_add_backward(a, da, wrong); },
               {"residual_backward", "db is (2, 3, 5)"});
}

}  // namespace
