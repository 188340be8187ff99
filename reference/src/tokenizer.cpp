// Byte-level BPE: the vocabulary, encoding (special tokens → pre-tokens → merges) and decoding.
// Training is in tokenizer_train.cpp, the file formats in tokenizer_io.cpp, the regex in
// tokenizer_pretokenize.cpp.

#include "llmlab/ref/tokenizer.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <queue>
#include <string_view>
#include <vector>

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

std::string excerpt(std::string_view bytes, std::size_t limit) {
  if (bytes.size() <= limit) return escape_bytes(bytes);
  return escape_bytes(bytes.substr(0, limit)) + "… (" + std::to_string(bytes.size()) +
         " bytes in all)";
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
  // The rule: while some adjacent pair of parts is a token, merge the pair of lowest rank (the
  // leftmost on a tie); parts start as single bytes. Scanning every pair for each merge would cost
  // O(n) per merge and O(n^2) per piece — minutes for a 100 KB piece without spaces
  // (chapters/01-tokenization/README.md, "Why the naive loop is quadratic"). Instead every
  // adjacent pair that is a token waits in a min-heap keyed by (rank, position): each merge pops
  // the lowest, and only the two pairs it changes are pushed again — O(n log n).
  //
  // Parts are spans of the piece: the part starting at byte s ends at end[s]; prev[s] is the start
  // of the part before it. A merged-away part's end is kGone.
  const std::size_t n = piece.size();
  constexpr std::size_t kGone = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> end(n), prev(n);
  for (std::size_t i = 0; i < n; ++i) {
    end[i] = i + 1;
    prev[i] = i - 1;  // wraps for i = 0; never read there
  }

  // A candidate merge: the pair (left, mid) as it was when pushed, mid … right_end the right part.
  struct Pair {
    TokenId rank;
    std::size_t left, mid, right_end;
    bool operator>(const Pair& o) const {  // lowest rank first, then leftmost
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::priority_queue<Pair, std::vector<Pair>, std::greater<>> heap;
  const auto push_pair = [&](std::size_t left) {  // the pair that starts with part `left`, if any
    const std::size_t mid = end[left];
    if (mid >= n) return;
    if (const std::optional<TokenId> r = rank(piece.substr(left, end[mid] - left)))
      heap.push({*r, left, mid, end[mid]});
  };
  for (std::size_t i = 0; i + 1 < n; ++i) push_pair(i);

  while (!heap.empty()) {
    const Pair p = heap.top();
    heap.pop();
    if (end[p.left] != p.mid || end[p.mid] != p.right_end) continue;  // a part changed since
    end[p.left] = p.right_end;  // merge: the left part widens, the right one is gone
    end[p.mid] = kGone;
    if (p.right_end < n) prev[p.right_end] = p.left;
    if (p.left > 0) push_pair(prev[p.left]);  // the pair ending with the merged part
    push_pair(p.left);                        // the pair starting with it
  }

  std::vector<TokenId> ids;
  for (std::size_t s = 0; s < n; s = end[s]) {
    const std::string_view part = piece.substr(s, end[s] - s);
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
