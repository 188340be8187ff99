// An ordinary CUDA program whose kernel and launch live in a header it includes ("include/...").
// Exits 0 iff the result matches the CPU's.
#include <cstdio>
#include <vector>

#include "include/block_scale.cuh"

int main() {
  const int n = 256;
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(i);
  float *dx = nullptr, *dy = nullptr;
  cudaMalloc(&dx, n * sizeof(float));
  cudaMalloc(&dy, n * sizeof(float));
  cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice);
  if (const cudaError_t e = launch_block_scale(dx, dy, n); e != cudaSuccess) {
    std::printf("launch failed: %s\n", cudaGetErrorString(e));
    return 1;
  }
  cudaMemcpy(y.data(), dy, n * sizeof(float), cudaMemcpyDeviceToHost);
  int failures = 0;
  for (int i = 0; i < n; ++i) {
    const int block = i / 64, j = 63 - i % 64;
    if (y[i] != x[block * 64 + j] * 3.0f) ++failures;
  }
  cudaFree(dx);
  cudaFree(dy);
  std::printf("%s\n", failures == 0 ? "header_launch: all checks passed" : "header_launch: FAILED");
  return failures == 0 ? 0 : 1;
}
