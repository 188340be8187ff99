#pragma once
/// \file
/// \brief Lab 01 — byte-level BPE: the interface of your `train`, `encode_piece` and `encode`
/// (in lab/bpe.cpp), and the vocabulary type they share (given, in lab/vocab.cpp).
///
/// The semantics are exactly the reference's (llmlab::ref::Tokenizer, without special tokens), so
/// the checks compare your results with it id for id, and with GPT-2's real ids. The handout,
/// chapters/01-tokenization/README.md, explains every step.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llmlab::lab {

/// A token id. A mergeable token's id is its rank: lower ids merge first.
using TokenId = std::uint32_t;

/// A byte-level BPE vocabulary: token id → its bytes, and bytes → their rank. (Given.)
struct Vocab {
  /// tokens[id] = the bytes of token id.
  std::vector<std::string> tokens;
  /// bytes → the lowest id with those bytes (training can, rarely, make the same bytes twice
  /// through different pairs; the first id is their rank). std::less<> lets rank() look up a
  /// std::string_view without building a std::string.
  std::map<std::string, TokenId, std::less<>> ranks;

  /// The 256 single bytes, id = byte value: where training starts.
  static Vocab bytes();
  /// A vocabulary from tokens[id] = bytes (e.g. GPT-2's, loaded by the reference).
  static Vocab from_tokens(std::vector<std::string> tokens);
  /// Appends `token` with the next id. @returns that id
  TokenId add(std::string token);
  /// The rank of `bytes`, or std::nullopt when they are not a token.
  std::optional<TokenId> rank(std::string_view bytes) const;
  /// Number of tokens.
  std::size_t size() const { return tokens.size(); }
};

/// Step 2 — training. Counts the GPT-2 pre-tokens of every text (llmlab::ref::pretokenize), then
/// repeatedly merges the most frequent adjacent pair until the vocabulary has `vocab_size` tokens
/// or no pre-token has two tokens left:
/// \f$ \mathrm{count}(a, b) = \sum_w f(w)\,\#\{i : w_i = a,\ w_{i+1} = b\} \f$ over the distinct
/// pre-tokens w with frequencies f(w); ties go to the lexicographically greater pair, comparing
/// the left tokens' bytes, then the right tokens' bytes. The new token's id is the next one, and
/// every occurrence of the pair in every pre-token is replaced, left to right, without overlap.
/// @param texts the corpus   @param vocab_size 256 + the number of merges wanted
/// @returns the vocabulary: ids 0–255 the bytes, then the merges in the order learned
/// @throws llmlab::Error when vocab_size < 256 or the corpus has no bytes.
Vocab train(std::span<const std::string> texts, std::size_t vocab_size);

/// Step 3 — BPE on one pre-token: start from its bytes' tokens, repeatedly merge the adjacent pair
/// whose concatenated bytes are the token of lowest rank (the leftmost such pair on a tie), until
/// no adjacent pair is a token.
/// @param vocab a vocabulary holding all 256 single bytes   @param piece one pre-token's bytes
/// @returns the piece's token ids
std::vector<TokenId> encode_piece(const Vocab& vocab, std::string_view piece);

/// Step 4 — a whole text: pre-tokenize it (llmlab::ref::pretokenize) and concatenate the ids of
/// every pre-token (no special tokens).
std::vector<TokenId> encode(const Vocab& vocab, std::string_view text);

}  // namespace llmlab::lab
