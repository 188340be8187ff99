// The reference tokenizer (llmlab::ref::Tokenizer) against outside references and hand-derived
// answers:
//   - GPT-2's ids from tiktoken / Hugging Face (tokenizer_cases.hpp) on GPT-2's real vocabulary
//     (suites Gpt2*, label golden; they FAIL, saying to run scripts/setup.sh, when it is missing);
//   - GPT-2's regex splits as Python's `regex` module makes them;
//   - training answers counted by hand in the comments;
//   - file formats against RFC 4648's base64 vectors and hand-written GPT-2 files;
//   - bad input: an llmlab::Error whose message names the file, line or token.

#include "llmlab/ref/tokenizer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "tokenizer_cases.hpp"

namespace {

using llmlab::ref::SpecialPolicy;
using llmlab::ref::TokenId;
using llmlab::ref::Tokenizer;
using Ids = std::vector<TokenId>;
using Pieces = std::vector<std::string_view>;

// ---- helpers ------------------------------------------------------------------------------------

/// Runs `f`, expects an llmlab::Error whose message contains every one of `parts`.
void expect_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "expected llmlab::Error mentioning \"" << *parts.begin()
                  << "\", nothing thrown";
  } catch (const llmlab::Error& e) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message \"" << e.what() << "\" does not mention \"" << part << "\"";
    }
  }
}

/// A fresh directory under the system's temporary directory, removed with its contents at scope
/// end.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("llmlab_tokenizer_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  /// Writes `text` to the file `name` in this directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  /// The names of the files in this directory, sorted.
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path path_;
};

/// One byte in base64, written out independently of the code under test: 8 bits = 6 + 2 (+ 4 zero
/// bits), then "==" for the two missing bytes.
std::string base64_of_byte(unsigned b) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return {kAlphabet[b >> 2], kAlphabet[(b & 3) << 4], '=', '='};
}

/// The lines of a valid `.tiktoken` file with the 256 single bytes, byte b at rank b.
std::string byte_lines() {
  std::string lines;
  for (unsigned b = 0; b < 256; ++b) lines += base64_of_byte(b) + " " + std::to_string(b) + "\n";
  return lines;
}

/// Random byte strings that mix ASCII words and spaces, valid multi-byte UTF-8 (up to U+10FFFF),
/// and arbitrary bytes (so invalid UTF-8: lone continuation bytes, cut sequences, 0xFF, …).
std::vector<std::string> random_byte_strings(std::uint64_t seed, int count) {
  llmlab::Rng rng(seed);
  auto below = [&](unsigned n) { return static_cast<unsigned>(rng.uniform(0.0, n)); };
  std::vector<std::string> out;
  for (int s = 0; s < count; ++s) {
    std::string text;
    const unsigned length = below(48);
    for (unsigned i = 0; i < length; ++i) {
      switch (below(4)) {
        case 0:
          text += " \n\tab'sZ09.,!"[below(14)];
          break;
        case 1: {  // a valid code point, encoded by hand (surrogates skipped)
          unsigned c = 0x80 + below(0x10FFFF - 0x80);
          if (c >= 0xD800 && c <= 0xDFFF) c = 0xE9;
          if (c < 0x800) {
            text += static_cast<char>(0xC0 | c >> 6);
          } else if (c < 0x10000) {
            text += static_cast<char>(0xE0 | c >> 12);
            text += static_cast<char>(0x80 | (c >> 6 & 63));
          } else {
            text += static_cast<char>(0xF0 | c >> 18);
            text += static_cast<char>(0x80 | (c >> 12 & 63));
            text += static_cast<char>(0x80 | (c >> 6 & 63));
          }
          text += static_cast<char>(0x80 | (c & 63));
          break;
        }
        default:
          text += static_cast<char>(below(256));
          break;
      }
    }
    out.push_back(text);
  }
  return out;
}

std::string join(const Pieces& pieces) {
  std::string all;
  for (std::string_view p : pieces) all += p;
  return all;
}

// ---- GPT-2's real vocabulary (label golden) -----------------------------------------------------

/// GPT-2 loaded once from LLMLAB_GPT2_VOCAB (tests/CMakeLists.txt), or null when the file is
/// missing.
const Tokenizer* gpt2() {
  static const std::optional<Tokenizer> tokenizer = []() -> std::optional<Tokenizer> {
    if (!std::filesystem::exists(LLMLAB_GPT2_VOCAB)) return std::nullopt;
    return Tokenizer::gpt2(LLMLAB_GPT2_VOCAB);
  }();
  return tokenizer ? &*tokenizer : nullptr;
}

