/// \file
/// \brief My kernels: the four C entry points of <llmlab/cuda/abi/vector_add.h> and <llmlab/cuda/abi/reduce_sum.h>, so `llmlab verify` can load
/// them.
///
/// Deliberately plain kernels, and none of the ones chapter 00's lab asks for (so this example gives
/// away no step): vector_add with each thread adding a run of kRun neighbouring elements, reduce_sum
/// with one thread per row adding it serially — correct and simple, slow on a GPU.
/// Ordinary CUDA (`<<<>>>`, `<cuda_runtime.h>`), built twice by llmlab_add_cuda_library: g++ against
/// the emulator (after llmlab-cudapp rewrites the launches), and nvcc for real GPUs.

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <llmlab/cuda/abi/reduce_sum.h>
#include <llmlab/cuda/abi/vector_add.h>

#include <cstdint>

namespace {

constexpr int kBlock = 256;  // threads per block
constexpr int kRun = 4;      // vector_add: neighbouring elements per thread

/// Blocks of `per_block` items needed to cover `n` items.
unsigned blocks_for(std::int64_t n, std::int64_t per_block) {
  return static_cast<unsigned>((n + per_block - 1) / per_block);
}

__device__ inline float to_float(float x) { return x; }
__device__ inline float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ inline void store(float* p, float v) { *p = v; }
__device__ inline void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16(v); }  // round once

/// c_i = a_i + b_i; a, b, c are (n); thread k adds elements kRun·k … kRun·k + kRun − 1.
template <class T>
__global__ void my_vector_add(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c,
                              std::int64_t n) {
  const std::int64_t first = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * kRun;
  for (std::int64_t i = first; i < first + kRun && i < n; ++i)
    store(&c[i], to_float(a[i]) + to_float(b[i]));
}

/// out_r = sum_c x[r, c]; x is (R, C), out is (R); thread r adds row r from left to right in float.
template <class T>
__global__ void my_reduce_sum(const T* __restrict__ x, float* __restrict__ out, std::int64_t rows,
                              std::int64_t cols) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float sum = 0.0f;
  for (std::int64_t c = 0; c < cols; ++c) sum += to_float(x[r * cols + c]);  // fp32 accumulation
  out[r] = sum;
}

template <class T>
int vector_add(const T* a, const T* b, T* c, std::int64_t n) {
  if (n < 0 || (n > 0 && (a == nullptr || b == nullptr || c == nullptr)))
    return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  my_vector_add<<<blocks_for(n, kBlock * kRun), kBlock>>>(a, b, c, n);  // T deduced from a, b, c
  return cudaGetLastError();
}

template <class T>
int reduce_sum(const T* x, float* out, std::int64_t rows, std::int64_t cols) {
  if (rows < 0 || cols < 0 || rows > 0x7fffffff) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  my_reduce_sum<T><<<blocks_for(rows, kBlock), kBlock>>>(x, out, rows, cols);
  return cudaGetLastError();
}

const __nv_bfloat16* bf16(const std::uint16_t* p) {
  return reinterpret_cast<const __nv_bfloat16*>(p);
}

}  // namespace

extern "C" {

int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n) {
  return vector_add(a, b, c, n);
}

int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t n) {
  return vector_add(bf16(a), bf16(b), reinterpret_cast<__nv_bfloat16*>(c), n);
}

int llmlab_reduce_sum_f32(const float* x, float* out, int64_t rows, int64_t cols) {
  return reduce_sum(x, out, rows, cols);
}

int llmlab_reduce_sum_bf16(const uint16_t* x, float* out, int64_t rows, int64_t cols) {
  return reduce_sum(bf16(x), out, rows, cols);
}

}  // extern "C"
