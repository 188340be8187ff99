#pragma once
/// \file
/// \ingroup group_gpt
/// \brief Corpus BLEU exactly as sacrebleu 2.x's `sacrebleu.corpus_bleu(hyps, [refs])` computes it
/// by default: the `13a` tokenizer (mteval-v13a's), n-grams up to 4, the brevity penalty, `exp`
/// smoothing, no effective order, case kept, one reference per hypothesis. What `llmlab eval
/// --bleu` scores greedy continuations with; tests/bleu_test.cpp checks it against sacrebleu's
/// own numbers (tests/golden/make_golden.py, bleu()).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmlab::ref {

/// The highest n-gram order BLEU counts (sacrebleu's MAX_NGRAM_ORDER).
inline constexpr int kBleuMaxOrder = 4;

/// A corpus BLEU and its sufficient statistics (sacrebleu's BLEUScore).
struct BleuScore {
  double score = 0;                                 ///< BLEU × 100, in [0, 100]
  std::array<std::int64_t, kBleuMaxOrder> counts{};  ///< matched n-grams \f$ m_n \f$, n = 1..4
  std::array<std::int64_t, kBleuMaxOrder> totals{};  ///< hypothesis n-grams \f$ t_n \f$
  std::array<double, kBleuMaxOrder> precisions{};   ///< \f$ p_n \f$ in percent (smoothed)
  double bp = 1;                                    ///< the brevity penalty
  std::int64_t sys_len = 0;                         ///< c, the hypotheses' tokens
  std::int64_t ref_len = 0;                         ///< r, the references' tokens
  /// c / r (0 when r = 0), as sacrebleu prints it.
  double ratio() const { return ref_len > 0 ? static_cast<double>(sys_len) / ref_len : 0.0; }
};

/// Whether code point `cp` is whitespace to Python's `str.isspace()` (what `str.split()` and
/// `str.rstrip()` cut at): U+0009–U+000D, U+001C–U+0020, U+0085, U+00A0, U+1680, U+2000–U+200A,
/// U+2028, U+2029, U+202F, U+205F, U+3000.
bool python_isspace(char32_t cp);

/// sacrebleu's `Tokenizer13a` on one segment (valid UTF-8; corpus_bleu strips trailing whitespace
/// first, as BLEU does): remove `<skipped>`, join `-\n`, `\n` → space, unescape
/// `&quot; &amp; &lt; &gt;`; then the four regular expressions of its `TokenizerRegexp` (through
/// PCRE2, on code points as Python's `re`): a space around every ASCII symbol and the space itself
/// except `'`, `,`, `-` and `.`; around `.` and `,` unless between digits; after `-` that follows
/// a digit; and last the tokens joined by single spaces (Python's whitespace, python_isspace).
/// @returns the tokens separated by one space
/// @throws llmlab::Error naming `tokenize_13a` when `segment` is not valid UTF-8 (a Python str
///         always is: decode with replacement first).
std::string tokenize_13a(std::string_view segment);

/// Corpus BLEU of `hypotheses` against `references` (one reference each, same order), as
/// `sacrebleu.corpus_bleu(hypotheses, [references])`. Each segment is tokenized (tokenize_13a);
/// per segment, \f$ t_n \f$ counts its n-grams and \f$ m_n \f$ its n-grams clipped to their count
/// in the reference, \f$ \sum_g \min(\#_{hyp}(g), \#_{ref}(g)) \f$; both are summed over the
/// corpus, as are the lengths c (hypotheses) and r (references). With
/// \f[ p_n = 100\,\frac{m_n}{t_n} \quad (m_n > 0), \qquad
///     p_n = \frac{100}{2^k\, t_n} \quad (m_n = 0,\ \text{the } k\text{-th such order: `exp`
///     smoothing, mteval-v13a's}), \f]
/// \f$ p_n = 0 \f$ from the first order with \f$ t_n = 0 \f$ on, and the brevity penalty
/// \f[ \mathrm{BP} = \begin{cases} 1 & c \ge r \\ e^{1 - r/c} & 0 < c < r \\ 0 & c = 0 < r
///     \end{cases} \f]
/// the score is \f[ \mathrm{BLEU} = \mathrm{BP} \cdot \exp\Big(\tfrac14 \sum_{n=1}^{4} \log p_n
///     \Big) \f] with \f$ \log 0 \f$ taken as \f$ -9\,999\,999\,999 \f$ (sacrebleu's `my_log`, so
/// any \f$ p_n = 0 \f$ gives 0), and 0 outright when no n-gram of any order matches.
/// @param hypotheses the system's segments, UTF-8   @param references one per hypothesis
/// @returns the score and its statistics
/// @throws llmlab::Error naming `corpus_bleu` when there are no hypotheses (sacrebleu refuses an
///         empty list too) or the two lists differ in length, and as tokenize_13a.
BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                      const std::vector<std::string>& references);

/// sacrebleu's line for `s`, e.g. `BLEU = 37.99 83.3/60.0/25.0/16.7 (BP = 1.000 ratio = 1.000
/// hyp_len = 6 ref_len = 6)` (`str(sacrebleu.corpus_bleu(...))`).
std::string format_bleu(const BleuScore& s);

}  // namespace llmlab::ref
