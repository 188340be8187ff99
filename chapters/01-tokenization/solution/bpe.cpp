/// \file
/// \brief Lab 01's solution: train, encode_piece and encode as the handout describes them.
///
/// The checks run against this file by default and against lab/bpe.cpp with
/// scripts/lab.sh 01. It is written independently of the reference (minbpe's shape: count,
/// pick, merge), so the checks' comparison with the reference is a real one in both modes.

#include "bpe.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/tokenizer.hpp"  // llmlab::ref::pretokenize

namespace llmlab::lab {
namespace {

using Pair = std::pair<TokenId, TokenId>;

/// A distinct pre-token as its current token ids, and how often it occurs in the corpus.
struct Word {
  std::vector<TokenId> ids;
  std::uint64_t count;
};

/// Replaces every (pair.first, pair.second) in `ids` by `id`, left to right, without overlap.
void merge(std::vector<TokenId>& ids, Pair pair, TokenId id) {
  std::size_t out = 0;
  for (std::size_t i = 0; i < ids.size(); ++out) {
    if (i + 1 < ids.size() && ids[i] == pair.first && ids[i + 1] == pair.second) {
      ids[out] = id;
      i += 2;
    } else {
      ids[out] = ids[i];
      i += 1;
    }
  }
  ids.resize(out);
}

}  // namespace

Vocab train(std::span<const std::string> texts, std::size_t vocab_size) {
  if (vocab_size < 256)
    throw Error("train", "vocab_size " + std::to_string(vocab_size) + " is below the 256 bytes");
  std::map<std::string, std::uint64_t> pretokens;
  for (const std::string& text : texts)
    for (const std::string_view piece : ref::pretokenize(text)) pretokens[std::string(piece)] += 1;
  if (pretokens.empty()) throw Error("train", "the corpus is empty");

  std::vector<Word> words;
  for (const auto& [piece, count] : pretokens) {
    Word w{{}, count};
    for (const char c : piece) w.ids.push_back(static_cast<unsigned char>(c));
    words.push_back(std::move(w));
  }

  Vocab vocab = Vocab::bytes();
  while (vocab.size() < vocab_size) {
    std::map<Pair, std::uint64_t> counts;
    for (const Word& w : words)
      for (std::size_t i = 0; i + 1 < w.ids.size(); ++i)
        counts[{w.ids[i], w.ids[i + 1]}] += w.count;
    if (counts.empty()) break;

    // The most frequent pair; a tie goes to the greater (left bytes, right bytes).
    const auto key = [&](const std::pair<const Pair, std::uint64_t>& e) {
      return std::tie(e.second, vocab.tokens[e.first.first], vocab.tokens[e.first.second]);
    };
    auto best = counts.begin();
    for (auto it = counts.begin(); it != counts.end(); ++it)
      if (key(*it) > key(*best)) best = it;

    const Pair pair = best->first;
    const TokenId id = vocab.add(vocab.tokens[pair.first] + vocab.tokens[pair.second]);
    for (Word& w : words) merge(w.ids, pair, id);
  }
  return vocab;
}

std::vector<TokenId> encode_piece(const Vocab& vocab, std::string_view piece) {
  std::vector<std::string_view> parts;
  for (std::size_t i = 0; i < piece.size(); ++i) parts.push_back(piece.substr(i, 1));
  while (parts.size() > 1) {
    std::optional<TokenId> best;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      const std::optional<TokenId> r =
          vocab.rank(std::string_view(parts[i].data(), parts[i].size() + parts[i + 1].size()));
      if (r && (!best || *r < *best)) best = r, at = i;
    }
    if (!best) break;
    parts[at] = std::string_view(parts[at].data(), parts[at].size() + parts[at + 1].size());
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  std::vector<TokenId> ids;
  for (const std::string_view part : parts) {
    const std::optional<TokenId> r = vocab.rank(part);
    if (!r) throw Error("encode_piece", "a single byte is not in the vocabulary");
    ids.push_back(*r);
  }
  return ids;
}

std::vector<TokenId> encode(const Vocab& vocab, std::string_view text) {
  std::vector<TokenId> ids;
  for (const std::string_view piece : ref::pretokenize(text)) {
    const std::vector<TokenId> more = encode_piece(vocab, piece);
    ids.insert(ids.end(), more.begin(), more.end());
  }
  return ids;
}

}  // namespace llmlab::lab
