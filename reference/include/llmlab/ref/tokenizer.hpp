#pragma once
/// \file
/// \ingroup group_tokenizer
/// \brief Byte-level BPE tokenization, GPT-2 exact: the reference a student reads in one sitting.
///
/// Text → pre-tokens (GPT-2's regex) → each pre-token's bytes → repeatedly merge the adjacent pair
/// whose concatenation has the lowest rank → token ids. Decoding concatenates the tokens' bytes.
///
/// Vocabulary: every mergeable token is a byte string with a rank, and its id is its rank (as in
/// tiktoken's `.tiktoken` files); special tokens come after. A tokenizer trained here numbers the
/// 256 single bytes 0–255 in byte order, then its merges in the order they were learned, then its
/// special tokens.
///
/// Sources: reference/src/tokenizer.cpp (encode, decode), tokenizer_pretokenize.cpp (the regex),
/// tokenizer_train.cpp (training), tokenizer_io.cpp (file formats). Errors are llmlab::Error, the
/// message starting with the function (`Tokenizer::from_tiktoken: vocab/x.tiktoken:12: …`).

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
///
/// Valid UTF-8 means RFC 3629's well-formed sequences (Unicode table 3-7): no overlong forms, no
/// surrogates (U+D800–DFFF), nothing above U+10FFFF. Scanning left to right, a byte that does not
/// start a well-formed sequence (a lone continuation byte, C0, C1, F5–FF, a sequence cut short) is
/// invalid on its own, and the scan resumes at the next byte: "hi", bytes E4 BD (the first two of
/// the three of 你), "world" → pre-tokens "hi", E4, BD, "world".
/// @param text any bytes (n)
/// @returns the pre-tokens in order, non-empty views into `text` whose concatenation is `text`
/// @throws llmlab::Error only if PCRE2 itself fails (never for any input seen so far)
std::vector<std::string_view> pretokenize(std::string_view text);

/// One merge learned by training: the tokens `left` and `right` become `id`.
struct Merge {
  TokenId left;   ///< the left token's id
  TokenId right;  ///< the right token's id
  TokenId id;     ///< the id of their concatenation (256 + the merge's index)
};

/// A byte-level BPE tokenizer: mergeable tokens with ranks, plus special tokens.
class Tokenizer {
 public:
  /// The 256 single-byte tokens (id = byte value), no merges, no specials.
  Tokenizer();

  /// Loads tiktoken's format: one `base64(token bytes) rank` line per token, ranks 0..n−1 each once.
  ///
  /// Empty lines are skipped and a trailing carriage return is dropped; base64 is strict (RFC 4648 with
  /// padding, no stray characters, unused bits zero). Every single byte must be a token (else not
  /// every text could be encoded). Special ids must be ≥ the number of ranks.
  /// @param path a `.tiktoken` file (n lines → ids 0..n−1)
  /// @param specials special tokens and their ids (e.g. {"<|endoftext|>", 50256})
  /// @throws llmlab::Error naming the file and line: missing file, bad base64, a rank given twice,
  ///         a gap in the ranks, a special id that collides with a rank; also a token given twice,
  ///         a missing single byte, a special given twice or two specials with one id.
  static Tokenizer from_tiktoken(const std::filesystem::path& path,
                                 const std::vector<std::pair<std::string, TokenId>>& specials = {});

  /// GPT-2 from its `.tiktoken` file, with `<|endoftext|>` = 50256 (scripts/setup.sh downloads it
  /// to vocab/gpt2.tiktoken). @throws llmlab::Error as from_tiktoken.
  static Tokenizer gpt2(const std::filesystem::path& tiktoken_file);

  /// Loads GPT-2's original files: `encoder.json` (printable token string → id, with GPT-2's
  /// byte-to-printable-character remapping) and `vocab.bpe` (the merges; used to check consistency).
  ///
  /// The remapping (GPT-2's bytes_to_unicode): the printable bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF
  /// stand for themselves; the other 68, in byte order, become U+0100, U+0101, … (' ' is 'Ġ'
  /// U+0120). vocab.bpe (an optional first line `#version…`, then one `left right` merge per line)
  /// fixes the expected ranks: the 256 bytes in that order (printable ones first), then merge i →
  /// 256 + i; every encoder.json entry that is a byte or a merge's result must carry exactly that
  /// id, and every other entry is a special token (its JSON key is its text) with an id ≥ 256 +
  /// merges. merges() stays empty, as for from_tiktoken.
  /// @throws llmlab::Error naming the file (and line, or token) on a parse error or an
  ///         inconsistency: a merge of strings that are not tokens yet, a merge made twice, an id
  ///         that disagrees with vocab.bpe, a missing token, two specials with one id.
  static Tokenizer from_gpt2_files(const std::filesystem::path& encoder_json,
                                   const std::filesystem::path& vocab_bpe);

