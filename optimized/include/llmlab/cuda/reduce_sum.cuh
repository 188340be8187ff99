#pragma once
/// \file
/// \ingroup group_reduce_sum
/// \brief Row-wise sum on the GPU, one block per row (versions in src/reduce_sum.cu).

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// Number of numbered reduce_sum versions (1 … reduce_sum_versions); version 0 picks the best.
inline constexpr int reduce_sum_versions = 3;

/// \f$ \mathrm{out}_r = \sum_{c<C} x_{r,c} \f$, accumulated in fp32 (in an order that depends on
/// the version, fixed for a given version and shape: reruns are bitwise equal).
/// @param x (R, C) row-major device pointer   @param out (R) device pointer
/// @param rows R   @param cols C (C == 0 writes zeros)
/// @param version 0 = the best (default), 1 … reduce_sum_versions a numbered one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when R == 0)
/// @throws llmlab::Error naming the argument when R or C < 0, R > 2^31 − 1 (one block per row),
///         a pointer is null while it would be read or written, or the version is out of range.
cudaError_t reduce_sum(const float* x, float* out, std::int64_t rows, std::int64_t cols,
                       int version = 0);

/// \f$ \mathrm{out}_r = \sum_{c<C} x_{r,c} \f$ for bf16 x, accumulated and written in fp32.
/// @param x (R, C) row-major device pointer   @param out (R) device pointer (float)
/// @param rows R   @param cols C (C == 0 writes zeros)
/// @param version 0 = the best (default), 1 … reduce_sum_versions a numbered one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when R == 0)
/// @throws llmlab::Error as the fp32 overload.
cudaError_t reduce_sum(const __nv_bfloat16* x, float* out, std::int64_t rows, std::int64_t cols,
                       int version = 0);

}  // namespace llmlab::cuda
