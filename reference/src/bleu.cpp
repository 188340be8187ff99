/// \file
/// \ingroup group_gpt
/// \brief Corpus BLEU as sacrebleu computes it (llmlab/ref/bleu.hpp): the 13a tokenizer's regular
/// expressions through PCRE2, the n-gram statistics and the score by hand, in sacrebleu's order of
/// operations (sacrebleu/metrics/bleu.py, tokenizers/tokenizer_13a.py and tokenizer_re.py).

/// PCRE2's 8-bit API: UTF-8 subjects.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "llmlab/ref/bleu.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <unordered_map>

#include "llmlab/core/error.hpp"
#include "tokenizer_detail.hpp"

namespace llmlab::ref {

namespace {

/// One of TokenizerRegexp's substitutions, compiled once (UTF mode: on code points, as Python's
/// `re` on a str) and applied everywhere, as `re.sub`.
struct Substitution {
  pcre2_code* code = nullptr;
  std::string replacement;

  Substitution(std::string_view pattern, std::string replacement_in)
      : replacement(std::move(replacement_in)) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF,
                         &error, &offset, nullptr);
    if (code == nullptr) throw Error("tokenize_13a", "PCRE2 cannot compile " + std::string(pattern));
  }
  ~Substitution() { pcre2_code_free(code); }
  Substitution(const Substitution&) = delete;
  Substitution& operator=(const Substitution&) = delete;

  std::string apply(const std::string& subject) const {
    using MatchData = std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)>;
    MatchData match(pcre2_match_data_create_from_pattern(code, nullptr), &pcre2_match_data_free);
    // Every replacement adds at most 2 bytes per subject byte; PCRE2 reports the size it needs
    // otherwise (OVERFLOW_LENGTH), and the call is repeated with it.
    std::string out(subject.size() * 3 + 16, '\0');
    for (int attempt = 0; attempt < 2; ++attempt) {
      PCRE2_SIZE length = out.size();
      const int rc = pcre2_substitute(
          code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0,
          PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH | PCRE2_NO_UTF_CHECK,
          match.get(), nullptr, reinterpret_cast<PCRE2_SPTR>(replacement.data()),
          replacement.size(), reinterpret_cast<PCRE2_UCHAR*>(out.data()), &length);
      if (rc >= 0) {
        out.resize(length);
        return out;
      }
      if (rc != PCRE2_ERROR_NOMEMORY) break;
      out.assign(length, '\0');
    }
    throw Error("tokenize_13a", "PCRE2 substitution failed");
  }
};

/// sacrebleu's TokenizerRegexp, in its order.
const std::array<Substitution, 4>& regexp_tokenizer() {
  static const std::array<Substitution, 4> subs = {{
      // language-dependent part (assuming Western languages)
      {R"(([\{-\~\[-\` -\&\(-\+\:-\@\/]))", " $1 "},
      // tokenize period and comma unless preceded by a digit
      {R"(([^0-9])([\.,]))", "$1 $2 "},
      // tokenize period and comma unless followed by a digit
      {R"(([\.,])([^0-9]))", " $1 $2"},
      // tokenize dash when preceded by a digit
      {R"(([0-9])(-))", "$1 $2 "},
  }};
  return subs;
}

/// Python's `str.replace(from, to)`: every non-overlapping occurrence, left to right.
std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t at = 0;
  for (std::size_t hit; (hit = s.find(from, at)) != std::string::npos; at = hit + from.size())
    out.append(s, at, hit - at).append(to);
  if (at == 0) return s;
  out.append(s, at);
  return out;
}

/// The code point of the valid UTF-8 sequence of `n` bytes at s[i].
char32_t code_point(std::string_view s, std::size_t i, std::size_t n) {
  const auto b = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (n) {
    case 1: return b(0);
    case 2: return (b(0) & 0x1F) << 6 | (b(1) & 0x3F);
    case 3: return (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
    default: return (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
  }
}

/// The byte lengths of the code points of valid UTF-8 `s`, and whether each is Python whitespace.
/// @throws llmlab::Error naming `where` and the byte offset of the first invalid sequence
std::vector<std::pair<std::size_t, bool>> code_points(std::string_view s, const char* where) {
  std::vector<std::pair<std::size_t, bool>> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = detail::utf8_sequence_length(s, i);
    if (n == 0)
      throw Error(where, "invalid UTF-8 at byte " + std::to_string(i) + " of \"" +
                             detail::excerpt(s) + "\" (decode with replacement first)");
    out.emplace_back(n, python_isspace(code_point(s, i, n)));
    i += n;
  }
  return out;
}

/// Python's `s.split()`: the runs of non-whitespace code points.
std::vector<std::string_view> python_split(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0, start = std::string_view::npos;
  for (const auto& [n, space] : code_points(s, "tokenize_13a")) {
    if (space && start != std::string_view::npos) {
      words.push_back(s.substr(start, i - start));
      start = std::string_view::npos;
    } else if (!space && start == std::string_view::npos) {
      start = i;
    }
    i += n;
  }
  if (start != std::string_view::npos) words.push_back(s.substr(start));
  return words;
}

/// Python's `s.rstrip()`.
std::string_view python_rstrip(std::string_view s, const char* where) {
  std::size_t i = 0, keep = 0;
  for (const auto& [n, space] : code_points(s, where)) {
    i += n;
    if (!space) keep = i;
  }
  return s.substr(0, keep);
}

/// A segment's n-grams of orders 1..4, each keyed by its tokens joined with ' ' (a token holds no
/// space, so the key names one n-gram of one order), with their counts; and its length in tokens.
struct Ngrams {
  std::unordered_map<std::string, std::int64_t> count;
  std::int64_t length = 0;
};

Ngrams ngrams_of(const std::string& tokenized) {
  const std::vector<std::string_view> tokens = python_split(tokenized);
  Ngrams g;
  g.length = static_cast<std::int64_t>(tokens.size());
  for (std::size_t n = 1; n <= kBleuMaxOrder; ++n) {
    for (std::size_t i = 0; i + n <= tokens.size(); ++i) {
      std::string key(tokens[i]);
      for (std::size_t k = 1; k < n; ++k) key.append(" ").append(tokens[i + k]);
      ++g.count[key];
    }
  }
  return g;
}

/// The order (1..4) of an n-gram key: its spaces plus one.
std::size_t order_of(const std::string& key) {
  return static_cast<std::size_t>(std::count(key.begin(), key.end(), ' ')) + 1;
}

/// BLEU's preprocessing of a segment: rstrip, then the 13a tokenizer.
std::string preprocess(std::string_view segment) {
  return tokenize_13a(python_rstrip(segment, "corpus_bleu"));
}

}  // namespace

