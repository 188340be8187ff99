// Pre-tokenization: GPT-2's regex through PCRE2 (UTF + UCP), with the invalid-UTF-8 policy of
// tokenizer.hpp — the input is cut into maximal valid UTF-8 segments and the bytes between them;
// each valid segment is matched on its own, each invalid byte is a pre-token by itself.

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/tokenizer.hpp"
#include "tokenizer_detail.hpp"

namespace llmlab::ref {

namespace detail {

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  // RFC 3629, table 3-7 of the Unicode standard: the well-formed byte sequences.
  //   U+0000..U+007F     00..7F
  //   U+0080..U+07FF     C2..DF 80..BF
  //   U+0800..U+0FFF     E0     A0..BF 80..BF     (E0 80..9F would be overlong)
  //   U+1000..U+CFFF     E1..EC 80..BF 80..BF
  //   U+D000..U+D7FF     ED     80..9F 80..BF     (ED A0..BF would be a surrogate)
  //   U+E000..U+FFFF     EE..EF 80..BF 80..BF
  //   U+10000..U+3FFFF   F0     90..BF 80..BF 80..BF
  //   U+40000..U+FFFFF   F1..F3 80..BF 80..BF 80..BF
  //   U+100000..U+10FFFF F4     80..8F 80..BF 80..BF
  auto at = [&](std::size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  const unsigned b0 = at(i);
  if (b0 <= 0x7F) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return in(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;  // 80..BF (a lone continuation byte), C0, C1, F5..FF: never valid here
}

}  // namespace detail

namespace {

// The compiled pattern, made once and shared read-only by every thread (pcre2_match is
// thread-safe given its own match data). JIT-compiled when this PCRE2 has a JIT.
struct Gpt2Regex {
  pcre2_code* code = nullptr;

  Gpt2Regex() {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kGpt2Pattern.data()), kGpt2Pattern.size(),
                         PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (code == nullptr) {
      throw Error("pretokenize", "PCRE2 cannot compile GPT-2's pattern at offset " +
                                     std::to_string(offset) + ": " + message(error));
    }
    std::uint32_t have_jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &have_jit);
    if (have_jit) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // on failure: the interpreter
  }
  ~Gpt2Regex() { pcre2_code_free(code); }
  Gpt2Regex(const Gpt2Regex&) = delete;
  Gpt2Regex& operator=(const Gpt2Regex&) = delete;

  static std::string message(int error) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(error, buffer, sizeof buffer);
    return reinterpret_cast<const char*>(buffer);
  }
};

const Gpt2Regex& gpt2_regex() {
  static const Gpt2Regex regex;
  return regex;
}

// Appends the pre-tokens of one valid UTF-8 segment: the leftmost match of the pattern, then the
// next one from where it ended, until the segment is used up. Every character matches one of the
// pattern's alternatives (letter, number, other, whitespace), so the matches tile the segment.
void pretokenize_valid(std::string_view segment, std::vector<std::string_view>& out) {
  const pcre2_code* code = gpt2_regex().code;
  using MatchData = std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)>;
  MatchData match(pcre2_match_data_create_from_pattern(code, nullptr), &pcre2_match_data_free);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(segment.data());

  std::size_t start = 0;
  while (start < segment.size()) {
    // The segment was validated, so PCRE2 need not check the UTF-8 again on every call.
    const int rc =
        pcre2_match(code, subject, segment.size(), start, PCRE2_NO_UTF_CHECK, match.get(), nullptr);
    if (rc < 0) {
      throw Error("pretokenize",
                  "PCRE2 failed at byte " + std::to_string(start) + ": " + Gpt2Regex::message(rc));
    }
    const PCRE2_SIZE* span = pcre2_get_ovector_pointer(match.get());
    if (span[0] != start || span[1] <= start) {
      throw Error("pretokenize", "GPT-2's pattern left bytes " + std::to_string(start) + ".." +
                                     std::to_string(span[0]) + " unmatched (a bug)");
    }
    out.push_back(segment.substr(start, span[1] - start));
    start = span[1];
  }
}

}  // namespace

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  std::size_t i = 0;
  while (i < text.size()) {
    // The longest valid UTF-8 segment starting at i …
    std::size_t end = i;
    while (end < text.size()) {
      const std::size_t n = detail::utf8_sequence_length(text, end);
      if (n == 0) break;
      end += n;
    }
    if (end > i) {
      pretokenize_valid(text.substr(i, end - i), pieces);
      i = end;
    } else {
      // … or, where none starts, one invalid byte: a pre-token by itself.
      pieces.push_back(text.substr(i, 1));
      i += 1;
    }
  }
  return pieces;
}

}  // namespace llmlab::ref
