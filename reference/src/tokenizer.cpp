// Byte-level BPE: the vocabulary, encoding (special tokens → pre-tokens → merges) and decoding.
// Training is in tokenizer_train.cpp, the file formats in tokenizer_io.cpp, the regex in
// tokenizer_pretokenize.cpp.

#include "llmlab/ref/tokenizer.hpp"

#include <algorithm>
#include <limits>

#include "llmlab/core/error.hpp"
#include "tokenizer_detail.hpp"

namespace llmlab::ref {

namespace detail {

std::string escape_bytes(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F && b != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

std::vector<Chunk> split_specials(std::string_view text,
                                  const std::map<std::string, TokenId>& specials) {
  std::vector<Chunk> chunks;
  std::size_t start = 0;  // where the current stretch of ordinary text began
  std::size_t i = 0;
  while (i < text.size()) {
    // The longest special token whose text starts at byte i, if any.
    const std::pair<const std::string, TokenId>* found = nullptr;
    for (const auto& special : specials) {
      if (text.substr(i).starts_with(special.first) &&
          (found == nullptr || special.first.size() > found->first.size())) {
        found = &special;
      }
    }
    if (found == nullptr) {
      ++i;
      continue;
    }
    if (i > start) chunks.push_back({text.substr(start, i - start), nullptr});
    chunks.push_back({text.substr(i, found->first.size()), &found->second});
    i += found->first.size();
    start = i;
  }
  if (text.size() > start) chunks.push_back({text.substr(start), nullptr});
  return chunks;
}

}  // namespace detail

Tokenizer::Tokenizer() {
  // Ids 0–255: the single bytes in byte order.
  for (int b = 0; b < 256; ++b) {
    token_bytes_.push_back(std::string(1, static_cast<char>(b)));
    ranks_.emplace(token_bytes_.back(), static_cast<TokenId>(b));
  }
}

Tokenizer Tokenizer::gpt2(const std::filesystem::path& tiktoken_file) {
  return from_tiktoken(tiktoken_file, {{"<|endoftext|>", 50256}});
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, SpecialPolicy policy) const {
  if (policy == SpecialPolicy::plain_text) return encode_ordinary(text);
  std::vector<TokenId> ids;
  for (const detail::Chunk& chunk : detail::split_specials(text, specials_)) {
    if (chunk.special_id == nullptr) {
      const std::vector<TokenId> more = encode_ordinary(chunk.text);
      ids.insert(ids.end(), more.begin(), more.end());
    } else if (policy == SpecialPolicy::allow) {
      ids.push_back(*chunk.special_id);
    } else {
      const auto at = static_cast<std::size_t>(chunk.text.data() - text.data());
      throw Error("Tokenizer::encode",
                  "the text contains the special token '" + std::string(chunk.text) + "' at byte " +
                      std::to_string(at) + "; pass SpecialPolicy::allow to encode it as its id (" +
                      std::to_string(*chunk.special_id) +
                      ") or SpecialPolicy::plain_text to encode its characters as text");
    }
  }
  return ids;
}

std::vector<TokenId> Tokenizer::encode_ordinary(std::string_view text) const {
  std::vector<TokenId> ids;
  for (std::string_view piece : pretokenize(text)) {
    const std::vector<TokenId> more = encode_piece(piece);
    ids.insert(ids.end(), more.begin(), more.end());
  }
  return ids;
}

std::vector<TokenId> Tokenizer::encode_piece(std::string_view piece) const {
  // parts = the piece cut into tokens; at first one byte each. Adjacent parts are adjacent in
  // memory, so merging parts[i] and parts[i+1] is widening parts[i] and erasing parts[i+1].
  std::vector<std::string_view> parts;
  for (std::size_t i = 0; i < piece.size(); ++i) parts.push_back(piece.substr(i, 1));

  constexpr TokenId kNone = std::numeric_limits<TokenId>::max();
  while (parts.size() > 1) {
    // The adjacent pair whose concatenation has the lowest rank (the leftmost on a tie, which
    // can only be the same token formed at two places).
    TokenId best_rank = kNone;
    std::size_t best = 0;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      const std::string_view joined(parts[i].data(), parts[i].size() + parts[i + 1].size());
      const std::optional<TokenId> r = rank(joined);
      if (r && *r < best_rank) {
        best_rank = *r;
        best = i;
      }
    }
    if (best_rank == kNone) break;  // no adjacent pair is a token: done
    parts[best] = std::string_view(parts[best].data(), parts[best].size() + parts[best + 1].size());
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }

  std::vector<TokenId> ids;
  for (std::string_view part : parts) {
    const std::optional<TokenId> r = rank(part);
    if (!r) {
      // Only a loaded vocabulary lacking a single byte can get here; loading checks for that.
      throw Error("Tokenizer::encode_piece",
                  "the byte '" + detail::escape_bytes(part) + "' is not in the vocabulary");
    }
    ids.push_back(*r);
  }
  return ids;
}

std::string Tokenizer::decode(std::span<const TokenId> ids) const {
  std::string text;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const TokenId id = ids[i];
    if (id < token_bytes_.size()) {
      text += token_bytes_[id];
      continue;
    }
    const auto special = std::find_if(specials_.begin(), specials_.end(),
                                      [&](const auto& s) { return s.second == id; });
    if (special == specials_.end()) {
      throw Error("Tokenizer::decode", "ids[" + std::to_string(i) + "] = " + std::to_string(id) +
                                           " is not in the vocabulary (" +
                                           std::to_string(vocab_size()) + " ids)");
    }
    text += special->first;
  }
  return text;
}

std::size_t Tokenizer::vocab_size() const {
  std::size_t n = token_bytes_.size();
  for (const auto& [text, id] : specials_) n = std::max<std::size_t>(n, std::size_t{id} + 1);
  return n;
}

const std::string& Tokenizer::token_bytes(TokenId id) const {
  if (id >= token_bytes_.size()) {
    throw Error("Tokenizer::token_bytes", "id " + std::to_string(id) +
                                              " is not a mergeable token (there are " +
                                              std::to_string(token_bytes_.size()) + ")");
  }
  return token_bytes_[id];
}

std::optional<TokenId> Tokenizer::rank(std::string_view bytes) const {
  const auto it = ranks_.find(std::string(bytes));
  if (it == ranks_.end()) return std::nullopt;
  return it->second;
}

}  // namespace llmlab::ref
