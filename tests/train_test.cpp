/// \file
/// \brief Training the reference GPT: the loss falls on a tiny corpus, a run saved and resumed is
/// bitwise the uninterrupted one, and so is a run on 2 or 3 threads (set_cpu_threads), bad
/// checkpoints are refused by name, the batches are the stream's windows shifted by one, greedy
/// generation continues a learnt pattern, a NaN loss stops the step.

#include "llmlab/ref/train.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "llmlab/testing/expect.hpp"

namespace {

namespace fs = std::filesystem;
namespace ref = llmlab::ref;
using llmlab::testing::expect_error;

/// A few hundred characters of English as ids in [0, 64) (the byte's low 6 bits).
std::vector<std::int32_t> tiny_corpus() {
  const std::string text =
      "It was the best of times, it was the worst of times, it was the age of wisdom, it was the "
      "age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was "
      "the season of Light, it was the season of Darkness, it was the spring of hope, it was the "
      "winter of despair, we had everything before us, we had nothing before us.";
  std::vector<std::int32_t> ids;
  for (const char c : text) ids.push_back(static_cast<unsigned char>(c) & 63);
  return ids;
}

const ref::GptConfig kCfg{64, 16, 2, 2, 32};

ref::TrainOptions options(std::int64_t steps) {
  ref::TrainOptions o;
  o.batch = 4;
  o.steps = steps;
  o.warmup = 4;
  o.lr = 3e-3;
  o.min_lr = 3e-4;
  o.seed = 42;
  return o;
}

/// A file of this process alone: ctest runs the test once per emulator schedule, in parallel.
fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() /
         ("llmlab_train_test_" + std::to_string(::getpid()) + "_" + name);
}

TEST(Train, LossFallsClearlyOnATinyCorpusInFortySteps) {
  const auto tokens = tiny_corpus();
  ref::TrainState s = ref::train_init(kCfg, options(40));
  const double before = ref::evaluate(kCfg, s.params, tokens, 4, 16, 64);
  std::vector<double> losses;
  for (int i = 0; i < 40; ++i) losses.push_back(ref::train_step(s, tokens).loss);
  const double after = ref::evaluate(kCfg, s.params, tokens, 4, 16, 64);
  // at the start the model is close to uniform over 64 ids: log 64 ≈ 4.16
  EXPECT_NEAR(losses.front(), std::log(64.0), 0.1);
  // the last five steps' mean well under the first five's, and the evaluation's loss too
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += losses[static_cast<std::size_t>(i)] / 5;
  for (int i = 35; i < 40; ++i) last += losses[static_cast<std::size_t>(i)] / 5;
  EXPECT_LT(last, 0.75 * first) << "first " << first << " last " << last;
  EXPECT_LT(after, 0.75 * before) << "before " << before << " after " << after;
  EXPECT_EQ(s.step, 40);
  std::printf("loss: first five steps %.3f, last five %.3f; evaluation %.3f -> %.3f\n", first, last,
              before, after);
}

TEST(Train, ResumeIsBitwiseTheUninterruptedRun) {
  const auto tokens = tiny_corpus();
  ref::TrainState a = ref::train_init(kCfg, options(12));
  std::vector<double> la;
  for (int i = 0; i < 12; ++i) la.push_back(ref::train_step(a, tokens).loss);

  ref::TrainState b = ref::train_init(kCfg, options(12));
  std::vector<double> lb;
  for (int i = 0; i < 6; ++i) lb.push_back(ref::train_step(b, tokens).loss);
  const fs::path path = temp_file("resume.ckpt");
  ref::save_checkpoint(path, b);
  EXPECT_FALSE(fs::exists(fs::path(path.string() + ".tmp"))) << "the temporary file is renamed";
  ref::TrainState c = ref::load_checkpoint(path);
  EXPECT_EQ(c.step, 6);
  for (int i = 0; i < 6; ++i) lb.push_back(ref::train_step(c, tokens).loss);
  fs::remove(path);

  EXPECT_EQ(la, lb);  // exactly: every loss, bit for bit
  auto ta = ref::gpt_tensors(a.params), tc = ref::gpt_tensors(c.params);
  ASSERT_EQ(ta.size(), tc.size());
  for (std::size_t i = 0; i < ta.size(); ++i)
    EXPECT_EQ(std::memcmp(ta[i].data, tc[i].data, ta[i].size * sizeof(float)), 0) << ta[i].name;
}

