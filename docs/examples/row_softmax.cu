// row_softmax.cu — a standalone CUDA file: softmax of each row, one warp per row, checked against
// a CPU softmax in double. Builds with nvcc, and with llmlab-nvcc for the CPU (docs/cuda_code.md).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <vector>

__global__ void softmax_rows(const float* x, float* y, int cols) {
  const float* row = x + blockIdx.x * cols;
  float m = -INFINITY;
  for (int c = threadIdx.x; c < cols; c += 32) m = fmaxf(m, row[c]);
  for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffff, m, o));
  float s = 0.0f;
  for (int c = threadIdx.x; c < cols; c += 32) s += __expf(row[c] - m);
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffff, s, o);
  for (int c = threadIdx.x; c < cols; c += 32) y[blockIdx.x * cols + c] = __expf(row[c] - m) / s;
}

int main() {
  const int rows = 64, cols = 1000;
  std::vector<float> x(rows * cols), y(rows * cols);
  for (int i = 0; i < rows * cols; ++i) x[i] = std::sin(0.37f * i) * 4.0f;
  float *dx, *dy;
  cudaMalloc(&dx, x.size() * sizeof(float));
  cudaMalloc(&dy, y.size() * sizeof(float));
  cudaMemcpy(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice);
  softmax_rows<<<rows, 32>>>(dx, dy, cols);
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) err = cudaMemcpy(y.data(), dy, y.size() * sizeof(float), cudaMemcpyDeviceToHost);
  if (err != cudaSuccess) {
    std::printf("CUDA error: %s\n", cudaGetErrorString(err));
    return 1;
  }
  double worst = 0.0;
  for (int r = 0; r < rows; ++r) {
    double m = -INFINITY, s = 0.0;
    for (int c = 0; c < cols; ++c) m = std::fmax(m, x[r * cols + c]);
    for (int c = 0; c < cols; ++c) s += std::exp(x[r * cols + c] - m);
    for (int c = 0; c < cols; ++c)
      worst = std::fmax(worst, std::fabs(y[r * cols + c] - std::exp(x[r * cols + c] - m) / s));
  }
  std::printf("softmax of %d rows x %d: max |error| vs double = %.3g\n", rows, cols, worst);
  cudaFree(dx);
  cudaFree(dy);
  return worst < 1e-6 ? 0 : 1;
}
