/// \file
/// \brief Lab 00, steps 4–6: reduce_sum, \f$ \mathrm{out}_r = \sum_{c<C} x_{r,c} \f$ — your first
/// reduction.
///
/// One block of 256 threads per row. Every version starts the same way (given below): thread t
/// sums columns t, t + 256, t + 512, … of its row in float, so a warp's 32 loads are 32
/// neighbouring elements (coalesced). Then the block's 256 partial sums must become one — that is
/// what you write:
/// - v1 shared-memory tree: the 256 partials in shared memory, then 8 halving steps (thread t < s
///   adds partial[t + s]) with a __syncthreads after each.
/// - v2 warp shuffles: each warp adds its 32 partials in registers with 5 __shfl_down_sync steps,
///   the 8 warp sums meet in shared memory, and warp 0 adds them — one barrier instead of nine.
/// - v3 (optional, step 6) v2 with wide loads (float4 / __nv_bfloat162); until you write it,
///   version 3 runs v2.
///
/// bf16 input is always accumulated in float (the handout's worked example shows why: in bf16,
/// 1 + 2^-8 rounds back to 1). The launcher (complete, below) runs v2 by default (version 0).
///
/// Check your work:   scripts/lab.sh 00
/// (or run build/default/chapters/00-setup/ch00_checks --gtest_filter='ReduceSum*').

#include <climits>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/reduce_sum.cuh"

