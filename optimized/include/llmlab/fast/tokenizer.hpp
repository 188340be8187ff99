#pragma once
/// \file
/// \ingroup group_tokenizer
/// \brief The fast CPU tokenizer: byte-level BPE with exactly the reference's results, fast.
///
/// Same vocabulary, ids, special-token policy, invalid-UTF-8 policy and training tie rule as
/// llmlab::ref::Tokenizer (reference/include/llmlab/ref/tokenizer.hpp); tests/tokenizer_fast_test.cpp
/// checks that they agree id for id and merge for merge. What is different is how:
///
/// - **Pre-tokenization** is a hand-written one-pass scanner for GPT-2's pattern (no regex, no
///   backtracking) over Unicode class tables generated at build time from PCRE2 itself.
/// - **Merging** a pre-token of n bytes: a pre-token that is itself a token whose own bytes BPE to
///   it is one hash lookup; a recent one is in a per-thread cache; short ones (≤ 96 bytes) use
///   tiktoken's scan (O(n²) worst, all in L1); long ones sweep buckets of pair positions in rank
///   order over a linked list of parts, with lazy invalidation — O(n log n) worst, about linear
///   in practice: a megabyte of one character takes milliseconds, not minutes. Pair ranks come
///   from a flat open-addressing table keyed by (left id, right id).
/// - **Batch and parallel** encoding run on threads; a **streaming** encoder cuts its input only
///   where no pre-token and no special token can span the cut.
/// - **Training** keeps pair counts incrementally with a priority queue and lazy deletion and
///   counts pre-tokens on several threads.
///
/// Ids: a mergeable token's id is its rank; special tokens have their own ids after them (GPT-2:
/// 0–50255 mergeable, `<|endoftext|>` = 50256). A tokenizer trained here numbers the 256 single
/// bytes 0–255 in byte order, then its merges in the order learned, then its specials.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmlab::fast {

/// A token id (the same numbers as llmlab::ref::TokenId).
using TokenId = std::uint32_t;

/// What encode() does when the input contains the text of a special token (the reference's
/// policy, llmlab::ref::SpecialPolicy, value for value).
enum class SpecialPolicy {
  error,       ///< throw llmlab::Error naming the token (tiktoken's default)
  allow,       ///< emit the special token's id
  plain_text,  ///< encode its characters like any other text
};

/// Splits `text` into GPT-2 pre-tokens (views into `text`), exactly as llmlab::ref::pretokenize
/// does with PCRE2, by a one-pass scanner. Invalid UTF-8 follows the reference's policy: maximal
/// valid segments are pre-tokenized on their own, each invalid byte is a pre-token by itself.
/// O(n) time; the pre-tokens tile the text.
std::vector<std::string_view> pretokenize(std::string_view text);

/// One merge learned by training: the tokens `left` and `right` become `id`.
struct Merge {
  TokenId left;   ///< the left token's id
  TokenId right;  ///< the right token's id
  TokenId id;     ///< the id of their concatenation (256 + the merge's index)
  /// Same left, right and id.
  friend bool operator==(const Merge&, const Merge&) = default;
};

/// The fast byte-level BPE tokenizer. Immutable after construction; every const member may be
/// called from several threads at once.
class Tokenizer {
 public:
  /// The 256 single-byte tokens (id = byte value), no merges, no specials.
  Tokenizer();

  /// A tokenizer from its vocabulary.
  /// @param token_bytes id → bytes of every mergeable token (ids = ranks, 0..n−1); every one of
  ///        the 256 single bytes must be among them
  /// @param specials special tokens and their ids (ids ≥ n, e.g. {"<|endoftext|>", 50256})
  /// @param merges the merges in learned order, if known (kept for merges(); not used to encode)
  /// @throws llmlab::Error when a single byte is missing, two tokens have the same bytes, a
  ///         special is empty, given twice or its id collides with another id.
  /// Builds the (left, right) → merged rank table (one entry per way of splitting a token into
  /// two tokens, O(Σ token lengths)) and checks which tokens encode to themselves.
  explicit Tokenizer(std::vector<std::string> token_bytes,
                     const std::vector<std::pair<std::string, TokenId>>& specials = {},
                     std::vector<Merge> merges = {});

  /// Loads tiktoken's format: one `base64(token bytes) rank` line per token, ranks 0..n−1 each
  /// once.
  /// @param path the `.tiktoken` file
  /// @param specials special tokens and their ids
  /// @throws llmlab::Error naming the file and line: missing file, bad base64, a rank given twice,
  ///         a gap in the ranks, a special id that collides with a rank.
  static Tokenizer from_tiktoken(const std::filesystem::path& path,
                                 const std::vector<std::pair<std::string, TokenId>>& specials = {});

