// Vocabulary files: tiktoken's `.tiktoken` (load and save) and GPT-2's `encoder.json` +
// `vocab.bpe`.

#include <array>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/tokenizer.hpp"
#include "tokenizer_detail.hpp"

namespace llmlab::ref {

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// RFC 4648 base64 with padding: every 3 bytes become 4 characters of 6 bits each.
std::string base64_encode(std::string_view bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;  // 24 bits: the 3 bytes, zero-padded
    for (std::size_t k = 0; k < 3; ++k) {
      group = (group << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out += k <= n ? kBase64[(group >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

/// The inverse of base64_encode, strict: the length is a multiple of 4, only the alphabet, `=` only
/// as the last one or two characters, and the bits the padding leaves over are zero (so every
/// byte string has exactly one encoding). Returns nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t pad = !last ? 0 : text[i + 3] != '=' ? 0 : text[i + 2] != '=' ? 1 : 2;
    std::uint32_t group = 0;  // 24 bits
    for (std::size_t k = 0; k < 4; ++k) {
      std::uint32_t sextet = 0;
      if (k < 4 - pad) {
        const char* at = std::char_traits<char>::find(kBase64, 64, text[i + k]);
        if (at == nullptr) return std::nullopt;  // not in the alphabet (a stray '=' included)
        sextet = static_cast<std::uint32_t>(at - kBase64);
      }
      group = (group << 6) | sextet;
    }
    if (pad > 0 && (group & ((1u << (8 * pad)) - 1)) != 0) return std::nullopt;  // unused bits set
    for (std::size_t k = 0; k < 3 - pad; ++k)
      out += static_cast<char>((group >> (16 - 8 * k)) & 255);
  }
  return out;
}

/// GPT-2's bytes_to_unicode: every byte becomes a printable character, so that encoder.json and
/// vocab.bpe hold text. The printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves;
/// the other 68, in byte order, become U+0100, U+0101, … (so ' ' is 'Ġ' U+0120, '\n' is 'Ċ'
/// U+010A). Returns byte → code point; `order` gets the bytes in GPT-2's rank order (printable
/// ones first, then the rest), which is the order of their ranks 0–255.
std::array<char32_t, 256> gpt2_byte_to_char(std::vector<unsigned char>* order = nullptr) {
  auto printable = [](unsigned b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  std::array<char32_t, 256> to_char{};
  char32_t next = 256;
  for (unsigned b = 0; b < 256; ++b) to_char[b] = printable(b) ? b : next++;
  if (order != nullptr) {
    for (unsigned b = 0; b < 256; ++b)
      if (printable(b)) order->push_back(static_cast<unsigned char>(b));
    for (unsigned b = 0; b < 256; ++b)
      if (!printable(b)) order->push_back(static_cast<unsigned char>(b));
  }
  return to_char;
}

/// A GPT-2 printable token string (UTF-8) back to its bytes; nullopt if it holds a character that
/// is not one of the 256.
std::optional<std::string> gpt2_unmap(std::string_view printable) {
  static const std::map<char32_t, char> from_char = [] {
    std::map<char32_t, char> m;
    const auto to_char = gpt2_byte_to_char();
    for (unsigned b = 0; b < 256; ++b) m[to_char[b]] = static_cast<char>(b);
    return m;
  }();
  std::string bytes;
  for (std::size_t i = 0; i < printable.size();) {
    // Every character used is below U+0144: one byte (ASCII) or two (110xxxxx 10xxxxxx).
    const std::size_t n = detail::utf8_sequence_length(printable, i);
    char32_t c = 0;
    if (n == 1) c = static_cast<unsigned char>(printable[i]);
    if (n == 2)
      c = (char32_t{static_cast<unsigned char>(printable[i])} & 0x1F) << 6 |
          (char32_t{static_cast<unsigned char>(printable[i + 1])} & 0x3F);
    const auto it = from_char.find(c);
    if (n == 0 || n > 2 || it == from_char.end()) return std::nullopt;
    bytes += it->second;
    i += n;
  }
  return bytes;
}

std::string file_line(const std::filesystem::path& path, std::size_t line) {
  return path.string() + ":" + std::to_string(line) + ": ";
}

}  // namespace

Tokenizer Tokenizer::from_tiktoken(const std::filesystem::path& path,
                                   const std::vector<std::pair<std::string, TokenId>>& specials) {
  constexpr std::string_view where = "Tokenizer::from_tiktoken";
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open())
    throw Error(where, "cannot open '" + path.string() + "' (run scripts/setup.sh for GPT-2's)");

  // rank → (bytes, line); a std::map so the ranks come out sorted for the gap check.
  std::map<TokenId, std::pair<std::string, std::size_t>> by_rank;
  std::map<std::string, std::size_t> line_of;  // bytes → the line that gave them
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      throw Error(where, file_line(path, number) + "expected 'base64 rank', got '" +
                             detail::excerpt(line) + "'");
    }
    const std::string_view b64 = std::string_view(line).substr(0, space);
    const std::string_view rank_text = std::string_view(line).substr(space + 1);

    const std::optional<std::string> bytes = base64_decode(b64);
    if (!bytes.has_value()) {
      throw Error(where, file_line(path, number) + "'" + detail::excerpt(b64) +
                             "' is not valid base64");
    }
    if (bytes->empty()) throw Error(where, file_line(path, number) + "the token is empty");
    TokenId rank = 0;
    const auto [end, ec] =
        std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc() || end != rank_text.data() + rank_text.size()) {
      throw Error(where, file_line(path, number) + "the rank '" + detail::excerpt(rank_text) +
                             "' is not a number from 0 to 4294967295");
    }

    const auto [it, new_rank] = by_rank.emplace(rank, std::pair{*bytes, number});
    if (!new_rank) {
      throw Error(where, file_line(path, number) + "rank " + std::to_string(rank) +
                             " is given twice (also on line " + std::to_string(it->second.second) +
                             ")");
    }
    const auto [seen, new_bytes] = line_of.emplace(*bytes, number);
    if (!new_bytes) {
      throw Error(where, file_line(path, number) + "the token '" + detail::excerpt(*bytes) +
                             "' is given twice (also on line " + std::to_string(seen->second) +
                             ")");
    }
  }
  if (in.bad()) throw Error(where, "cannot read '" + path.string() + "'");
  if (by_rank.empty()) throw Error(where, path.string() + ": no tokens in the file");

