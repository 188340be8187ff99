#pragma once
/// \file
/// \ingroup group_residual
/// \brief The residual connection on the GPU, forward and backward (src/residual.cu).

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/vector_add.cuh"

namespace llmlab::cuda {

/// Versions of residual_forward: those of vector_add, which it is (chapter 00's first kernel).
inline constexpr int residual_forward_versions = vector_add_versions;
/// Versions of residual_backward (1 … residual_backward_versions); 0 = the best.
inline constexpr int residual_backward_versions = 1;

/// \f$ \mathrm{out}_i = a_i + b_i \f$ over n elements (the residual stream, (B, T, C) flattened).
/// @param a, b (n) device   @param out (n) device   @param n elements
/// @param version 0 = the best, 1 … residual_forward_versions (vector_add's)
/// @returns the launch's cudaError_t
/// @throws llmlab::Error as vector_add, naming residual_forward.
cudaError_t residual_forward(const float* a, const float* b, float* out, std::int64_t n,
                             int version = 0);
/// bf16: \f$ \mathrm{out}_i = \mathrm{bf16}(a_i + b_i) \f$, summed in fp32 and rounded once.
/// @param a, b (n) device   @param out (n) device   @param n elements
/// @param version 0 = the best, 1 … residual_forward_versions
/// @returns the launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t residual_forward(const __nv_bfloat16* a, const __nv_bfloat16* b, __nv_bfloat16* out,
                             std::int64_t n, int version = 0);

/// Backward, **accumulating** (`+=`):
/// \f$ \mathrm{da}_i \mathrel{+}= \mathrm{dout}_i, \quad \mathrm{db}_i \mathrel{+}= \mathrm{dout}_i
/// \f$ (one rounding each: equal to the reference).
/// @param dout (n) device   @param da, db (n) device, accumulated into (may alias neither dout
/// nor each other)   @param n elements
/// @param version 0 = the best, 1 … residual_backward_versions
/// @returns the launch's cudaError_t (cudaSuccess without a launch when n == 0)
/// @throws llmlab::Error naming the argument when n < 0, a pointer is null with n > 0, or the
///         version is out of range.
cudaError_t residual_backward(const float* dout, float* da, float* db, std::int64_t n,
                              int version = 0);
/// bf16 backward: \f$ \mathrm{da}_i = \mathrm{bf16}(\mathrm{da}_i + \mathrm{dout}_i) \f$, likewise
/// db.
/// @param dout (n) device   @param da, db (n) device, accumulated into   @param n elements
/// @param version 0 = the best, 1 … residual_backward_versions
/// @returns the launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t residual_backward(const __nv_bfloat16* dout, __nv_bfloat16* da, __nv_bfloat16* db,
                              std::int64_t n, int version = 0);

}  // namespace llmlab::cuda