  /// GPT-2 from its `.tiktoken` file, with `<|endoftext|>` = 50256.
  static Tokenizer gpt2(const std::filesystem::path& tiktoken_file);

  /// Trains exactly like llmlab::ref::Tokenizer::train — same merges, same ids — fast.
  ///
  /// Algorithm: pre-tokens are counted on `threads` threads (each a hash map of its share of the
  /// texts, then merged); each distinct pre-token becomes a word (a sequence of token ids) with a
  /// count. Pair counts over all words are kept in a hash map, with an index pair → words that
  /// contain it, and a max-heap of (count, pair) with lazy deletion: a popped entry whose count is
  /// stale is pushed back with the current count. The best pair (max count; ties to the
  /// lexicographically greater pair, left token's bytes then right token's bytes) is merged in
  /// the words that contain it, and only those words' pairs are recounted. Time
  /// O(N + M · (words touched) · log P) instead of the reference's O(M · N).
  /// @param texts the corpus  @param vocab_size 256 + merges + specials
  /// @param specials special tokens (their text is not counted; ids after the merges)
  /// @param threads threads for counting (≤ 0: all hardware threads)
  /// @throws llmlab::Error if vocab_size < 256 + specials.size(), a special is given twice, or
  ///         the corpus is empty.
  static Tokenizer train(std::span<const std::string> texts, std::size_t vocab_size,
                         const std::vector<std::string>& specials = {}, int threads = 0);

  /// Writes the mergeable tokens in tiktoken's format (one `base64 rank` line each), through a
  /// temporary file renamed into place. @throws llmlab::Error when the file cannot be written.
  void save_tiktoken(const std::filesystem::path& path) const;

  /// Encodes text: special tokens are split out first (leftmost, longest where one is a prefix of
  /// another) and handled by `policy`; the text between them is pre-tokenized and merged.
  /// O(n log n) worst case in the text's length n.
  /// @throws llmlab::Error under SpecialPolicy::error when the text contains a special token.
  std::vector<TokenId> encode(std::string_view text, SpecialPolicy policy = SpecialPolicy::error) const;

  /// encode() appending to `out` (no allocation when `out` has room).
  void encode_into(std::string_view text, SpecialPolicy policy, std::vector<TokenId>& out) const;

  /// Encodes text with no special tokens recognised (SpecialPolicy::plain_text).
  std::vector<TokenId> encode_ordinary(std::string_view text) const;

  /// BPE on one pre-token: start from its bytes, merge the lowest-ranked adjacent pair (the
  /// leftmost among equals) until no adjacent pair is a token. O(n log n) worst case in its
  /// length n.
  std::vector<TokenId> encode_piece(std::string_view piece) const;

  /// Encodes every text of `texts` on `threads` threads (≤ 0: all hardware threads); result i is
  /// encode(texts[i], policy). Texts are handed out dynamically, so uneven lengths balance.
  /// @throws llmlab::Error as encode() does (the first error of any text).
  std::vector<std::vector<TokenId>> encode_batch(std::span<const std::string_view> texts,
                                                 int threads = 0,
                                                 SpecialPolicy policy = SpecialPolicy::error) const;

  /// Encodes one long text on `threads` threads: the text is cut into pieces at points no
  /// pre-token or special token can span (as the streaming encoder cuts), the pieces are encoded
  /// in parallel and concatenated. Equal to encode(text, policy).
  std::vector<TokenId> encode_parallel(std::string_view text, int threads = 0,
                                       SpecialPolicy policy = SpecialPolicy::error) const;

  /// Encodes everything read from `in`, in chunks of `chunk_bytes`, handing the ids to `sink` as
  /// soon as they are final (a StreamEncoder underneath). Memory: O(chunk_bytes + the longest
  /// pre-token), independent of the input's length. The ids equal encode(whole input, policy).
  /// @throws llmlab::Error on a read error, or as encode() does.
  void encode_stream(std::istream& in, const std::function<void(std::span<const TokenId>)>& sink,
                     SpecialPolicy policy = SpecialPolicy::error,
                     std::size_t chunk_bytes = std::size_t{1} << 16) const;

  /// Concatenates the tokens' bytes (a special token's text for a special id). O(output size).
  /// @throws llmlab::Error on an id not in the vocabulary.
  std::string decode(std::span<const TokenId> ids) const;

