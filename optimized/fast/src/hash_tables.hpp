#pragma once
/// \file
/// \brief Flat open-addressing hash tables for the fast tokenizer: one array, linear probing,
/// power-of-two capacity at most half full, no per-entry allocation.
///
/// - PairTable: (left id, right id) → the id of the token their bytes make (the "rank" BPE
///   minimises). One multiply-shift hash of the 64-bit key, one or two cache lines per lookup.
/// - BytesTable: byte string → id, the string itself kept elsewhere (an arena) and compared only
///   when the 64-bit hashes are equal.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace llmlab::fast::detail {

/// "No token": a pair that is not in the vocabulary.
inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;

/// 64-bit hash of a byte string: 8 bytes at a time through a 64×64→128 multiply folded back
/// (the mixing step of wyhash). Fast for the short strings pre-tokens are.
inline std::uint64_t hash_bytes(const char* s, std::size_t n) {
  constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;
  auto mix = [](std::uint64_t a, std::uint64_t b) {
    const unsigned __int128 m = static_cast<unsigned __int128>(a) * b;
    return static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
  };
  std::uint64_t h = k ^ (n * 0xA0761D6478BD642Full);
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, s, 8);
    h = mix(h ^ w, 0xE7037ED1A0B428DBull);
    s += 8;
    n -= 8;
  }
  if (n) {
    std::uint64_t w = 0;
    std::memcpy(&w, s, n);
    h = mix(h ^ w, 0x8EBC6AF09C88C6E3ull);
  }
  return mix(h, k);
}

/// Smallest power of two ≥ 2·n (and ≥ 16): the table stays at most half full.
inline std::size_t table_capacity(std::size_t n) {
  std::size_t c = 16;
  while (c < 2 * n) c <<= 1;
  return c;
}

/// (left id, right id) → merged id, open addressing with linear probing.
class PairTable {
 public:
  /// Sizes the table for n entries (call once, before insert).
  void reserve(std::size_t n) {
    const std::size_t cap = table_capacity(n);
    keys_.assign(cap, kEmpty);
    values_.assign(cap, kNone);
    mask_ = cap - 1;
    shift_ = 64 - __builtin_ctzll(cap);
  }
  /// Inserts (left, right) → id unless the pair is already there (the first insert wins).
  void insert(std::uint32_t left, std::uint32_t right, std::uint32_t id) {
    const std::uint64_t key = pack(left, right);
    for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return;
      if (keys_[i] == kEmpty) {
        keys_[i] = key;
        values_[i] = id;
        return;
      }
    }
  }
  /// The merged id of (left, right), or kNone.
  std::uint32_t find(std::uint32_t left, std::uint32_t right) const {
    const std::uint64_t key = pack(left, right);
    for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return values_[i];
      if (keys_[i] == kEmpty) return kNone;
    }
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static std::uint64_t pack(std::uint32_t l, std::uint32_t r) {
    return (std::uint64_t{l} << 32) | r;
  }
  std::size_t slot(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
  }
  std::vector<std::uint64_t> keys_{kEmpty};
  std::vector<std::uint32_t> values_{kNone};
  std::size_t mask_ = 0;
  int shift_ = 63;
};

/// Byte string → (id, flag); the strings live in a caller-owned arena addressed by id.
class BytesTable {
 public:
  /// An entry: the string's hash, its id, its length, and one flag bit of the caller's.
  struct Entry {
    std::uint64_t hash;
    std::uint32_t id;
    std::uint32_t len_flag;  // length << 1 | flag; 0 = empty slot
  };
  /// Sizes the table for n entries and points it at the arena: string `id` is
  /// arena[offsets[id] .. offsets[id + 1]).
  void reset(std::size_t n, const char* arena, const std::uint32_t* offsets) {
    const std::size_t cap = table_capacity(n);
    entries_.assign(cap, Entry{0, 0, 0});
    mask_ = cap - 1;
    arena_ = arena;
    offsets_ = offsets;
  }
  /// Inserts string `id` with `flag`; returns false (and inserts nothing) when equal bytes are
  /// already present. Strings must be non-empty.
  bool insert(std::uint32_t id, bool flag) {
    const char* s = arena_ + offsets_[id];
    const std::size_t n = offsets_[id + 1] - offsets_[id];
    const std::uint64_t h = hash_bytes(s, n);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Entry& e = entries_[i];
      if (e.len_flag == 0) {
        e = Entry{h, id, static_cast<std::uint32_t>(n << 1 | (flag ? 1u : 0u))};
        return true;
      }
      if (e.hash == h && (e.len_flag >> 1) == n && std::memcmp(arena_ + offsets_[e.id], s, n) == 0) {
        return false;
      }
    }
  }
  /// Sets the flag of the entry holding string `id` (which must be present).
  void set_flag(std::uint32_t id) {
    if (Entry* e = lookup(arena_ + offsets_[id], offsets_[id + 1] - offsets_[id])) e->len_flag |= 1u;
  }
  /// The entry for bytes [s, s+n), or nullptr.
  const Entry* find(const char* s, std::size_t n) const {
    return const_cast<BytesTable*>(this)->lookup(s, n, hash_bytes(s, n));
  }
  /// find() with the hash already computed (h = hash_bytes(s, n)).
  const Entry* find(const char* s, std::size_t n, std::uint64_t h) const {
    return const_cast<BytesTable*>(this)->lookup(s, n, h);
  }

 private:
  Entry* lookup(const char* s, std::size_t n) { return lookup(s, n, hash_bytes(s, n)); }
  Entry* lookup(const char* s, std::size_t n, std::uint64_t h) {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Entry& e = entries_[i];
      if (e.len_flag == 0) return nullptr;
      if (e.hash == h && (e.len_flag >> 1) == n && std::memcmp(arena_ + offsets_[e.id], s, n) == 0) {
        return &e;
      }
    }
  }
  std::vector<Entry> entries_{Entry{0, 0, 0}};
  std::size_t mask_ = 0;
  const char* arena_ = nullptr;
  const std::uint32_t* offsets_ = nullptr;
};

}  // namespace llmlab::fast::detail
