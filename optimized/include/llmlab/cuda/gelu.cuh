#pragma once
/// \file
/// \ingroup group_gelu
/// \brief GELU (GPT-2's tanh approximation) on the GPU, forward and backward, element-wise
/// (versions in src/gelu.cu).
///
/// Dtypes: fp32, or bf16 in and out with fp32 math (each output rounded once, to nearest-even).

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// Number of numbered gelu versions (1 … gelu_versions), forward and backward; 0 picks the best.
inline constexpr int gelu_versions = 2;

/// \f$ y_i = \tfrac{1}{2} x_i (1 + \tanh u_i),\ u_i = \sqrt{2/\pi}\,(x_i + 0.044715\, x_i^3) \f$,
/// in fp32.
/// @param x (n) device   @param y (n) device, written (may be x: in place)
/// @param n number of elements ≥ 0
/// @param version 0 = the best (default), 1 … gelu_versions a numbered one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when n == 0)
/// @throws llmlab::Error naming gelu_forward and the argument when n < 0, x or y is null while
///         n > 0, or the version is out of range.
cudaError_t gelu_forward(const float* x, float* y, std::int64_t n, int version = 0);

/// The bf16 overload: x and y in bf16, the math in fp32.
/// @param x (n)   @param y (n)   @param n number of elements   @param version as the fp32 overload
/// @returns the launch's cudaError_t   @throws llmlab::Error as the fp32 overload.
cudaError_t gelu_forward(const __nv_bfloat16* x, __nv_bfloat16* y, std::int64_t n, int version = 0);

/// The gradient of gelu_forward, accumulated (`+=`, llm.c's CPU gelu_backward):
/// \f$ dx_i \mathrel{+}= dy_i \big(\tfrac{1}{2}(1 + \tanh u_i) + \tfrac{1}{2} x_i (1 - \tanh^2 u_i)
///     \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\, x_i^2)\big) \f$.
/// @param dy (n) device   @param x (n) device, the forward's input
/// @param dx (n) device, accumulated (aliasing neither dy nor x)
/// @param n number of elements ≥ 0
/// @param version 0 = the best (default), 1 … gelu_versions a numbered one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when n == 0)
/// @throws llmlab::Error naming gelu_backward and the argument when n < 0, a pointer is null while
///         n > 0, or the version is out of range.
cudaError_t gelu_backward(const float* dy, const float* x, float* dx, std::int64_t n,
                          int version = 0);

/// The bf16 overload: dy, x and dx in bf16 (dx read, added to in fp32, rounded once).
/// @param dy (n)   @param x (n)   @param dx (n)   @param n number of elements
/// @param version as the fp32 overload   @returns the launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t gelu_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x, __nv_bfloat16* dx,
                          std::int64_t n, int version = 0);

}  // namespace llmlab::cuda