TEST(Train, OneTwoAndThreeThreadsAreBitwiseTheSame) {
  // set_cpu_threads: every row, head and element computed whole by one thread, the GEMMs in
  // blocks of 512 rows of C, side by side (batch 40: N = 640 rows, blocks of 512 and 128) — the
  // same bits for any count. Fails if a loop's sum were shared between threads or the GEMMs were
  // split by the thread count (OpenBLAS's small-matrix kernels round differently: 64 rows in
  // one call and in two of 32 differed).
  const auto tokens = tiny_corpus();
  std::vector<std::vector<double>> losses;
  std::vector<ref::TrainState> states;
  for (const int n : {1, 2, 3}) {
    ref::set_cpu_threads(n);
    ref::TrainOptions o = options(4);
    o.batch = 40;
    states.push_back(ref::train_init(kCfg, o));
    losses.emplace_back();
    for (int i = 0; i < 4; ++i)
      losses.back().push_back(ref::train_step(states.back(), tokens).loss);
  }
  ref::set_cpu_threads(1);
  for (std::size_t r = 1; r < states.size(); ++r) {
    EXPECT_EQ(losses[0], losses[r]) << r + 1 << " threads";  // every loss, bit for bit
    auto ta = ref::gpt_tensors(states[0].params), tr = ref::gpt_tensors(states[r].params);
    ASSERT_EQ(ta.size(), tr.size());
    for (std::size_t i = 0; i < ta.size(); ++i)
      EXPECT_EQ(std::memcmp(ta[i].data, tr[i].data, ta[i].size * sizeof(float)), 0)
          << ta[i].name << ", " << r + 1 << " threads";
  }
  expect_error([] { ref::set_cpu_threads(-1); }, {"set_cpu_threads", "n = -1"});
  expect_error([] { ref::set_cpu_threads(100000); }, {"set_cpu_threads", "n = 100000", "1024"});
}

TEST(Train, GradAccumTwoOfFourIsBatchEightUpToRounding) {
  // batch 8 in one piece, and as 2 micro-batches of 4: the same windows (get_batch draws the 8
  // rows either way), the gradient the mean of the halves' — equal up to float rounding (the
  // per-token scale 1/(B T) and 1/2 are powers of two, so only the order of the sums over rows
  // differs). Tolerances: losses 1e-6 relative; parameters 1e-5 absolute after 5 AdamW steps
  // (lr 3e-3: a rounding-level gradient difference moves Adam's normalised update by far less).
  const auto tokens = tiny_corpus();
  ref::TrainOptions one = options(5), two = options(5);
  one.batch = 8;
  two.batch = 8;
  two.grad_accum = 2;
  ref::TrainState a = ref::train_init(kCfg, one), b = ref::train_init(kCfg, two);
  for (int i = 0; i < 5; ++i) {
    const double la = ref::train_step(a, tokens).loss, lb = ref::train_step(b, tokens).loss;
    EXPECT_NEAR(la, lb, 1e-6 * la) << "step " << i + 1;
  }
  const auto ta = ref::gpt_tensors(a.params), tb = ref::gpt_tensors(b.params);
  double worst = 0;
  for (std::size_t i = 0; i < ta.size(); ++i)
    for (std::size_t k = 0; k < ta[i].size; ++k)
      worst = std::max(worst, static_cast<double>(std::fabs(ta[i].data[k] - tb[i].data[k])));
  EXPECT_LE(worst, 1e-5);
  std::printf("grad_accum 2 x 4 vs batch 8: largest parameter difference %.3g after 5 steps\n",
              worst);
  // a grad_accum that does not divide the batch is refused by name; a checkpoint keeps it
  two.grad_accum = 3;
  expect_error([&] { ref::train_init(kCfg, two); }, {"train", "grad_accum = 3 does not divide"});
  const fs::path path = temp_file("accum.ckpt");
  ref::save_checkpoint(path, b);
  EXPECT_EQ(ref::load_checkpoint(path).opt.grad_accum, 2);
  fs::remove(path);
}

TEST(Train, BadCheckpointsAreRefusedByName) {
  const fs::path path = temp_file("bad.ckpt");
  expect_error([&] { ref::load_checkpoint(path.string() + ".missing"); },
               {"load_checkpoint", "no such file"});
  std::ofstream(path, std::ios::binary) << "not a checkpoint at all";
  expect_error([&] { ref::load_checkpoint(path); }, {"load_checkpoint", "no LLMLABCK magic"});

  ref::TrainState s = ref::train_init(kCfg, options(4));
  ref::save_checkpoint(path, s);
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  const auto write = [&](const std::string& b) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(b.data(), static_cast<std::streamsize>(b.size()));
  };
  write(bytes.substr(0, bytes.size() / 2));
  expect_error([&] { ref::load_checkpoint(path); }, {"load_checkpoint", "corrupted or truncated"});
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 1;
  write(flipped);
  expect_error([&] { ref::load_checkpoint(path); }, {"load_checkpoint", "corrupted"});
  std::string version = bytes;
  version[8] = 7;
  write(version);
  expect_error([&] { ref::load_checkpoint(path); }, {"load_checkpoint", "version 7"});

  // a state whose tensors do not match its config (wte for another vocabulary): its file has a
  // valid hash, and the load names the tensor and both shapes
  ref::TrainState wrong = s;
  wrong.params.wte = xt::zeros<float>({65, 32});
  ref::save_checkpoint(path, wrong);
  expect_error([&] { ref::load_checkpoint(path); },
               {"load_checkpoint", "transformer.wte.weight (65, 32)", "(64, 32)"});
  fs::remove(path);
}

