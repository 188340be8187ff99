// A header of an ordinary CUDA project: a kernel with `extern __shared__` and its launcher with
// `<<<>>>`, included from header_launch.cu. llmlab-cudapp rewrites it too.
#pragma once
#include <cuda_runtime.h>

#include "scale_factor.h"

__global__ void block_scale(const float* x, float* y, int n) {
  extern __shared__ float staged[];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  staged[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  if (i < n) y[i] = staged[blockDim.x - 1 - threadIdx.x] * kScaleFactor;  // reversed within the block
}

inline cudaError_t launch_block_scale(const float* x, float* y, int n) {
  const int threads = 64;
  block_scale<<<(n + threads - 1) / threads, threads, threads * sizeof(float)>>>(x, y, n);
  return cudaGetLastError();
}
