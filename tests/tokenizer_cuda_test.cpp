/// \file
/// \brief The CUDA batch encoder (llmlab::cuda::encode_pieces) against GPT-2's ids and the
/// reference tokenizer: the GPT-2 cases, ~50 KB of English, a trained vocabulary, long
/// pieces that take the block-wide path, a deliberately broken pair table that must be caught, and
/// the launcher's and the table's argument errors.
///
/// Every text is pre-tokenized on the host by llmlab::ref::pretokenize; the device merges the
/// pieces; the ids of the pieces, concatenated, must equal the reference's ids exactly. Run under
/// the emulator (every schedule), like every kernel test.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/tokenizer.cuh"
#include "llmlab/ref/tokenizer.hpp"
#include "tokenizer_cases.hpp"

#ifndef LLMLAB_GPT2_VOCAB
/// GPT-2's `.tiktoken` file (set by tests/CMakeLists.txt; scripts/setup.sh downloads it).
#define LLMLAB_GPT2_VOCAB ""
#endif

namespace {

namespace fs = std::filesystem;
using llmlab::cuda::BatchEncoding;
using llmlab::cuda::BpePairs;
using llmlab::cuda::DeviceBpeTable;
using llmlab::cuda::TokenId;
using llmlab::ref::Tokenizer;

constexpr int kVersions[] = {1, 2};  // every numbered version; 0 (the default) is 2

// ---- host helpers -------------------------------------------------------------------------------

/// The contents of a file. @throws std::runtime_error naming it when it cannot be read.
std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// ~54 KB of real English: GPL-3, Apache-2.0 and LGPL-3 from Debian's base-files.
std::string english_text() {
  const fs::path dir = "/usr/share/common-licenses";
  return read_file(dir / "GPL-3") + read_file(dir / "Apache-2.0") + read_file(dir / "LGPL-3");
}

/// GPT-2's tokenizer, loaded once; null when the vocabulary file is not there.
const Tokenizer* gpt2() {
  static const std::unique_ptr<const Tokenizer> tok = []() -> std::unique_ptr<const Tokenizer> {
    const fs::path path = LLMLAB_GPT2_VOCAB;
    if (path.empty() || !fs::exists(path)) return nullptr;
    return std::make_unique<const Tokenizer>(Tokenizer::gpt2(path));
  }();
  return tok.get();
}

/// id → bytes of a tokenizer's mergeable tokens, what DeviceBpeTable is built from.
std::vector<std::string> tokens_of(const Tokenizer& tok) {
  std::vector<std::string> tokens;
  for (std::size_t id = 0; id < tok.mergeable_count(); ++id)
    tokens.push_back(tok.token_bytes(static_cast<TokenId>(id)));
  return tokens;
}

/// GPT-2's device table, built once.
const DeviceBpeTable& gpt2_table() {
  static const DeviceBpeTable table(tokens_of(*gpt2()));
  return table;
}

/// GPT-2's tests fail (they do not skip) without the vocabulary, saying how to get it.
#define REQUIRE_GPT2()                                               \
  if (gpt2() == nullptr)                                             \
  GTEST_FAIL() << "GPT-2's vocabulary is not at '" LLMLAB_GPT2_VOCAB \
                  "': run scripts/setup.sh, "                        \
                  "which downloads it to vocab/gpt2.tiktoken"

/// "[1, 2, 3]".
std::string str(std::span<const TokenId> ids) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < ids.size(); ++i) s << (i ? ", " : "") << ids[i];
  s << "]";
  return s.str();
}

/// The piece's bytes, printable ASCII as is and the rest as \xNN.
std::string shown(std::string_view bytes) {
  std::string s;
  for (const unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      s += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    }
  }
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

/// The device's ids for `text`: pre-tokenized by the reference, merged on the device.
BatchEncoding device_encode(const DeviceBpeTable& table, std::string_view text, int version) {
  const std::vector<std::string_view> pieces = llmlab::ref::pretokenize(text);
  return llmlab::cuda::encode_batch_on_device(table, pieces, version);
}