  /// Trains on `texts`: count pre-token frequencies, then repeatedly merge the most frequent
  /// adjacent pair until the vocabulary has `vocab_size` tokens (256 + merges + specials). Ties
  /// go to the lexicographically greater pair, comparing the left tokens' bytes, then the right
  /// tokens' bytes. Special tokens are added at the end and never counted or merged.
  ///
  /// 1. Each text is cut at the specials' text (leftmost, longest first; those pieces are dropped)
  ///    and the rest pre-tokenized; n_w = how often the distinct pre-token w occurs.
  /// 2. Each w starts as its bytes. Repeat: count every adjacent pair over the distinct pre-tokens,
  ///    \f$ c(a, b) = \sum_w n_w \, |\{ i : w_i = a,\ w_{i+1} = b \}| \f$ (overlapping pairs
  ///    count: "aaa" holds (a, a) twice); take \f$ \arg\max c \f$, ties to the greater
  ///    (bytes(a), bytes(b)) in unsigned-byte lexicographic order (a prefix sorts first); it gets
  ///    the next id and replaces the pair left to right, without overlap, in every w.
  /// 3. Stop at vocab_size − specials.size() mergeable tokens, or earlier when every pre-token is
  ///    a single token (then vocab_size() < vocab_size). The specials get the next ids in the
  ///    order given.
  ///
  /// @param texts the corpus, each text pre-tokenized on its own (no pair spans two texts)
  /// @param vocab_size the wanted number of ids, 256 + merges + specials
  /// @param specials special tokens (non-empty, distinct)
  /// @throws llmlab::Error if vocab_size < 256 + specials.size(), a special is given twice or is
  ///         empty, or the corpus is empty (no byte outside special tokens).
  static Tokenizer train(std::span<const std::string> texts, std::size_t vocab_size,
                         const std::vector<std::string>& specials = {});

  /// Writes the mergeable tokens in tiktoken's format (one `base64 rank` line each, ranks = ids).
  /// Written to a temporary file and renamed, so a failure leaves no half-written file.
  /// Special tokens are not written (the format has no place for them): pass them to
  /// from_tiktoken when loading. The temporary file is `path` + ".tmp".
  /// @throws llmlab::Error naming the file when it cannot be written or renamed.
  void save_tiktoken(const std::filesystem::path& path) const;

  /// Encodes text. Special tokens are split out first (longest match wins where one is a prefix of
  /// another) and handled by `policy`; the rest is pre-tokenized and merged.
  ///
  /// Specials are found scanning left to right; at each position the longest special starting
  /// there wins. The text between two specials is encoded as a whole text of its own (as tiktoken
  /// does), so nothing merges across a special.
  /// @param text any bytes (n)   @param policy what a special token's text does
  /// @returns the ids (≤ n of them)
  /// @throws llmlab::Error under SpecialPolicy::error when `text` contains a special token's text,
  ///         naming the token and its byte offset.
  std::vector<TokenId> encode(std::string_view text, SpecialPolicy policy = SpecialPolicy::error) const;

  /// Encodes text with no special tokens recognised (same as SpecialPolicy::plain_text).
  std::vector<TokenId> encode_ordinary(std::string_view text) const;

  /// BPE on one pre-token: start from its bytes, merge the lowest-ranked adjacent pair until none
  /// is in the vocabulary.
  ///
  /// With parts \f$ p_1 \dots p_m \f$ (at first the m bytes), repeat: \f$ i^* = \arg\min_i
  /// \mathrm{rank}(p_i \Vert p_{i+1}) \f$ over the pairs whose concatenation is a token (the
  /// leftmost on a tie); replace \f$ p_{i^*}, p_{i^*+1} \f$ by their concatenation. The ids are
  /// the parts' ranks. O(m²) rank look-ups: fine for real pre-tokens, slow for a run of thousands
  /// of one letter (the fast path is built for those).
  /// @param piece bytes (m)   @returns the ids (between 1 and m of them; none for an empty piece)
  std::vector<TokenId> encode_piece(std::string_view piece) const;

  /// Concatenates the tokens' bytes (a special token's id gives its text).
  /// @param ids (n)   @throws llmlab::Error on an id not in the vocabulary, naming its index.
  std::string decode(std::span<const TokenId> ids) const;

  /// Number of ids: mergeable tokens + special tokens. Precisely, the largest id + 1, which is
  /// that sum whenever the specials' ids follow the ranks without a gap (trained, GPT-2).
  std::size_t vocab_size() const;
  /// Number of mergeable tokens (ids 0..n−1).
  std::size_t mergeable_count() const { return token_bytes_.size(); }
  /// The bytes of mergeable token `id`. @throws llmlab::Error if id ≥ mergeable_count().
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
