#pragma once
/// \file
/// \brief One tokenizer behind `llmlab tokenize`: the reference (llmlab::ref) or the fast one
/// (llmlab::fast), chosen by --backend. Both give the same ids and learn the same merges
/// (tests/tokenizer_fast_test.cpp, and the round-trip CLI test compares their outputs).

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llmlab/fast/tokenizer.hpp"
#include "llmlab/ref/tokenizer.hpp"

namespace llmlab::app {

/// The reference's or the fast tokenizer, behind the calls the commands make.
class AnyTokenizer {
 public:
  /// Wraps a reference tokenizer.
  explicit AnyTokenizer(ref::Tokenizer tok) : ref_(std::move(tok)) {}
  /// Wraps a fast tokenizer.
  explicit AnyTokenizer(fast::Tokenizer tok) : fast_(std::move(tok)) {}

  /// Loads `path` (tiktoken's format) with `specials` on `backend` ("ref" or "fast").
  static AnyTokenizer from_tiktoken(
      const std::string& backend, const std::string& path,
      const std::vector<std::pair<std::string, ref::TokenId>>& specials);
  /// Trains on `backend` (identical merges either way; "fast" counts on all threads).
  static AnyTokenizer train(const std::string& backend, std::span<const std::string> texts,
                            std::size_t vocab_size, const std::vector<std::string>& specials);

  /// The text's ids under `policy` (see llmlab::ref::Tokenizer::encode).
  std::vector<ref::TokenId> encode(std::string_view text, ref::SpecialPolicy policy) const;
  /// encode() of every text, on `threads` threads (≤ 0: all) with the fast tokenizer, one after
  /// the other with the reference; result i is encode(texts[i], policy).
  std::vector<std::vector<ref::TokenId>> encode_batch(std::span<const std::string_view> texts,
                                                      int threads, ref::SpecialPolicy policy) const;
  /// The ids' bytes. @throws llmlab::Error on an unknown id.
  std::string decode(std::span<const ref::TokenId> ids) const;
  /// Writes the mergeable tokens in tiktoken's format (atomically).
  void save_tiktoken(const std::string& path) const;
  /// Mergeable tokens + special tokens (one past the largest id).
  std::size_t vocab_size() const;
  /// Number of mergeable tokens (ids 0..n−1).
  std::size_t mergeable_count() const;
  /// Special tokens and their ids.
  const std::map<std::string, ref::TokenId>& special_tokens() const;

 private:
  std::optional<ref::Tokenizer> ref_;
  std::optional<fast::Tokenizer> fast_;
};

}  // namespace llmlab::app
