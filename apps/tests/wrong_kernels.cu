/// \file
/// \brief A deliberately wrong kernel library: proof that `llmlab verify` can fail (docs/design.md §5).
///
/// It exports the four C entry points of llmlab/cuda/abi/vector_add.h and abi/reduce_sum.h. vector_add is right; reduce_sum
/// forgets the last column of every row — the classic off-by-one of a loop bound — so
/// `llmlab verify reduce_sum --impl libwrong_kernels_emu.so` must print FAIL and exit non-zero,
/// and `llmlab verify vector_add --impl …` must pass.

#include <cstdint>

#include "llmlab/cuda/abi/reduce_sum.h"
#include "llmlab/cuda/abi/vector_add.h"
#include "llmlab/cuda/kernel.cuh"

namespace {

__device__ inline float to_float(float x) { return x; }
__device__ inline float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ inline void store(float* p, float v) { *p = v; }
__device__ inline void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16(v); }

/// Right: c_i = a_i + b_i, formed in float and rounded once.
template <class T>
__global__ void add_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c,
                           std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) store(&c[i], to_float(a[i]) + to_float(b[i]));
}

/// Wrong: one thread per row sums columns 0 … C − 2 and forgets column C − 1.
template <class T>
__global__ void wrong_sum_kernel(const T* __restrict__ x, float* __restrict__ out,
                                 std::int64_t rows, std::int64_t cols) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float sum = 0.0f;
  for (std::int64_t c = 0; c + 1 < cols; ++c) sum += to_float(x[r * cols + c]);  // BUG: c < cols
  out[r] = sum;
}

constexpr unsigned kBlock = 128;

template <class T>
int add(const T* a, const T* b, T* c, std::int64_t n) {
  if (n <= 0) return 0;
  const auto cfg =
      llmlab::cuda::launch_config(dim3(llmlab::cuda::ceil_div(n, kBlock)), dim3(kBlock));
  return static_cast<int>(llmlab::cuda::launch(cfg, add_kernel<T>, a, b, c, n));
}

template <class T>
int sum(const T* x, float* out, std::int64_t rows, std::int64_t cols) {
  if (rows <= 0) return 0;
  const auto cfg =
      llmlab::cuda::launch_config(dim3(llmlab::cuda::ceil_div(rows, kBlock)), dim3(kBlock));
  return static_cast<int>(llmlab::cuda::launch(cfg, wrong_sum_kernel<T>, x, out, rows, cols));
}

const __nv_bfloat16* bf16(const std::uint16_t* p) {
  return reinterpret_cast<const __nv_bfloat16*>(p);
}

}  // namespace

extern "C" {

int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n) {
  return add(a, b, c, n);
}

int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t n) {
  return add(bf16(a), bf16(b), reinterpret_cast<__nv_bfloat16*>(c), n);
}

int llmlab_reduce_sum_f32(const float* x, float* out, int64_t rows, int64_t cols) {
  return sum(x, out, rows, cols);
}

int llmlab_reduce_sum_bf16(const uint16_t* x, float* out, int64_t rows, int64_t cols) {
  return sum(bf16(x), out, rows, cols);
}

}  // extern "C"
