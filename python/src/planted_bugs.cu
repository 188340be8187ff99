/// \file
/// \brief Kernels with planted bugs, launched by notebook 00 through llmlab.emu (planted_bugs.cuh).
///
/// Each is a classic: the barrier in divergent code, the shuffle whose mask names lanes that
/// already returned, the deadlock of two wait sites, and the tree reduction with its barriers
/// forgotten. On a GPU the first three hang or give garbage; the emulator stops them with a report
/// naming the kernel, block, thread and these source lines. Kernels live in a named namespace, not
/// an anonymous one: the emulator names kernels through the dynamic symbol table.

#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "planted_bugs.cuh"

namespace llmlab::python::bugs {

using llmlab::cuda::kBlock;
using llmlab::cuda::kFullMask;

/// The tree of reduce_sum's v1, with its barriers optional.
__global__ void tree_reduce_sum_kernel(const float* __restrict__ x, float* __restrict__ out,
                                       std::int64_t cols, bool syncthreads) {
  __shared__ float partial[kBlock];
  const float* row = x + static_cast<std::int64_t>(blockIdx.x) * cols;
  const int t = static_cast<int>(threadIdx.x);
  float sum = 0.0f;
  for (std::int64_t c = t; c < cols; c += kBlock) sum += row[c];
  partial[t] = sum;
  if (syncthreads) __syncthreads();  // every thread takes the same branch: not divergent
  for (int s = kBlock / 2; s > 0; s /= 2) {
    if (t < s) partial[t] += partial[t + s];
    if (syncthreads) __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = partial[0];
}

cudaError_t tree_reduce_sum(const float* x, float* out, std::int64_t rows, std::int64_t cols,
                            bool syncthreads) {
  require(rows >= 0 && cols >= 0, "tree_reduce_sum", "x must be (R, C) with R, C >= 0");
  if (rows == 0) return cudaSuccess;
  return cuda::launch(cuda::launch_config(dim3(static_cast<unsigned>(rows)), dim3(kBlock)),
                      tree_reduce_sum_kernel, x, out, cols, syncthreads);
}

/// Threads 0–15 and the others wait at two different barriers: a GPU hangs or misbehaves.
__global__ void divergent_barrier(float* x) {
  const int t = static_cast<int>(threadIdx.x);
  if (t < 16) {
    __syncthreads();
    x[t] = 1.0f;
  } else {
    __syncthreads();
    x[t] = 2.0f;
  }
}

/// Lanes ≥ 20 return, then the others shuffle with a mask that still names them.
__global__ void shuffle_after_exit(float* x) {
  const int i = static_cast<int>(threadIdx.x);
  if (i % 32 >= 20) return;
  float v = x[i];
  v += __shfl_down_sync(kFullMask, v, 1);
  x[i] = v;
}

/// Lanes 0–15 of each warp wait in a full-warp shuffle that lanes 16–31 skip to wait at the
/// barrier.
__global__ void deadlock(float* x) {
  float v = x[threadIdx.x];
  if (threadIdx.x % 32 < 16) v = __shfl_sync(kFullMask, v, 0);
  __syncthreads();
  x[threadIdx.x] = v;
}

cudaError_t run_planted_bug(std::string_view name) {
  constexpr int n = 64;
  float* x = nullptr;
  if (const cudaError_t e = cudaMalloc(&x, n * sizeof(float)); e != cudaSuccess) return e;
  cudaMemset(x, 0, n * sizeof(float));
  const auto cfg = cuda::launch_config(dim3(1), dim3(n));
  cudaError_t err = cudaSuccess;
  if (name == "divergent_barrier") {
    err = cuda::launch(cfg, divergent_barrier, x);
  } else if (name == "shuffle_after_exit") {
    err = cuda::launch(cfg, shuffle_after_exit, x);
  } else if (name == "deadlock") {
    err = cuda::launch(cfg, deadlock, x);
  } else {
    cudaFree(x);
    throw Error("run_planted_bug", "no bug named '" + std::string(name) +
                                       "' (there are: " + std::string(planted_bug_names) + ")");
  }
  cudaFree(x);
  return err;
}

}  // namespace llmlab::python::bugs
