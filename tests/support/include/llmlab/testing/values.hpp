#pragma once
/// \file
/// \brief Host values for tests: vectors ↔ xtensor, widening for the oracle, bf16 rounding and
/// bits, and the magnitude of row sums. Pure host code (no CUDA header).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"

namespace llmlab::testing {

/// v as an xtensor of T with the given shape (row-major; the sizes must multiply to v.size()).
template <class T, std::size_t N>
xt::xtensor<T, N> tensor(std::span<const float> v, const std::array<std::size_t, N>& shape) {
  xt::xtensor<T, N> t = xt::empty<T>(shape);
  std::copy(v.begin(), v.end(), t.begin());
  return t;
}

/// v (n) as a 1-D xtensor of T (n).
template <class T>
xt::xtensor<T, 1> tensor(std::span<const float> v) {
  return tensor<T>(v, std::array<std::size_t, 1>{v.size()});
}

/// x (R·C, row-major) as an xtensor of T (R, C).
template <class T>
xt::xtensor<T, 2> matrix(std::span<const float> x, std::int64_t R, std::int64_t C) {
  return tensor<T>(
      x, std::array<std::size_t, 2>{static_cast<std::size_t>(R), static_cast<std::size_t>(C)});
}

/// The elements of a tensor (or any range of numbers) widened to double, in order (for the oracle).
template <class E>
std::vector<double> widened(const E& t) {
  return std::vector<double>(t.begin(), t.end());
}

/// Each element of v (n) rounded to the nearest bfloat16 and kept as float (n).
inline std::vector<float> rounded_to_bf16(std::span<const float> v) {
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = round_to_bf16(v[i]);
  return out;
}

/// The bfloat16 bit patterns (n) of the floats v (n), each rounded to nearest (exact when v is
/// already bf16-exact).
inline std::vector<std::uint16_t> bf16_bits(std::span<const float> v) {
  std::vector<std::uint16_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = float_to_bf16_bits(v[i]);
  return out;
}

/// v (n) as the elements a device of element type E holds: the floats themselves for a 4-byte E,
/// their bf16 bit patterns (std::uint16_t) for a 2-byte E (__nv_bfloat16, or bf16 bits).
template <class E>
auto device_values(std::span<const float> v) {
  if constexpr (sizeof(E) == 2)
    return bf16_bits(v);
  else
    return std::vector<float>(v.begin(), v.end());
}

/// \f$ \max_r \sum_c |x_{r,c}| \f$ of x (R, C), row-major; 0 when R or C is 0. Any summation
/// order's rounding scales with this, not with a row sum that cancellation made small.
inline double max_row_abs_sum(std::span<const float> x, std::int64_t R, std::int64_t C) {
  double m = 0;
  for (std::int64_t r = 0; r < R; ++r) {
    double row = 0;
    for (std::int64_t c = 0; c < C; ++c) row += std::fabs(static_cast<double>(x[r * C + c]));
    m = std::max(m, row);
  }
  return m;
}

}  // namespace llmlab::testing
