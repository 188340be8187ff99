#pragma once
/// \file
/// \ingroup group_softmax
/// \brief Row-wise softmax on the GPU, forward and backward (versions in src/softmax.cu).

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// Number of numbered softmax_forward versions (1 … softmax_forward_versions); 0 = the best.
inline constexpr int softmax_forward_versions = 3;
/// Number of numbered softmax_backward versions (1 … softmax_backward_versions); 0 = the best.
inline constexpr int softmax_backward_versions = 2;

/// \f$ y_{r,j} = e^{x_{r,j} - m_r} / \sum_k e^{x_{r,k} - m_r},\ m_r = \max_k x_{r,k} \f$, computed
/// in fp32 (never overflows: every exponent is ≤ 0).
/// @param x (R, C) device, row-major   @param y (R, C) device (may not alias x)
/// @param rows R   @param cols C (≥ 1 when R > 0)
/// @param version 0 = the best (default), 1 … softmax_forward_versions a numbered one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when R == 0)
/// @throws llmlab::Error naming the argument when R < 0, C < 1 with R > 0, a pointer is null with
///         R > 0, R is too large for one grid, or the version is out of range.
cudaError_t softmax_forward(const float* x, float* y, std::int64_t rows, std::int64_t cols,
                            int version = 0);
/// bf16 in and out, fp32 inside: each y rounded once to bf16 at the end.
/// @param x (R, C) device   @param y (R, C) device   @param rows R   @param cols C
/// @param version 0 = the best (default), 1 … softmax_forward_versions a numbered one
/// @returns the launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t softmax_forward(const __nv_bfloat16* x, __nv_bfloat16* y, std::int64_t rows,
                            std::int64_t cols, int version = 0);

/// Backward from the forward's output, **accumulating** (`+=`), in fp32:
/// \f$ \mathrm{dx}_{r,i} \mathrel{+}= y_{r,i} (\mathrm{dy}_{r,i} - \sum_j \mathrm{dy}_{r,j}
/// y_{r,j}) \f$.
/// @param dy (R, C) device   @param y (R, C) device   @param dx (R, C) device, accumulated into
/// @param rows R   @param cols C (≥ 1 when R > 0)
/// @param version 0 = the best (default), 1 … softmax_backward_versions a numbered one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when R == 0)
/// @throws llmlab::Error as softmax_forward.
cudaError_t softmax_backward(const float* dy, const float* y, float* dx, std::int64_t rows,
                             std::int64_t cols, int version = 0);
/// bf16 dy, y and dx, fp32 inside: \f$ \mathrm{dx} = \mathrm{bf16}(\mathrm{dx} + \dots) \f$.
/// @param dy (R, C) device   @param y (R, C) device   @param dx (R, C) device, accumulated into
/// @param rows R   @param cols C
/// @param version 0 = the best (default), 1 … softmax_backward_versions a numbered one
/// @returns the launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t softmax_backward(const __nv_bfloat16* dy, const __nv_bfloat16* y, __nv_bfloat16* dx,
                             std::int64_t rows, std::int64_t cols, int version = 0);

}  // namespace llmlab::cuda
