// Training a byte-level BPE, written to be read (minbpe's algorithm, with GPT-2's pre-tokenizer):
//
//   1. cut every text at the special tokens (dropped: they are never counted) and pre-tokenize the
//      rest; count how often each distinct pre-token occurs;
//   2. write each distinct pre-token as its bytes (ids 0–255);
//   3. repeat until the vocabulary is full: count every adjacent pair of ids over the distinct
//      pre-tokens, each weighted by its frequency (overlapping pairs count: "aaa" holds (a, a)
//      twice); take the pair with the largest count — on a tie the lexicographically greater pair,
//      comparing the left tokens' bytes, then the right tokens' bytes; give it the next id; replace
//      it left to right, without overlap, in every pre-token ("aaa" → "aa" "a");
//   4. append the special tokens.
//
// Every pair is recounted from scratch on every merge: slow (the fast trainer updates the counts
// incrementally), but each step is the definition.

#include <tuple>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/tokenizer.hpp"
#include "tokenizer_detail.hpp"

namespace llmlab::ref {

namespace {

using Pair = std::pair<TokenId, TokenId>;

/// A distinct pre-token as the ids it currently splits into, and how often it occurs.
struct Word {
  std::vector<TokenId> ids;
  std::uint64_t count;
};

/// Step 1: pre-token → number of occurrences in the corpus, special tokens cut out first.
std::map<std::string, std::uint64_t> count_pretokens(
    std::span<const std::string> texts, const std::map<std::string, TokenId>& specials) {
  std::map<std::string, std::uint64_t> counts;
  for (const std::string& text : texts) {
    for (const detail::Chunk& chunk : detail::split_specials(text, specials)) {
      if (chunk.special_id != nullptr) continue;  // a special token: never counted
      for (std::string_view piece : pretokenize(chunk.text)) counts[std::string(piece)] += 1;
    }
  }
  return counts;
}

/// Step 3a: count(a, b) = Σ over words w of w.count × (number of positions i with w_i = a,
/// w_{i+1} = b).
std::map<Pair, std::uint64_t> count_pairs(const std::vector<Word>& words) {
  std::map<Pair, std::uint64_t> counts;
  for (const Word& word : words) {
    for (std::size_t i = 0; i + 1 < word.ids.size(); ++i) {
      counts[{word.ids[i], word.ids[i + 1]}] += word.count;
    }
  }
  return counts;
}

/// Step 3b: the pair with the largest count; on a tie the one whose (left bytes, right bytes) is
/// lexicographically greater (bytes compare as unsigned, a prefix before its extensions).
/// `vocab` is id → bytes. Requires `counts` not empty.
Pair most_frequent_pair(const std::map<Pair, std::uint64_t>& counts,
                        const std::vector<std::string>& vocab) {
  auto bytes_of = [&](const Pair& p) { return std::tie(vocab[p.first], vocab[p.second]); };
  Pair best = counts.begin()->first;
  std::uint64_t best_count = counts.begin()->second;
  for (const auto& [pair, count] : counts) {
    if (count > best_count || (count == best_count && bytes_of(pair) > bytes_of(best))) {
      best = pair;
      best_count = count;
    }
  }
  return best;
}

/// Step 3c: replaces every occurrence of `pair` in `ids` by `id`, left to right, without overlap.
std::vector<TokenId> merge_pair(const std::vector<TokenId>& ids, Pair pair, TokenId id) {
  std::vector<TokenId> out;
  for (std::size_t i = 0; i < ids.size();) {
    if (i + 1 < ids.size() && ids[i] == pair.first && ids[i + 1] == pair.second) {
      out.push_back(id);
      i += 2;
    } else {
      out.push_back(ids[i]);
      i += 1;
    }
  }
  return out;
}

}  // namespace

Tokenizer Tokenizer::train(std::span<const std::string> texts, std::size_t vocab_size,
                           const std::vector<std::string>& specials) {
  // The specials, checked; their ids are known only at the end (after the merges).
  std::map<std::string, TokenId> special_set;
  for (const std::string& special : specials) {
    if (special.empty()) throw Error("Tokenizer::train", "a special token is the empty string");
    if (!special_set.emplace(special, 0).second) {
      throw Error("Tokenizer::train",
                  "the special token '" + detail::escape_bytes(special) + "' is given twice");
    }
  }
  if (vocab_size < 256 + specials.size()) {
    throw Error("Tokenizer::train",
                "vocab_size " + std::to_string(vocab_size) + " is below 256 bytes + " +
                    std::to_string(specials.size()) +
                    " special tokens = " + std::to_string(256 + specials.size()));
  }

  // Steps 1 and 2.
  std::vector<Word> words;
  for (const auto& [piece, count] : count_pretokens(texts, special_set)) {
    std::vector<TokenId> ids;
    for (const char c : piece) ids.push_back(static_cast<unsigned char>(c));
    words.push_back({std::move(ids), count});
  }
  if (words.empty()) {
    throw Error("Tokenizer::train", "the training corpus is empty (" +
                                        std::to_string(texts.size()) +
                                        " texts with no bytes outside special tokens)");
  }

  // Step 3.
  Tokenizer tokenizer;  // ids 0–255 are the bytes
  const std::size_t merges = vocab_size - 256 - specials.size();
  while (tokenizer.merges_.size() < merges) {
    const std::map<Pair, std::uint64_t> counts = count_pairs(words);
    if (counts.empty()) break;  // every pre-token is one token: nothing left to merge
    const Pair pair = most_frequent_pair(counts, tokenizer.token_bytes_);
    const auto id = static_cast<TokenId>(tokenizer.token_bytes_.size());
    for (Word& word : words) word.ids = merge_pair(word.ids, pair, id);

    tokenizer.merges_.push_back({pair.first, pair.second, id});
    tokenizer.token_bytes_.push_back(tokenizer.token_bytes_[pair.first] +
                                     tokenizer.token_bytes_[pair.second]);
    // Should a merge ever re-create bytes already in the vocabulary (random searches found no
    // corpus that does), the merge keeps its new id and rank() the first id for those bytes.
    tokenizer.ranks_.emplace(tokenizer.token_bytes_.back(), id);
  }

  // Step 4: the specials, in the order given, after the merges.
  for (const std::string& special : specials) {
    const auto id =
        static_cast<TokenId>(tokenizer.token_bytes_.size() + tokenizer.specials_.size());
    tokenizer.specials_.emplace(special, id);
  }
  return tokenizer;
}

}  // namespace llmlab::ref