constexpr const char* kNoVocabulary =
    "GPT-2's vocabulary " LLMLAB_GPT2_VOCAB
    " is missing: run scripts/setup.sh (it downloads it "
    "from PyPI's openai-whisper source package), or point the CMake cache variable "
    "LLMLAB_GPT2_VOCAB at a copy";

class Gpt2Ids : public ::testing::TestWithParam<llmlab::testing::Gpt2Case> {};

TEST_P(Gpt2Ids, EncodeOrdinaryGivesTiktokensIdsAndDecodesBack) {
  const Tokenizer* tok = gpt2();
  ASSERT_NE(tok, nullptr) << kNoVocabulary;
  const auto& c = GetParam();
  EXPECT_EQ(tok->encode_ordinary(c.text), c.ids);
  EXPECT_EQ(tok->encode(c.text, SpecialPolicy::plain_text), c.ids);
  EXPECT_EQ(tok->decode(c.ids), c.text);
}

INSTANTIATE_TEST_SUITE_P(Tiktoken, Gpt2Ids, ::testing::ValuesIn(llmlab::testing::gpt2_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Gpt2Specials, AllowedEndoftextBecomesId50256AndTheDefaultPolicyRejectsItByName) {
  const Tokenizer* tok = gpt2();
  ASSERT_NE(tok, nullptr) << kNoVocabulary;
  for (const auto& c : llmlab::testing::gpt2_allowed_special_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(tok->encode(c.text, SpecialPolicy::allow), c.ids);
    EXPECT_EQ(tok->decode(c.ids), c.text);
    expect_error([&] { tok->encode(c.text); }, {"Tokenizer::encode", "'<|endoftext|>'", "allow"});
  }
  EXPECT_EQ(tok->encode("<|endoftext|>", SpecialPolicy::plain_text),
            Ids({27, 91, 437, 1659, 5239, 91, 29}));
  // Text on both sides of a special is encoded separately: "a" and " b" never merge across it.
  EXPECT_EQ(tok->encode("a<|endoftext|> b", SpecialPolicy::allow), Ids({64, 50256, 275}));
}

TEST(Gpt2Vocabulary, HasRanks0To50255AndEndoftextAt50256) {
  const Tokenizer* tok = gpt2();
  ASSERT_NE(tok, nullptr) << kNoVocabulary;
  // Facts of GPT-2's vocabulary (tiktoken's load_tiktoken_bpe on the same file).
  EXPECT_EQ(tok->mergeable_count(), 50256u);
  EXPECT_EQ(tok->vocab_size(), 50257u);
  EXPECT_EQ(tok->token_bytes(0), "!");
  EXPECT_EQ(tok->token_bytes(188), std::string(1, '\0'));
  EXPECT_EQ(tok->token_bytes(256), " t");
  EXPECT_EQ(tok->token_bytes(50255), " gazed");
  EXPECT_EQ(tok->rank(" the"), 262u);
  EXPECT_EQ(tok->rank("not a token"), std::nullopt);
  EXPECT_EQ(tok->special_tokens(), (std::map<std::string, TokenId>{{"<|endoftext|>", 50256}}));
}

TEST(Gpt2RoundTrip, DecodeOfEncodeIsTheInputForRandomBytesIncludingInvalidUtf8) {
  const Tokenizer* tok = gpt2();
  ASSERT_NE(tok, nullptr) << kNoVocabulary;
  for (const std::string& text : random_byte_strings(20261123, 300)) {
    EXPECT_EQ(tok->decode(tok->encode_ordinary(text)), text);
  }
}

TEST(Gpt2SaveLoad, SaveTiktokenThenFromTiktokenReproducesTheFileAndTheIds) {
  const Tokenizer* tok = gpt2();
  ASSERT_NE(tok, nullptr) << kNoVocabulary;
  TempDir dir;
  tok->save_tiktoken(dir.path() / "copy.tiktoken");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"copy.tiktoken"});  // no temporary file left

  std::ifstream original(LLMLAB_GPT2_VOCAB, std::ios::binary),
      copy(dir.path() / "copy.tiktoken", std::ios::binary);
  const std::string a{std::istreambuf_iterator<char>(original), {}},
      b{std::istreambuf_iterator<char>(copy), {}};
  EXPECT_TRUE(a == b) << "the saved file differs from " << LLMLAB_GPT2_VOCAB;

  const Tokenizer reloaded = Tokenizer::gpt2(dir.path() / "copy.tiktoken");
  for (const auto& c : llmlab::testing::gpt2_cases())
    EXPECT_EQ(reloaded.encode_ordinary(c.text), c.ids) << c.name;
}

