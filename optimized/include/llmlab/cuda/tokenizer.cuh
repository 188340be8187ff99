#pragma once
/// \file
/// \ingroup group_tokenizer
/// \brief Byte-level BPE on the GPU: pre-tokenized pieces in, GPT-2-exact token ids out (versions
/// in src/tokenizer.cu).
///
/// The host pre-tokenizes (GPT-2's regex is branchy, sequential work: the CPU's job) and hands the
/// device every piece's bytes; the device runs BPE on all pieces at once. BPE by rank merges, in
/// one piece, the adjacent pair of tokens whose byte concatenation is the mergeable token of lowest
/// rank (the leftmost such pair on a tie), until no adjacent pair concatenates to a token. On the
/// device a pair is looked up by its two token ids, so the vocabulary becomes a table
/// \f$ (a, b) \mapsto \mathrm{rank}(\mathrm{bytes}(a) \Vert \mathrm{bytes}(b)) \f$ over every pair
/// whose concatenation is a token; the rank is also the merged token's id. That is the same rule
/// as the reference's, stated on byte strings, because a piece's tokens always tile its bytes.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// A token id; ids are ranks (as in tiktoken's files). 0xffffffff is reserved (no token).
using TokenId = std::uint32_t;

/// Number of numbered encode_pieces versions (1 … tokenizer_versions); version 0 picks the best.
inline constexpr int tokenizer_versions = 2;

/// Pieces of at most this many bytes are merged by one thread in registers (version 2); longer
/// ones by the whole block together.
inline constexpr std::int64_t tokenizer_short_piece_bytes = 64;

/// One entry of the pair table: the tokens `left` and `right`, adjacent, merge into `merged`
/// (the id, = rank, of their concatenation).
struct PairMerge {
  TokenId left;    ///< the left token's id
  TokenId right;   ///< the right token's id
  TokenId merged;  ///< the id of bytes(left) followed by bytes(right)
};

/// What the device needs to run BPE, in host memory: the initial token of every byte value and
/// every pair of tokens whose concatenation is a token.
struct BpePairs {
  /// byte_ids[b] = the id of the one-byte token b (GPT-2's are not 0–255 in byte order).
  std::array<TokenId, 256> byte_ids{};
  /// Every (left, right) → merged, each (left, right) once.
  std::vector<PairMerge> merges;

  /// The pairs of a vocabulary given as its mergeable tokens' bytes, id → bytes: for every token t
  /// of two or more bytes and every split t = u ‖ v where u and v are tokens, the entry
  /// (id(u), id(v)) → id(t). Where ids repeat the same bytes (training can re-create a token
  /// through another pair), the lowest id is those bytes' rank, as in the reference's
  /// `rank()`, and the higher ids are never produced.
  /// @param tokens tokens[id] = the bytes of token id (ids 0 … n−1, n < 2^32 − 1)
  /// @throws llmlab::Error (from "BpePairs::from_tokens") naming the id when a single byte has no
  ///         token or a token is empty.
  static BpePairs from_tokens(std::span<const std::string> tokens);
};

/// The device view of a DeviceBpeTable, passed to kernels by value (device pointers only).
struct DeviceBpeView {
  /// 16-byte open-addressing slots {left, right, merged, 0}; an empty slot has left = right =
  /// 0xffffffff. Capacity a power of two, at most half full.
  const std::uint32_t* slots = nullptr;
  std::uint32_t mask = 0;             ///< capacity − 1
  const TokenId* byte_ids = nullptr;  ///< (256) the one-byte tokens
};

