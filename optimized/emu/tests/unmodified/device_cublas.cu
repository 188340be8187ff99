// An ordinary CUDA program using the runtime's device queries, cuBLAS and printf in a kernel:
// C = A B through cublasSgemm (column-major, as cuBLAS is), then a kernel adds a bias per row and
// prints one line. Exits 0 iff the device answers sensibly and C matches the CPU's.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <vector>

#define CHECK(call)                                                                        \
  do {                                                                                     \
    const cudaError_t err_ = (call);                                                       \
    if (err_ != cudaSuccess) {                                                             \
      std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(err_));   \
      return 1;                                                                            \
    }                                                                                      \
  } while (0)

// c[i + j m] += bias[i]; thread 0 reports the shape.
__global__ void add_bias(float* c, const float* bias, int m, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < m * n) c[i] += bias[i % m];
  if (i == 0) printf("add_bias: %d x %d\n", m, n);
}

int main() {
  int count = 0;
  CHECK(cudaGetDeviceCount(&count));
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  if (count < 1 || prop.warpSize != 32 || prop.multiProcessorCount < 1 || prop.major < 7) {
    std::fprintf(stderr, "implausible device: %d devices, warp %d, %d SMs, compute %d.%d\n", count,
                 prop.warpSize, prop.multiProcessorCount, prop.major, prop.minor);
    return 1;
  }
  std::printf("device: %s, %d SMs, compute %d.%d, %zu bytes of shared memory per block\n",
              prop.name, prop.multiProcessorCount, prop.major, prop.minor, prop.sharedMemPerBlock);
  int resident = 0;
  CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, add_bias, 256, 0));
  if (resident < 1) {
    std::fprintf(stderr, "occupancy: %d blocks of 256 threads per SM\n", resident);
    return 1;
  }

  const int m = 5, k = 7, n = 3;  // C (m × n) = A (m × k) B (k × n), column-major
  std::vector<float> a(m * k), b(k * n), bias(m), c(m * n);
  for (int i = 0; i < m * k; ++i) a[i] = 0.25f * static_cast<float>(i % 9) - 1.0f;
  for (int i = 0; i < k * n; ++i) b[i] = 0.5f * static_cast<float>(i % 5) - 0.75f;
  for (int i = 0; i < m; ++i) bias[i] = static_cast<float>(i);
  float *da, *db, *dbias, *dc;
  CHECK(cudaMalloc(&da, a.size() * sizeof(float)));
  CHECK(cudaMalloc(&db, b.size() * sizeof(float)));
  CHECK(cudaMalloc(&dbias, bias.size() * sizeof(float)));
  CHECK(cudaMalloc(&dc, c.size() * sizeof(float)));
  CHECK(cudaMemcpy(da, a.data(), a.size() * sizeof(float), cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(db, b.data(), b.size() * sizeof(float), cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(dbias, bias.data(), bias.size() * sizeof(float), cudaMemcpyHostToDevice));

  cublasHandle_t handle;
  if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) return 1;
  const float alpha = 1.0f, beta = 0.0f;
  if (cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, da, m, db, k, &beta, dc, m) !=
      CUBLAS_STATUS_SUCCESS) {
    std::fprintf(stderr, "cublasSgemm failed\n");
    return 1;
  }
  add_bias<<<(m * n + 255) / 256, 256>>>(dc, dbias, m, n);
  CHECK(cudaGetLastError());
  CHECK(cudaDeviceSynchronize());
  CHECK(cudaMemcpy(c.data(), dc, c.size() * sizeof(float), cudaMemcpyDeviceToHost));
  cublasDestroy(handle);

  int bad = 0;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double want = bias[i];
      for (int p = 0; p < k; ++p) want += double(a[i + p * m]) * double(b[p + j * k]);
      if (std::fabs(c[i + j * m] - want) > 1e-5 * (1.0 + std::fabs(want))) {
        if (bad++ < 3) std::fprintf(stderr, "C[%d, %d] = %g, want %g\n", i, j, c[i + j * m], want);
      }
    }
  CHECK(cudaFree(da));
  CHECK(cudaFree(db));
  CHECK(cudaFree(dbias));
  CHECK(cudaFree(dc));
  std::printf("%s: %d of %d entries differ from the CPU's\n", bad ? "FAIL" : "ok", bad, m * n);
  return bad ? 1 : 0;
}