  // The ranks must be 0, 1, …, n−1: the k-th smallest rank is k.
  Tokenizer tokenizer;
  tokenizer.token_bytes_.clear();
  tokenizer.ranks_.clear();
  for (auto& [rank, entry] : by_rank) {
    const auto expected = static_cast<TokenId>(tokenizer.token_bytes_.size());
    if (rank != expected) {
      throw Error(where, path.string() + ": rank " + std::to_string(expected) +
                             " is missing (ranks must be 0.." + std::to_string(by_rank.size() - 1) +
                             "; line " + std::to_string(entry.second) + " gives " +
                             std::to_string(rank) + ")");
    }
    tokenizer.ranks_.emplace(entry.first, rank);
    tokenizer.token_bytes_.push_back(std::move(entry.first));
  }
  // Byte-level: every single byte must be a token, or some text could not be encoded.
  for (int b = 0; b < 256; ++b) {
    const std::string byte(1, static_cast<char>(b));
    if (!tokenizer.ranks_.contains(byte)) {
      throw Error(where, path.string() + ": the single byte '" + detail::excerpt(byte) +
                             "' is not a token, so not every text could be encoded");
    }
  }

  for (const auto& [text, id] : specials) {
    if (text.empty()) throw Error(where, "a special token is the empty string");
    if (id < tokenizer.token_bytes_.size()) {
      throw Error(where, "the special token '" + detail::excerpt(text) + "' has id " +
                             std::to_string(id) + ", which is the rank of the token '" +
                             detail::excerpt(tokenizer.token_bytes_[id]) + "' in " +
                             path.string());
    }
    for (const auto& [other, other_id] : tokenizer.specials_) {
      if (other == text)
        throw Error(where, "the special token '" + detail::excerpt(text) + "' is given twice");
      if (other_id == id) {
        throw Error(where, "the special tokens '" + detail::excerpt(other) + "' and '" +
                               detail::excerpt(text) + "' both have id " + std::to_string(id));
      }
    }
    tokenizer.specials_.emplace(text, id);
  }
  return tokenizer;
}

