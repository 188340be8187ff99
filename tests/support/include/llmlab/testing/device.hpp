#pragma once
/// \file
/// \brief Device memory for every checker (tests, chapter checks, benchmarks, the Python bindings):
/// `DeviceBuffer<T>` (cudaMalloc'd, zeroed, freed on scope exit), `check` for runtime calls, and
/// the alignment a wide-load test relies on.
///
/// The same header builds under g++ against the emulator and under nvcc against a GPU: it takes the
/// runtime's names from `llmlab/cuda/kernel.cuh`, and the test's kernel library (*_emu or *_gpu)
/// brings the runtime itself.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/oracle.hpp"

namespace llmlab::testing {

/// Throws std::runtime_error with `what` and the CUDA error's name when a runtime call fails.
inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

/// n elements of T in device memory, zeroed, freed on scope exit. `offset` extra leading elements
/// let a test hand the kernel a pointer that is not 16-byte aligned (offset 1: 4-byte aligned for
/// float, 2-byte for bf16).
///
/// Host data moves as vectors of any element type the size of T: T itself, or the bf16 bits
/// (std::uint16_t) of a DeviceBuffer<__nv_bfloat16>.
template <class T>
class DeviceBuffer {
 public:
  /// n zeroed elements (n ≥ 0) after `offset` leading ones.
  explicit DeviceBuffer(std::int64_t n, std::int64_t offset = 0) : n_(n), offset_(offset) {
    const auto bytes = static_cast<std::size_t>(n + offset) * sizeof(T);
    if (n + offset > 0) check(cudaMalloc(&base_, bytes), "cudaMalloc");
    if (base_ != nullptr) check(cudaMemset(base_, 0, bytes), "cudaMemset");
  }
  /// A copy of `host`: host.size() elements after `offset` leading ones.
  template <class H>
  explicit DeviceBuffer(const std::vector<H>& host, std::int64_t offset = 0)
      : DeviceBuffer(static_cast<std::int64_t>(host.size()), offset) {
    upload(host);
  }
  /// n copies of `value`.
  static DeviceBuffer filled(std::int64_t n, const T& value) {
    return DeviceBuffer(std::vector<T>(static_cast<std::size_t>(n), value));
  }
  ~DeviceBuffer() { cudaFree(base_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  /// n, the number of elements the kernel sees.
  std::int64_t size() const { return n_; }
  /// The n elements the kernel sees (null when n == 0).
  T* get() const { return n_ > 0 ? base_ + offset_ : nullptr; }
  /// get() as a pointer to const, for kernels that take their inputs that way.
  const T* cget() const { return get(); }

  /// Copies n host values in; host (n) of an element type the size of T.
  template <class H>
  void upload(const std::vector<H>& host) {
    static_assert(sizeof(H) == sizeof(T));
    if (static_cast<std::int64_t>(host.size()) != n_)
      throw std::invalid_argument("DeviceBuffer::upload: " + std::to_string(host.size()) +
                                  " host values for " + std::to_string(n_) + " elements");
    if (n_ > 0)
      check(cudaMemcpy(get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
            "cudaMemcpy");
  }
  /// @returns the n elements (n) as H, an element type the size of T.
  template <class H = T>
  std::vector<H> download() const {
    static_assert(sizeof(H) == sizeof(T));
    std::vector<H> host(static_cast<std::size_t>(n_));
    if (n_ > 0)
      check(cudaMemcpy(host.data(), get(), host.size() * sizeof(T), cudaMemcpyDeviceToHost),
            "cudaMemcpy");
    return host;
  }
  /// @returns the n elements widened to double (n), for the oracle: fp32 as they are, a 2-byte T
  /// (bf16) as the values its bit patterns stand for.
  std::vector<double> widened() const {
    if constexpr (sizeof(T) == 2)
      return oracle::widen_bf16(download<std::uint16_t>());
    else
      return oracle::widen(download<float>());
  }
  /// Sets every byte of the n elements to 0xff: NaN in float and in bf16, so an element the kernel
  /// never writes cannot pass for a result.
  void fill_nan() {
    if (n_ > 0)
      check(cudaMemset(get(), 0xff, static_cast<std::size_t>(n_) * sizeof(T)), "cudaMemset");
  }

 private:
  std::int64_t n_;
  std::int64_t offset_;
  T* base_ = nullptr;
};

/// Whether `p` (from cudaMalloc, or null) is 16-byte aligned. CUDA aligns to 256 bytes; were an
/// allocation not aligned, offset 0 would quietly test a kernel's scalar fallback instead of its
/// float4 path, so tests EXPECT this of their buffers.
inline bool is_wide_aligned(const void* p) {
  return p == nullptr || reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

}  // namespace llmlab::testing