/// The BPE pair table and byte table in device memory, built from a vocabulary on the host and
/// uploaded once. Owns its device memory (move-only).
///
/// The pair table is an open-addressing hash table with linear probing, keyed by the 64-bit
/// \f$ (\mathrm{left} \ll 32) \,|\, \mathrm{right} \f$ mixed by a 64-bit finaliser; at most half
/// full, so a lookup that misses (most do: most adjacent pairs are not tokens) reads ~2.5 slots.
/// GPT-2's vocabulary gives 108,299 pairs: a 2^18-slot, 4 MiB table.
class DeviceBpeTable {
 public:
  /// Builds the table of a vocabulary given as id → bytes (see BpePairs::from_tokens).
  /// @throws llmlab::Error as BpePairs::from_tokens, or naming the CUDA error when the upload
  /// fails.
  explicit DeviceBpeTable(std::span<const std::string> tokens);
  /// Uploads the given pairs (e.g. a deliberately broken table in a test).
  /// @throws llmlab::Error naming the pair when (left, right) appears twice or uses the reserved
  ///         id 0xffffffff, or naming the CUDA error when the upload fails.
  explicit DeviceBpeTable(const BpePairs& pairs);
  ~DeviceBpeTable();
  DeviceBpeTable(const DeviceBpeTable&) = delete;
  DeviceBpeTable& operator=(const DeviceBpeTable&) = delete;
  /// Takes over `other`'s device memory; `other` is left empty.
  DeviceBpeTable(DeviceBpeTable&& other) noexcept;
  /// Frees this table's memory and takes over `other`'s.
  DeviceBpeTable& operator=(DeviceBpeTable&& other) noexcept;

  /// The pointers kernels take.
  DeviceBpeView view() const { return {slots_, mask_, byte_ids_}; }
  /// Number of (left, right) → merged entries.
  std::size_t entries() const { return entries_; }
  /// Number of slots (a power of two, ≥ 2 × entries).
  std::size_t capacity() const { return static_cast<std::size_t>(mask_) + 1; }

 private:
  void release() noexcept;
  std::uint32_t* slots_ = nullptr;
  std::uint32_t mask_ = 0;
  TokenId* byte_ids_ = nullptr;
  std::size_t entries_ = 0;
};

/// BPE on every piece: piece i is the bytes from offsets[i] up to (not including) offsets[i+1];
/// its counts[i] tokens are written to the ids from offsets[i] on (a piece of L bytes has at most
/// L tokens, so each piece owns the id slots under its bytes; the slots past its tokens are left
/// undefined).
///
/// Versions (src/tokenizer.cu): 1 one thread per piece, merging in its id slots; 2 (default) one
/// thread per piece in registers for pieces of at most tokenizer_short_piece_bytes, the whole
/// block together on longer ones.
/// @param table the vocabulary (DeviceBpeTable::view())
/// @param bytes (offsets[n]) device pointer: the pieces' bytes, back to back
/// @param offsets (n + 1) device pointer, non-decreasing, offsets[0] = 0 (device data: not checked
///        by the launcher; a piece whose end is before its start is treated as empty); a piece
///        may be at most 2^31 − 1 bytes
/// @param n number of pieces   @param ids (offsets[n]) device pointer   @param counts (n) device
/// pointer   @param version 0 = the best (default), 1 … tokenizer_versions a numbered one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when n == 0)
/// @throws llmlab::Error naming the argument when n < 0, n ≥ 2^31 · 128, a pointer is null with
///         n > 0, the table is empty, or the version is out of range.
cudaError_t encode_pieces(const DeviceBpeView& table, const std::uint8_t* bytes,
                          const std::int64_t* offsets, std::int64_t n, TokenId* ids,
                          std::uint32_t* counts, int version = 0);

/// The ids of a batch of pieces, concatenated: piece i's are `ids[offsets[i] .. offsets[i+1])`.
struct BatchEncoding {
  std::vector<TokenId> ids;           ///< every piece's tokens, in piece order
  std::vector<std::int64_t> offsets;  ///< (n + 1) where each piece's tokens start; offsets[0] = 0
};

/// Host convenience: copies `pieces` to the device, runs encode_pieces, waits, copies the ids back
/// and packs them. Concatenating a text's pieces' ids gives the text's ids.
/// @param table the vocabulary   @param pieces e.g. llmlab::ref::pretokenize(text)
/// @param version as encode_pieces
/// @throws llmlab::Error naming the piece longer than 2^31 − 1 bytes, or the CUDA error of an
///         allocation, copy or launch that fails.
BatchEncoding encode_batch_on_device(const DeviceBpeTable& table,
                                     std::span<const std::string_view> pieces, int version = 0);

}  // namespace llmlab::cuda
