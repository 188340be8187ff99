#pragma once
/// \file
/// \brief Small conversions the sweeps share: host vectors ↔ xtensor, bf16 rounding of inputs.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"

namespace llmlab::app {

/// v as an xtensor of T with the given shape (row-major; the sizes must multiply to v.size()).
template <class T, std::size_t N>
xt::xtensor<T, N> to_tensor(std::span<const float> v, const std::array<std::size_t, N>& shape) {
  xt::xtensor<T, N> t = xt::empty<T>(shape);
  std::copy(v.begin(), v.end(), t.begin());
  return t;
}

/// The elements of a tensor widened to double (for the oracle).
template <class E>
std::vector<double> to_doubles(const E& t) {
  return std::vector<double>(t.begin(), t.end());
}

/// Each element rounded to the nearest bfloat16 (and kept as float).
inline std::vector<float> rounded_to_bf16(std::span<const float> v) {
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = round_to_bf16(v[i]);
  return out;
}

/// The bfloat16 bit patterns of (already bf16-exact) floats.
inline std::vector<std::uint16_t> bf16_bits(std::span<const float> v) {
  std::vector<std::uint16_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = float_to_bf16_bits(v[i]);
  return out;
}

}  // namespace llmlab::app