  /// Number of ids: one past the largest id (mergeable tokens, then special tokens).
  std::size_t vocab_size() const;
  /// Number of mergeable tokens (ids 0..n−1).
  std::size_t mergeable_count() const { return token_bytes_.size(); }
  /// The bytes of mergeable token `id`. @throws llmlab::Error when id ≥ mergeable_count().
  const std::string& token_bytes(TokenId id) const;
  /// The rank (= id) of a byte string, if it is a mergeable token.
  std::optional<TokenId> rank(std::string_view bytes) const;
  /// Special tokens and their ids.
  const std::map<std::string, TokenId>& special_tokens() const { return specials_; }
  /// The merges in learned order (trained tokenizers; empty for loaded ones).
  const std::vector<Merge>& merges() const { return merges_; }

  ~Tokenizer();
  /// Moves the tables (no copy: they are large and read-only; share a Tokenizer by reference).
  Tokenizer(Tokenizer&&) noexcept;
  /// Moves the tables.
  Tokenizer& operator=(Tokenizer&&) noexcept;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  struct Tables;  ///< the hash tables encode() uses (defined in tokenizer.cpp)

 private:
  friend class StreamEncoder;
  /// Pre-tokenizes and merges ordinary text (no specials), appending to `out`.
  void encode_ordinary_into(std::string_view text, std::vector<TokenId>& out) const;
  /// The first special token at or after `from` whose start is < `limit` (leftmost, longest):
  /// {position, length, id}, or position npos.
  struct SpecialMatch { std::size_t pos; std::size_t len; TokenId id; };
  SpecialMatch find_special(std::string_view text, std::size_t from, std::size_t limit) const;

  std::vector<std::string> token_bytes_;     // id → bytes
  std::map<std::string, TokenId> specials_;  // text → id
  std::vector<Merge> merges_;
  std::unique_ptr<Tables> tables_;
};

/// Encodes a stream pushed in chunks of any size (down to one byte), with memory bounded by the
/// window plus the longest pre-token — never the whole input.
///
/// When the buffer reaches the window, the encoder emits everything before the last *safe cut*:
/// a point p with at least max(4, longest special) bytes after it where (a) no special token can
/// start before p undecided, and (b) p is a pre-token boundary whatever follows: the character
/// before p is not white space and not `'`, and the character at p is white space, an invalid
/// byte, or of another class than the one before (letter / number / other), or the character
/// before p is an invalid byte. At such a point every pre-token before p was decided by
/// characters before p plus the one at p, so encoding the two sides separately gives the same
/// ids as encoding the whole. When no safe cut exists (one giant pre-token), the window doubles.
class StreamEncoder {
 public:
  /// @param tokenizer must outlive the encoder  @param policy as in Tokenizer::encode
  /// @param window bytes buffered before a cut is attempted (≥ 64)
  explicit StreamEncoder(const Tokenizer& tokenizer, SpecialPolicy policy = SpecialPolicy::error,
                         std::size_t window = std::size_t{1} << 16);

  /// Appends `chunk`; appends to `out` the ids that are now final.
  /// @throws llmlab::Error under SpecialPolicy::error when a special token is found, or after
  ///         finish().
  void push(std::string_view chunk, std::vector<TokenId>& out);

  /// End of input: appends the remaining ids to `out`. The encoder is then finished.
  void finish(std::vector<TokenId>& out);

  /// Bytes held and not yet encoded.
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  /// Encodes the buffer up to the last safe cut (everything when `final`).
  void drain(bool final, std::vector<TokenId>& out);

  const Tokenizer* tok_;
  SpecialPolicy policy_;
  std::size_t window_;
  std::size_t next_attempt_;  // buffered() at which the next cut is attempted
  std::string buffer_;
  std::size_t start_ = 0;     // buffer_[start_..] is not yet encoded
  bool finished_ = false;
};

/// The last point 0 < p ≤ min(limit, size − 1) where `text` can be cut without changing any
/// pre-token — a safe cut as StreamEncoder defines it, ignoring special tokens — or 0 when there
/// is none. Tests candidates from `limit` backwards, each by the one character on either side
/// (found without decoding from the start: a non-continuation byte starts a character, and the
/// character before it is the valid sequence ending there or an invalid byte). The character at
/// p must be whole: the caller leaves 4 bytes after `limit` unless `text` ends where the input
/// does. O(limit − p).
std::size_t last_safe_cut(std::string_view text, std::size_t limit);

}  // namespace llmlab::fast
