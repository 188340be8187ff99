#pragma once
/// \file
/// \brief What a fast::Tokenizer looks things up in, and the BPE merge loops over it.

#include <algorithm>
#include <array>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hash_tables.hpp"
#include "llmlab/fast/tokenizer.hpp"

namespace llmlab::fast {

/// Everything encode() looks up, built once by the constructor and read-only after: the pair and
/// bytes tables, the token arena for decode, and the special tokens in the shapes the search wants.
struct Tokenizer::Tables {
  std::array<TokenId, 256> byte_id{};  ///< single byte → its token id
  detail::PairTable pairs;             ///< (left, right) → id of their concatenation
  std::string arena;                   ///< every mergeable token's bytes, back to back
  std::vector<std::uint32_t> offsets;  ///< token id → arena offset; offsets[n] = arena size
  /// bytes → id (the lowest id with those bytes); flag: BPE of the bytes is that one token, so a
  /// pre-token equal to them is encoded by this one lookup.
  detail::BytesTable tokens;
  std::unordered_map<TokenId, std::string> special_text;        ///< special id → text
  std::vector<std::pair<std::string, TokenId>> specials_longest;  ///< specials, longest first
  std::array<bool, 256> special_first{};  ///< bytes that start some special token
  std::size_t max_special = 0;            ///< length of the longest special token
  std::uint64_t serial = 0;  ///< unique per Tables ever made: tells piece caches apart
};

namespace detail {

/// Pieces up to this many bytes merge by the array scan; longer ones by rank buckets.
inline constexpr std::size_t kSmallPiece = 96;

/// BPE of [s, s+n), n ≥ 2, appended to out, without the whole-piece lookup: tiktoken's scan
/// (find the lowest-ranked adjacent pair, leftmost among equals, merge, update the two pairs
/// around it) for short pieces — O(n²) worst, but n ≤ kSmallPiece and all in L1 — and rank
/// buckets swept over a linked list for long ones — O(n log n) (see merge_large).
void merge_piece(const Tokenizer::Tables& t, const char* s, std::size_t n, std::vector<TokenId>& out);

/// A per-thread, direct-mapped cache of recent pre-tokens that are not one token (identifiers in
/// code, rare words): their ids, so a repeated one skips merge_piece. One 64-byte line per entry;
/// it belongs to one tokenizer at a time (`owner`) and is cleared when another one uses it.
struct PieceCache {
  static constexpr std::size_t kEntries = 2048;   // 128 KiB: stays in L2
  static constexpr std::size_t kMaxBytes = 22;    // pieces up to this long …
  static constexpr std::size_t kMaxIds = 8;       // … that encode to at most this many ids
  struct Entry {
    std::uint64_t hash;
    std::uint8_t len;  // 0: empty
    std::uint8_t nids;
    char bytes[kMaxBytes];
    TokenId ids[kMaxIds];
  };
  static_assert(sizeof(Entry) == 64);
  const void* owner = nullptr;
  std::uint64_t owner_serial = 0;
  std::vector<Entry> entries;
};

/// The calling thread's cache, emptied if it last served another tokenizer.
inline PieceCache& piece_cache(const Tokenizer::Tables& t) {
  thread_local PieceCache cache;
  if (cache.owner != &t || cache.owner_serial != t.serial) {
    cache.entries.assign(PieceCache::kEntries, PieceCache::Entry{});
    cache.owner = &t;
    cache.owner_serial = t.serial;
  }
  return cache;
}

/// BPE of one pre-token appended to out: one byte → its id; a pre-token that is a self-encoding
/// token → that id (one hash lookup); one in the thread's piece cache → its ids; otherwise
/// merge_piece (and into the cache when it fits).
inline void encode_piece_into(const Tokenizer::Tables& t, PieceCache& cache, const char* s,
                              std::size_t n, std::vector<TokenId>& out) {
  if (n == 1) {
    out.push_back(t.byte_id[static_cast<unsigned char>(s[0])]);
    return;
  }
  const std::uint64_t h = hash_bytes(s, n);
  if (const BytesTable::Entry* e = t.tokens.find(s, n, h); e && (e->len_flag & 1u)) {
    out.push_back(e->id);
    return;
  }
  if (n > PieceCache::kMaxBytes) {
    merge_piece(t, s, n, out);
    return;
  }
  PieceCache::Entry& c = cache.entries[(h >> 20) & (PieceCache::kEntries - 1)];
  if (c.hash == h && c.len == n && std::memcmp(c.bytes, s, n) == 0) {
    out.insert(out.end(), c.ids, c.ids + c.nids);
    return;
  }
  const std::size_t before = out.size();
  merge_piece(t, s, n, out);
  if (const std::size_t nids = out.size() - before; nids <= PieceCache::kMaxIds) {
    c.hash = h;
    c.len = static_cast<std::uint8_t>(n);
    c.nids = static_cast<std::uint8_t>(nids);
    std::memcpy(c.bytes, s, n);
    std::copy(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(), c.ids);
  }
}

}  // namespace detail
}  // namespace llmlab::fast