void Tokenizer::save_tiktoken(const std::filesystem::path& path) const {
  constexpr std::string_view where = "Tokenizer::save_tiktoken";
  std::filesystem::path temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out.is_open()) throw Error(where, "cannot create '" + temp.string() + "'");
    for (std::size_t id = 0; id < token_bytes_.size(); ++id) {
      out << base64_encode(token_bytes_[id]) << ' ' << id << '\n';
    }
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw Error(where, "cannot write '" + temp.string() + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw Error(
        where, "cannot rename '" + temp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

Tokenizer Tokenizer::from_gpt2_files(const std::filesystem::path& encoder_json,
                                     const std::filesystem::path& vocab_bpe) {
  constexpr std::string_view where = "Tokenizer::from_gpt2_files";

  // vocab.bpe gives the expected ranks: the 256 bytes in GPT-2's order, then merge i → 256 + i.
  std::vector<unsigned char> byte_order;
  gpt2_byte_to_char(&byte_order);
  std::map<std::string, TokenId> expected;  // bytes → rank
  for (const unsigned char b : byte_order) {
    expected.emplace(std::string(1, static_cast<char>(b)), static_cast<TokenId>(expected.size()));
  }
  std::ifstream bpe(vocab_bpe, std::ios::binary);
  if (!bpe.is_open()) throw Error(where, "cannot open '" + vocab_bpe.string() + "'");
  std::string line;
  for (std::size_t number = 1; std::getline(bpe, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.starts_with("#version"))) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      throw Error(where,
                  file_line(vocab_bpe, number) + "expected 'left right', got '" + detail::excerpt(line) + "'");
    }
    const std::optional<std::string> left = gpt2_unmap(std::string_view(line).substr(0, space));
    const std::optional<std::string> right = gpt2_unmap(std::string_view(line).substr(space + 1));
    if (!left || !right || !expected.contains(*left) || !expected.contains(*right)) {
      throw Error(where, file_line(vocab_bpe, number) + "the merge '" + detail::excerpt(line) +
                             "' joins a string that is not a token yet");
    }
    const auto rank = static_cast<TokenId>(expected.size());
    if (!expected.emplace(*left + *right, rank).second) {
      throw Error(where, file_line(vocab_bpe, number) + "the merge '" + detail::excerpt(line) +
                             "' makes a token made before");
    }
  }
  if (bpe.bad()) throw Error(where, "cannot read '" + vocab_bpe.string() + "'");

  // encoder.json gives the ids; they must agree with vocab.bpe. Entries that are neither a byte
  // nor made by a merge are special tokens (GPT-2's one: "<|endoftext|>": 50256).
  std::ifstream json_file(encoder_json, std::ios::binary);
  if (!json_file.is_open()) throw Error(where, "cannot open '" + encoder_json.string() + "'");
  nlohmann::json encoder;
  try {
    encoder = nlohmann::json::parse(json_file);
  } catch (const nlohmann::json::exception& e) {
    throw Error(where, encoder_json.string() + ": not valid JSON: " + detail::excerpt(e.what(), 200));
  }
  if (!encoder.is_object())
    throw Error(where, encoder_json.string() + ": expected an object {token: id}");

  Tokenizer tokenizer;
  tokenizer.token_bytes_.assign(expected.size(), std::string());
  tokenizer.ranks_.clear();
  for (const auto& [key, value] : encoder.items()) {
    const std::string token = "token '" + detail::excerpt(key) + "'";
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() > 0xFFFFFFFFu) {
      throw Error(where, encoder_json.string() + ": the " + token + " has id " + detail::excerpt(value.dump()) +
                             ", not a number from 0 to 4294967295");
    }
    const auto id = value.get<TokenId>();
    const std::optional<std::string> bytes = gpt2_unmap(key);
    const auto it = bytes ? expected.find(*bytes) : expected.end();
    if (it != expected.end()) {
      if (id != it->second) {
        throw Error(where, encoder_json.string() + ": the " + token + " has id " +
                               std::to_string(id) + " but " + vocab_bpe.string() + " ranks it " +
                               std::to_string(it->second));
      }
      tokenizer.token_bytes_[id] = *bytes;
      tokenizer.ranks_.emplace(*bytes, id);
      continue;
    }
    if (id < expected.size()) {
      throw Error(where, encoder_json.string() + ": the " + token + " has id " +
                             std::to_string(id) +
                             ", a rank, but it is neither a byte nor made by a merge in " +
                             vocab_bpe.string());
    }
    for (const auto& [other, other_id] : tokenizer.specials_) {
      if (other_id == id) {
        throw Error(where, encoder_json.string() + ": the tokens '" + other + "' and '" + key +
                               "' both have id " + std::to_string(id));
      }
    }
    tokenizer.specials_.emplace(key, id);
  }
  for (const auto& [bytes, rank] : expected) {
    if (!tokenizer.ranks_.contains(bytes)) {
      throw Error(where, encoder_json.string() + ": the token '" + detail::excerpt(bytes) +
                             "' (rank " + std::to_string(rank) + " in " + vocab_bpe.string() +
                             ") is missing");
    }
  }
  return tokenizer;
}

}  // namespace llmlab::ref
