#pragma once
/// \file
/// \brief Guard zones: the pattern written before and after a buffer, and where a write damaged it.
///
/// Shared by the emulator's cudaMalloc (every emulated device buffer, docs/emulator.md) and by
/// `llmlab verify` (every buffer it hands a kernel library, whatever its runtime): a zone of bytes
/// on each side of a buffer is filled with pattern_byte(i) and compared after the code under test
/// ran. The pattern is not one constant byte, so a kernel storing a repeated value cannot rebuild it
/// by accident. Header-only, no dependencies: the emulator library includes it privately.

#include <cstddef>
#include <optional>
#include <span>
#include <string>

namespace llmlab::guard {

/// The pattern's byte at offset `i` of a zone: \f$ \mathrm{0xA5} \oplus (31 i \bmod 256) \f$.
inline unsigned char pattern_byte(std::size_t i) {
  return static_cast<unsigned char>(0xA5 ^ (i * 31));
}

/// Fills `zone` with the pattern (byte i of the zone = pattern_byte(i)).
inline void fill(std::span<unsigned char> zone) {
  for (std::size_t i = 0; i < zone.size(); ++i) zone[i] = pattern_byte(i);
}

/// A damaged stretch of one zone, as byte offsets relative to the buffer's first byte: negative
/// before the start, at least the buffer's size past the end. `first` ≤ `last`, both damaged
/// (bytes between them may be intact).
struct Damage {
  std::ptrdiff_t first = 0;  ///< offset of the damaged byte lowest in memory
  std::ptrdiff_t last = 0;   ///< offset of the damaged byte highest in memory
};

/// The damaged stretch of the zone after a buffer of `bytes` bytes (`back` starts at offset
/// `bytes`), or nothing if the zone still holds the pattern.
inline std::optional<Damage> damage_after(std::span<const unsigned char> back, std::size_t bytes) {
  std::optional<Damage> d;
  for (std::size_t i = 0; i < back.size(); ++i) {
    if (back[i] == pattern_byte(i)) continue;
    const auto at = static_cast<std::ptrdiff_t>(bytes + i);
    if (!d) d = Damage{at, at};
    d->last = at;
  }
  return d;
}

/// The damaged stretch of the zone before a buffer (`front` ends just before offset 0), or
/// nothing if the zone still holds the pattern.
inline std::optional<Damage> damage_before(std::span<const unsigned char> front) {
  std::optional<Damage> d;
  const auto size = static_cast<std::ptrdiff_t>(front.size());
  for (std::size_t i = 0; i < front.size(); ++i) {
    if (front[i] == pattern_byte(i)) continue;
    const std::ptrdiff_t at = static_cast<std::ptrdiff_t>(i) - size;
    if (!d) d = Damage{at, at};
    d->last = at;
  }
  return d;
}

/// "4 bytes at offset 4096 of a 4096-byte buffer (1 past the end)" or "2 bytes at offset -8 of a
/// 64-byte buffer (7 before the start)": the damaged stretch, the buffer's size, and how far the
/// damaged byte nearest the buffer lies outside it.
inline std::string describe(const Damage& d, std::size_t bytes) {
  const auto size = static_cast<std::ptrdiff_t>(bytes);
  std::string s = std::to_string(d.last - d.first + 1) + (d.last == d.first ? " byte" : " bytes") +
                  " at offset " + std::to_string(d.first) + " of a " + std::to_string(bytes) +
                  "-byte buffer (";
  if (d.first >= size)
    s += std::to_string(d.first - size + 1) + " past the end)";
  else
    s += std::to_string(-d.last) + " before the start)";
  return s;
}

}  // namespace llmlab::guard
