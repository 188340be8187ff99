#pragma once
/// \file
/// \brief Private to layernorm.cu and layernorm_backward.cu: the rows-per-block shape, the switch
/// from a warp to a block per row, and the launchers' size checks. The warp and block sums, the
/// stores and the pointer and version checks are primitives.cuh's.

#include <climits>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"

namespace llmlab::cuda::layernorm_detail {

/// Warps per block of kBlock threads = rows per block in v2 (a warp per row).
constexpr int kWarps = kBlock / kWarpSize;
/// Version 0 takes one warp per row up to this C (≤ 32 values per lane), one block per row above.
constexpr std::int64_t kWarpRowMaxC = 1024;

/// The launchers' shared checks: N ≥ 0, C ≥ 1 when N ≥ 1, the version in 0 … versions, N·C in
/// range, N within a grid. @throws Error(where, ...) naming the argument.
inline void check_sizes(const char* where, std::int64_t N, std::int64_t C, int version,
                        int versions) {
  check_count(where, "N", N);
  if (C < 0 || (N > 0 && C == 0))
    throw Error(where, "C = " + std::to_string(C) + " must be >= 1 (a row needs a value)");
  check_version(where, version, versions);
  const std::string shape = shape_str({N, C});
  if (C > 0 && N > INT64_MAX / C) throw Error(where, "(N, C) = " + shape + ": too many elements");
  if (N > INT_MAX)
    throw Error(where, "(N, C) = " + shape + ": more rows than the 2^31 - 1 blocks of a grid");
}

/// Version 0's choice: one warp per row (v2) up to kWarpRowMaxC columns, else one block (v3).
inline int pick_version(int version, std::int64_t C) {
  return version != 0 ? version : (C <= kWarpRowMaxC ? 2 : 3);
}

}  // namespace llmlab::cuda::layernorm_detail
