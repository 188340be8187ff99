/// \file
/// \brief My kernels: the four C entry points of <llmlab/cuda/abi/vector_add.h> and <llmlab/cuda/abi/reduce_sum.h>, so `llmlab verify` can load
/// them.
///
/// vector_add: one thread per element. reduce_sum: one block of 256 threads per row; each thread
/// sums a strided slice of the row in float, then a tree in shared memory adds the 256 partials.
/// Built twice by llmlab_add_cuda_library: g++ against the emulator, and nvcc for real GPUs.

#include <llmlab/cuda/abi/reduce_sum.h>
#include <llmlab/cuda/abi/vector_add.h>

#include <cstdint>
#include <llmlab/cuda/kernel.cuh>

namespace {

constexpr int kBlock = 256;

__device__ inline float to_float(float x) { return x; }
__device__ inline float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ inline void store(float* p, float v) { *p = v; }
__device__ inline void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16(v); }  // round once

/// c_i = a_i + b_i; a, b, c are (n).
template <class T>
__global__ void my_vector_add(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c,
                              std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) store(&c[i], to_float(a[i]) + to_float(b[i]));
}

/// out_r = sum_c x[r, c]; x is (R, C), out is (R); one block of kBlock threads per row.
template <class T>
__global__ void my_reduce_sum(const T* __restrict__ x, float* __restrict__ out, std::int64_t cols) {
  __shared__ float partial[kBlock];
  const T* row = x + static_cast<std::int64_t>(blockIdx.x) * cols;
  const int t = static_cast<int>(threadIdx.x);
  float sum = 0.0f;
  for (std::int64_t c = t; c < cols; c += kBlock) sum += to_float(row[c]);  // fp32 accumulation
  partial[t] = sum;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s /= 2) {
    if (t < s) partial[t] += partial[t + s];
    __syncthreads();  // outside the if: every thread reaches every barrier
  }
  if (t == 0) out[blockIdx.x] = partial[0];
}

template <class T>
int vector_add(const T* a, const T* b, T* c, std::int64_t n) {
  if (n < 0 || (n > 0 && (a == nullptr || b == nullptr || c == nullptr)))
    return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  const auto cfg =
      llmlab::cuda::launch_config(dim3(llmlab::cuda::ceil_div(n, kBlock)), dim3(kBlock));
  return llmlab::cuda::launch(cfg, my_vector_add<T>, a, b, c, n);
}

template <class T>
int reduce_sum(const T* x, float* out, std::int64_t rows, std::int64_t cols) {
  if (rows < 0 || cols < 0 || rows > 0x7fffffff) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  const auto cfg = llmlab::cuda::launch_config(dim3(static_cast<unsigned>(rows)), dim3(kBlock));
  return llmlab::cuda::launch(cfg, my_reduce_sum<T>, x, out, cols);
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