/// Compares the device's ids with the reference's piece by piece: "" when every piece agrees, else
/// the first piece that differs, its bytes and both id lists. The comparison the tests below rely
/// on, so the broken-table test proves it can fail.
std::string first_mismatch(const Tokenizer& ref, const DeviceBpeTable& table, std::string_view text,
                           int version) {
  const std::vector<std::string_view> pieces = llmlab::ref::pretokenize(text);
  const BatchEncoding got = llmlab::cuda::encode_batch_on_device(table, pieces, version);
  if (got.offsets.size() != pieces.size() + 1)
    return "the device returned " + std::to_string(got.offsets.size()) + " offsets for " +
           std::to_string(pieces.size()) + " pieces";
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const std::vector<TokenId> want = ref.encode_piece(pieces[i]);
    const std::span<const TokenId> have(
        got.ids.data() + got.offsets[i],
        static_cast<std::size_t>(got.offsets[i + 1] - got.offsets[i]));
    if (!std::equal(want.begin(), want.end(), have.begin(), have.end()))
      return "version " + std::to_string(version) + ": piece " + std::to_string(i) + " of " +
             std::to_string(pieces.size()) + " (\"" + shown(pieces[i]) + "\", " +
             std::to_string(pieces[i].size()) + " bytes): reference " + str(want) + ", device " +
             str(have);
  }
  return "";
}

/// Expects `f` to throw llmlab::Error whose message contains every part.
void expect_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "expected llmlab::Error mentioning \"" << *parts.begin() << "\"";
  } catch (const llmlab::Error& e) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message \"" << e.what() << "\" does not mention \"" << part << "\"";
  }
}

// ---- GPT-2 --------------------------------------------------------------------------------------

TEST(TokenizerCuda, EveryGpt2CaseGivesGpt2sIds) {
  REQUIRE_GPT2();
  for (const int version : kVersions) {
    for (const auto& c : llmlab::testing::gpt2_cases()) {
      const BatchEncoding got = device_encode(gpt2_table(), c.text, version);
      EXPECT_EQ(got.ids, c.ids) << "case " << c.name << " (\"" << shown(c.text) << "\"), version "
                                << version << ": GPT-2 " << str(c.ids) << ", device "
                                << str(got.ids);
      EXPECT_EQ(first_mismatch(*gpt2(), gpt2_table(), c.text, version), "") << "case " << c.name;
    }
  }
}