namespace llmlab::cuda {
namespace {

// [[maybe_unused]] only because the starter code does not use them yet (nvcc and g++ would refuse
// the warning); your kernels will.
constexpr int kBlock = 256;                              // threads per block (one block per row)
constexpr int kWarp = 32;                                // lanes per warp
[[maybe_unused]] constexpr int kWarps = kBlock / kWarp;  // warps per block
[[maybe_unused]] constexpr unsigned kFullMask = 0xffffffffu;  // all 32 lanes of a warp

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

/// Thread t's share of the row (given): \f$ \sum_{c \equiv t \ (\mathrm{mod}\ 256)} x_c \f$ in
/// float.
template <class T>
__device__ __forceinline__ float strided_slice_sum(const T* __restrict__ row, std::int64_t cols) {
  float sum = 0.0f;
  for (std::int64_t c = threadIdx.x; c < cols; c += kBlock) sum += to_float(row[c]);
  return sum;
}

// ---- v1: shared-memory tree ---------------------------------------------------------------------

/// x is (R, C) row-major, out is (R); launched with R blocks of 256 threads.
template <class T>
__global__ void reduce_sum_v1(const T* __restrict__ x, float* __restrict__ out, std::int64_t cols) {
  const T* row = x + static_cast<std::int64_t>(blockIdx.x) * cols;  // this block's row
  const float mine = strided_slice_sum(row, cols);                  // this thread's share
  // TODO(step 4): add the block's 256 shares with a tree in shared memory.
  //   1. Declare `__shared__ float partial[kBlock];`, store `mine` at partial[threadIdx.x], and
  //      wait with __syncthreads() until every thread has stored its share.
  //   2. For s = 128, 64, …, 1: threads t < s add partial[t + s] into partial[t]; then
  //      __syncthreads(). Put the barrier *outside* the `if (t < s)`: every thread of the block
  //      must reach the same barrier. Inside it, CUDA's behaviour is undefined; the emulator
  //      reports it when the threads that skipped it then wait at a different barrier, but a
  //      barrier inside the `if` with none after it can pass here and fail on a GPU.
  //   3. Thread 0 writes partial[0] to out[blockIdx.x].
  (void)mine, (void)out;  // delete this line when you use them
}

// ---- v2: warp shuffles --------------------------------------------------------------------------

/// Sum over the 32 lanes of a warp; lane 0 ends with the total.
[[maybe_unused]] __device__ __forceinline__ float warp_sum(float v) {
  // TODO(step 5): five steps, offset = 16, 8, 4, 2, 1: v += __shfl_down_sync(kFullMask, v, offset).
  //   After the step with offset 16, lane i < 16 holds v_i + v_{i+16}; after the last, lane 0
  //   holds the sum of all 32 (the other lanes hold partial sums nobody reads).
  return v;
}

/// Sum of every thread's `partial` over the block; thread 0 ends with the total.
__device__ __forceinline__ float block_sum(float partial) {
  // TODO(step 5):
  //   1. partial = warp_sum(partial): lane 0 of each of the 8 warps holds its warp's sum.
  //   2. Lane 0 of warp w stores it in `__shared__ float warp_partial[kWarps]`; __syncthreads().
  //   3. Warp 0 loads warp_partial[lane] (0 for lanes ≥ kWarps) and warp_sum()s them again.
  //      Only warp 0 calls this second warp_sum — all of its 32 lanes, as kFullMask promises.
  return partial;
}

/// Same arguments and launch as v1.
template <class T>
__global__ void reduce_sum_v2(const T* __restrict__ x, float* __restrict__ out, std::int64_t cols) {
  const T* row = x + static_cast<std::int64_t>(blockIdx.x) * cols;
  const float total = block_sum(strided_slice_sum(row, cols));
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}

// ---- v3 (optional): v2 with wide loads ----------------------------------------------------------

/// Same arguments and launch as v1.
template <class T>
__global__ void reduce_sum_v3(const T* __restrict__ x, float* __restrict__ out, std::int64_t cols) {
  // TODO(step 6, optional): like v2, but load 4 floats (float4) or 2 bf16 (__nv_bfloat162) at a
  //   time. A wide load needs an address aligned to its size, and row r starts at x + r·C, which
  //   is aligned only for some C: sum the scalar head up to the first aligned element, the wide
  //   body, then the < 4 scalar tail. Then launch it in launch_v3 below.
  (void)x, (void)out, (void)cols;
}

// ---- the launcher (complete) --------------------------------------------------------------------

template <class T>
cudaError_t launch_v1(const cudaLaunchConfig_t& cfg, const T* x, float* out, std::int64_t cols) {
  // TODO(step 4): delete this statement once reduce_sum_v1 is written.
  throw Error("reduce_sum",
              "not implemented — write the kernel in chapters/00-setup/lab/reduce_sum.cu "
              "(reduce_sum_v1, step 4 of the handout)");
  return launch(cfg, reduce_sum_v1<T>, x, out, cols);
}

template <class T>
cudaError_t launch_v2(const cudaLaunchConfig_t& cfg, const T* x, float* out, std::int64_t cols) {
  // TODO(step 5): delete this statement once warp_sum and block_sum are written.
  throw Error("reduce_sum",
              "not implemented — write the kernel in chapters/00-setup/lab/reduce_sum.cu "
              "(warp_sum and block_sum, step 5 of the handout)");
  return launch(cfg, reduce_sum_v2<T>, x, out, cols);
}

template <class T>
cudaError_t launch_v3(const cudaLaunchConfig_t& cfg, const T* x, float* out, std::int64_t cols) {
  // TODO(step 6, optional): launch reduce_sum_v3<T> here once it is written; until then, v2.
  return launch_v2(cfg, x, out, cols);
}

template <class T>
cudaError_t reduce_sum_impl(const T* x, float* out, std::int64_t rows, std::int64_t cols,
                            int version) {
  constexpr const char* where = "reduce_sum";
  if (rows < 0) throw Error(where, "rows = " + std::to_string(rows) + " must be >= 0");
  if (cols < 0) throw Error(where, "cols = " + std::to_string(cols) + " must be >= 0");
  if (version < 0 || version > reduce_sum_versions)
    throw Error(where, "version = " + std::to_string(version) + " but versions are 0 (best) to " +
                           std::to_string(reduce_sum_versions));
  const std::string shape = shape_str({rows, cols});
  if (rows > INT_MAX)
    throw Error(where,
                "(rows, cols) = " + shape + ": more rows than the 2^31 - 1 blocks of one grid");
  if (x == nullptr && rows > 0 && cols > 0)
    throw Error(where, "x is null but (rows, cols) = " + shape);
  if (out == nullptr && rows > 0)
    throw Error(where, "out is null but rows = " + std::to_string(rows));
  if (rows == 0) return cudaSuccess;

  const cudaLaunchConfig_t cfg = launch_config(dim3(static_cast<unsigned>(rows)), dim3(kBlock));
  switch (version) {
    case 1:
      return launch_v1(cfg, x, out, cols);
    case 3:
      return launch_v3(cfg, x, out, cols);
    default:
      return launch_v2(cfg, x, out, cols);  // 0 → v2, the best you have written
  }
}

}  // namespace

cudaError_t reduce_sum(const float* x, float* out, std::int64_t rows, std::int64_t cols,
                       int version) {
  return reduce_sum_impl(x, out, rows, cols, version);
}

cudaError_t reduce_sum(const __nv_bfloat16* x, float* out, std::int64_t rows, std::int64_t cols,
                       int version) {
  return reduce_sum_impl(x, out, rows, cols, version);
}

}  // namespace llmlab::cuda
