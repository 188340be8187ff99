// An ordinary CUDA program with a bug: the two halves of the block wait at different
// __syncthreads() (lines 11 and 14). On a GPU the result is undefined; the emulator refuses the
// launch, naming this file and both lines.
#include <cuda_runtime.h>

#include <cstdio>

__global__ void two_barriers(float* x) {
  if (threadIdx.x < 16) {
    x[threadIdx.x] = 1.0f;
    __syncthreads();
  } else {
    x[threadIdx.x] = 2.0f;
    __syncthreads();
  }
}

int main() {
  float* x = nullptr;
  cudaMalloc(&x, 32 * sizeof(float));
  two_barriers<<<1, 32>>>(x);
  cudaError_t e = cudaGetLastError();  // the launch's own error, then any later one
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  cudaFree(x);
  std::printf("two_barriers: %s\n", cudaGetErrorString(e));
  return e == cudaSuccess ? 0 : 1;
}
