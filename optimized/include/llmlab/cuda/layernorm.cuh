#pragma once
/// \file
/// \ingroup group_layernorm
/// \brief Layer normalisation over the last axis on the GPU, forward and backward (versions in
/// src/layernorm.cu and src/layernorm_backward.cu).
///
/// Activations are (N, C) row-major with N = B·T rows; w, b, dw, db are (C); mean and rstd (N).
/// Dtypes: fp32 throughout, or bf16 activations and parameters (x, w, b, y, dy, dx) with fp32
/// math, fp32 statistics (mean, rstd) and fp32 parameter gradients (dw, db). y and dx are rounded
/// to bf16 once, from fp32; dw and db stay fp32 because they accumulate over every row (and over
/// micro-batches), where a bf16 accumulator would drop small contributions (chapter 00's
/// \f$ 1 + 2^{-8} \f$ example).

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// Number of numbered layernorm_forward versions (1 … layernorm_forward_versions); 0 picks by C.
inline constexpr int layernorm_forward_versions = 3;
/// Number of numbered layernorm_backward versions (1 … layernorm_backward_versions); 0 picks by C.
inline constexpr int layernorm_backward_versions = 3;

/// \f$ \mu_r = \frac{1}{C}\sum_c x_{rc},\ \sigma^2_r = \frac{1}{C}\sum_c (x_{rc} - \mu_r)^2,
///     \ s_r = 1/\sqrt{\sigma^2_r + \epsilon},\ y_{rc} = (x_{rc} - \mu_r)\, s_r\, w_c + b_c \f$,
/// in fp32 (two passes over the row: the variance is of \f$ x - \mu \f$).
/// @param x (N, C) device   @param w (C) device   @param b (C) device
/// @param y (N, C) device, written
/// @param mean (N) device, written \f$ \mu \f$; may be null (not saved, e.g. for inference)
/// @param rstd (N) device, written \f$ s \f$; may be null
/// @param N rows   @param C values per row (≥ 1 when N ≥ 1)   @param eps \f$ \epsilon \f$ > 0
/// @param version 0 = picked by C (v2 for C ≤ 1024, else v3), 1 … layernorm_forward_versions
/// @returns the launch's cudaError_t (cudaSuccess without a launch when N == 0)
/// @throws llmlab::Error naming layernorm_forward and the argument when N < 0, C < 1, eps ≤ 0,
///         N·C overflows or N exceeds a grid, x, w, b or y is null, or the version is out of range.
cudaError_t layernorm_forward(const float* x, const float* w, const float* b, float* y, float* mean,
                              float* rstd, std::int64_t N, std::int64_t C, float eps = 1e-5f,
                              int version = 0);

/// The bf16 overload: x, w, b and y in bf16 (y rounded once from fp32), mean and rstd in fp32.
/// @param x (N, C)   @param w (C)   @param b (C)   @param y (N, C)   @param mean (N) or null
/// @param rstd (N) or null   @param N rows   @param C values per row   @param eps \f$ \epsilon \f$
/// @param version as the fp32 overload   @returns the launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t layernorm_forward(const __nv_bfloat16* x, const __nv_bfloat16* w,
                              const __nv_bfloat16* b, __nv_bfloat16* y, float* mean, float* rstd,
                              std::int64_t N, std::int64_t C, float eps = 1e-5f, int version = 0);

/// Floats of device scratch layernorm_backward needs for (N, C): the per-chunk partial sums
/// of dw and db (two-stage, deterministic: no float atomics). 0 when N or C is 0.
/// @param N rows, ≥ 0   @param C values per row, ≥ 0
/// @returns the number of floats (the same for every version; v1 does not touch it)
std::int64_t layernorm_backward_scratch(std::int64_t N, std::int64_t C);

/// The gradients of layernorm_forward, accumulated (`+=`, llm.c's convention). With
/// \f$ \hat{x}_{rc} = (x_{rc} - \mu_r) s_r \f$ and \f$ g_{rc} = w_c\, dy_{rc} \f$:
/// \f[ dx_{rc} \mathrel{+}= s_r \big(g_{rc} - \overline{g}_r - \hat{x}_{rc}\,
/// \overline{g\hat{x}}_r\big),
///     \quad dw_c \mathrel{+}= \sum_r \hat{x}_{rc}\, dy_{rc}, \quad db_c \mathrel{+}= \sum_r
///     dy_{rc} \f]
/// (bars: means over the row's C values). dw and db are summed over rows in a fixed order that
/// depends only on (N, C) and the version: reruns are bitwise equal.
/// @param dy (N, C) device   @param x (N, C) device   @param w (C) device
/// @param mean (N) device, as layernorm_forward wrote it
/// @param rstd (N) device, as layernorm_forward wrote it
/// @param dx (N, C) device, accumulated
/// @param dw (C) device, accumulated   @param db (C) device, accumulated
/// @param scratch layernorm_backward_scratch(N, C) floats of device memory (may be null for v1)
/// @param N rows   @param C values per row (≥ 1 when N ≥ 1)
/// @param version 0 = picked by C (v2 for C ≤ 1024, else v3), 1 … layernorm_backward_versions
/// @returns the first failing launch's cudaError_t (cudaSuccess without a launch when N == 0)
/// @throws llmlab::Error naming layernorm_backward and the argument when N < 0, C < 1, a
///         pointer is null, N·C overflows or N exceeds a grid, or the version is out of range.
cudaError_t layernorm_backward(const float* dy, const float* x, const float* w, const float* mean,
                               const float* rstd, float* dx, float* dw, float* db, float* scratch,
                               std::int64_t N, std::int64_t C, int version = 0);

/// The bf16 overload: dy, x, w and dx in bf16 (dx read, added to in fp32, rounded once); mean,
/// rstd, dw, db and scratch in fp32.
/// @param dy (N, C)   @param x (N, C)   @param w (C)   @param mean (N)   @param rstd (N)
/// @param dx (N, C)   @param dw (C)   @param db (C)   @param scratch as the fp32 overload
/// @param N rows   @param C values per row   @param version as the fp32 overload
/// @returns the first failing launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t layernorm_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x,
                               const __nv_bfloat16* w, const float* mean, const float* rstd,
                               __nv_bfloat16* dx, float* dw, float* db, float* scratch,
                               std::int64_t N, std::int64_t C, int version = 0);

}  // namespace llmlab::cuda
