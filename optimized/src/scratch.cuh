#pragma once
/// \file
/// \ingroup group_attention
/// \brief Private to optimized/src: a launcher's device workspace, allocated on construction and
/// freed when the launcher returns (so the emulator's memory counters see exactly what a launch
/// sequence needs).

#include <cstddef>
#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda::detail {

/// n elements of T in device memory (uninitialised), freed on scope exit; error() says whether
/// cudaMalloc succeeded.
template <class T>
class Scratch {
 public:
  /// cudaMalloc of n elements (n ≥ 0).
  explicit Scratch(std::int64_t n) {
    err_ = cudaMalloc(reinterpret_cast<void**>(&p_), static_cast<std::size_t>(n) * sizeof(T));
  }
  ~Scratch() { cudaFree(p_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  /// The elements.
  T* get() const { return p_; }
  /// The elements, read-only.
  const T* cget() const { return p_; }
  /// cudaMalloc's result.
  cudaError_t error() const { return err_; }

 private:
  T* p_ = nullptr;
  cudaError_t err_ = cudaSuccess;
};

}  // namespace llmlab::cuda::detail