// ---- pre-tokenization ---------------------------------------------------------------------------

TEST(Pretokenize, SplitsLikeGpt2sRegexInPythonsRegexModule) {
  // regex.findall(GPT-2's pattern, text) in Python's `regex` module (tiktoken's dependency).
  using llmlab::ref::pretokenize;
  EXPECT_EQ(pretokenize("hello  world"), (Pieces{"hello", " ", " world"}));
  EXPECT_EQ(pretokenize("x  \n  y"), (Pieces{"x", "  \n ", " y"}));
  EXPECT_EQ(pretokenize("I'm don't IT'S"), (Pieces{"I", "'m", " don", "'t", " IT", "'", "S"}));
  EXPECT_EQ(pretokenize("3.14159 1234567"), (Pieces{"3", ".", "14159", " 1234567"}));
  // clang-format off
  EXPECT_EQ(pretokenize("?!? caf\xC3\xA9\xC2\xA0" "b"), (Pieces{"?!?", " caf\xC3\xA9", "\xC2\xA0", "b"}));
  EXPECT_EQ(pretokenize("a\xC2\x85" "b"), (Pieces{"a", "\xC2\x85", "b"}));  // U+0085 is \s
  EXPECT_EQ(pretokenize("\xEF\xBB\xBF" "BOM"), (Pieces{"\xEF\xBB\xBF", "BOM"}));  // U+FEFF is not
  // clang-format on
  EXPECT_EQ(pretokenize("trailing  "), (Pieces{"trailing", "  "}));
  EXPECT_EQ(pretokenize("hello\n\nworld"), (Pieces{"hello", "\n", "\n", "world"}));
  EXPECT_EQ(pretokenize("foo\r\nbar"), (Pieces{"foo", "\r", "\n", "bar"}));
  EXPECT_EQ(pretokenize(""), Pieces{});
}

TEST(Pretokenize, EachInvalidUtf8ByteIsAPreTokenAndEachValidSegmentIsSplitOnItsOwn) {
  using llmlab::ref::pretokenize;
  EXPECT_EQ(pretokenize(std::string("a\xFF") + "b"), (Pieces{"a", "\xFF", "b"}));
  // A cut 3-byte sequence (你 is E4 BD A0): both bytes invalid, each alone.
  EXPECT_EQ(pretokenize("hi\xE4\xBDworld"), (Pieces{"hi", "\xE4", "\xBD", "world"}));
  // "a " before the bad byte is a whole text by itself: its trailing space is \s+ at the end, not
  // the start of " b" — as if the text ended there.
  EXPECT_EQ(pretokenize("a \xFF b"), (Pieces{"a", " ", "\xFF", " b"}));
  EXPECT_EQ(pretokenize("\xC0\xAF"), (Pieces{"\xC0", "\xAF"}));              // overlong '/'
  EXPECT_EQ(pretokenize("\xED\xA0\x80"), (Pieces{"\xED", "\xA0", "\x80"}));  // surrogate D800
  EXPECT_EQ(pretokenize("\xF4\x90\x80\x80"),
            (Pieces{"\xF4", "\x90", "\x80", "\x80"}));  // > U+10FFFF
  EXPECT_EQ(pretokenize("\xF0\x9F\x91\x8D\x8D"),
            (Pieces{"\xF0\x9F\x91\x8D", "\x8D"}));  // 👍 + a stray
}

TEST(Pretokenize, PiecesConcatenateToTheInputForRandomBytes) {
  for (const std::string& text : random_byte_strings(7, 500)) {
    const Pieces pieces = llmlab::ref::pretokenize(text);
    EXPECT_EQ(join(pieces), text);
    for (std::string_view p : pieces) EXPECT_FALSE(p.empty());
  }
}

TEST(Pretokenize, HandlesARunOf100000SpacesAndOf100000Letters) {
  const std::string spaces = std::string(100000, ' ') + "x";
  EXPECT_EQ(llmlab::ref::pretokenize(spaces),
            (Pieces{std::string_view(spaces).substr(0, 99999), " x"}));
  const std::string letters(100000, 'x');
  EXPECT_EQ(llmlab::ref::pretokenize(letters), Pieces{letters});
}

// ---- encoding with specials ---------------------------------------------------------------------

