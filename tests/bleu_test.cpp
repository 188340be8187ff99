/// \file
/// \brief llmlab::ref::corpus_bleu against sacrebleu's own numbers (tests/golden/bleu/cases.json,
/// written by tests/golden/bleu_golden.py with sacrebleu.corpus_bleu): the score, the n-gram counts
/// and totals, the precisions, BP and the lengths to ≤ 1e-9, the printed line exactly, and the 13a
/// tokenization of every hypothesis; Python's whitespace table; and the refusals.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/bleu.hpp"

namespace {

using llmlab::ref::corpus_bleu;

const nlohmann::json& golden() {
  static const nlohmann::json j = [] {
    std::ifstream f(std::string(LLMLAB_GOLDEN_DIR) + "/bleu/cases.json");
    if (!f) throw std::runtime_error("tests/golden/bleu/cases.json is missing");
    return nlohmann::json::parse(f);
  }();
  return j;
}

/// |a - b| ≤ 1e-9 · max(1, |b|): the same operations in the same order as sacrebleu's Python, so
/// only libm's last bit could differ (measured: equal).
void expect_close(double a, double b, const std::string& what) {
  EXPECT_LE(std::abs(a - b), 1e-9 * std::max(1.0, std::abs(b))) << what << ": " << a << " vs " << b;
}

TEST(Bleu, MatchesSacrebleuOnEveryGoldenCase) {
  int checked = 0;
  for (const auto& c : golden().at("cases")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    const auto hyps = c.at("hypotheses").get<std::vector<std::string>>();
    const auto refs = c.at("references").get<std::vector<std::string>>();
    const llmlab::ref::BleuScore s = corpus_bleu(hyps, refs);
    expect_close(s.score, c.at("score"), "score");
    expect_close(s.bp, c.at("bp"), "BP");
    for (int n = 0; n < llmlab::ref::kBleuMaxOrder; ++n) {
      EXPECT_EQ(s.counts[n], c.at("counts")[n].get<std::int64_t>()) << "counts, order " << n + 1;
      EXPECT_EQ(s.totals[n], c.at("totals")[n].get<std::int64_t>()) << "totals, order " << n + 1;
      expect_close(s.precisions[n], c.at("precisions")[n], "precision " + std::to_string(n + 1));
    }
    EXPECT_EQ(s.sys_len, c.at("sys_len").get<std::int64_t>());
    EXPECT_EQ(s.ref_len, c.at("ref_len").get<std::int64_t>());
    EXPECT_EQ(llmlab::ref::format_bleu(s), c.at("line").get<std::string>());
    const auto tokenized = c.at("tokenized").get<std::vector<std::string>>();
    for (std::size_t i = 0; i < hyps.size(); ++i)
      EXPECT_EQ(llmlab::ref::tokenize_13a(hyps[i]), tokenized[i]) << "hypothesis " << i;
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(Bleu, TheCasesCoverTheEdges) {
  // what the golden file must contain for the comparison above to mean something
  std::set<std::string> names;
  bool bp_below_1_nonzero = false, zero_order = false;
  for (const auto& c : golden().at("cases")) {
    names.insert(c.at("name").get<std::string>());
    if (c.at("bp").get<double>() < 1 && c.at("score").get<double>() > 0) bp_below_1_nonzero = true;
    const auto counts = c.at("counts").get<std::vector<std::int64_t>>();
    if (counts[0] > 0 && counts[2] == 0 && c.at("score").get<double>() > 0) zero_order = true;
  }
  for (const char* n : {"punctuation", "numbers", "dashes", "html_entities", "non_ascii",
                        "empty_hypothesis", "no_match_at_all", "short_hypothesis", "long_corpus"})
    EXPECT_TRUE(names.count(n)) << n;
  EXPECT_TRUE(bp_below_1_nonzero);
  EXPECT_TRUE(zero_order) << "a case with no match at order 3 but a score (exp smoothing)";
}

TEST(Bleu, PythonWhitespaceIsPythonsStrIsspace) {
  const auto want = golden().at("python_isspace").get<std::vector<std::uint32_t>>();
  const std::set<std::uint32_t> wanted(want.begin(), want.end());
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp)
    ASSERT_EQ(llmlab::ref::python_isspace(static_cast<char32_t>(cp)), wanted.count(cp) == 1)
        << "U+" << std::hex << cp;
}

TEST(Bleu, AWrongScoreWouldBeSeen) {
  // the comparison can fail: one changed word changes the statistics sacrebleu recorded
  const auto& c = golden().at("cases")[1];
  auto hyps = c.at("hypotheses").get<std::vector<std::string>>();
  hyps[0] += " extra";
  const auto s = corpus_bleu(hyps, c.at("references").get<std::vector<std::string>>());
  EXPECT_NE(s.totals[0], c.at("totals")[0].get<std::int64_t>());
  EXPECT_NE(llmlab::ref::format_bleu(s), c.at("line").get<std::string>());
}

TEST(Bleu, RefusesWhatSacrebleuRefuses) {
  EXPECT_THROW(corpus_bleu({}, {}), llmlab::Error);
  try {
    corpus_bleu({"a", "b"}, {"a"});
    FAIL() << "no error";
  } catch (const llmlab::Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 hypotheses but 1 references"), std::string::npos)
        << e.what();
  }
  try {
    corpus_bleu({"ok \xff bad"}, {"ok"});
    FAIL() << "no error";
  } catch (const llmlab::Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte 3"), std::string::npos) << e.what();
  }
}

}  // namespace
