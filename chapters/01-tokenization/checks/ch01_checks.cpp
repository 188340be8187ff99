/// \file
/// \brief Chapter 01's checks: your train, encode_piece and encode (lab/bpe.cpp), or the solution,
/// against the handout's worked examples (computed by hand), the reference tokenizer
/// (llmlab::ref::Tokenizer) and GPT-2's real ids (tests/tokenizer_cases.hpp, from tiktoken).
///
/// Token ids are exact: one wrong id anywhere is a failure, and the message names the first
/// place where yours and the expected ones part (see "What the checker's messages mean" in the
/// handout).

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bpe.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/ref/tokenizer.hpp"
#include "tokenizer_cases.hpp"

#ifndef LLMLAB_GPT2_VOCAB
/// GPT-2's `.tiktoken` file (set by CMake; scripts/setup.sh downloads it).
#define LLMLAB_GPT2_VOCAB ""
#endif

namespace {

namespace fs = std::filesystem;
using llmlab::lab::TokenId;
using llmlab::lab::Vocab;

// ---- helpers
// --------------------------------------------------------------------------------------

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const fs::path kLicenses = "/usr/share/common-licenses";

/// Bytes as C would write them: printable ASCII as is, the rest as \xNN.
std::string shown(std::string_view bytes) {
  std::string s;
  for (const unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '"') {
      s += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      s += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    }
  }
  return "\"" + s + "\"";
}

/// "" when the id lists are equal, else where they part: the index, a few ids either side, and
/// what each id spells in `vocab`.
std::string first_difference(const std::vector<TokenId>& want, const std::vector<TokenId>& got,
                             const Vocab& vocab) {
  std::size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  if (i == want.size() && i == got.size()) return "";
  std::ostringstream s;
  const auto around = [&](const std::vector<TokenId>& ids) {
    std::ostringstream o;
    const std::size_t from = i >= 3 ? i - 3 : 0;
    for (std::size_t k = from; k < ids.size() && k < i + 4; ++k) {
      o << (k == i ? " >" : " ") << ids[k];
      if (ids[k] < vocab.size()) o << shown(vocab.tokens[ids[k]]);
    }
    return o.str();
  };
  s << "expected " << want.size() << " ids, got " << got.size() << "; first difference at id " << i
    << "\n  expected:" << around(want) << "\n  yours:   " << around(got);
  return s.str();
}

/// GPT-2's vocabulary, loaded once by the reference (null without the file).
const llmlab::ref::Tokenizer* gpt2_ref() {
  static const std::unique_ptr<const llmlab::ref::Tokenizer> tok =
      []() -> std::unique_ptr<const llmlab::ref::Tokenizer> {
    if (!fs::exists(LLMLAB_GPT2_VOCAB)) return nullptr;
    return std::make_unique<const llmlab::ref::Tokenizer>(
        llmlab::ref::Tokenizer::gpt2(LLMLAB_GPT2_VOCAB));
  }();
  return tok.get();
}

/// The same vocabulary as a lab Vocab.
Vocab vocab_of(const llmlab::ref::Tokenizer& tok) {
  std::vector<std::string> tokens;
  for (std::size_t id = 0; id < tok.mergeable_count(); ++id)
    tokens.push_back(tok.token_bytes(static_cast<TokenId>(id)));
  return Vocab::from_tokens(std::move(tokens));
}

const Vocab* gpt2() {
  static const std::unique_ptr<const Vocab> v =
      gpt2_ref() ? std::make_unique<const Vocab>(vocab_of(*gpt2_ref())) : nullptr;
  return v.get();
}

/// Fails the test (it does not skip) when GPT-2's vocabulary is missing, saying how to get it.
#define REQUIRE_GPT2()                                              \
  if (gpt2() == nullptr)                                            \
  GTEST_FAIL() << "GPT-2's vocabulary is not at " LLMLAB_GPT2_VOCAB \
                  ": run "                                          \
                  "scripts/setup.sh, which downloads it to vocab/gpt2.tiktoken"

/// The tokens a training learned (ids 256 and up), as byte strings.
std::vector<std::string> learned(const Vocab& v) {
  return {v.tokens.begin() + std::min<std::ptrdiff_t>(256, static_cast<std::ptrdiff_t>(v.size())),
          v.tokens.end()};
}

// ---- step 2: train
// ----------------------------------------------------------------------------------