TEST(Specials, LongestSpecialWinsWhereOneIsAPrefixOfAnother) {
  // 256 bytes, no merges (corpus "x" has no pair), specials 256 and 257 in the order given.
  const std::vector<std::string> corpus{"x"};
  const Tokenizer tok = Tokenizer::train(corpus, 258, {"<|fim|>", "<|fim|>_suffix"});
  EXPECT_EQ(tok.special_tokens(),
            (std::map<std::string, TokenId>{{"<|fim|>", 256}, {"<|fim|>_suffix", 257}}));
  EXPECT_EQ(tok.encode("A<|fim|>_suffixB", SpecialPolicy::allow), Ids({'A', 257, 'B'}));
  EXPECT_EQ(tok.encode("A<|fim|>_sufB", SpecialPolicy::allow),
            Ids({'A', 256, '_', 's', 'u', 'f', 'B'}));
  EXPECT_EQ(tok.decode(Ids{'A', 257, 'B', 256}), "A<|fim|>_suffixB<|fim|>");
  expect_error([&] { tok.encode("x<|fim|>_suffix"); }, {"'<|fim|>_suffix'", "at byte 1"});
  EXPECT_EQ(tok.encode("<|fim|>", SpecialPolicy::plain_text).size(), 7u);
}

TEST(Specials, DecodeOfAnUnknownIdThrowsNamingIt) {
  const Tokenizer tok;
  expect_error(
      [&] {
        tok.decode(Ids{104, 105, 300});
      },
      {"Tokenizer::decode", "ids[2] = 300", "256 ids"});
}

TEST(RoundTrip, DecodeOfEncodeIsTheInputForRandomBytesWithBytesOnlyAndTrainedVocabularies) {
  const std::vector<std::string> texts = random_byte_strings(11, 400);
  const std::vector<std::string> corpus(texts.begin(), texts.begin() + 200);
  const Tokenizer bytes_only;
  const Tokenizer trained = Tokenizer::train(corpus, 400);
  EXPECT_GT(trained.merges().size(), 100u);
  for (const std::string& text : texts) {
    EXPECT_EQ(bytes_only.decode(bytes_only.encode(text)), text);
    EXPECT_EQ(trained.decode(trained.encode(text)), text);
  }
}

// ---- the merge loop's worst case (issue 12) ------------------------------------------------------

/// The rule of encode_piece written as plainly as possible — every round scans every adjacent pair
/// and merges the one of lowest rank, the leftmost on a tie — over `tok`'s own ranks: the
/// quadratic loop the reference replaced with a heap, kept here as its oracle.
std::vector<TokenId> naive_merge(const Tokenizer& tok, const std::string& piece) {
  std::map<std::string, TokenId> rank;
  for (TokenId id = 0; id < tok.mergeable_count(); ++id) rank[tok.decode(std::vector{id})] = id;
  std::vector<std::string> parts;
  for (const char c : piece) parts.emplace_back(1, c);
  for (;;) {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      const auto it = rank.find(parts[i] + parts[i + 1]);
      if (it != rank.end() && (!best || it->second < rank.at(parts[*best] + parts[*best + 1])))
        best = i;
    }
    if (!best) break;
    parts[*best] += parts[*best + 1];
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(*best) + 1);
  }
  std::vector<TokenId> ids;
  for (const std::string& p : parts) ids.push_back(rank.at(p));
  return ids;
}

/// n random letters from a small alphabet (so merges repeat, overlap and tie).
std::string random_letters(llmlab::Rng& rng, std::size_t n, int alphabet) {
  std::string s(n, 'a');
  for (char& c : s) c = static_cast<char>('a' + static_cast<int>(rng.uniform(0.0, alphabet)));
  return s;
}

TEST(WorstCase, TheHeapOfPairRanksMergesExactlyLikeTheNaiveLoop) {
  llmlab::Rng rng(1201);
  std::vector<std::string> corpus;
  for (int i = 0; i < 50; ++i) corpus.push_back(random_letters(rng, 200, 3));
  const Tokenizer tok = Tokenizer::train(corpus, 400);
  ASSERT_GT(tok.merges().size(), 100u);
  for (int i = 0; i < 200; ++i) {
    const auto n = 1 + static_cast<std::size_t>(rng.uniform(0.0, 300.0));
    const std::string piece = random_letters(rng, n, 1 + i % 3);
    ASSERT_EQ(tok.encode_ordinary(piece), naive_merge(tok, piece)) << piece;
  }
}

