#pragma once
/// \file
/// \ingroup group_gpt
/// \brief Token shards: the binary files `llmlab data prepare` writes and `llmlab train` reads.
///
/// Layout, little-endian: the magic `"LLMLABTS"` (8 bytes), u32 version = 1, u32 the vocabulary
/// size V, u64 the token count n, then n tokens as uint16 when \f$ V \le 65536 \f$, else as
/// uint32 (a 24-byte header, then \f$ 2n \f$ or \f$ 4n \f$ bytes).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <vector>

namespace llmlab {

/// The shard header's magic bytes.
inline constexpr char kTokenShardMagic[8] = {'L', 'L', 'M', 'L', 'A', 'B', 'T', 'S'};
/// The version this llmlab writes and reads.
inline constexpr std::uint32_t kTokenShardVersion = 1;
/// Bytes of the header before the tokens.
inline constexpr std::size_t kTokenShardHeader = 24;

/// Writes one shard token by token, in constant memory: to `path.tmp` first, the header's count
/// patched by commit(), then renamed over `path` (destroyed without commit(), the temporary file
/// is removed and `path` is untouched).
class TokenShardWriter {
 public:
  /// @param path the shard to write   @param vocab_size V (every token must be < V)
  /// @throws llmlab::Error naming `TokenShardWriter` and the path when it cannot be created or
  ///         V is 0 or above \f$ 2^{32} - 1 \f$
  TokenShardWriter(std::filesystem::path path, std::uint64_t vocab_size);
  ~TokenShardWriter();
  TokenShardWriter(const TokenShardWriter&) = delete;
  TokenShardWriter& operator=(const TokenShardWriter&) = delete;
  /// Appends tokens. @throws llmlab::Error naming the token that is ≥ V, or a write error
  void append(std::span<const std::int32_t> tokens);
  /// Tokens appended so far.
  std::uint64_t count() const { return count_; }
  /// Patches the count, flushes, renames into place. @throws llmlab::Error on a write error
  void commit();

 private:
  std::filesystem::path path_, temp_;
  std::ofstream out_;
  std::uint64_t vocab_ = 0, count_ = 0;
  bool committed_ = false;
};

/// A shard's contents.
struct TokenShard {
  std::uint64_t vocab_size = 0;       ///< V from the header
  std::vector<std::int32_t> tokens;   ///< the n tokens
};

/// Reads a shard, checking the magic, the version, the size against the count and every token
/// against V.
/// @throws llmlab::Error naming `read_token_shard` and the path: missing, not a shard (magic),
///         another version, truncated or too long, or a token ≥ V
TokenShard read_token_shard(const std::filesystem::path& path);

}  // namespace llmlab
