#pragma once
/// \file
/// \brief Element types and bfloat16 rounding on the host, without any CUDA header.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace llmlab {

/// The element types the oracle and the kernels speak about.
enum class DType { f32, f64, bf16 };

/// "f32", "f64" or "bf16".
std::string_view dtype_name(DType t);

/// Rounds a float to the nearest bfloat16 (ties to even), returned as its 16 bits.
/// bfloat16 keeps float's 8 exponent bits and the top 7 mantissa bits:
/// \f$ \mathrm{bf16}(x) = \mathrm{RNE}(x \cdot 2^{-16}) \f$ on the bit pattern. NaN stays NaN.
inline std::uint16_t float_to_bf16_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  const std::uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb;
  return static_cast<std::uint16_t>(u >> 16);
}

/// The float a bfloat16 bit pattern stands for (exact).
inline float bf16_bits_to_float(std::uint16_t b) {
  const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// x rounded to the nearest bfloat16 and widened back to float.
inline float round_to_bf16(float x) { return bf16_bits_to_float(float_to_bf16_bits(x)); }

/// Unit roundoff-sized spacing of a dtype at 1.0: 2^-23 (f32), 2^-52 (f64), 2^-7 (bf16).
double dtype_epsilon(DType t);

}  // namespace llmlab