TEST(WorstCase, AOneMegabytePreTokenEncodesInSeconds) {
  // One pre-token of 1 MB (letters only): the naive loop's O(n^2) took over a minute for 100 KB.
  // The target is under 10 s; the cap here is a generous guard against a return to
  // quadratic time on a loaded machine, not a benchmark.
  llmlab::Rng rng(1202);
  std::vector<std::string> corpus;
  for (int i = 0; i < 20; ++i) corpus.push_back(random_letters(rng, 500, 4));
  const Tokenizer tok = Tokenizer::train(corpus, 600);
  const std::string piece = random_letters(rng, 1 << 20, 4);
  ASSERT_EQ(llmlab::ref::pretokenize(piece).size(), 1u);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<TokenId> ids = tok.encode_ordinary(piece);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(tok.decode(ids), piece);
  EXPECT_LT(seconds, 60.0) << "1 MB pre-token took " << seconds << " s";
  RecordProperty("seconds", std::to_string(seconds));
  std::cout << "1 MB single pre-token: " << ids.size() << " ids in " << seconds << " s\n";
}

// ---- training -----------------------------------------------------------------------------------

/// The merges as (left, right, id) triples, for EXPECT_EQ.
std::vector<std::array<TokenId, 3>> triples(const Tokenizer& tok) {
  std::vector<std::array<TokenId, 3>> out;
  for (const auto& m : tok.merges()) out.push_back({m.left, m.right, m.id});
  return out;
}

TEST(Train, TiesGoToTheLexicographicallyGreaterPairLeftBytesThenRightBytes) {
  // Texts "ab", "ac", "ba": pre-tokens ab, ac, ba once each.
  //   pairs (a,b)=1 (a,c)=1 (b,a)=1 — a tie; left bytes "b" > "a"      → (b,a) = 256 "ba"
  //   pairs (a,b)=1 (a,c)=1        — a tie; left equal, right "c" > "b" → (a,c) = 257 "ac"
  //   pairs (a,b)=1                                                      → (a,b) = 258 "ab"
  {
    const std::vector<std::string> corpus{"ab", "ac", "ba"};
    const Tokenizer tok = Tokenizer::train(corpus, 259);
    EXPECT_EQ(triples(tok), (std::vector<std::array<TokenId, 3>>{
                                {'b', 'a', 256}, {'a', 'c', 257}, {'a', 'b', 258}}));
  }
  // Bytes, not ids: texts "ab", "ab", "abx", "by".
  //   pairs (a,b)=3 (b,x)=1 (b,y)=1                                      → (a,b) = 256 "ab"
  //   pre-tokens [256] ×2, [256 x], [b y]: pairs (256,x)=1 (b,y)=1 — a tie; left bytes "b" > "ab"
  //   (though id 256 > 98)                                               → (b,y) = 257 "by"
  //   pairs (256,x)=1                                                    → (256,x) = 258 "abx"
  {
    const std::vector<std::string> corpus{"ab", "ab", "abx", "by"};
    const Tokenizer tok = Tokenizer::train(corpus, 259);
    EXPECT_EQ(triples(tok), (std::vector<std::array<TokenId, 3>>{
                                {'a', 'b', 256}, {'b', 'y', 257}, {256, 'x', 258}}));
  }
}

TEST(Train, OnAaabdaaabacGivesTheMergesCountedByHand) {
  // One pre-token "aaabdaaabac" (all letters). Overlapping pairs count: "aaa" holds (a,a) twice.
  //   pairs (a,a)=4 (a,b)=2 (b,d)=1 (d,a)=1 (b,a)=1 (a,c)=1               → (a,a) = 256 "aa"
  //   left to right: aa a b d aa a b a c
  //   pairs (256,a)=2 (a,b)=2 … — a tie; left bytes "aa" > "a"            → (256,a) = 257 "aaa"
  //   257 b d 257 b a c: pairs (257,b)=2, the rest 1                      → (257,b) = 258 "aaab"
  //   258 d 258 a c: pairs (258,d) (d,258) (258,a) (a,c) all 1; greatest left bytes "d"
  //                                                                        → (d,258) = 259 "daaab"
  //   258 259 a c: (258,259) (259,a) (a,c) all 1; greatest left "daaab"   → (259,a) = 260 "daaaba"
  const std::vector<std::string> corpus{"aaabdaaabac"};
  const Tokenizer tok = Tokenizer::train(corpus, 261);
  EXPECT_EQ(
      triples(tok),
      (std::vector<std::array<TokenId, 3>>{
          {'a', 'a', 256}, {256, 'a', 257}, {257, 'b', 258}, {'d', 258, 259}, {259, 'a', 260}}));
  EXPECT_EQ(tok.token_bytes(260), "daaaba");
  EXPECT_EQ(tok.encode("aaabdaaabac"), Ids({258, 260, 'c'}));
}

