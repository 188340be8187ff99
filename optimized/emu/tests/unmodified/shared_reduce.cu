// An ordinary CUDA program: block sums through `extern __shared__` memory, declared inside a
// kernel and at namespace scope with an alignment attribute. Exits 0 iff the sums match the CPU's.
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

extern __shared__ __align__(16) unsigned char g_scratch[];  // namespace scope, reinterpreted below

// One block per row: out[r] = sum of x[r, :], a tree reduction in dynamic shared memory.
__global__ void row_sum(const float* x, float* out, int cols) {
  extern __shared__ float partial[];
  float s = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) s += x[blockIdx.x * cols + c];
  partial[threadIdx.x] = s;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}

// The same with the namespace-scope array, as int counts per row.
__global__ void row_count_positive(const float* x, int* out, int cols) {
  int* counts = reinterpret_cast<int*>(g_scratch);
  int k = 0;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) k += x[blockIdx.x * cols + c] > 0.0f;
  counts[threadIdx.x] = k;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) counts[threadIdx.x] += counts[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = counts[0];
}

int main() {
  const int rows = 8, cols = 300, threads = 64;
  std::vector<float> x(rows * cols);
  for (int i = 0; i < rows * cols; ++i) x[i] = static_cast<float>((i * 37) % 11) - 5.0f;  // exact sums
  float *dx = nullptr, *dsum = nullptr;
  int* dcount = nullptr;
  cudaMalloc(&dx, x.size() * sizeof(float));
  cudaMalloc(&dsum, rows * sizeof(float));
  cudaMalloc(&dcount, rows * sizeof(int));
  cudaMemcpy(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice);
  row_sum<<<rows, threads, threads * sizeof(float)>>>(dx, dsum, cols);
  row_count_positive<<<rows, threads, threads * sizeof(int)>>>(dx, dcount, cols);
  if (const cudaError_t e = cudaDeviceSynchronize(); e != cudaSuccess) {
    std::printf("launch failed: %s\n", cudaGetErrorString(e));
    return 1;
  }
  std::vector<float> sum(rows);
  std::vector<int> count(rows);
  cudaMemcpy(sum.data(), dsum, rows * sizeof(float), cudaMemcpyDeviceToHost);
  cudaMemcpy(count.data(), dcount, rows * sizeof(int), cudaMemcpyDeviceToHost);
  int failures = 0;
  for (int r = 0; r < rows; ++r) {
    float s = 0.0f;
    int k = 0;
    for (int c = 0; c < cols; ++c) {
      s += x[r * cols + c];  // small integers: every order of addition gives the same float
      k += x[r * cols + c] > 0.0f;
    }
    if (s != sum[r] || k != count[r]) {
      std::printf("row %d: sum %g (expected %g), positive %d (expected %d)\n", r, sum[r], s, count[r], k);
      ++failures;
    }
  }
  cudaFree(dx);
  cudaFree(dsum);
  cudaFree(dcount);
  std::printf("%s\n", failures == 0 ? "shared_reduce: all checks passed" : "shared_reduce: FAILED");
  return failures == 0 ? 0 : 1;
}
