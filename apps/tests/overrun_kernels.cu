/// \file
/// \brief Kernel libraries that write one element past a buffer, for `llmlab verify --impl`
/// (issue 15: such a plugin once passed, `14 passed`).
///
/// Built twice (apps/tests/CMakeLists.txt): with LLMLAB_OVERRUN=1 each kernel has the classic
/// off-by-one bound `i <= n` — the f32 entry point writes c[n] (just past its output, inside the
/// guard zone verify puts around every buffer), the bf16 one writes one element past a scratch
/// buffer it cudaMalloc'd itself (only the emulator's own guard zones see that); with
/// LLMLAB_OVERRUN=0 the bound is `i < n` (the fixed twin, which passes).

#include <cstdint>

#include "llmlab/cuda/abi/vector_add.h"
#include "llmlab/cuda/kernel.cuh"

namespace {

/// Threads i ≤ last write c_i = a_i + b_i (last = n with the bug, n − 1 in the twin).
__global__ void add_kernel(const float* a, const float* b, float* c, std::int64_t last) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i <= last) c[i] = a[i] + b[i];
}

/// c_i = a_i + b_i in bf16, staged through a float scratch buffer of n elements whose elements
/// 0 … last the kernel writes.
__global__ void staged_add_kernel(const __nv_bfloat16* a, const __nv_bfloat16* b,
                                  __nv_bfloat16* c, float* scratch, std::int64_t n,
                                  std::int64_t last) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i <= last) scratch[i] = __bfloat162float(a[i < n ? i : 0]) + __bfloat162float(b[i < n ? i : 0]);
  if (i < n) c[i] = __float2bfloat16(scratch[i]);
}

constexpr unsigned kBlock = 128;
constexpr std::int64_t kPast = LLMLAB_OVERRUN;  // 1: one element past the end; 0: the twin

cudaLaunchConfig_t config(std::int64_t n) {
  return llmlab::cuda::launch_config(dim3(llmlab::cuda::ceil_div(n + kPast, kBlock)), dim3(kBlock));
}

}  // namespace

extern "C" {

int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n) {
  if (n <= 0) return 0;
  return static_cast<int>(llmlab::cuda::launch(config(n), add_kernel, a, b, c, n - 1 + kPast));
}

int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t n) {
  if (n <= 0) return 0;
  float* scratch = nullptr;
  if (const cudaError_t e = cudaMalloc(&scratch, static_cast<std::size_t>(n) * sizeof(float)))
    return static_cast<int>(e);
  const cudaError_t e = llmlab::cuda::launch(
      config(n), staged_add_kernel, reinterpret_cast<const __nv_bfloat16*>(a),
      reinterpret_cast<const __nv_bfloat16*>(b), reinterpret_cast<__nv_bfloat16*>(c), scratch, n,
      n - 1 + kPast);
  cudaFree(scratch);
  return static_cast<int>(e);
}

}  // extern "C"