TEST(Train, CountsPreTokensByFrequencySkipsSpecialsAndStopsWhenNothingIsLeftToMerge) {
  // "hug hug<|endoftext|> hug pug": the special is cut out first (never counted), so the
  // pre-tokens are "hug" ×1, " hug" ×2, " pug" ×1.
  //   pairs (u,g)=4 (h,u)=3 (' ',h)=2 (' ',p)=1 (p,u)=1                  → (u,g) = 256 "ug"
  //   pairs (h,256)=3 (' ',h)=2 (' ',p)=1 (p,256)=1                       → (h,256) = 257 "hug"
  //   pairs (' ',257)=2 (' ',p)=1 (p,256)=1                               → (' ',257) = 258 " hug"
  //   pairs (' ',p)=1 (p,256)=1 — a tie; left bytes "p" > " "             → (p,256) = 259 "pug"
  //   pairs (' ',259)=1                                                   → (' ',259) = 260 " pug"
  //   every pre-token is one token: training stops with 5 merges of the 44 asked for.
  const std::vector<std::string> corpus{"hug hug<|endoftext|> hug pug"};
  const Tokenizer tok = Tokenizer::train(corpus, 301, {"<|endoftext|>"});
  EXPECT_EQ(
      triples(tok),
      (std::vector<std::array<TokenId, 3>>{
          {'u', 'g', 256}, {'h', 256, 257}, {' ', 257, 258}, {'p', 256, 259}, {' ', 259, 260}}));
  EXPECT_EQ(tok.mergeable_count(), 261u);
  EXPECT_EQ(tok.special_tokens(), (std::map<std::string, TokenId>{{"<|endoftext|>", 261}}));
  EXPECT_EQ(tok.vocab_size(), 262u);
  EXPECT_EQ(tok.encode("hug pug<|endoftext|>", SpecialPolicy::allow), Ids({257, 260, 261}));
}

TEST(Train, RefusesATooSmallVocabularyAnEmptyCorpusAndASpecialGivenTwice) {
  const std::vector<std::string> corpus{"some text"};
  expect_error([&] { Tokenizer::train(corpus, 256, {"<|endoftext|>"}); },
               {"Tokenizer::train", "vocab_size 256", "257"});
  expect_error([&] { Tokenizer::train({}, 300); }, {"Tokenizer::train", "empty"});
  const std::vector<std::string> only_specials{"", "<|endoftext|>"};
  expect_error([&] { Tokenizer::train(only_specials, 300, {"<|endoftext|>"}); }, {"empty"});
  expect_error([&] { Tokenizer::train(corpus, 300, {"<|a|>", "<|a|>"}); }, {"'<|a|>'", "twice"});
}

// ---- tiktoken files -----------------------------------------------------------------------------

TEST(Tiktoken, LoadsRfc4648Base64VectorsAndSavesTheSameFile) {
  // RFC 4648 §10: "fo" = Zm8=, "foo" = Zm9v, "foob" = Zm9vYg==, "fooba" = Zm9vYmE=, "foobar" =
  // Zm9vYmFy.
  TempDir dir;
  const std::string text =
      byte_lines() + "Zm8= 256\nZm9v 257\nZm9vYg== 258\nZm9vYmE= 259\nZm9vYmFy 260\n";
  const Tokenizer tok = Tokenizer::from_tiktoken(dir.write("v.tiktoken", text), {{"<|end|>", 261}});
  EXPECT_EQ(tok.token_bytes(256), "fo");
  EXPECT_EQ(tok.token_bytes(260), "foobar");
  EXPECT_EQ(tok.encode("foobar<|end|>", SpecialPolicy::allow), Ids({260, 261}));

  tok.save_tiktoken(dir.path() / "saved.tiktoken");
  EXPECT_EQ(dir.files(),
            (std::vector<std::string>{"saved.tiktoken", "v.tiktoken"}));  // no temp file
  std::ifstream saved(dir.path() / "saved.tiktoken", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(saved), {}), text);
}

TEST(Tiktoken, SaveThenLoadOfATrainedTokenizerReproducesItsIds) {
  const std::vector<std::string> corpus = random_byte_strings(3, 100);
  const Tokenizer trained = Tokenizer::train(corpus, 350, {"<|endoftext|>"});
  TempDir dir;
  trained.save_tiktoken(dir.path() / "t.tiktoken");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"t.tiktoken"});
  const TokenId special = trained.special_tokens().at("<|endoftext|>");
  const Tokenizer loaded =
      Tokenizer::from_tiktoken(dir.path() / "t.tiktoken", {{"<|endoftext|>", special}});
  EXPECT_EQ(loaded.vocab_size(), trained.vocab_size());
  for (const std::string& text : random_byte_strings(4, 100)) {
    const std::string with_special = text + "<|endoftext|>" + text;
    EXPECT_EQ(loaded.encode(with_special, SpecialPolicy::allow),
              trained.encode(with_special, SpecialPolicy::allow));
  }
}

