#include <llmlab/cuda/kernel.cuh>
#include <cstdio>
#include <vector>

__global__ void add_one(float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += 1.0f;
}

__global__ void block_sum(const float* x, float* out) {
  __shared__ float s[256];
  int t = threadIdx.x;
  s[t] = x[blockIdx.x * 256 + t];
  __syncthreads();
  for (int h = 128; h > 0; h /= 2) {
    if (t < h) s[t] += s[t + h];
    __syncthreads();
  }
  float v = s[t];
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
  if (t == 0) out[blockIdx.x] = s[0] + 0 * v;
}

int main() {
  std::vector<float> h(1000, 1.0f);
  float* d;
  cudaMalloc(&d, 1000 * sizeof(float));
  cudaMemcpy(d, h.data(), 4000, cudaMemcpyHostToDevice);
  auto e = llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(4), dim3(256)), add_one, d, 1000);
  cudaMemcpy(h.data(), d, 4000, cudaMemcpyDeviceToHost);
  std::printf("add_one: %d %f %f\n", (int)e, h[0], h[999]);
  float* o; cudaMalloc(&o, 4 * sizeof(float));
  std::vector<float> x(1024); for (int i = 0; i < 1024; ++i) x[i] = i;
  float* dx; cudaMalloc(&dx, 4096); cudaMemcpy(dx, x.data(), 4096, cudaMemcpyHostToDevice);
  e = llmlab::cuda::launch(llmlab::cuda::launch_config(dim3(4), dim3(256)), block_sum, (const float*)dx, o);
  float r[4]; cudaMemcpy(r, o, 16, cudaMemcpyDeviceToHost);
  std::printf("block_sum: %d %f %f (want %f %f)\n", (int)e, r[0], r[3], 255*256/2.0, (768+1023)*256/2.0);
}
