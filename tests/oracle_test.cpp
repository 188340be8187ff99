/// \file
/// \brief The oracle's own tests: every rule accepts an honest result and rejects a wrong one.
///
/// Expected budgets and values come from arithmetic stated next to them (powers of two, the
/// rounding of \f$ 1 + 2^{-24} \f$ to float), never from the oracle itself.

#include "llmlab/oracle/oracle.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/oracle/gtest.hpp"

namespace {

using llmlab::DType;
using llmlab::oracle::compare_exact;
using llmlab::oracle::compare_golden;
using llmlab::oracle::compare_ratio;
using llmlab::oracle::Report;
using llmlab::oracle::Rule;

using Vec = std::vector<double>;
using Ids = std::vector<std::int64_t>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// Whether `text` contains `part` (for messages).
bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Row sums of x (R, C) in double: the reference \f$ y^{64}_r = \sum_c x_{r,c} \f$.
Vec row_sums_f64(const std::vector<float>& x, int R, int C) {
  Vec out(R, 0.0);
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) out[r] += x[r * C + c];
  return out;
}

/// Row sums in float, left to right: the baseline \f$ y^{32} \f$, widened to double.
Vec row_sums_f32(const std::vector<float>& x, int R, int C) {
  Vec out(R);
  for (int r = 0; r < R; ++r) {
    float s = 0;
    for (int c = 0; c < C; ++c) s += x[r * C + c];
    out[r] = s;
  }
  return out;
}

/// Row sums in float, right to left: another order an honest kernel might use.
Vec row_sums_f32_reversed(const std::vector<float>& x, int R, int C) {
  Vec out(R);
  for (int r = 0; r < R; ++r) {
    float s = 0;
    for (int c = C; c-- > 0;) s += x[r * C + c];
    out[r] = s;
  }
  return out;
}

/// Sum of x[lo, hi) in float by halves, the way a tree reduction (a GPU block) adds.
float pairwise_f32(const float* x, int n) {
  if (n == 1) return x[0];
  const int h = n / 2;
  return pairwise_f32(x, h) + pairwise_f32(x + h, n - h);
}