TEST(TokenizerCuda, FiftyKilobytesOfEnglishGiveTheReferencesIds) {
  REQUIRE_GPT2();
  const std::string text = english_text();
  ASSERT_GT(text.size(), 50'000u);
  const std::vector<TokenId> want = gpt2()->encode_ordinary(text);
  for (const int version : {0, 1, 2}) {
    EXPECT_EQ(first_mismatch(*gpt2(), gpt2_table(), text, version), "");
    EXPECT_EQ(device_encode(gpt2_table(), text, version).ids, want) << "version " << version;
  }
}

TEST(TokenizerCuda, TableHoldsEveryPairOfGpt2) {
  REQUIRE_GPT2();
  // 50,257 tokens minus the special; each of two or more bytes has at least one split into two
  // tokens (GPT-2's merges built every token from a pair), so there are at least 50,000 entries.
  EXPECT_GE(gpt2_table().entries(), 50'000u);
  EXPECT_GE(gpt2_table().capacity(), 2 * gpt2_table().entries());
}

// ---- a trained vocabulary (no download needed) --------------------------------------------------

TEST(TokenizerCuda, TrainedVocabularyGivesTheReferencesIds) {
  const fs::path dir = "/usr/share/common-licenses";
  const std::vector<std::string> corpus = {read_file(dir / "GPL-3"), read_file(dir / "GPL-2")};
  const Tokenizer tok = Tokenizer::train(corpus, 600);
  const DeviceBpeTable table(tokens_of(tok));
  const std::string text = read_file(dir / "Apache-2.0") + read_file(dir / "LGPL-3");
  for (const int version : kVersions) {
    EXPECT_EQ(first_mismatch(tok, table, text, version), "");
    EXPECT_EQ(device_encode(table, text, version).ids, tok.encode_ordinary(text));
  }
}

// ---- long pieces: the block-wide path -----------------------------------------------------------

TEST(TokenizerCuda, LongPiecesTakeTheBlockPathAndGiveTheReferencesIds) {
  REQUIRE_GPT2();
  const std::int64_t bound = llmlab::cuda::tokenizer_short_piece_bytes;
  // One piece each (letters, or one run of punctuation), around and far above the bound.
  const std::vector<std::string> pieces = {
      std::string(static_cast<std::size_t>(bound), 'a'),
      std::string(static_cast<std::size_t>(bound + 1), 'a'),
      std::string(3000, 'a'),
      std::string(1000, '='),
      " " + std::string(700, 'x') + std::string(129, 'y'),
  };
  for (const auto& piece : pieces) {
    ASSERT_EQ(llmlab::ref::pretokenize(piece).size(), 1u) << "not one piece: " << shown(piece);
    const std::vector<TokenId> want = gpt2()->encode_piece(piece);
    for (const int version : kVersions) {
      const std::string_view view = piece;
      const BatchEncoding got =
          llmlab::cuda::encode_batch_on_device(gpt2_table(), std::span(&view, 1), version);
      EXPECT_EQ(got.ids, want) << piece.size() << "-byte piece \"" << shown(piece) << "\", version "
                               << version;
    }
  }
}

TEST(TokenizerCuda, ShortAndLongPiecesMixedInOneBlock) {
  REQUIRE_GPT2();
  // 300 pieces (three blocks) where every 7th is long: each block encodes its long pieces after
  // its threads' short ones, and every piece's ids land in its own slots.
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += i % 7 == 3 ? " " + std::string(static_cast<std::size_t>(60 + i), 'z')
                       : " word" + std::to_string(i);
  for (const int version : kVersions)
    EXPECT_EQ(first_mismatch(*gpt2(), gpt2_table(), text, version), "");
}

TEST(TokenizerCuda, EmptyBatchAndEmptyPiecesGiveNoIds) {
  REQUIRE_GPT2();
  EXPECT_TRUE(llmlab::cuda::encode_batch_on_device(gpt2_table(), {}).ids.empty());
  const std::vector<std::string_view> pieces = {"", "hello", "", " world", ""};
  const BatchEncoding got = llmlab::cuda::encode_batch_on_device(gpt2_table(), pieces);
  EXPECT_EQ(got.ids, (std::vector<TokenId>{31373, 995}));
  EXPECT_EQ(got.offsets, (std::vector<std::int64_t>{0, 0, 1, 1, 2, 2}));
}

// ---- the check can fail -------------------------------------------------------------------------

TEST(TokenizerCuda, BrokenTableWithOneMergeRemovedIsCaught) {
  REQUIRE_GPT2();
  // Remove the one pair that forms " the" from " t" + "he": the device then stops at [" t", "he"]
  // for every " the", and the comparison must say so.
  BpePairs pairs = BpePairs::from_tokens(tokens_of(*gpt2()));
  const TokenId t = *gpt2()->rank(" t");
  const TokenId he = *gpt2()->rank("he");
  const auto before = pairs.merges.size();
  std::erase_if(pairs.merges, [&](const auto& m) { return m.left == t && m.right == he; });
  ASSERT_EQ(pairs.merges.size(), before - 1);
  const DeviceBpeTable broken(pairs);

  const std::string text = english_text();
  for (const int version : kVersions) {
    const std::string report = first_mismatch(*gpt2(), broken, text, version);
    EXPECT_NE(report.find("\" the\""), std::string::npos) << "not caught: \"" << report << "\"";
    EXPECT_NE(device_encode(broken, text, version).ids, gpt2()->encode_ordinary(text));
  }
}

TEST(TokenizerCuda, RepeatedBytesEncodeAsTheirLowestId) {
  // Training can re-create bytes through another pair ("ab" = a+b = 256, later "ab" again = 258);
  // the reference's rank() keeps the lowest id, and so must the table.
  std::vector<std::string> tokens = tokens_of(Tokenizer());
  tokens.push_back("ab");   // 256
  tokens.push_back("abc");  // 257
  tokens.push_back("ab");   // 258, never produced
  const DeviceBpeTable table(tokens);
  const std::vector<std::string_view> pieces = {"abc", "ab", "xab"};
  EXPECT_EQ(llmlab::cuda::encode_batch_on_device(table, pieces).ids,
            (std::vector<TokenId>{257, 256, 'x', 256}));
}

// ---- argument errors ----------------------------------------------------------------------------

TEST(TokenizerCuda, LauncherNamesBadArguments) {
  const DeviceBpeTable table(tokens_of(Tokenizer()));  // the 256 bytes, no pairs
  const auto view = table.view();
  std::uint8_t* bytes = nullptr;
  std::int64_t* offsets = nullptr;
  TokenId* ids = nullptr;
  std::uint32_t* counts = nullptr;
  ASSERT_EQ(cudaMalloc(&bytes, 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&offsets, 2 * sizeof(std::int64_t)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&ids, 4 * sizeof(TokenId)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&counts, sizeof(std::uint32_t)), cudaSuccess);
  using llmlab::cuda::encode_pieces;
  expect_error([&] { (void)encode_pieces(view, bytes, offsets, -1, ids, counts); },
               {"encode_pieces", "n = -1"});
  expect_error([&] { (void)encode_pieces(view, bytes, nullptr, 1, ids, counts); },
               {"encode_pieces", "offsets is null", "n = 1"});
  expect_error([&] { (void)encode_pieces(view, nullptr, offsets, 1, ids, counts); },
               {"encode_pieces", "bytes is null"});
  expect_error([&] { (void)encode_pieces(view, bytes, offsets, 1, nullptr, counts); },
               {"encode_pieces", "ids is null"});
  expect_error([&] { (void)encode_pieces(view, bytes, offsets, 1, ids, nullptr); },
               {"encode_pieces", "counts is null"});
  expect_error([&] { (void)encode_pieces(view, bytes, offsets, 1, ids, counts, 3); },
               {"encode_pieces", "version = 3"});
  expect_error([&] { (void)encode_pieces({}, bytes, offsets, 1, ids, counts); },
               {"encode_pieces", "table is empty"});
  EXPECT_EQ(encode_pieces(view, nullptr, nullptr, 0, nullptr, nullptr), cudaSuccess);
  cudaFree(bytes);
  cudaFree(offsets);
  cudaFree(ids);
  cudaFree(counts);
}

TEST(TokenizerCuda, TableNamesBadVocabularies) {
  std::vector<std::string> tokens = tokens_of(Tokenizer());
  tokens[7] = "";
  expect_error([&] { BpePairs::from_tokens(tokens); },
               {"BpePairs::from_tokens", "token id 7 is empty"});
  tokens[7] = "xy";
  expect_error([&] { BpePairs::from_tokens(tokens); }, {"byte 7 has no single-byte token"});

  BpePairs pairs = BpePairs::from_tokens(tokens_of(Tokenizer()));
  pairs.merges = {{97, 98, 300}, {97, 98, 301}};
  expect_error([&] { DeviceBpeTable{pairs}; }, {"DeviceBpeTable", "pair (97, 98) is given twice"});
}

}  // namespace
