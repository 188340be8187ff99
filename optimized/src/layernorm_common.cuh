#pragma once
/// \file
/// \brief Private to layernorm.cu and layernorm_backward.cu: the launch shapes, fp32/bf16 stores,
/// all-lane warp and block sums, and the launchers' argument checks.

#include <climits>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/wide_loads.cuh"

namespace llmlab::cuda::layernorm_detail {

constexpr int kBlock = 256;             ///< threads per block, every kernel
constexpr int kWarp = 32;               ///< lanes per warp
constexpr int kWarps = kBlock / kWarp;  ///< warps per block = rows per block in v2
constexpr unsigned kFullMask = 0xffffffffu;  ///< every lane of a warp takes part
/// Version 0 takes one warp per row up to this C (≤ 32 values per lane), one block per row above.
constexpr std::int64_t kWarpRowMaxC = 1024;

/// Writes v to *p (fp32).
__device__ __forceinline__ void store(float* p, float v) { *p = v; }
/// Writes v to *p rounded once to bf16, to nearest-even.
__device__ __forceinline__ void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16(v); }

/// Sum over the 32 lanes, every lane ending with the same total (butterfly: 5 __shfl_xor_sync
/// steps, 16, 8, 4, 2, 1 — each lane adds its partner's value, so all lanes hold the same sum).
__device__ __forceinline__ float warp_allsum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

/// Sum of every thread's v over the block; every thread ends with the same total. Each warp sums
/// its lanes with shuffles, the 8 warp sums meet in shared memory, and every thread adds those 8 in
/// the same order. The second barrier lets the next call reuse `warp_partial`.
__device__ __forceinline__ float block_allsum(float v) {
  __shared__ float warp_partial[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int warp = static_cast<int>(threadIdx.x) / kWarp;
  v = warp_allsum(v);
  if (lane == 0) warp_partial[warp] = v;
  __syncthreads();
  float total = 0.0f;
  for (int i = 0; i < kWarps; ++i) total += warp_partial[i];
  __syncthreads();
  return total;
}

/// The launchers' shared checks: N ≥ 0, C ≥ 1 when N ≥ 1, N·C in range, N within a grid, the
/// version in 0 … versions. @throws Error(where, ...) naming the argument.
inline void check_sizes(const char* where, std::int64_t rows, std::int64_t cols, int version,
                        int versions) {
  if (rows < 0) throw Error(where, "rows = " + std::to_string(rows) + " must be >= 0");
  if (cols < 0 || (rows > 0 && cols == 0))
    throw Error(where, "cols = " + std::to_string(cols) + " must be >= 1 (a row needs a value)");
  if (version < 0 || version > versions)
    throw Error(where, "version = " + std::to_string(version) + " but versions are 0 (best) to " +
                           std::to_string(versions));
  const std::string shape = shape_str({rows, cols});
  if (cols > 0 && rows > INT64_MAX / cols)
    throw Error(where, "(rows, cols) = " + shape + ": too many elements");
  if (rows > INT_MAX)
    throw Error(where,
                "(rows, cols) = " + shape + ": more rows than the 2^31 - 1 blocks of a grid");
}

/// @throws Error(where, "<name> is null but (rows, cols) = (N, C)") when p is null and N > 0.
inline void check_pointer(const char* where, const void* p, const char* name, std::int64_t rows,
                          std::int64_t cols) {
  if (p == nullptr && rows > 0)
    throw Error(where,
                std::string(name) + " is null but (rows, cols) = " + shape_str({rows, cols}));
}

/// Version 0's choice: one warp per row (v2) up to kWarpRowMaxC columns, else one block (v3).
inline int pick_version(int version, std::int64_t cols) {
  return version != 0 ? version : (cols <= kWarpRowMaxC ? 2 : 3);
}

}  // namespace llmlab::cuda::layernorm_detail
