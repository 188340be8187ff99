#pragma once
/// \file
/// \ingroup group_gpt
/// \brief The whole-model oracle's golden case (tests/golden/gpt, written by make_golden.py's
/// gpt(): nanoGPT's GPT in PyTorch float64 on V = 64, block_size = 8, L = 2, H = 2, C = 16), and
/// the comparison of a model's logits, loss and every gradient with it — shared by
/// tests/gpt_test.cpp (the reference) and chapter 07's checks (the student's model).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/npy.hpp"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/gpt.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// The golden case's name, the prefix of its files.
inline const std::string kGptGoldenCase = "v64_t8_l2_h2_c16";

/// One array of the golden case: `<dir>/<kGptGoldenCase>_<what>.npy`.
/// @param dir the golden folder (tests/golden/gpt)   @param what e.g. "loss", "grads"
template <class T>
xt::xarray<T> load_gpt_golden(const std::filesystem::path& dir, const std::string& what) {
  return load_npy<T>(dir / (kGptGoldenCase + "_" + what + ".npy"));
}

/// The golden case: its configuration, batch (ids and targets, B = 2, T = 7, one target −100)
/// and parameters (PyTorch's float32 draws, widened to T), in ref::gpt_tensors' order.
template <class T>
struct GptGoldenCase {
  ref::GptConfig cfg;                     ///< V = 64, block_size = 8, L = 2, H = 2, C = 16
  xt::xtensor<std::int32_t, 2> ids;      ///< (2, 7)
  xt::xtensor<std::int32_t, 2> targets;  ///< (2, 7), target [1, 3] is −100
  ref::GptParams<T> p;                   ///< the model PyTorch ran
};

/// Loads the golden case from `dir`; a parameter count that differs from the file's fails the
/// running test.
template <class T>
GptGoldenCase<T> load_gpt_golden_case(const std::filesystem::path& dir) {
  const xt::xarray<std::int64_t> c = load_gpt_golden<std::int64_t>(dir, "config");
  GptGoldenCase<T> k{{c(0), c(1), c(2), c(3), c(4)},
                     load_gpt_golden<std::int32_t>(dir, "ids"),
                     load_gpt_golden<std::int32_t>(dir, "targets"),
                     {}};
  k.p = ref::gpt_zeros<T>(k.cfg);
  const xt::xarray<float> flat = load_gpt_golden<float>(dir, "params");
  std::size_t at = 0;
  for (auto& t : ref::gpt_tensors(k.p)) {
    std::transform(flat.data() + at, flat.data() + at + t.size, t.data,
                   [](float v) { return static_cast<T>(v); });
    at += t.size;
  }
  EXPECT_EQ(at, flat.size()) << "the golden parameters' count";
  return k;
}

/// Expects a model's logits (B, T, V), mean loss and every gradient (shaped as the parameters,
/// in ref::gpt_tensors' order) to agree with PyTorch's under `rule`, each reported by the oracle
/// with its name ("<label> logits", "<label> dtransformer.h.0.ln_1.weight", …).
template <class T>
void expect_gpt_matches_golden(const std::filesystem::path& dir, const oracle::Rule& rule,
                               const std::string& label, const ref::GptForward<T>& f,
                               ref::GptParams<T>& g) {
  using oracle::compare_golden;
  LLMLAB_EXPECT_AGREES(compare_golden(label + " logits",
                                      widened(load_gpt_golden<double>(dir, "out")),
                                      widened(f.logits), rule));
  LLMLAB_EXPECT_AGREES(compare_golden(label + " loss", widened(load_gpt_golden<double>(dir, "loss")),
                                      std::vector<double>{static_cast<double>(f.loss)}, rule));
  const xt::xarray<double> grads = load_gpt_golden<double>(dir, "grads");
  std::size_t at = 0;
  for (const auto& t : ref::gpt_tensors(g)) {
    const std::vector<double> want(grads.data() + at, grads.data() + at + t.size);
    const std::vector<double> got(t.data, t.data + t.size);
    LLMLAB_EXPECT_AGREES(compare_golden(label + " d" + t.name, want, got, rule));
    at += t.size;
  }
  EXPECT_EQ(at, grads.size()) << "the golden gradients' count";
}

}  // namespace llmlab::testing