TEST(Train, BatchesAreWindowsShiftedByOneAndAFunctionOfSeedAndStep) {
  std::vector<std::int32_t> stream(50);
  for (std::size_t i = 0; i < stream.size(); ++i) stream[i] = static_cast<std::int32_t>(i);
  const ref::Batch b = ref::get_batch(stream, 3, 8, 5, 11);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t t = 0; t < 8; ++t) {
      EXPECT_EQ(b.ids(i, t), b.ids(i, 0) + static_cast<std::int32_t>(t));
      EXPECT_EQ(b.targets(i, t), b.ids(i, t) + 1);
    }
  EXPECT_EQ(ref::get_batch(stream, 3, 8, 5, 11).ids, b.ids);
  EXPECT_NE(ref::get_batch(stream, 3, 8, 5, 12).ids, b.ids);
  expect_error([&] { ref::get_batch(std::span(stream).first(8), 1, 8, 0, 0); },
               {"get_batch", "8 tokens hold no window of T + 1 = 9"});
  expect_error(
      [] {
        ref::train_init(kCfg, [] {
          auto o = options(4);
          o.warmup = 5;
          return o;
        }());
      },
      {"train", "warmup = 5"});
}

TEST(Train, GreedyGenerationContinuesALearntCycle) {
  // the stream 0, 1, ..., 9, 0, 1, ...: after training, greedy decoding continues it
  std::vector<std::int32_t> stream(400);
  for (std::size_t i = 0; i < stream.size(); ++i) stream[i] = static_cast<std::int32_t>(i % 10);
  ref::TrainState s = ref::train_init({16, 8, 1, 2, 16}, options(60));
  s.opt.lr = 1e-2;
  for (int i = 0; i < 60; ++i) ref::train_step(s, stream);
  const auto out = ref::generate(s.cfg, s.params, {3, 4, 5}, 12, 0.0, 0, 1);
  ASSERT_EQ(out.size(), 15u);
  for (std::size_t i = 0; i < out.size(); ++i)
    EXPECT_EQ(out[i], static_cast<std::int32_t>((3 + i) % 10)) << "position " << i;
  // sampling: seeded, so two calls agree; top_k = 1 is greedy
  EXPECT_EQ(ref::generate(s.cfg, s.params, {3}, 8, 1.0, 0, 9),
            ref::generate(s.cfg, s.params, {3}, 8, 1.0, 0, 9));
  EXPECT_EQ(ref::generate(s.cfg, s.params, {3}, 8, 0.7, 1, 9),
            ref::generate(s.cfg, s.params, {3}, 8, 0.0, 0, 9));
  expect_error([&] { ref::generate(s.cfg, s.params, {}, 1, 0.0, 0, 1); }, {"generate", "empty"});
  expect_error([&] { ref::generate(s.cfg, s.params, {1}, 1, -1.0, 0, 1); },
               {"generate", "temperature"});
}

TEST(Train, ANonFiniteLossStopsTheStepAndKeepsTheParameters) {
  const auto tokens = tiny_corpus();
  ref::TrainState s = ref::train_init(kCfg, options(4));
  ref::train_step(s, tokens);
  s.params.ln_f_w(0) = NAN;
  const auto before = s.params.wte;
  expect_error([&] { ref::train_step(s, tokens); }, {"train_step", "at step 2"});
  EXPECT_EQ(s.step, 1);
  EXPECT_EQ(s.params.wte, before);
}

TEST(Train, ARefusedOptimizerStepKeepsTheParameters) {
  // train_step moves each parameter's storage into the optimizer's flat tensor and back: a refusal
  // (here the first moment of wte has the wrong size, as a hand-edited state could) must give the
  // values back, not leave wte empty.
  const auto tokens = tiny_corpus();
  ref::TrainState s = ref::train_init(kCfg, options(4));
  ref::train_step(s, tokens);
  const auto before = s.params.wte;
  s.m[0] = xt::zeros<float>({std::size_t{3}});
  expect_error([&] { ref::train_step(s, tokens); }, {"adamw_step", "m is (3)"});
  EXPECT_EQ(s.params.wte, before);
}

}  // namespace
