// Inline PTX cannot run on the CPU: llmlab-nvcc refuses this file, naming the construct and line 9
// (the same code behind `#if __CUDA_ARCH__` would be skipped and accepted).
#include <cuda_runtime.h>

__global__ void lane_id(unsigned* out) {
#if defined(__CUDA_ARCH__)
  unsigned skipped; asm("mov.u32 %0, %%laneid;" : "=r"(skipped));  // not compiled by the host pass
#endif
  unsigned lane; asm volatile("mov.u32 %0, %%laneid;" : "=r"(lane));
  out[threadIdx.x] = lane;
}

int main() {
  unsigned* out = nullptr;
  cudaMalloc(&out, 32 * sizeof(unsigned));
  lane_id<<<1, 32>>>(out);
  return cudaDeviceSynchronize() == cudaSuccess ? 0 : 1;
}
