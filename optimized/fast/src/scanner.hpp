#pragma once
/// \file
/// \brief The fast pre-tokenizer's inner loop: GPT-2's pattern as a hand-written scanner.
///
/// GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// is tried alternative by alternative at each position by a backtracking engine. Every
/// alternative is decided by at most one character of look-ahead past what it consumes, so one
/// forward pass reproduces it without backtracking:
///
///  1. `'` followed by s t m d, or re ve ll (lower case only) → that contraction.
///  2. An optional U+0020 space, then a maximal run of one class: letters (Unicode L), numbers
///     (Unicode N) or "other" (neither, nor white space). The space joins the run only when the
///     character after it is in one of those classes.
///  3. Otherwise the character is white space (`\s`). Let the maximal white-space run be [i, j).
///     At the end of the text `\s+(?!\S)` takes all of it. Before a non-space character the
///     greedy `\s+` backs off one character so that the look-ahead sees white space: the token is
///     [i, j−1) and the last white-space character starts the next token (as the space of rule 2
///     when it is U+0020, else alone through `\s+`). A run of one character before a non-space
///     is `\s+` alone.
///
/// Invalid UTF-8 (the reference's policy): the text is cut into maximal valid UTF-8 segments and
/// the bytes between them; each segment is pre-tokenized as if it were the whole text and every
/// invalid byte is a pre-token of its own. The scanner treats an invalid byte exactly like the
/// end of the text for the character before it.
///
/// Character classes come from tables generated at build time by asking PCRE2 itself
/// (unicode_tables_gen.cpp), so they are the reference engine's classes.

#include <cstddef>
#include <cstdint>

#include "llmlab/fast/unicode_tables.hpp"

namespace llmlab::fast::detail {

/// Character classes as the scanner sees them.
enum CharClass : std::uint8_t {
  kOther = 0,    ///< [^\s\p{L}\p{N}]
  kLetter = 1,   ///< \p{L}
  kNumber = 2,   ///< \p{N}
  kSpace = 3,    ///< \s
  kInvalid = 4,  ///< a byte that does not start a valid UTF-8 sequence
  kEnd = 5,      ///< past the end of the text
};

/// The class of an ASCII byte.
inline constexpr auto kAsciiClass = [] {
  struct Table { std::uint8_t v[128]; } t{};
  for (int c = 0; c < 128; ++c) t.v[c] = kStage2[kStage1[0]][c];
  return t;
}();

/// The class of a code point (0..0x10FFFF, surrogates excluded), from the two-stage table.
inline std::uint8_t class_of(std::uint32_t cp) { return kStage2[kStage1[cp >> 8]][cp & 0xFF]; }

/// One decoded character: its class and its length in bytes (1 for an invalid byte, 0 at end).
struct CharInfo {
  std::uint8_t cls;
  std::uint8_t len;
};

/// Decodes the character at p (p < e) that is not ASCII: UTF-8 as the Unicode standard defines it
/// (no overlong forms, no surrogates, nothing above U+10FFFF), the same validity PCRE2 checks.
inline CharInfo decode_multibyte(const unsigned char* p, const unsigned char* e) {
  const unsigned c0 = p[0];
  const std::ptrdiff_t avail = e - p;
  auto cont = [](unsigned c) { return (c & 0xC0) == 0x80; };
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    if (avail >= 2 && cont(p[1])) return {class_of(((c0 & 0x1F) << 6) | (p[1] & 0x3F)), 2};
  } else if (c0 >= 0xE0 && c0 <= 0xEF) {
    if (avail >= 3 && cont(p[1]) && cont(p[2])) {
      const unsigned c1 = p[1];
      const bool ok = (c0 == 0xE0) ? c1 >= 0xA0 : (c0 == 0xED) ? c1 <= 0x9F : true;
      if (ok) return {class_of(((c0 & 0x0F) << 12) | ((c1 & 0x3F) << 6) | (p[2] & 0x3F)), 3};
    }
  } else if (c0 >= 0xF0 && c0 <= 0xF4) {
    if (avail >= 4 && cont(p[1]) && cont(p[2]) && cont(p[3])) {
      const unsigned c1 = p[1];
      const bool ok = (c0 == 0xF0) ? c1 >= 0x90 : (c0 == 0xF4) ? c1 <= 0x8F : true;
      if (ok) {
        return {class_of(((c0 & 0x07) << 18) | ((c1 & 0x3F) << 12) | ((p[2] & 0x3F) << 6) |
                         (p[3] & 0x3F)),
                4};
      }
    }
  }
  return {kInvalid, 1};
}