bool python_isspace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

std::string tokenize_13a(std::string_view segment) {
  code_points(segment, "tokenize_13a");  // validates the UTF-8 (PCRE2 then skips its own check)
  std::string line(segment);
  line = replace_all(std::move(line), "<skipped>", "");
  line = replace_all(std::move(line), "-\n", "");
  line = replace_all(std::move(line), "\n", " ");
  if (line.find('&') != std::string::npos) {
    line = replace_all(std::move(line), "&quot;", "\"");
    line = replace_all(std::move(line), "&amp;", "&");
    line = replace_all(std::move(line), "&lt;", "<");
    line = replace_all(std::move(line), "&gt;", ">");
  }
  line = " " + line + " ";
  for (const Substitution& sub : regexp_tokenizer()) line = sub.apply(line);
  std::string out;
  for (const std::string_view w : python_split(line)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                      const std::vector<std::string>& references) {
  if (hypotheses.empty()) throw Error("corpus_bleu", "no hypotheses (sacrebleu refuses none too)");
  if (hypotheses.size() != references.size())
    throw Error("corpus_bleu", std::to_string(hypotheses.size()) + " hypotheses but " +
                                   std::to_string(references.size()) + " references");
  BleuScore s;
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    const Ngrams ref = ngrams_of(preprocess(references[i]));
    const Ngrams hyp = ngrams_of(preprocess(hypotheses[i]));
    s.ref_len += ref.length;  // the closest reference length, with one reference: its length
    s.sys_len += hyp.length;
    for (const auto& [key, n] : hyp.count) {
      const std::size_t order = order_of(key) - 1;
      s.totals[order] += n;
      if (const auto it = ref.count.find(key); it != ref.count.end())
        s.counts[order] += std::min(n, it->second);
    }
  }
  // sacrebleu's compute_bleu, smooth_method='exp', effective_order=False
  if (s.sys_len < s.ref_len)
    s.bp = s.sys_len > 0 ? std::exp(1.0 - static_cast<double>(s.ref_len) / static_cast<double>(s.sys_len)) : 0.0;
  if (std::all_of(s.counts.begin(), s.counts.end(), [](std::int64_t c) { return c == 0; })) {
    s.score = 0.0;  // no match at all (sacrebleu #141)
    return s;
  }
  double smooth = 1.0;
  for (std::size_t n = 0; n < kBleuMaxOrder; ++n) {
    if (s.totals[n] == 0) break;
    if (s.counts[n] == 0) {
      smooth *= 2;
      s.precisions[n] = 100.0 / (smooth * static_cast<double>(s.totals[n]));
    } else {
      s.precisions[n] = 100.0 * static_cast<double>(s.counts[n]) / static_cast<double>(s.totals[n]);
    }
  }
  double sum_log = 0.0;  // sacrebleu's my_log: log 0 is -9999999999
  for (const double p : s.precisions) sum_log += p == 0.0 ? -9999999999.0 : std::log(p);
  s.score = s.bp * std::exp(sum_log / kBleuMaxOrder);
  return s;
}

std::string format_bleu(const BleuScore& s) {
  char head[64];
  std::snprintf(head, sizeof head, "BLEU = %.2f ", s.score);
  std::string line = head;
  for (std::size_t n = 0; n < kBleuMaxOrder; ++n) {
    char p[32];
    std::snprintf(p, sizeof p, n == 0 ? "%.1f" : "/%.1f", s.precisions[n]);
    line += p;
  }
  char tail[160];
  std::snprintf(tail, sizeof tail, " (BP = %.3f ratio = %.3f hyp_len = %lld ref_len = %lld)", s.bp,
                s.ratio(), static_cast<long long>(s.sys_len), static_cast<long long>(s.ref_len));
  return line + tail;
}

}  // namespace llmlab::ref