TEST(Ch01Train, BananaBandanaLearnsTheHandoutsMergesInOrder) {
  // Worked by hand in the handout: "an" (count 4), "ban" (a tie with "ana" at 2, won on the left
  // bytes "b" > "an"), "ana", "dana" (a four-way tie at 1, won on the left "d"), "bandana" (won
  // on the right bytes "dana" > "ana"), "banana", " bandana".
  const std::vector<std::string> corpus = {"banana bandana"};
  const Vocab v = llmlab::lab::train(corpus, 256 + 10);
  EXPECT_EQ(learned(v),
            (std::vector<std::string>{"an", "ban", "ana", "dana", "bandana", "banana", " bandana"}))
      << "the handout's table learns 7 merges, then no pre-token has two tokens left, so training "
         "stops below vocab_size; yours learned "
      << learned(v).size();
}

TEST(Ch01Train, TiesGoToTheGreaterLeftBytesThenTheGreaterRightBytes) {
  // "ab ac": (a,b), (a,c) and (' ',a) all occur once. "a" > " " on the left; between (a,b) and
  // (a,c) the right bytes decide: "c" > "b".
  const std::vector<std::string> corpus = {"ab ac"};
  EXPECT_EQ(learned(llmlab::lab::train(corpus, 256 + 3)),
            (std::vector<std::string>{"ac", "ab", " ac"}));
  // Bytes compare as unsigned: 0xc3 (the start of "é") is greater than every ASCII byte.
  const std::vector<std::string> accents = {"\xc3\xa9z az"};  // "éz az"
  EXPECT_EQ(learned(llmlab::lab::train(accents, 256 + 1)), (std::vector<std::string>{"\xc3\xa9"}));
  // Bytes, not ids: with merged tokens the two orders differ. "aac bc aa aa" → pre-tokens aac,
  // ␣bc, ␣aa, ␣aa. Merge 1: (a,a), count 3 → "aa" (id 256). Merge 2: (␣,aa), count 2 → "␣aa".
  // Then (aa,c), (␣,b) and (b,c) tie at 1: by left bytes "b" > "aa" > "␣", so "bc" — comparing ids
  // instead (256 for "aa" > 98 for "b") would learn "aac".
  const std::vector<std::string> merged = {"aac bc aa aa"};
  EXPECT_EQ(learned(llmlab::lab::train(merged, 256 + 3)),
            (std::vector<std::string>{"aa", " aa", "bc"}))
      << "ties compare the tokens' bytes, not their ids";
}

TEST(Ch01Train, StopsAtVocabSize) {
  const std::vector<std::string> corpus = {"banana bandana"};
  EXPECT_EQ(learned(llmlab::lab::train(corpus, 256 + 2)), (std::vector<std::string>{"an", "ban"}));
  EXPECT_EQ(llmlab::lab::train(corpus, 256).size(), 256u);
}

TEST(Ch01Train, LearnsTheReferencesMergesOnALicense) {
  const std::vector<std::string> corpus = {read_file(kLicenses / "GPL-2")};
  const Vocab mine = llmlab::lab::train(corpus, 512);
  const llmlab::ref::Tokenizer ref = llmlab::ref::Tokenizer::train(corpus, 512);
  ASSERT_EQ(mine.size(), ref.mergeable_count());
  for (std::size_t id = 256; id < mine.size(); ++id)
    ASSERT_EQ(mine.tokens[id], ref.token_bytes(static_cast<TokenId>(id)))
        << "token " << id << ": yours " << shown(mine.tokens[id]) << ", expected "
        << shown(ref.token_bytes(static_cast<TokenId>(id))) << " by the reference";
}

TEST(Ch01Train, RefusesTooSmallAVocabularyAndAnEmptyCorpus) {
  const std::vector<std::string> corpus = {"banana"};
  ASSERT_NO_THROW(llmlab::lab::train(corpus, 257)) << "a valid call must train";
  EXPECT_THROW(llmlab::lab::train(corpus, 255), llmlab::Error) << "vocab_size 255 < 256 bytes";
  const std::vector<std::string> empty = {"", ""};
  EXPECT_THROW(llmlab::lab::train(empty, 300), llmlab::Error) << "a corpus with no bytes";
}

// ---- step 3: encode_piece
// ---------------------------------------------------------------------------

/// The vocabulary training on "banana bandana" learns (256 bytes + 7 merges, as in the handout).
Vocab banana_vocab() {
  Vocab v = Vocab::bytes();
  for (const char* t : {"an", "ban", "ana", "dana", "bandana", "banana", " bandana"}) v.add(t);
  return v;
}

