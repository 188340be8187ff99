#pragma once
/// \file
/// \brief GPT-2's exact token ids for a set of awkward inputs: the outside reference every
/// tokenizer path (reference, fast, CUDA) is tested against.
///
/// Where the ids come from: issue 3 lists them as produced by OpenAI's tiktoken (`gpt2` encoding)
/// and Hugging Face tokenizers (`gpt2`); they were cross-checked when this file was written with
/// Python tiktoken built from the same `vocab/gpt2.tiktoken` the tests load (scripts/setup.sh
/// downloads it):
///
///     tiktoken.Encoding(name="gpt2", pat_str=<GPT-2's pattern>,
///                       mergeable_ranks=load_tiktoken_bpe("vocab/gpt2.tiktoken"),
///                       special_tokens={"<|endoftext|>": 50256})
///
/// They are never produced by the code under test.
///
/// How to use them:
/// - gpt2_cases(): encode each `text` with **no special token recognised** (ref:
///   `encode_ordinary`, or `encode(text, SpecialPolicy::plain_text)`). The one case containing
///   `<|endoftext|>` (`endoftext_as_plain_text`) checks exactly that; under the default policy
///   (error) that text must throw instead.
/// - gpt2_allowed_special_cases(): encode with `<|endoftext|>` (= 50256) **allowed**
///   (`SpecialPolicy::allow`); under the default policy these texts must throw, naming the token.
///
/// `name` is a valid identifier, usable as a GoogleTest parameter name. Non-ASCII text is written
/// as UTF-8 byte escapes (the code point in the comment); adjacent literals keep a hex escape from
/// swallowing the next letter ("\xC2\xA0" "b", not "\xC2\xA0b").

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace llmlab::testing {

/// One input and GPT-2's ids for it.
struct Gpt2Case {
  std::string name;                ///< identifier-like, for test names
  std::string text;                ///< the input bytes (UTF-8)
  std::vector<std::uint32_t> ids;  ///< GPT-2's ids (tiktoken `gpt2`)
};

/// GoogleTest prints a case by its name (not as raw bytes) in failure messages.
inline void PrintTo(const Gpt2Case& c, std::ostream* os) { *os << c.name; }

/// GPT-2 ids with no special tokens recognised (`<|endoftext|>` in the text is plain text).
inline const std::vector<Gpt2Case>& gpt2_cases() {
  // clang-format off
  static const std::vector<Gpt2Case> cases = {
      {"empty", "", {}},
      {"hello_world", "hello world", {31373, 995}},
      {"leading_space_hello_world", " hello world", {23748, 995}},
      {"hello_comma_world_bang", "Hello, world!", {15496, 11, 995, 0}},
      {"two_spaces_between_words", "hello  world", {31373, 220, 995}},
      {"two_newlines_between_words", "hello\n\nworld", {31373, 198, 198, 6894}},
      {"three_newlines", "\n\n\n", {628, 198}},
      {"spaces_around_newline", "x  \n  y", {87, 220, 220, 198, 220, 331}},
      {"three_newlines_between_letters", "x\n\n\ny", {87, 628, 198, 88}},
      {"trailing_spaces", "trailing  ", {9535, 4386, 220, 220}},
      {"ten_spaces_then_x", "          x", {220, 220, 220, 220, 220, 220, 220, 220, 220, 2124}},
      {"tab_space_x", "\t x", {197, 2124}},
      {"space_tab_x", " \tx", {220, 197, 87}},
      {"crlf", "foo\r\nbar", {21943, 201, 198, 5657}},
      {"contraction_m", "I'm", {40, 1101}},
      {"contraction_t_then_bang", "don't!", {9099, 470, 0}},
      {"uppercase_contraction_is_not_one", "IT'S", {2043, 6, 50}},
      {"contraction_at_start", "'sam", {338, 321}},
      {"space_then_contraction", " 's", {705, 82}},
      {"two_apostrophes_s", "''s", {7061, 82}},
      {"two_contractions", "'ll've", {1183, 1053}},
      {"curly_apostrophe", "it\xE2\x80\x99s", {270, 447, 247, 82}},  // it’s (U+2019)
      {"number_123", "123", {10163}},
      {"number_1234567", "1234567", {10163, 2231, 3134}},
      {"pi_digits", "3.14159", {18, 13, 1415, 19707}},
      {"nine_zeros", "000000000", {10535, 830}},
      {"sixteen_zeros", "0000000000000000", {25645}},
      {"seventeen_zeros", "00000000000000000", {8269, 10535, 830}},
      {"twenty_a", "aaaaaaaaaaaaaaaaaaaa", {24794, 24794, 24794, 24794, 24794}},
      {"question_bang_question", "?!?", {12248, 30}},
      {"cafe_precomposed", "caf\xC3\xA9", {66, 1878, 2634}},            // café (U+00E9)
      {"e_combining_acute", "e\xCC\x81", {68, 136, 223}},               // e + U+0301
      {"one_half", "\xC2\xBD", {23141}},                                // ½ (U+00BD)
      {"chinese_hello_world", "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C",  // 你好世界
       {19526, 254, 25001, 121, 10310, 244, 45911, 234}},
      {"thumbs_up_emoji", "\xF0\x9F\x91\x8D", {41840, 235}},            // 👍 (U+1F44D)
      {"no_break_space", "a\xC2\xA0" "b", {64, 1849, 65}},              // a U+00A0 b
      {"ideographic_space", "\xE3\x80\x80" "x", {5099, 222, 87}},       // U+3000 x
      {"next_line_control", "a\xC2\x85" "b", {64, 126, 227, 65}},       // a U+0085 b
      {"byte_order_mark", "\xEF\xBB\xBF" "BOM", {171, 119, 123, 33, 2662}},  // U+FEFF BOM
      {"nul", std::string(1, '\0'), {188}},                             // U+0000
      {"solid_gold_magikarp", " SolidGoldMagikarp", {43453}},
      {"endoftext_as_plain_text", "<|endoftext|>", {27, 91, 437, 1659, 5239, 91, 29}},
  };
  // clang-format on
  return cases;
}

/// GPT-2 ids with `<|endoftext|>` (= 50256) allowed. Under the default policy (error) each of these
/// texts must throw an error naming `<|endoftext|>`.
inline const std::vector<Gpt2Case>& gpt2_allowed_special_cases() {
  static const std::vector<Gpt2Case> cases = {
      {"hello_then_endoftext", "hello <|endoftext|>", {31373, 220, 50256}},
  };
  return cases;
}

}  // namespace llmlab::testing
