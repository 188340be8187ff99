/// \file
/// \brief AnyTokenizer: each call forwarded to the reference or the fast tokenizer.

#include "tokenize/backend.hpp"

#include <utility>

namespace llmlab::app {
namespace {

fast::SpecialPolicy to_fast(ref::SpecialPolicy p) {
  switch (p) {
    case ref::SpecialPolicy::allow:
      return fast::SpecialPolicy::allow;
    case ref::SpecialPolicy::plain_text:
      return fast::SpecialPolicy::plain_text;
    default:
      return fast::SpecialPolicy::error;
  }
}

}  // namespace

AnyTokenizer AnyTokenizer::from_tiktoken(
    const std::string& backend, const std::string& path,
    const std::vector<std::pair<std::string, ref::TokenId>>& specials) {
  if (backend == "fast") return AnyTokenizer(fast::Tokenizer::from_tiktoken(path, specials));
  return AnyTokenizer(ref::Tokenizer::from_tiktoken(path, specials));
}

AnyTokenizer AnyTokenizer::train(const std::string& backend, std::span<const std::string> texts,
                                 std::size_t vocab_size, const std::vector<std::string>& specials) {
  if (backend == "fast") return AnyTokenizer(fast::Tokenizer::train(texts, vocab_size, specials));
  return AnyTokenizer(ref::Tokenizer::train(texts, vocab_size, specials));
}

std::vector<ref::TokenId> AnyTokenizer::encode(std::string_view text,
                                               ref::SpecialPolicy policy) const {
  return fast_ ? fast_->encode(text, to_fast(policy)) : ref_->encode(text, policy);
}

std::vector<std::vector<ref::TokenId>> AnyTokenizer::encode_batch(
    std::span<const std::string_view> texts, int threads, ref::SpecialPolicy policy) const {
  if (fast_) return fast_->encode_batch(texts, threads, to_fast(policy));
  std::vector<std::vector<ref::TokenId>> r;
  for (const std::string_view t : texts) r.push_back(ref_->encode(t, policy));
  return r;
}

std::string AnyTokenizer::decode(std::span<const ref::TokenId> ids) const {
  return fast_ ? fast_->decode(ids) : ref_->decode(ids);
}

void AnyTokenizer::save_tiktoken(const std::string& path) const {
  if (fast_) {
    fast_->save_tiktoken(path);
  } else {
    ref_->save_tiktoken(path);
  }
}

std::size_t AnyTokenizer::vocab_size() const {
  return fast_ ? fast_->vocab_size() : ref_->vocab_size();
}

std::size_t AnyTokenizer::mergeable_count() const {
  return fast_ ? fast_->mergeable_count() : ref_->mergeable_count();
}

const std::map<std::string, ref::TokenId>& AnyTokenizer::special_tokens() const {
  return fast_ ? fast_->special_tokens() : ref_->special_tokens();
}

}  // namespace llmlab::app