TEST(Ch01EncodePiece, MergesTheLowestRankedPairFirst) {
  const Vocab v = banana_vocab();
  // Worked in the handout: ' ' b a n a n a → ' ' b an a n a → ' ' b an an a → ' ' ban an a
  // → ' ' ban ana → ' ' banana; " banana" itself is not a token.
  EXPECT_EQ(llmlab::lab::encode_piece(v, " banana"), (std::vector<TokenId>{' ', 261}));
  EXPECT_EQ(llmlab::lab::encode_piece(v, " bandana"), (std::vector<TokenId>{262}));
  EXPECT_EQ(llmlab::lab::encode_piece(v, "bananas"), (std::vector<TokenId>{261, 's'}));
  // "nana": n a n a → n an a (the leftmost "an") → n ana: "nana" and "nan" are no tokens.
  EXPECT_EQ(llmlab::lab::encode_piece(v, "nana"), (std::vector<TokenId>{'n', 258}));
  EXPECT_EQ(llmlab::lab::encode_piece(v, ""), (std::vector<TokenId>{}));
}

TEST(Ch01EncodePiece, EqualRanksMergeLeftmostFirst) {
  // With "aa" a token and "aaa" not, a a a holds (a,a) twice at the same rank: the leftmost merges
  // first, giving aa a — not a aa, which a `<=` in the search for the lowest rank would give (it
  // keeps the last of equal ranks). Five: aa aa a, not a aa aa. (tiktoken, too, takes the leftmost.)
  Vocab v = Vocab::bytes();
  v.add("aa");
  EXPECT_EQ(llmlab::lab::encode_piece(v, "aaa"), (std::vector<TokenId>{256, 'a'}));
  EXPECT_EQ(llmlab::lab::encode_piece(v, "aaaaa"), (std::vector<TokenId>{256, 256, 'a'}));
}

TEST(Ch01EncodePiece, GivesGpt2sIdsForGpt2sPieces) {
  REQUIRE_GPT2();
  EXPECT_EQ(llmlab::lab::encode_piece(*gpt2(), " SolidGoldMagikarp"),
            (std::vector<TokenId>{43453}));
  EXPECT_EQ(llmlab::lab::encode_piece(*gpt2(), "1234567"),
            (std::vector<TokenId>{10163, 2231, 3134}));
  EXPECT_EQ(llmlab::lab::encode_piece(*gpt2(), std::string(20, 'a')),
            (std::vector<TokenId>{24794, 24794, 24794, 24794, 24794}));
}

// ---- step 4: encode
// -----------------------------------------------------------------------------------

TEST(Ch01Encode, EveryGpt2CaseGivesGpt2sIds) {
  REQUIRE_GPT2();
  for (const auto& c : llmlab::testing::gpt2_cases()) {
    const std::string diff = first_difference(c.ids, llmlab::lab::encode(*gpt2(), c.text), *gpt2());
    EXPECT_TRUE(diff.empty()) << "case " << c.name << ": encode(" << shown(c.text) << ")\n" << diff;
  }
}

TEST(Ch01Encode, EnglishTextGivesTheReferencesIds) {
  REQUIRE_GPT2();
  const std::string text = read_file(kLicenses / "GPL-3") + read_file(kLicenses / "Apache-2.0");
  const std::string diff = first_difference(gpt2_ref()->encode_ordinary(text),
                                            llmlab::lab::encode(*gpt2(), text), *gpt2());
  EXPECT_TRUE(diff.empty()) << "GPT-2's vocabulary on GPL-3 + Apache-2.0\n" << diff;
}

TEST(Ch01Encode, ATrainedVocabularyGivesTheReferencesIds) {
  const std::vector<std::string> corpus = {read_file(kLicenses / "GPL-2")};
  const llmlab::ref::Tokenizer ref = llmlab::ref::Tokenizer::train(corpus, 600);
  const Vocab v = vocab_of(ref);  // the reference's vocabulary: this checks encoding alone
  const std::string text = read_file(kLicenses / "Apache-2.0");
  const std::string diff =
      first_difference(ref.encode_ordinary(text), llmlab::lab::encode(v, text), v);
  EXPECT_TRUE(diff.empty()) << "a 600-token vocabulary trained on the GPL-2, on Apache-2.0\n"
                            << diff;
}

TEST(Ch01Encode, AnyBytesRoundTrip) {
  // Random bytes (invalid UTF-8 included) decode back exactly: every byte is a token.
  const Vocab v = banana_vocab();
  std::mt19937_64 rng(101);  // fully specified by the standard: the same bytes everywhere
  for (int trial = 0; trial < 50; ++trial) {
    std::string bytes;
    for (int i = 0; i < 64; ++i) bytes += static_cast<char>(rng() & 0xff);
    std::string back;
    for (const TokenId id : llmlab::lab::encode(v, bytes)) back += v.tokens.at(id);
    ASSERT_EQ(back, bytes) << "decode(encode(" << shown(bytes) << "))";
  }
}

}  // namespace
