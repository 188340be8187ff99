// An ordinary CUDA program (no llmlab header): every spelling of a launch the emulator accepts.
// Built by nvcc, by llmlab-nvcc and by llmlab_add_cuda_executable; exits 0 iff every check passes.
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

#define CHECK(call)                                                                     \
  do {                                                                                  \
    const cudaError_t e = (call);                                                       \
    if (e != cudaSuccess) {                                                             \
      std::printf("%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e)); \
      return 1;                                                                         \
    }                                                                                   \
  } while (0)

__global__ void fill(int* out, int n, int value) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = value;
}

// Each block reverses its chunk through dynamic shared memory (the third launch argument).
__global__ void reverse_chunks(const int* in, int* out) {
  extern __shared__ int chunk[];
  const int base = blockIdx.x * blockDim.x;
  chunk[threadIdx.x] = in[base + threadIdx.x];
  __syncthreads();
  out[base + threadIdx.x] = chunk[blockDim.x - 1 - threadIdx.x];
}

template <class T, int N>
__global__ void scale(T* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= N;
}

// Overloads: the launch picks one by its arguments, as a call would.
__global__ void add_one(float* x, int n) {
  const int i = threadIdx.x;
  if (i < n) x[i] += 1.0f;
}
__global__ void add_one(int* x, int n) {
  const int i = threadIdx.x;
  if (i < n) x[i] += 10;
}

template <class T>
__global__ void set_all(T* x, T value, int n) {  // T deduced from the launch's arguments
  for (int i = threadIdx.x; i < n; i += blockDim.x) x[i] = value;
}

namespace ops {
__global__ void square(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * x[i];
}
}  // namespace ops

int main() {
  const int n = 1000;
  int* di = nullptr;
  int* dj = nullptr;
  float* df = nullptr;
  CHECK(cudaMalloc(&di, n * sizeof(int)));
  CHECK(cudaMalloc(&dj, n * sizeof(int)));
  CHECK(cudaMalloc(&df, n * sizeof(float)));
  std::vector<int> hi(n);
  std::vector<float> hf(n);
  int failures = 0;
  auto expect = [&](bool ok, const char* what) {
    if (!ok) {
      std::printf("FAILED: %s\n", what);
      ++failures;
    }
  };

  fill<<<(n + 127) / 128, 128>>>(di, n, 7);  // two launch arguments
  CHECK(cudaGetLastError());
  CHECK(cudaMemcpy(hi.data(), di, n * sizeof(int), cudaMemcpyDeviceToHost));
  bool ok = true;
  for (int v : hi) ok = ok && v == 7;
  expect(ok, "fill<<<g, b>>>");

  for (int i = 0; i < n; ++i) hi[i] = i;
  CHECK(cudaMemcpy(di, hi.data(), n * sizeof(int), cudaMemcpyHostToDevice));
  reverse_chunks<<<n / 100, 100, 100 * sizeof(int)>>>(di, dj);  // three: dynamic shared memory
  CHECK(cudaGetLastError());
  CHECK(cudaMemcpy(hi.data(), dj, n * sizeof(int), cudaMemcpyDeviceToHost));
  ok = true;
  for (int i = 0; i < n; ++i) ok = ok && hi[i] == (i / 100) * 100 + 99 - i % 100;
  expect(ok, "reverse_chunks<<<g, b, smem>>>");

  cudaStream_t stream;
  CHECK(cudaStreamCreate(&stream));
  set_all<<<1, 64, 0, stream>>>(df, 2.0f, n);  // four: a stream; T = float deduced
  scale<float, 3><<<dim3((n + 255) / 256), dim3(256), 0, stream>>>(df, n);  // template kernel
  CHECK(cudaStreamSynchronize(stream));
  CHECK(cudaStreamDestroy(stream));
  CHECK(cudaMemcpy(hf.data(), df, n * sizeof(float), cudaMemcpyDeviceToHost));
  ok = true;
  for (float v : hf) ok = ok && v == 6.0f;
  expect(ok, "set_all<<<1, 64, 0, stream>>> then scale<float, 3>");

  add_one<<<1, 32>>>(df, 32);  // the float overload
  add_one<<<1, 32>>>(di, 32);  // the int overload
  ops::square<<<
      (n + 63) / 64,  // a launch spread over lines, with comments
      64>>>(df,
            n);
  CHECK(cudaDeviceSynchronize());
  CHECK(cudaMemcpy(hf.data(), df, n * sizeof(float), cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(hi.data(), di, n * sizeof(int), cudaMemcpyDeviceToHost));
  ok = true;
  for (int i = 0; i < n; ++i) ok = ok && hf[i] == (i < 32 ? 49.0f : 36.0f) && hi[i] == (i < 32 ? i + 10 : i);
  expect(ok, "overloaded add_one, multi-line ops::square");

  CHECK(cudaFree(di));
  CHECK(cudaFree(dj));
  CHECK(cudaFree(df));
  std::printf("%s\n", failures == 0 ? "launch_forms: all checks passed" : "launch_forms: FAILED");
  return failures == 0 ? 0 : 1;
}
