/// \file
/// \brief Lab 00, steps 2–3: vector_add, \f$ c_i = a_i + b_i \f$ — your first kernels.
///
/// You write two versions (the handout, chapters/00-setup/README.md, explains each step):
/// - v1 naive: one thread per element, ⌈n / 256⌉ blocks of 256 threads, `if (i < n)` guards the
///   threads of the last block that fall past the end.
/// - v2 grid-stride: a grid of at most 1024 blocks; each thread handles elements
///   i, i + gridDim.x·blockDim.x, i + 2·gridDim.x·blockDim.x, … until n. One launch covers any n.
///
/// The launcher (complete, below) checks its arguments and runs v2 by default (version 0), like
/// llmlab's own solution (the handout's "After the lab" says where, for when your checks pass).
///
/// Check your work:   scripts/lab.sh 00
/// (or, after it, build/lab/chapters/00-setup/ch00_checks --gtest_filter='*VectorAdd*').

#include <climits>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/vector_add.cuh"

namespace llmlab::cuda {
namespace {

constexpr int kBlock = 256;             // threads per block, both versions
constexpr long long kMaxBlocks = 1024;  // v2: the grid's cap

/// One element's sum. For bf16 the sum is formed in float and rounded once to bf16 — the kernel
/// must give exactly what the reference in float, rounded to bf16, gives. ([[maybe_unused]] only
/// because the starter kernels do not call them yet: nvcc and g++ would refuse the warning.)
[[maybe_unused]] __device__ __forceinline__ float add(float a, float b) { return a + b; }
[[maybe_unused]] __device__ __forceinline__ __nv_bfloat16 add(__nv_bfloat16 a, __nv_bfloat16 b) {
  return __float2bfloat16(__bfloat162float(a) + __bfloat162float(b));
}

// ---- v1: one thread per element -----------------------------------------------------------------

/// a, b, c are (n) device arrays; launched with ⌈n / 256⌉ blocks of 256 threads.
template <class T>
__global__ void vector_add_v1(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c,
                              std::int64_t n) {
  // TODO(step 2): one thread per element.
  //   1. This thread's element: i = blockIdx.x * blockDim.x + threadIdx.x. Compute it in
  //      std::int64_t (cast blockIdx.x first): with n above 2^31 the unsigned product overflows.
  //   2. The last block may stick out past the end: only when i < n, write c[i] = add(a[i], b[i]).
  (void)a, (void)b, (void)c, (void)n;  // delete this line when you use the arguments
}

// ---- v2: grid-stride loop -----------------------------------------------------------------------

/// Same arrays; launched with min(⌈n / 256⌉, 1024) blocks of 256 threads.
template <class T>
__global__ void vector_add_v2(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c,
                              std::int64_t n) {
  // TODO(step 3): a grid-stride loop.
  //   1. stride = gridDim.x * blockDim.x — the number of threads in the whole grid (int64_t).
  //   2. for (i = this thread's first element; i < n; i += stride) c[i] = add(a[i], b[i]);
  //   Neighbouring threads still touch neighbouring elements in every iteration, so the loads
  //   stay coalesced.
  (void)a, (void)b, (void)c, (void)n;  // delete this line when you use the arguments
}

// ---- the launcher (complete) --------------------------------------------------------------------

template <class T>
cudaError_t launch_v1(const T* a, const T* b, T* c, std::int64_t n) {
  // TODO(step 2): delete this statement once vector_add_v1 is written.
  throw Error("vector_add",
              "not implemented — write the kernel in chapters/00-setup/lab/vector_add.cu "
              "(vector_add_v1, step 2 of the handout)");
  const long long blocks = (n + kBlock - 1) / kBlock;
  if (blocks > INT_MAX)
    throw Error("vector_add", "n = " + std::to_string(n) + " needs " + std::to_string(blocks) +
                                  " blocks, more than v1's grid limit of 2^31 - 1 (use v2)");
  return launch(launch_config(dim3(ceil_div(n, kBlock)), dim3(kBlock)), vector_add_v1<T>, a, b, c,
                n);
}

template <class T>
cudaError_t launch_v2(const T* a, const T* b, T* c, std::int64_t n) {
  // TODO(step 3): delete this statement once vector_add_v2 is written.
  throw Error("vector_add",
              "not implemented — write the kernel in chapters/00-setup/lab/vector_add.cu "
              "(vector_add_v2, step 3 of the handout)");
  long long blocks = (n + kBlock - 1) / kBlock;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  return launch(launch_config(dim3(static_cast<unsigned>(blocks)), dim3(kBlock)), vector_add_v2<T>,
                a, b, c, n);
}

template <class T>
cudaError_t vector_add_impl(const T* a, const T* b, T* c, std::int64_t n, int version) {
  constexpr const char* where = "vector_add";
  if (n < 0) throw Error(where, "n = " + std::to_string(n) + " must be >= 0");
  if (version < 0 || version > vector_add_versions)
    throw Error(where, "version = " + std::to_string(version) + " but versions are 0 (best) to " +
                           std::to_string(vector_add_versions));
  if (n > 0) {
    const std::string size = " is null but n = " + std::to_string(n);
    if (a == nullptr) throw Error(where, "a" + size);
    if (b == nullptr) throw Error(where, "b" + size);
    if (c == nullptr) throw Error(where, "c" + size);
  }
  if (n == 0) return cudaSuccess;
  return version == 1 ? launch_v1(a, b, c, n) : launch_v2(a, b, c, n);  // 0 → v2, the best
}

}  // namespace

cudaError_t vector_add(const float* a, const float* b, float* c, std::int64_t n, int version) {
  return vector_add_impl(a, b, c, n, version);
}

cudaError_t vector_add(const __nv_bfloat16* a, const __nv_bfloat16* b, __nv_bfloat16* c,
                       std::int64_t n, int version) {
  return vector_add_impl(a, b, c, n, version);
}

}  // namespace llmlab::cuda
