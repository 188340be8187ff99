#pragma once
/// \file
/// \brief Shared by `optimized/src/abi/<component>.cu`, llmlab's own kernels behind the C ABI
/// (`<llmlab/cuda/abi/<component>.h>`, built into libllmlab_plugin_*.so): each symbol forwards to
/// the default (best) version of its launcher and turns any exception into cudaErrorInvalidValue —
/// no exception may cross a C boundary.

#include <cstdint>
#include <cstdio>
#include <exception>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda::abi {

/// Runs a launcher; returns its cudaError_t as int, or cudaErrorInvalidValue if it throws — after
/// printing the exception's message to stderr, the only place a C caller can still read it (for a
/// lab's plugin: "not implemented — write … (step N of the handout)").
template <class F>
inline int guarded(F&& f) noexcept {
  try {
    return static_cast<int>(f());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "a launcher threw a non-standard exception\n");
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

/// The bf16 bits the C ABI passes (p) as the kernels' __nv_bfloat16 (the same 16 bits).
inline const __nv_bfloat16* as_bf16(const std::uint16_t* p) {
  return reinterpret_cast<const __nv_bfloat16*>(p);
}
/// The writable overload of as_bf16.
inline __nv_bfloat16* as_bf16(std::uint16_t* p) { return reinterpret_cast<__nv_bfloat16*>(p); }

static_assert(sizeof(__nv_bfloat16) == sizeof(std::uint16_t), "bf16 travels as its 16 raw bits");

}  // namespace llmlab::cuda::abi