/// The character at p: class and length; {kEnd, 0} when p == e.
inline CharInfo char_at(const unsigned char* p, const unsigned char* e) {
  if (p >= e) return {kEnd, 0};
  if (p[0] < 0x80) return {kAsciiClass.v[p[0]], 1};
  return decode_multibyte(p, e);
}

/// Length of the contraction ('s 't 'm 'd 're 've 'll) at p (p[0] == '\''), or 0.
inline std::size_t contraction_length(const unsigned char* p, const unsigned char* e) {
  if (e - p < 2) return 0;
  switch (p[1]) {
    case 's': case 't': case 'm': case 'd': return 2;
    case 'r': case 'v': return (e - p >= 3 && p[2] == 'e') ? 3 : 0;
    case 'l': return (e - p >= 3 && p[2] == 'l') ? 3 : 0;
    default: return 0;
  }
}

/// Calls emit(const char* start, std::size_t length) for every GPT-2 pre-token of [begin, end),
/// in order; the pre-tokens tile the text exactly. One pass, O(n), no allocation.
template <class Emit>
inline void for_each_pretoken(const char* begin, const char* end, Emit&& emit) {
  const auto* p = reinterpret_cast<const unsigned char*>(begin);
  const auto* e = reinterpret_cast<const unsigned char*>(end);
  auto out = [&](const unsigned char* s, const unsigned char* t) {
    emit(reinterpret_cast<const char*>(s), static_cast<std::size_t>(t - s));
  };
  while (p < e) {
    const unsigned char* start = p;
    CharInfo ci = char_at(p, e);
    if (ci.cls == kInvalid) {  // an invalid byte is a pre-token by itself
      out(p, p + 1);
      ++p;
      continue;
    }
    if (p[0] == '\'') {  // alternative 1: contractions
      if (std::size_t n = contraction_length(p, e)) {
        out(p, p + n);
        p += n;
        continue;
      }
    }
    std::uint8_t cls = ci.cls;
    if (p[0] == ' ') {  // alternatives 2–4: an optional space before a run
      const CharInfo next = char_at(p + 1, e);
      if (next.cls <= kNumber) {
        cls = next.cls;
        ci.len = static_cast<std::uint8_t>(1 + next.len);
      }
    }
    if (cls == kSpace) {  // alternatives 5–6: white space
      const unsigned char* last = p;  // start of the run's last character
      const unsigned char* q = p + ci.len;
      CharInfo x;
      for (;;) {
        if (q < e && q[0] < 0x80) {
          if (kAsciiClass.v[q[0]] == kSpace) {
            last = q++;
            continue;
          }
          x = {kAsciiClass.v[q[0]], 1};
          break;
        }
        x = char_at(q, e);
        if (x.cls != kSpace) break;
        last = q;
        q += x.len;
      }
      if (x.cls == kEnd || x.cls == kInvalid) {  // \s+(?!\S) at the end of a segment
        out(p, q);
        p = q;
      } else if (last > p) {  // \s+(?!\S) backs off the last white-space character
        out(p, last);
        p = last;
      } else {  // one white-space character before a non-space: \s+
        out(p, q);
        p = q;
      }
      continue;
    }
    p += ci.len;  // the run's first character (after the optional space)
    // The rest of a run of class `cls` (letters, numbers or other).
    for (;;) {
      while (p < e && p[0] < 0x80 && kAsciiClass.v[p[0]] == cls) ++p;
      if (p >= e || p[0] < 0x80) break;
      const CharInfo x = decode_multibyte(p, e);
      if (x.cls != cls) break;
      p += x.len;
    }
    out(start, p);
  }
}

}  // namespace llmlab::fast::detail
