#pragma once
/// \file
/// \ingroup group_vector_add
/// \brief Element-wise vector addition on the GPU, fp32 and bf16 (versions in src/vector_add.cu).

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// Number of numbered vector_add versions (1 … vector_add_versions); version 0 picks the best.
inline constexpr int vector_add_versions = 2;

/// \f$ c_i = a_i + b_i \f$ for \f$ i < n \f$, in fp32.
/// @param a, b (n) device pointers   @param c (n) device pointer (may alias neither a nor b)
/// @param n elements   @param version 0 = the best (default), 1 … vector_add_versions a numbered
/// one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when n == 0)
/// @throws llmlab::Error naming the argument when n < 0, a pointer is null with n > 0, or the
///         version is out of range.
cudaError_t vector_add(const float* a, const float* b, float* c, std::int64_t n, int version = 0);

/// \f$ c_i = \mathrm{bf16}(a_i + b_i) \f$: the sum is formed in float and rounded once to bf16.
/// @param a, b (n) device pointers   @param c (n) device pointer (may alias neither a nor b)
/// @param n elements   @param version 0 = the best (default), 1 … vector_add_versions a numbered
/// one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when n == 0)
/// @throws llmlab::Error as the fp32 overload.
cudaError_t vector_add(const __nv_bfloat16* a, const __nv_bfloat16* b, __nv_bfloat16* c,
                       std::int64_t n, int version = 0);

}  // namespace llmlab::cuda