TEST(Tiktoken, BadFilesThrowNamingTheFileLineAndToken) {
  TempDir dir;
  const std::string bytes = byte_lines();
  expect_error([&] { Tokenizer::from_tiktoken(dir.path() / "absent.tiktoken"); },
               {"Tokenizer::from_tiktoken", "cannot open", "absent.tiktoken", "scripts/setup.sh"});
  expect_error(
      [&] { Tokenizer::from_tiktoken(dir.write("b64.tiktoken", bytes + "Zm9v 256\nZm9!v 257\n")); },
      {"b64.tiktoken:258:", "'Zm9!v' is not valid base64"});
  expect_error([&] { Tokenizer::from_tiktoken(dir.write("pad.tiktoken", bytes + "Zm9=v 256\n")); },
               {"pad.tiktoken:257:", "not valid base64"});
  // "Zm9=" would be "fo" with two leftover bits set: not the encoding of any byte string.
  expect_error([&] { Tokenizer::from_tiktoken(dir.write("bits.tiktoken", bytes + "Zm9= 256\n")); },
               {"bits.tiktoken:257:", "'Zm9=' is not valid base64"});
  expect_error([&] { Tokenizer::from_tiktoken(dir.write("fields.tiktoken", bytes + "Zm9v\n")); },
               {"fields.tiktoken:257:", "expected 'base64 rank', got 'Zm9v'"});
  expect_error(
      [&] { Tokenizer::from_tiktoken(dir.write("dup.tiktoken", bytes + "Zm9v 256\nZm8= 256\n")); },
      {"dup.tiktoken:258:", "rank 256 is given twice (also on line 257)"});
  expect_error(
      [&] { Tokenizer::from_tiktoken(dir.write("same.tiktoken", bytes + "Zm9v 256\nZm9v 257\n")); },
      {"same.tiktoken:258:", "the token 'foo' is given twice"});
  expect_error(
      [&] { Tokenizer::from_tiktoken(dir.write("gap.tiktoken", bytes + "Zm9v 256\nZm8= 258\n")); },
      {"gap.tiktoken", "rank 257 is missing", "line 258 gives 258"});
  expect_error([&] { Tokenizer::from_tiktoken(dir.write("rank.tiktoken", bytes + "Zm9v -1\n")); },
               {"rank.tiktoken:257:", "'-1' is not a number"});
  std::string no_a = bytes;
  no_a.replace(no_a.find("YQ== 97\n"), 8, "Zm9v 97\n");  // rank 97 is "foo" instead of 'a'
  expect_error([&] { Tokenizer::from_tiktoken(dir.write("no_a.tiktoken", no_a)); },
               {"no_a.tiktoken", "the single byte 'a' is not a token"});
  const auto good = dir.write("good.tiktoken", bytes);
  expect_error(
      [&] {
        Tokenizer::from_tiktoken(good, {{"<|s|>", 100}});
      },
      {"'<|s|>' has id 100", "rank of the token 'd'"});
  expect_error(
      [&] {
        Tokenizer::from_tiktoken(good, {{"<|s|>", 256}, {"<|s|>", 257}});
      },
      {"'<|s|>' is given twice"});
  expect_error(
      [&] {
        Tokenizer::from_tiktoken(good, {{"<|s|>", 256}, {"<|t|>", 256}});
      },
      {"'<|s|>' and '<|t|>' both have id 256"});
}

// ---- GPT-2's encoder.json + vocab.bpe -----------------------------------------------------------

/// GPT-2's printable bytes: '!'..'~', 0xA1..0xAC, 0xAE..0xFF.
bool printable(unsigned b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174; }

/// GPT-2's bytes_to_unicode as a test fixture: the printable bytes stand for themselves, the other
/// 68 become U+0100, U+0101, … in byte order. Returns the character of byte b as UTF-8.
std::string gpt2_char(unsigned b) {
  unsigned c = b;
  if (!printable(b)) {
    c = 256;
    for (unsigned x = 0; x < b; ++x) c += printable(x) ? 0 : 1;
  }
  if (c < 0x80) return std::string(1, static_cast<char>(c));
  return {static_cast<char>(0xC0 | c >> 6), static_cast<char>(0x80 | (c & 63))};
}

