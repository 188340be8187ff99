/// \file
/// \brief Lab 01: the vocabulary type (given — nothing to write here).

#include <utility>

#include "bpe.hpp"

namespace llmlab::lab {

Vocab Vocab::bytes() {
  Vocab v;
  for (int b = 0; b < 256; ++b) v.add(std::string(1, static_cast<char>(b)));
  return v;
}

Vocab Vocab::from_tokens(std::vector<std::string> tokens) {
  Vocab v;
  for (std::string& t : tokens) v.add(std::move(t));
  return v;
}

TokenId Vocab::add(std::string token) {
  const auto id = static_cast<TokenId>(tokens.size());
  ranks.emplace(token, id);  // keeps the first id when the bytes repeat
  tokens.push_back(std::move(token));
  return id;
}

std::optional<TokenId> Vocab::rank(std::string_view bytes) const {
  const auto it = ranks.find(bytes);
  if (it == ranks.end()) return std::nullopt;
  return it->second;
}

}  // namespace llmlab::lab
