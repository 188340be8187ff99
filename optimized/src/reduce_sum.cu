/// \file
/// \ingroup group_reduce_sum
/// \brief reduce_sum: \f$ \mathrm{out}_r = \sum_{c<C} x_{r,c} \f$ for x (R, C), one block per row.
///
/// fp32 or bf16 in, always accumulated and written in fp32. Every version first lets each of the
/// block's 256 threads sum a strided slice of the row (thread t takes columns t, t + 256, …, so a
/// warp's loads are coalesced), then combines the 256 partial sums; the versions differ in that
/// combination and in how wide the loads are. The order of additions is fixed per version and
/// shape, so reruns are bitwise equal (no atomics).
///
/// Versions (each tested against the reference in tests/reduce_sum_test.cpp):
/// - v1 shared-memory tree, sequential addressing: partials in shared memory, then 8 halving steps
///   (thread t < s adds partial[t + s]) with a __syncthreads after each — no bank conflicts, but
///   most threads idle in the late steps and every step pays a block-wide barrier.
/// - v2 warp shuffles: each warp sums its 32 partials with 5 `__shfl_xor_sync` steps in registers
///   (warp_allsum; lane 0 adds in the tree of the textbook `__shfl_down_sync` loop, so the bits
///   are the same), the 8 warp sums meet in shared memory, and the first warp adds them — one
///   barrier instead of 9.
/// - v3 v2 with wide loads: float4 (fp32) or __nv_bfloat162 (bf16) per load; each row peels the
///   scalar head up to its first aligned address and the scalar tail, so any C and any row offset
///   gets the wide loads.
///
/// The launcher uses v3 by default: the reduction is memory-bound, and v3 issues the fewest memory
/// instructions for the same bytes with the fewest barriers. Timing on a GPU awaits a GPU: none
/// has been lent to this project yet. bench/reduce_sum_bench times the emulated versions, which
/// measures the emulator, not a GPU.

#include <climits>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "llmlab/cuda/reduce_sum.cuh"
#include "llmlab/cuda/wide_loads.cuh"

namespace llmlab::cuda {
namespace {

// One block of kBlock threads per row.
constexpr int kWarps = kBlock / kWarpSize;  // warps per block

/// The elements of one wide load, summed in float.
__device__ __forceinline__ float sum_of(float4 v) { return (v.x + v.y) + (v.z + v.w); }
__device__ __forceinline__ float sum_of(__nv_bfloat162 v) { return to_float(v.x) + to_float(v.y); }

/// Thread t's share of the row: \f$ \sum_{c \equiv t \ (\mathrm{mod}\ 256)} x_c \f$ (v1, v2).
template <class T>
__device__ __forceinline__ float strided_slice_sum(const T* __restrict__ row, std::int64_t cols) {
  float sum = 0.0f;
  for (std::int64_t c = threadIdx.x; c < cols; c += kBlock) sum += to_float(row[c]);
  return sum;
}

/// Sum of every thread's `partial` over the block; thread 0 ends with the total (v2, v3). Unlike
/// block_allsum (every thread adds the 8 warp sums in a row, two barriers), the first warp adds
/// the 8 warp sums by shuffles, and one barrier suffices since nothing reuses `warp_partial`.
__device__ __forceinline__ float block_sum(float partial) {
  __shared__ float warp_partial[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  partial = warp_allsum(partial);
  if (lane == 0) warp_partial[warp] = partial;
  __syncthreads();
  float total = 0.0f;
  if (warp == 0) total = warp_allsum(lane < kWarps ? warp_partial[lane] : 0.0f);
  return total;
}

// ---- v1: shared-memory tree with sequential addressing ------------------------------------------

template <class T>
__global__ void reduce_sum_v1(const T* __restrict__ x, float* __restrict__ out, std::int64_t cols) {
  __shared__ float partial[kBlock];
  const T* row = x + static_cast<std::int64_t>(blockIdx.x) * cols;
  const int t = static_cast<int>(threadIdx.x);
  partial[t] = strided_slice_sum(row, cols);
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s /= 2) {  // 128, 64, …, 1 active threads
    if (t < s) partial[t] += partial[t + s];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = partial[0];
}

// ---- v2: warp shuffles, warp partials in shared memory ------------------------------------------

template <class T>
__global__ void reduce_sum_v2(const T* __restrict__ x, float* __restrict__ out, std::int64_t cols) {
  const T* row = x + static_cast<std::int64_t>(blockIdx.x) * cols;
  const float total = block_sum(strided_slice_sum(row, cols));
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}

// ---- v3: v2 with wide loads, unaligned head and tail peeled -------------------------------------

template <class T>
__global__ void reduce_sum_v3(const T* __restrict__ x, float* __restrict__ out, std::int64_t cols) {
  using V = typename Wide<T>::type;
  constexpr int W = Wide<T>::width;
  const T* row = x + static_cast<std::int64_t>(blockIdx.x) * cols;
  const std::int64_t t = threadIdx.x;

  // The row splits into [head: scalar, up to the first sizeof(V)-aligned address)
  // [body: nv wide loads) [tail: < W scalars).
  const auto offset = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(row) % sizeof(V));
  std::int64_t head = offset == 0 ? 0 : W - offset / static_cast<std::int64_t>(sizeof(T));
  if (head > cols) head = cols;
  const std::int64_t nv = (cols - head) / W;
  const std::int64_t tail = head + nv * W;
  const V* body = reinterpret_cast<const V*>(row + head);

  float sum = 0.0f;
  if (t < head) sum += to_float(row[t]);
  for (std::int64_t i = t; i < nv; i += kBlock) sum += sum_of(body[i]);
  if (tail + t < cols) sum += to_float(row[tail + t]);

  const float total = block_sum(sum);
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}

// ---- the launcher -------------------------------------------------------------------------------

template <class T>
cudaError_t reduce_sum_impl(const T* x, float* out, std::int64_t rows, std::int64_t cols,
                            int version) {
  constexpr const char* where = "reduce_sum";
  check_count(where, "rows", rows);
  check_count(where, "cols", cols);
  version = checked_version(where, version, reduce_sum_versions);
  const std::string shape = shape_str({rows, cols});
  if (rows > INT_MAX)
    throw Error(where,
                "(rows, cols) = " + shape + ": more rows than the 2^31 - 1 blocks of one grid");
  if (cols > 0 && rows > INT64_MAX / cols)
    throw Error(where, "(rows, cols) = " + shape + ": too many elements");
  check_pointers(where, "(rows, cols)", {rows, cols}, {{x, "x"}});
  check_pointers(where, "rows", {rows}, {{out, "out"}});
  if (rows == 0) return cudaSuccess;

  const cudaLaunchConfig_t cfg = launch_config(dim3(static_cast<unsigned>(rows)), dim3(kBlock));
  switch (version) {
    case 1:
      return launch(cfg, reduce_sum_v1<T>, x, out, cols);
    case 2:
      return launch(cfg, reduce_sum_v2<T>, x, out, cols);
    default:
      return launch(cfg, reduce_sum_v3<T>, x, out, cols);
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
