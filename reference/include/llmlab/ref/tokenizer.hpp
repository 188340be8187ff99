#pragma once
/// \file
/// \brief Byte-level BPE tokenization, GPT-2 exact: the reference a student reads in one sitting.
///
/// Text → pre-tokens (GPT-2's regex) → each pre-token's bytes → repeatedly merge the adjacent pair
/// whose concatenation has the lowest rank → token ids. Decoding concatenates the tokens' bytes.
///
/// Vocabulary: every mergeable token is a byte string with a rank, and its id is its rank (as in
/// tiktoken's `.tiktoken` files); special tokens come after. A tokenizer trained here numbers the
/// 256 single bytes 0–255 in byte order, then its merges in the order they were learned, then its
/// special tokens.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace llmlab::ref {

/// A token id. GPT-2's are 0–50256.
using TokenId = std::uint32_t;

/// GPT-2's pre-tokenization pattern (contractions, letters, numbers, other, whitespace).
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

/// What encode() does when the input contains the text of a special token.
enum class SpecialPolicy {
  error,       ///< throw llmlab::Error naming the token (tiktoken's default)
  allow,       ///< emit the special token's id
  plain_text,  ///< encode its characters like any other text
};

/// Splits `text` into GPT-2 pre-tokens (views into `text`) with a real Unicode regex engine (PCRE2
/// with UTF and UCP).
///
/// Invalid UTF-8 is never an error. The policy (the fast path follows it exactly): cut the input
/// into maximal valid UTF-8 segments and the bytes between them; pre-tokenize each valid segment
/// on its own, as if it were the whole text; every invalid byte is a pre-token by itself. So every
/// byte is in exactly one pre-token and decode(encode(bytes)) == bytes for every byte string.
std::vector<std::string_view> pretokenize(std::string_view text);

/// One merge learned by training: the tokens `left` and `right` become `id`.
struct Merge {
  TokenId left;
  TokenId right;
  TokenId id;
};

/// A byte-level BPE tokenizer: mergeable tokens with ranks, plus special tokens.
class Tokenizer {
 public:
  /// The 256 single-byte tokens (id = byte value), no merges, no specials.
  Tokenizer();

  /// Loads tiktoken's format: one `base64(token bytes) rank` line per token, ranks 0..n−1 each once.
  /// @param specials special tokens and their ids (e.g. {"<|endoftext|>", 50256})
  /// @throws llmlab::Error naming the file and line: missing file, bad base64, a rank given twice,
  ///         a gap in the ranks, a special id that collides with a rank.
  static Tokenizer from_tiktoken(const std::filesystem::path& path,
                                 const std::vector<std::pair<std::string, TokenId>>& specials = {});

  /// GPT-2 from its `.tiktoken` file, with `<|endoftext|>` = 50256.
  static Tokenizer gpt2(const std::filesystem::path& tiktoken_file);

  /// Loads GPT-2's original files: `encoder.json` (printable token string → id, with GPT-2's
  /// byte-to-printable-character remapping) and `vocab.bpe` (the merges; used to check consistency).
  /// @throws llmlab::Error naming the file on a parse error or an inconsistency.
  static Tokenizer from_gpt2_files(const std::filesystem::path& encoder_json,
                                   const std::filesystem::path& vocab_bpe);

  /// Trains on `texts`: count pre-token frequencies, then repeatedly merge the most frequent
  /// adjacent pair until the vocabulary has `vocab_size` tokens (256 + merges + specials). Ties
  /// go to the lexicographically greater pair, comparing the left tokens' bytes, then the right
  /// tokens' bytes. Special tokens are added at the end and never counted or merged.
  /// @throws llmlab::Error if vocab_size < 256 + specials.size(), a special is given twice, or
  ///         the corpus is empty.
  static Tokenizer train(std::span<const std::string> texts, std::size_t vocab_size,
                         const std::vector<std::string>& specials = {});

  /// Writes the mergeable tokens in tiktoken's format (one `base64 rank` line each, ranks = ids).
  /// Written to a temporary file and renamed, so a failure leaves no half-written file.
  void save_tiktoken(const std::filesystem::path& path) const;

  /// Encodes text. Special tokens are split out first (longest match wins where one is a prefix of
  /// another) and handled by `policy`; the rest is pre-tokenized and merged.
  std::vector<TokenId> encode(std::string_view text, SpecialPolicy policy = SpecialPolicy::error) const;

  /// Encodes text with no special tokens recognised (same as SpecialPolicy::plain_text).
  std::vector<TokenId> encode_ordinary(std::string_view text) const;

  /// BPE on one pre-token: start from its bytes, merge the lowest-ranked adjacent pair until none
  /// is in the vocabulary.
  std::vector<TokenId> encode_piece(std::string_view piece) const;

  /// Concatenates the tokens' bytes. @throws llmlab::Error on an id not in the vocabulary.
  std::string decode(std::span<const TokenId> ids) const;

  /// Number of ids: mergeable tokens + special tokens.
  std::size_t vocab_size() const;
  /// Number of mergeable tokens (ids 0..n−1).
  std::size_t mergeable_count() const { return token_bytes_.size(); }
  /// The bytes of mergeable token `id`.
  const std::string& token_bytes(TokenId id) const;
  /// The rank (= id) of a byte string, if it is a mergeable token.
  std::optional<TokenId> rank(std::string_view bytes) const;
  /// Special tokens and their ids.
  const std::map<std::string, TokenId>& special_tokens() const { return specials_; }
  /// The merges in learned order (trained tokenizers; empty for loaded ones).
  const std::vector<Merge>& merges() const { return merges_; }

 private:
  std::vector<std::string> token_bytes_;              // id → bytes
  std::unordered_map<std::string, TokenId> ranks_;    // bytes → id
  std::map<std::string, TokenId> specials_;           // text → id
  std::vector<Merge> merges_;
};

}  // namespace llmlab::ref
