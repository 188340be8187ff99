/// \file
/// \brief llmlab's own kernels behind the C ABI of <llmlab/cuda/abi.h> (libllmlab_plugin_*.so).
///
/// Each symbol forwards to the default (best) version of its launcher and turns any exception into
/// cudaErrorInvalidValue: no exception may cross a C boundary.

#include <cstdint>
#include <exception>

#include "llmlab/cuda/abi.h"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/reduce_sum.cuh"
#include "llmlab/cuda/vector_add.cuh"

namespace {

/// Runs a launcher; returns its cudaError_t as int, or cudaErrorInvalidValue if it throws.
template <class F>
int guarded(F&& f) noexcept {
  try {
    return static_cast<int>(f());
  } catch (...) {
    return static_cast<int>(cudaErrorInvalidValue);
  }
}

const __nv_bfloat16* as_bf16(const std::uint16_t* p) {
  return reinterpret_cast<const __nv_bfloat16*>(p);
}
__nv_bfloat16* as_bf16(std::uint16_t* p) { return reinterpret_cast<__nv_bfloat16*>(p); }

static_assert(sizeof(__nv_bfloat16) == sizeof(std::uint16_t), "bf16 travels as its 16 raw bits");

}  // namespace

extern "C" {

int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n) {
  return guarded([&] { return llmlab::cuda::vector_add(a, b, c, n); });
}

int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t n) {
  return guarded([&] { return llmlab::cuda::vector_add(as_bf16(a), as_bf16(b), as_bf16(c), n); });
}

int llmlab_reduce_sum_f32(const float* x, float* out, int64_t rows, int64_t cols) {
  return guarded([&] { return llmlab::cuda::reduce_sum(x, out, rows, cols); });
}

int llmlab_reduce_sum_bf16(const uint16_t* x, float* out, int64_t rows, int64_t cols) {
  return guarded([&] { return llmlab::cuda::reduce_sum(as_bf16(x), out, rows, cols); });
}

}  // extern "C"