/// encoder.json with the 256 bytes in GPT-2's rank order (printable ones first), then `extra`.
std::string encoder_json(const std::string& extra) {
  std::string json = "{";
  TokenId id = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (unsigned b = 0; b < 256; ++b) {
      if (printable(b) != (pass == 0)) continue;
      std::string key = gpt2_char(b);
      if (key == "\"" || key == "\\") key = "\\" + key;
      json += "\"" + key + "\": " + std::to_string(id++) + ", ";
    }
  }
  return json + extra + "}";
}

TEST(Gpt2Files, TheFixturesByteMapIsGpt2s) {
  EXPECT_EQ(gpt2_char(' '), "\xC4\xA0");   // 'Ġ' U+0120, GPT-2's space
  EXPECT_EQ(gpt2_char('\n'), "\xC4\x8A");  // 'Ċ' U+010A
  EXPECT_EQ(gpt2_char('!'), "!");
  EXPECT_EQ(gpt2_char(0xAD), "\xC5\x83");  // the last non-printable byte: U+0143
}

TEST(Gpt2Files, ATinyEncoderJsonAndVocabBpeLoadAndEncodeLikeGpt2) {
  // Merges: (h,e) = 256, (Ġ,t) = 257, (Ġt,he) = 258 "Ġthe"; then the special at 259.
  TempDir dir;
  const auto json = dir.write(
      "encoder.json",
      encoder_json(
          "\"he\": 256, \"\xC4\xA0t\": 257, \"\xC4\xA0the\": 258, \"<|endoftext|>\": 259"));
  const auto bpe = dir.write("vocab.bpe", "#version: 0.2\nh e\n\xC4\xA0 t\n\xC4\xA0t he\n");
  const Tokenizer tok = Tokenizer::from_gpt2_files(json, bpe);
  EXPECT_EQ(tok.mergeable_count(), 259u);
  EXPECT_EQ(tok.token_bytes(258), " the");
  EXPECT_EQ(tok.special_tokens(), (std::map<std::string, TokenId>{{"<|endoftext|>", 259}}));
  // Ranks of bytes as in GPT-2: 'e' = 68, ' ' = 220, NUL = 188 (as in the real vocabulary).
  EXPECT_EQ(tok.rank("e"), 68u);
  EXPECT_EQ(tok.rank(" "), 220u);
  EXPECT_EQ(tok.rank(std::string(1, '\0')), 188u);
  // " thee": ' ' t h e e → (h,e) → (Ġ,t) → (Ġt,he) → [" the", "e"].
  EXPECT_EQ(tok.encode(" thee<|endoftext|>", SpecialPolicy::allow), Ids({258, 68, 259}));
}

TEST(Gpt2Files, InconsistentFilesThrowNamingTheFileAndToken) {
  TempDir dir;
  const auto bpe = dir.write("vocab.bpe", "#version: 0.2\nh e\n");
  expect_error([&] { Tokenizer::from_gpt2_files(dir.path() / "absent.json", bpe); },
               {"cannot open", "absent.json"});
  expect_error([&] { Tokenizer::from_gpt2_files(dir.write("bad.json", "{\"a\": "), bpe); },
               {"bad.json", "not valid JSON"});
  expect_error(
      [&] {
        Tokenizer::from_gpt2_files(dir.write("wrong_id.json", encoder_json("\"he\": 257")), bpe);
      },
      {"wrong_id.json", "token 'he' has id 257", "ranks it 256"});
  expect_error(
      [&] {
        Tokenizer::from_gpt2_files(dir.write("missing.json", encoder_json("\"<|e|>\": 257")), bpe);
      },
      {"missing.json", "'he' (rank 256", "is missing"});
  expect_error(
      [&] {
        Tokenizer::from_gpt2_files(dir.write("rank.json", encoder_json("\"he\": 256, \"xy\": 20")),
                                   bpe);
      },
      {"token 'xy' has id 20", "neither a byte nor made by a merge"});
  const auto json = dir.write("ok.json", encoder_json("\"he\": 256"));
  expect_error(
      [&] { Tokenizer::from_gpt2_files(json, dir.write("bad.bpe", "#version: 0.2\nhe x\n")); },
      {"bad.bpe:2:", "'he x'", "not a token yet"});
  expect_error(
      [&] {
        Tokenizer::from_gpt2_files(json, dir.write("twice.bpe", "#version: 0.2\nh e\nh e\n"));
      },
      {"twice.bpe:3:", "makes a token made before"});
}

}  // namespace
