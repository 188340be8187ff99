#pragma once
/// \file
/// \brief Host values in a kernel's element type for the sweeps: E is float (fp32) or
/// std::uint16_t (bf16 bits), and the baselines a bf16 output is judged against.

#include <cstdint>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::app {

/// v (n) as the device element type E: the floats themselves, or their bf16 bits (n).
template <class E>
std::vector<E> device_values(const std::vector<float>& v) {
  if constexpr (sizeof(E) == 2)
    return testing::bf16_bits(v);
  else
    return v;
}

/// Device elements (n) of type E back as doubles (n), for the oracle.
template <class E>
std::vector<double> widened_device(const std::vector<E>& v) {
  if constexpr (sizeof(E) == 2)
    return oracle::widen_bf16(v);
  else
    return oracle::widen(v);
}

/// The baseline of an output written in E: the float reference's values, rounded once to bf16
/// when E is bf16 (what a correct bf16 kernel writes), as doubles.
template <class E, class T>
std::vector<double> baseline(const T& ref32) {
  std::vector<double> out;
  for (const float v : ref32) out.push_back(sizeof(E) == 2 ? round_to_bf16(v) : v);
  return out;
}

}  // namespace llmlab::app