/// \f$ \max_i |a_i - b_i| \f$, computed here so tests do not borrow the oracle's arithmetic.
double max_abs_diff(const Vec& a, const Vec& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

/// \f$ \max_i |a_i| \f$.
double max_abs(const Vec& a) {
  double m = 0;
  for (const double v : a) m = std::max(m, std::fabs(v));
  return m;
}

// ---- ratio rule: max|got − ref64| ≤ k · max|ref32 − ref64| + floor_ulps · ulp(max|ref64|)

TEST(Oracle, RatioRuleAcceptsAFloatSumAddedPairwise) {
  const int R = 8, C = 1000;
  const auto x = llmlab::Rng(1).uniform_floats(R * C);
  const Vec ref64 = row_sums_f64(x, R, C);
  const Vec ref32 = row_sums_f32(x, R, C);
  Vec got(R);
  for (int r = 0; r < R; ++r) got[r] = pairwise_f32(&x[r * C], C);

  const Report rep =
      compare_ratio("reduce_sum pairwise R=8 C=1000", ref64, ref32, got, Rule::forward());
  LLMLAB_EXPECT_AGREES(rep);
  EXPECT_EQ(rep.first_bad, -1);
  EXPECT_EQ(rep.count, static_cast<std::size_t>(R));
  EXPECT_EQ(rep.baseline_err, max_abs_diff(ref32, ref64));
  EXPECT_EQ(rep.max_abs_err, max_abs_diff(got, ref64));
}

TEST(Oracle, RatioRuleRejectsAKernelTwiceAsWrongAsTheBudget) {
  const int R = 8, C = 1000;
  const auto x = llmlab::Rng(2).uniform_floats(R * C);
  const Vec ref64 = row_sums_f64(x, R, C);
  const Vec ref32 = row_sums_f32(x, R, C);
  // The budget by hand: k = 2 times the baseline, plus 2 ulps of float at max|ref64|,
  // ulp(m) = 2^-23 · 2^floor(log2 m).
  const double ulp = std::ldexp(0x1p-23, std::ilogb(max_abs(ref64)));
  const double budget = 2 * max_abs_diff(ref32, ref64) + 2 * ulp;
  // A kernel that sums in another order and then gets row 5 wrong by twice the budget.
  Vec got = row_sums_f32_reversed(x, R, C);
  got[5] += 2 * budget;

  const Report rep = compare_ratio("reduce_sum wrong row 5", ref64, ref32, got, Rule::forward());
  EXPECT_FALSE(llmlab::oracle::agrees(rep));
  EXPECT_FALSE(rep.pass);
  EXPECT_DOUBLE_EQ(rep.budget, budget);
  EXPECT_EQ(rep.first_bad, 5);
  EXPECT_EQ(rep.got_at_bad, got[5]);
  EXPECT_EQ(rep.want_at_bad, ref64[5]);
  EXPECT_GT(rep.ratio, 2.0);
  EXPECT_TRUE(contains(rep.detail(), "first bad index 5:")) << rep.detail();
}

TEST(Oracle, RatioRuleBudgetIsTwiceTheRoundingOfOnePlusTwoToTheMinus24PlusTwoUlps) {
  // 1 + 2^-24 lies exactly halfway between the floats 1 and 1 + 2^-23; ties go to even, so float
  // addition gives 1 and the baseline error is 2^-24.
  const float one = 1.0f, half_ulp = 0x1p-24f;
  const float sum32 = one + half_ulp;
  ASSERT_EQ(sum32, 1.0f);
  const Vec ref64 = {1.0 + 0x1p-24, 0.5};
  const Vec ref32 = {sum32, 0.5};
  // max|ref64| is in [1, 2), so ulp(f32) = 2^-23; budget 2 · 2^-24 + 2 · 2^-23 = 3 · 2^-23.
  const double budget = 3 * 0x1p-23;

  const Vec at_budget = {ref64[0] + budget, 0.5};
  const Report ok = compare_ratio("at budget", ref64, ref32, at_budget, Rule::forward());
  LLMLAB_EXPECT_AGREES(ok);
  EXPECT_EQ(ok.baseline_err, 0x1p-24);
  EXPECT_EQ(ok.budget, budget);
  EXPECT_EQ(ok.max_abs_err, budget);
  EXPECT_EQ(ok.ratio, 6.0);  // 3 · 2^-23 / 2^-24
  // Printed as %.3e: 3 · 2^-23 = 3.5762786865234375e-07, 2^-24 = 5.9604644775390625e-08.
  EXPECT_TRUE(contains(ok.summary(), "budget 3.576e-07")) << ok.summary();
  EXPECT_TRUE(contains(ok.summary(), "baseline 5.960e-08")) << ok.summary();
  EXPECT_TRUE(contains(ok.summary(), "ratio 6.000e+00")) << ok.summary();
  EXPECT_TRUE(contains(ok.summary(), "max_abs 3.576e-07")) << ok.summary();
  EXPECT_TRUE(contains(ok.summary(), "max_rel")) << ok.summary();

  const Vec over_budget = {ref64[0] + 4 * 0x1p-23, 0.5};
  const Report bad = compare_ratio("over budget", ref64, ref32, over_budget, Rule::forward());
  EXPECT_FALSE(bad.pass);
  EXPECT_EQ(bad.first_bad, 0);
}

TEST(Oracle, RatioRuleFloorLetsAnotherOrderPassWhenTheBaselineIsExact) {
  // The baseline is 0, so only the floor remains: max|ref64| = 2, ulp(f32, 2) = 2^-22, floor 2^-21.
  const Vec ref64 = {1.0, 2.0, 0.25};
  const Vec ref32 = ref64;
  const Vec one_ulp_off = {1.0, 2.0 + 0x1p-22, 0.25};
  const Report ok = compare_ratio("exact baseline", ref64, ref32, one_ulp_off, Rule::forward());
  LLMLAB_EXPECT_AGREES(ok);
  EXPECT_EQ(ok.budget, 0x1p-21);
  EXPECT_EQ(ok.ratio, kInf);  // error over a zero baseline

  const Report same = compare_ratio("identical", ref64, ref32, ref64, Rule::forward());
  LLMLAB_EXPECT_AGREES(same);
  EXPECT_EQ(same.ratio, 0.0);  // 0 / 0 counts as 0

  const Vec four_ulps_off = {1.0, 2.0 + 0x1p-20, 0.25};
  const Report bad = compare_ratio("4 ulps off", ref64, ref32, four_ulps_off, Rule::forward());
  EXPECT_FALSE(bad.pass);
  EXPECT_EQ(bad.first_bad, 1);
}

TEST(Oracle, GradientRuleAllowsThreeTimesTheBaselinePlusFourUlps) {
  // Baseline 2^-24 as above; max|ref64| in [1, 2): budget 3 · 2^-24 + 4 · 2^-23 = 11 · 2^-24.
  const Vec ref64 = {1.0 + 0x1p-24};
  const Vec ref32 = {1.0};
  const Report ok =
      compare_ratio("dx", ref64, ref32, Vec{ref64[0] + 11 * 0x1p-24}, Rule::gradient());
  LLMLAB_EXPECT_AGREES(ok);
  EXPECT_EQ(ok.budget, 11 * 0x1p-24);
  const Report bad =
      compare_ratio("dx", ref64, ref32, Vec{ref64[0] + 12 * 0x1p-24}, Rule::gradient());
  EXPECT_FALSE(bad.pass);
}

// A sum that cancels: the terms are ~1, the result is 2^-20. An honest float sum in another order
// is off by ~1 ulp of the terms (2^-23), far above 2 ulps of the result; the floor must be taken at
// the terms' magnitude (Σ|x| = 4 here), and only when the rule is told so.
TEST(Oracle, RatioRuleFloorAtTheTermsMagnitudeAcceptsACancellingSumInAnotherOrder) {
  const Vec ref64 = {0x1p-20};
  const Vec ref32 = {0x1p-20};     // the sequential float sum happened to be exact
  const Vec got = {0x1p-20 + 0x1p-23};  // another order, one ulp of the terms off
  EXPECT_FALSE(compare_ratio("cancel", ref64, ref32, got, Rule::forward()).pass)
      << "2 ulps of 2^-20 is 2^-42: the default floor is too small for this sum";
  const Report r = compare_ratio("cancel", ref64, ref32, got, Rule::forward().at_magnitude(4.0));
  EXPECT_TRUE(r.pass) << r.detail();
  EXPECT_DOUBLE_EQ(r.budget, 2 * 0x1p-23 * 4.0);  // 2 ulps of f32 at 4 = 2 · 2^-23 · 2^2
  EXPECT_NE(Rule::forward().at_magnitude(4.0).describe().find(" at 4"), std::string::npos);
  const Vec bad = {0x1p-20 + 0x1p-19};  // 2^-19 > the 2^-20 budget: still rejected
  EXPECT_FALSE(compare_ratio("cancel", ref64, ref32, bad, Rule::forward().at_magnitude(4.0)).pass);
}

TEST(Oracle, RatioRuleRejectsANaNWhereTheReferenceIsFinite) {
  const Vec ref64 = {0.5, -1.0, 0.25, 0.75, 1.0};
  Vec got = ref64;
  got[3] = kNaN;
  const Report rep = compare_ratio("nan at 3", ref64, ref64, got, Rule::forward());
  EXPECT_FALSE(rep.pass);
  EXPECT_EQ(rep.first_bad, 3);
  EXPECT_EQ(rep.max_abs_err, kInf);
  EXPECT_TRUE(contains(rep.detail(), "first bad index 3:")) << rep.detail();
  EXPECT_TRUE(contains(rep.detail(), "got nan")) << rep.detail();
  // Said as such, not as an infinite max_abs (issue 12): the index, what was wanted, how many.
  EXPECT_EQ(rep.first_special, 3);
  EXPECT_EQ(rep.specials, 1u);
  EXPECT_TRUE(contains(rep.summary(), "got NaN at index 3 (want 7.500e-01; 1 such element)"))
      << rep.summary();
  EXPECT_FALSE(contains(rep.summary(), "max_abs inf")) << rep.summary();
}

TEST(Oracle, AnInfinityAndAMissingNaNAreNamedToo) {
  const Vec ref64 = {0.5, kNaN, 0.25, 0.75};
  const Vec got = {0.5, 1.0, -kInf, kInf};
  const Report rep = compare_ratio("specials", ref64, ref64, got, Rule::forward());
  EXPECT_FALSE(rep.pass);
  EXPECT_EQ(rep.specials, 3u);
  EXPECT_TRUE(contains(rep.summary(), "got 1.000e+00 at index 1 (want NaN; 3 such elements)"))
      << rep.summary();
}

TEST(Oracle, RatioRuleRejectsAnInfinityOfTheWrongSign) {
  const Vec ref64 = {0.5, kInf, 0.25};
  const Vec got = {0.5, -kInf, 0.25};
  const Report rep = compare_ratio("inf", ref64, ref64, got, Rule::forward());
  EXPECT_FALSE(rep.pass);
  EXPECT_EQ(rep.first_bad, 1);
}

TEST(Oracle, RatioRuleAcceptsNaNAndInfinityWhereTheReferenceHasThem) {
  const Vec ref64 = {0.5, kNaN, -kInf};
  const Report rep = compare_ratio("specials", ref64, ref64, ref64, Rule::forward());
  LLMLAB_EXPECT_AGREES(rep);
  EXPECT_EQ(rep.max_abs_err, 0.0);
}

TEST(Oracle, RatioRuleRefusesABaselineThatIsNotFinite) {
  const Vec ref64 = {0.5, 1.0};
  const Vec ref32 = {0.5, kNaN};
  const Report rep = compare_ratio("broken baseline", ref64, ref32, ref64, Rule::forward());
  EXPECT_FALSE(rep.pass);
  EXPECT_TRUE(contains(rep.error, "ref32")) << rep.error;
  EXPECT_TRUE(contains(rep.error, "index 1")) << rep.error;
}

TEST(Oracle, RatioRulePrintsTheFirstBadIndexAsAMultiIndex) {
  // Shape (2, 4, 3): flat index 21 = 1·12 + 3·3 + 0 is [1, 3, 0]; 23 is also bad but comes later.
  Vec ref64(24);
  for (int i = 0; i < 24; ++i) ref64[i] = 0.125 * i;
  Vec got = ref64;
  got[21] += 1.0;
  got[23] -= 1.0;
  Report rep = compare_ratio("attention out", ref64, ref64, got, Rule::forward());
  rep.shape = {2, 4, 3};
  EXPECT_FALSE(rep.pass);
  EXPECT_EQ(rep.first_bad, 21);
  const std::string d = rep.detail();
  EXPECT_TRUE(contains(d, "[1, 3, 0] (flat 21)")) << d;
  // got 2.625 + 1 = 3.625, want 21 · 0.125 = 2.625.
  EXPECT_TRUE(contains(d, "got 3.625e+00 want 2.625e+00")) << d;
  EXPECT_TRUE(contains(d, "|diff| 1.000e+00")) << d;
}

TEST(Oracle, RatioRuleReportsASizeMismatchNamingBothSizes) {
  const Vec ref64 = {1.0, 2.0, 3.0};
  const Vec got = {1.0, 2.0};
  const Report rep = compare_ratio("short", ref64, ref64, got, Rule::forward());
  EXPECT_FALSE(rep.pass);
  EXPECT_TRUE(contains(rep.error, "3")) << rep.error;
  EXPECT_TRUE(contains(rep.error, "2")) << rep.error;
  EXPECT_TRUE(contains(rep.detail(), rep.error)) << rep.detail();
  EXPECT_FALSE(llmlab::oracle::agrees(rep));
}

TEST(Oracle, WidenBf16GivesTheValuesTheBitPatternsStandFor) {
  // bf16 is the top half of a float: 0x3F80 = 1, 0x3F81 = 1 + 2^-7, 0xC000 = −2, 0x0001 = 2^-133
  // (the smallest subnormal, 2^-126 · 2^-7), 0x7FC0 = NaN.
  const std::vector<std::uint16_t> bits = {0x3F80, 0x3F81, 0xC000, 0x0001, 0x7FC0};
  const Vec w = llmlab::oracle::widen_bf16(bits);
  ASSERT_EQ(w.size(), 5u);
  EXPECT_EQ(w[0], 1.0);
  EXPECT_EQ(w[1], 1.0 + 0x1p-7);
  EXPECT_EQ(w[2], -2.0);
  EXPECT_EQ(w[3], 0x1p-133);
  EXPECT_TRUE(std::isnan(w[4]));

  const std::vector<float> f = {0.1f, -3.5f};
  const Vec wf = llmlab::oracle::widen(f);
  EXPECT_EQ(wf[0], static_cast<double>(0.1f));
  EXPECT_EQ(wf[1], -3.5);
}

TEST(Oracle, RatioRuleUsesBf16UlpsForABf16Kernel) {
  // 1 + 2^-9 rounds to 1 in bf16 (2^-9 is under half of bf16's 2^-7 spacing): baseline 2^-9.
  // max|ref64| = 3 is in [2, 4): ulp(bf16) = 2^-7 · 2 = 2^-6;
  // budget 2 · 2^-9 + 2 · 2^-6 = 2^-8 + 2^-5.
  const Vec ref64 = {1.0 + 0x1p-9, 3.0, -0.5};
  const Vec ref32 = llmlab::oracle::widen_bf16(std::vector<std::uint16_t>{
      llmlab::float_to_bf16_bits(1.0f + 0x1p-9f), llmlab::float_to_bf16_bits(3.0f),
      llmlab::float_to_bf16_bits(-0.5f)});
  ASSERT_EQ(ref32[0], 1.0);
  const auto kernel = [](float a, float b, float c) {
    return llmlab::oracle::widen_bf16(std::vector<std::uint16_t>{llmlab::float_to_bf16_bits(a),
                                                                 llmlab::float_to_bf16_bits(b),
                                                                 llmlab::float_to_bf16_bits(c)});
  };
  // One bf16 ulp above 1: error 2^-7 − 2^-9, inside the budget.
  const Report ok = compare_ratio("bf16", ref64, ref32, kernel(1.0f + 0x1p-7f, 3.0f, -0.5f),
                                  Rule::forward(DType::bf16));
  LLMLAB_EXPECT_AGREES(ok);
  EXPECT_EQ(ok.budget, 0x1p-8 + 0x1p-5);
  // −0.5625 = −(1 + 2^-3) · 2^-1 is a bf16 value 2^-4 away from −0.5: over the budget.
  const Report bad =
      compare_ratio("bf16", ref64, ref32, kernel(1.0f, 3.0f, -0.5625f), Rule::forward(DType::bf16));
  EXPECT_FALSE(bad.pass);
  EXPECT_EQ(bad.first_bad, 2);
}

TEST(Oracle, RatioRuleRoundsTheFloatBaselineToBf16ForABf16Output) {
  // A bf16 kernel writes round_to_bf16(its fp32 result), so its honest baseline is the float
  // reference rounded once to bf16, which compare_ratio now does itself. ref32 = 1 + 2^-9 exactly
  // in float: unrounded, the baseline error would be 0 and only the 2-ulp floor would remain;
  // rounded to bf16 it is 1, so the baseline error is 2^-9 (as if the caller had rounded it).
  const Vec ref64 = {1.0 + 0x1p-9, 3.0, -0.5};
  const Vec ref32 = {1.0 + 0x1p-9, 3.0, -0.5};
  const Vec got = {1.0 + 0x1p-7, 3.0, -0.5};
  const Report r = compare_ratio("bf16 unrounded baseline", ref64, ref32, got,
                                 Rule::forward(DType::bf16));
  EXPECT_EQ(r.baseline_err, 0x1p-9);
  EXPECT_EQ(r.budget, 0x1p-8 + 0x1p-5);
  LLMLAB_EXPECT_AGREES(r);
  // The same numbers under an fp32 rule: no rounding, baseline 0, budget the fp32 floor only —
  // the bf16-sized error is rejected.
  const Report f32 = compare_ratio("f32", ref64, ref32, got, Rule::forward(DType::f32));
  EXPECT_EQ(f32.baseline_err, 0.0);
  EXPECT_FALSE(f32.pass);
}

// ---- exact rule

TEST(Oracle, ExactRuleAcceptsIdenticalTokenIds) {
  const Ids ids = {50256, 464, 2068, 7586, 21831, 0};
  const Report rep = compare_exact("tokens", ids, ids);
  LLMLAB_EXPECT_AGREES(rep);
  EXPECT_EQ(rep.count, ids.size());
  EXPECT_EQ(rep.max_abs_err, 0.0);
}

TEST(Oracle, ExactRuleRejectsAnArrayShiftedByOne) {
  // A data movement that inserts a stray element at index 4 shifts everything after it by one.
  Ids want(10);
  for (int i = 0; i < 10; ++i) want[i] = 7 * i;
  Ids got = want;
  for (int i = 9; i >= 4; --i) got[i] = want[i - 1];
  const Report rep = compare_exact("all_gather", want, got);
  EXPECT_FALSE(llmlab::oracle::agrees(rep));
  EXPECT_EQ(rep.first_bad, 4);
  EXPECT_EQ(rep.got_at_bad, 21.0);
  EXPECT_EQ(rep.want_at_bad, 28.0);
  EXPECT_TRUE(contains(rep.detail(), "first bad index 4:")) << rep.detail();
  EXPECT_TRUE(contains(rep.detail(), "not equal")) << rep.detail();
}

TEST(Oracle, ExactRuleRejectsOneUlpInADoubleAndPrintsEnoughDigitsToShowIt) {
  // 2 + 2^-51 is the double after 2; it reads 2.0000000000000004 with 17 significant digits.
  const Vec want = {1.0, 2.0, 3.0};
  const Vec got = {1.0, 2.0 + 0x1p-51, 3.0};
  const Report rep = compare_exact("copy", want, got);
  EXPECT_FALSE(rep.pass);
  EXPECT_EQ(rep.first_bad, 1);
  EXPECT_EQ(rep.max_abs_err, 0x1p-51);
  const std::string d = rep.detail();
  EXPECT_TRUE(contains(d, "got 2.0000000000000004e+00 want 2.0000000000000000e+00")) << d;

  const Report same = compare_exact("copy", want, want);
  LLMLAB_EXPECT_AGREES(same);
}

TEST(Oracle, ExactRuleNeverCallsNaNEqual) {
  const Vec v = {1.0, kNaN};
  const Report rep = compare_exact("nan", v, v);
  EXPECT_FALSE(rep.pass);
  EXPECT_EQ(rep.first_bad, 1);
}

TEST(Oracle, ExactRuleReportsASizeMismatchNamingBothSizes) {
  const Report rep = compare_exact("ids", Ids{1, 2, 3, 4, 5}, Ids{1, 2, 3});
  EXPECT_FALSE(rep.pass);
  EXPECT_TRUE(contains(rep.error, "5 elements")) << rep.error;
  EXPECT_TRUE(contains(rep.error, "has 3")) << rep.error;
}

// ---- ulps rule: |got − golden| ≤ n · ulp(max|golden|) · √K

TEST(Oracle, UlpsRuleAcceptsAFloatRowSumAgainstItsDoubleSum) {
  // The reference in float vs a float64 golden: a left-to-right float sum of K = 1000 terms.
  const int R = 6, C = 1000;
  const auto x = llmlab::Rng(3).uniform_floats(R * C);
  const Vec golden = row_sums_f64(x, R, C);
  const Vec got = row_sums_f32(x, R, C);
  const Report rep =
      compare_golden("reduce_sum f32 vs golden", golden, got, Rule::within_ulps(2, C));
  LLMLAB_EXPECT_AGREES(rep);
  EXPECT_GT(rep.max_abs_err, 0.0);  // float really rounded: the rule had something to judge
}

TEST(Oracle, UlpsRuleRejectsAResultOneElementOff) {
  // max|golden| = 4 in [4, 8): ulp(f32) = 2^-21; n = 2, K = 16: budget 2 · 2^-21 · 4 = 2^-18.
  const Vec golden = {1.0, -4.0, 0.5};
  const Vec at_budget = {1.0, -4.0 - 0x1p-18, 0.5};
  const Report ok = compare_golden("ulps", golden, at_budget, Rule::within_ulps(2, 16));
  LLMLAB_EXPECT_AGREES(ok);
  EXPECT_EQ(ok.budget, 0x1p-18);

  const Vec off = {1.0, -4.0, 0.5 + 0x1p-17};
  const Report bad = compare_golden("ulps", golden, off, Rule::within_ulps(2, 16));
  EXPECT_FALSE(llmlab::oracle::agrees(bad));
  EXPECT_EQ(bad.first_bad, 2);
  EXPECT_TRUE(contains(bad.detail(), "first bad index 2:")) << bad.detail();
  EXPECT_TRUE(contains(bad.detail(), "budget 3.815e-06")) << bad.detail();  // 2^-18 = 3.8147e-06
}

TEST(Oracle, UlpsRuleAtAMagnitudeTakesItsUlpsThere) {
  // A result that cancels (GELU at x = -2.3: 0.5x(1 + tanh u) ≈ -0.025) carries the rounding of the
  // terms (|x| ≈ 2.3), not of the result. At max|golden| = 0.025 (in [2^-6, 2^-5)) one f32 ulp is
  // 2^-29; at magnitude 2.3 (in [2, 4)) it is 2^-22. n = 2, K = 1: budget 2^-21.
  const Vec golden = {-0.025};
  const Vec off_by_terms_rounding = {-0.025 + 0x1p-22};  // 128 ulps of 0.025, half the budget at 2.3
  const Rule at_terms = Rule::within_ulps(2, 1).at_magnitude(2.3);
  EXPECT_FALSE(compare_golden("at |y|", golden, off_by_terms_rounding, Rule::within_ulps(2, 1)).pass);
  const Report ok = compare_golden("at |x|", golden, off_by_terms_rounding, at_terms);
  LLMLAB_EXPECT_AGREES(ok);
  EXPECT_EQ(ok.budget, 0x1p-21);
  EXPECT_FALSE(compare_golden("at |x|", golden, Vec{-0.025 + 0x1p-20}, at_terms).pass);
}

TEST(Oracle, UlpsRuleRejectsANaN) {
  const Vec golden = {1.0, 2.0};
  const Report rep = compare_golden("ulps", golden, Vec{kNaN, 2.0}, Rule::within_ulps(1000, 1000));
  EXPECT_FALSE(rep.pass);
  EXPECT_EQ(rep.first_bad, 0);
}

TEST(Oracle, UlpsRuleUsesTheSmallestNormalsUlpForAnAllZeroGolden) {
  // max|golden| = 0: the ulp of float's smallest normal 2^-126, i.e. 2^-23 · 2^-126 = 2^-149.
  const Vec golden = {0.0, 0.0};
  const Report ok = compare_golden("zeros", golden, Vec{0.0, 0x1p-149}, Rule::within_ulps(1, 1));
  LLMLAB_EXPECT_AGREES(ok);
  EXPECT_EQ(ok.budget, 0x1p-149);
  const Report bad = compare_golden("zeros", golden, Vec{0.0, 0x1p-148}, Rule::within_ulps(1, 1));
  EXPECT_FALSE(bad.pass);
  EXPECT_EQ(bad.first_bad, 1);
}

// ---- relative rule: max|got − golden| ≤ tol · max|golden|

TEST(Oracle, RelativeRuleAcceptsADoubleSumInAnotherOrder) {
  const int R = 6, C = 1000;
  const auto x = llmlab::Rng(4).uniform_floats(R * C);
  const Vec golden = row_sums_f64(x, R, C);
  Vec got(R, 0.0);
  for (int r = 0; r < R; ++r)
    for (int c = C; c-- > 0;) got[r] += x[r * C + c];
  LLMLAB_EXPECT_AGREES(compare_golden("reduce_sum f64 reversed", golden, got, Rule::relative()));
}

TEST(Oracle, RelativeRuleRejectsAFloatSumPosingAsDouble) {
  // A "double" reference that secretly sums in float is ~1e-7 relative off, far above 1e-10.
  const int R = 6, C = 1000;
  const auto x = llmlab::Rng(5).uniform_floats(R * C);
  const Report rep = compare_golden("reduce_sum secretly f32", row_sums_f64(x, R, C),
                                    row_sums_f32(x, R, C), Rule::relative());
  EXPECT_FALSE(llmlab::oracle::agrees(rep));
  EXPECT_GE(rep.first_bad, 0);
}

TEST(Oracle, RelativeRuleRejectsOnePlantedElement) {
  // max|golden| = 2, tol = 1e-10: budget 2e-10.
  const Vec golden = {0.5, -2.0, 1.0};
  const Report ok = compare_golden("rel", golden, Vec{0.5, -2.0 - 1.5e-10, 1.0}, Rule::relative());
  LLMLAB_EXPECT_AGREES(ok);
  EXPECT_EQ(ok.budget, 2e-10);
  const Report bad = compare_golden("rel", golden, Vec{0.5, -2.0, 1.0 + 3e-10}, Rule::relative());
  EXPECT_FALSE(bad.pass);
  EXPECT_EQ(bad.first_bad, 2);
  EXPECT_TRUE(contains(bad.detail(), "first bad index 2:")) << bad.detail();
}

TEST(Oracle, CompareGoldenRefusesARatioRule) {
  const Vec v = {1.0};
  EXPECT_THROW(compare_golden("x", v, v, Rule::forward()), llmlab::Error);
  EXPECT_THROW(compare_ratio("x", v, v, v, Rule::relative()), llmlab::Error);
}

// ---- rules and reports as text

TEST(Oracle, RulesDescribeThemselvesWithTheirConstants) {
  EXPECT_EQ(Rule::forward().describe(), "ratio k=2 + 2 ulp(f32)");
  EXPECT_EQ(Rule::gradient(DType::bf16).describe(), "ratio k=3 + 4 ulp(bf16)");
  EXPECT_EQ(Rule::exact().describe(), "exact");
  EXPECT_EQ(Rule::within_ulps(4, 97).describe(), "ulps 4 ulp(f32) * sqrt(K=97)");
  EXPECT_EQ(Rule::relative().describe(), "relative tol=1e-10");
}

TEST(Oracle, AgreesCarriesTheSummaryOnSuccessAndTheDetailOnFailure) {
  const Vec want = {1.0, 2.0};
  const auto ok = llmlab::oracle::agrees(compare_exact("pair", want, want));
  EXPECT_TRUE(ok);
  EXPECT_TRUE(contains(ok.message(), "PASS pair [exact]")) << ok.message();

  const auto bad = llmlab::oracle::agrees(compare_exact("pair", want, Vec{1.0, 3.0}));
  EXPECT_FALSE(bad);
  EXPECT_TRUE(contains(bad.message(), "FAIL pair [exact]")) << bad.message();
  EXPECT_TRUE(contains(bad.message(), "first bad index 1:")) << bad.message();
}

}  // namespace
