/// \file
/// \brief libFuzzer target: the tokenizers round-trip every byte string and agree on its ids.
///
/// For each input x (any bytes, valid UTF-8 or not), on a small vocabulary trained at start-up
/// (with a special token) and on GPT-2's (when the file LLMLAB_GPT2_VOCAB exists):
/// - reference: decode(encode(x)) == x, under the plain-text and allow policies;
/// - fast:      the same, and its ids equal the reference's ids exactly;
/// - the default policy either throws llmlab::Error (x holds a special's text) or equals allow.
/// Any violation prints the input's length and the first differing position, then aborts, which
/// libFuzzer reports with the input saved as a crash file.
///
/// Built by the `fuzz` preset (clang, -fsanitize=fuzzer,address,undefined); CI runs it briefly
/// (tests/fuzz/CMakeLists.txt).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/fast/tokenizer.hpp"
#include "llmlab/ref/tokenizer.hpp"

namespace {

/// The reference and fast tokenizers over one vocabulary.
struct Pair {
  const char* name;
  llmlab::ref::Tokenizer ref;
  llmlab::fast::Tokenizer fast;
};

[[noreturn]] void fail(const char* vocab, const char* what, std::string_view x) {
  std::fprintf(stderr, "tokenizer_fuzz [%s]: %s (input of %zu bytes)\n", vocab, what, x.size());
  std::abort();
}

void expect_round_trip(const char* vocab, const char* who, const std::string& decoded, std::string_view x) {
  if (decoded == x) return;
  std::size_t i = 0;
  while (i < decoded.size() && i < x.size() && decoded[i] == x[i]) ++i;
  std::fprintf(stderr, "tokenizer_fuzz [%s]: %s decode(encode(x)) != x from byte %zu\n", vocab, who, i);
  fail(vocab, "round trip broken", x);
}

/// A corpus with words, numbers, punctuation, whitespace runs, non-ASCII letters and the special
/// token's text, so the trained vocabulary has merges of every pre-token kind.
std::vector<std::string> training_corpus() {
  std::vector<std::string> texts;
  for (int i = 0; i < 40; ++i) {
    texts.push_back("The quick brown fox jumps over the lazy dog " + std::to_string(i * 7919) +
                    " times; it's 3.14159!\n\n  café, naïve, Übermaß — 你好世界 👍\t<|endoftext|>");
  }
  return texts;
}

std::vector<Pair>& tokenizers() {
  static std::vector<Pair> pairs = [] {
    std::vector<Pair> p;
    const auto corpus = training_corpus();
    const std::vector<std::string> specials = {"<|endoftext|>"};
    p.push_back({"trained-600", llmlab::ref::Tokenizer::train(corpus, 600, specials),
                 llmlab::fast::Tokenizer::train(corpus, 600, specials)});
#ifdef LLMLAB_GPT2_VOCAB
    if (std::filesystem::exists(LLMLAB_GPT2_VOCAB)) {
      p.push_back({"gpt2", llmlab::ref::Tokenizer::gpt2(LLMLAB_GPT2_VOCAB),
                   llmlab::fast::Tokenizer::gpt2(LLMLAB_GPT2_VOCAB)});
    }
#endif
    return p;
  }();
  return pairs;
}

void check(const Pair& t, std::string_view x) {
  using llmlab::ref::SpecialPolicy;
  using FastPolicy = llmlab::fast::SpecialPolicy;
  const auto plain = t.ref.encode(x, SpecialPolicy::plain_text);
  expect_round_trip(t.name, "reference (plain text)", t.ref.decode(plain), x);
  if (t.fast.encode(x, FastPolicy::plain_text) != plain) fail(t.name, "fast ids != reference ids (plain text)", x);

  const auto allowed = t.ref.encode(x, SpecialPolicy::allow);
  expect_round_trip(t.name, "reference (allow)", t.ref.decode(allowed), x);
  const auto fast_allowed = t.fast.encode(x, FastPolicy::allow);
  if (fast_allowed != allowed) fail(t.name, "fast ids != reference ids (allow)", x);
  expect_round_trip(t.name, "fast (allow)", t.fast.decode(fast_allowed), x);

  std::optional<std::vector<llmlab::ref::TokenId>> strict;
  try {
    strict = t.ref.encode(x, SpecialPolicy::error);
  } catch (const llmlab::Error&) {
    if (x.find("<|endoftext|>") == std::string_view::npos) fail(t.name, "error policy threw without a special", x);
    return;
  }
  if (*strict != allowed) fail(t.name, "error policy's ids != allow's on special-free input", x);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view x(reinterpret_cast<const char*>(data), size);
  for (const auto& t : tokenizers()) check(t, x);
  return 0;
}
