#pragma once
/// \file
/// \ingroup group_gpt
/// \brief Private to optimized/src/gpt*.cu: runtime-call checks, the activation buffer's carving,
/// and host ↔ device copies that widen or round bf16.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda::detail {

/// Throws llmlab::Error(where, what + the runtime's error) unless err is cudaSuccess.
inline void gpt_check(cudaError_t err, const char* where, const std::string& what) {
  if (err != cudaSuccess)
    throw Error(where, what + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

/// Cuts consecutive regions, each 256-byte aligned, from a base pointer (null: only counts).
class Carver {
 public:
  /// @param base the buffer's first byte, or null to measure
  explicit Carver(unsigned char* base) : base_(base) {}
  /// The next region of n elements of T (n ≥ 0).
  template <class T>
  T* take(std::int64_t n) {
    at_ = (at_ + 255) / 256 * 256;
    T* p = reinterpret_cast<T*>(base_ + at_);
    at_ += static_cast<std::size_t>(n) * sizeof(T);
    return p;
  }
  /// The bytes cut so far.
  std::size_t used() const { return at_; }

 private:
  unsigned char* base_;
  std::size_t at_ = 0;
};

/// Copies fp32 host values to a device array of E (bf16: rounded to nearest-even on the host).
template <class E>
void upload_as(E* dst, std::span<const float> src, const char* where) {
  if constexpr (std::is_same_v<E, float>) {
    gpt_check(cudaMemcpy(dst, src.data(), src.size() * sizeof(float), cudaMemcpyHostToDevice),
              where, "copying to the device");
  } else {
    std::vector<std::uint16_t> bits(src.size());
    for (std::size_t i = 0; i < src.size(); ++i) bits[i] = float_to_bf16_bits(src[i]);
    gpt_check(cudaMemcpy(dst, bits.data(), bits.size() * 2, cudaMemcpyHostToDevice), where,
              "copying to the device");
  }
}

/// Copies n elements of E from the device, widened to fp32 (exact).
template <class E>
std::vector<float> download_as_float(const E* src, std::int64_t n, const char* where) {
  std::vector<float> out(static_cast<std::size_t>(n));
  if constexpr (std::is_same_v<E, float>) {
    gpt_check(cudaMemcpy(out.data(), src, out.size() * sizeof(float), cudaMemcpyDeviceToHost),
              where, "copying to the host");
  } else {
    std::vector<std::uint16_t> bits(out.size());
    gpt_check(cudaMemcpy(bits.data(), src, bits.size() * 2, cudaMemcpyDeviceToHost), where,
              "copying to the host");
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = bf16_bits_to_float(bits[i]);
  }
  return out;
}

}  // namespace llmlab::cuda::detail
