#pragma once
/// \file
/// \ingroup group_matmul
/// \brief matmul on the GPU: the linear layer \f$ y = x W^\top + b \f$ and its backward, as GEMMs
/// in four numbered versions (naive → coalesced → shared-memory tiled → register-tiled; see
/// src/matmul.cu) plus, in GPU builds, cuBLAS.
///
/// Shapes follow `torch.nn.Linear`: x (N, in), W (out, in), b (out), y (N, out), all row-major
/// device memory, N = B·T the flattened rows (\ref conventions). Inputs are fp32 or bf16; every
/// product is accumulated in fp32 and y and dx are rounded once to the input's dtype (bf16 in →
/// bf16 out, as llm.c does), while the parameter gradients dW and db are fp32 in both (the
/// optimizer's dtype: \ref conventions).
///
/// Version 0 is the best: **cuBLAS** (`cublasGemmEx`, fp32 compute, no TF32) — the toolkit's when
/// the file is compiled by nvcc, the emulator's CPU subset under the emulator. Versions 1 …
/// matmul_versions select one of ours in either build.
///
/// The backward **accumulates** (+=) into dx, dW and db, like the reference (llm.c's
/// convention): zero them before the first backward of a step.

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// Number of numbered matmul versions (1 … matmul_versions); version 0 picks the best.
inline constexpr int matmul_versions = 4;

/// \f$ y_{n,o} = \sum_{i<\mathrm{in}} x_{n,i} W_{o,i} + b_o \f$ in fp32, each sum in an order
/// fixed by the version and shape (reruns are bitwise equal).
/// @param x (N, in) device   @param w (out, in) device   @param b (out) device, or null (no bias)
/// @param y (N, out) device (no aliasing with the inputs)
/// @param N rows of x (B·T)   @param in  inner dimension   @param out rows of W
/// @param version 0 = the best (default), 1 … matmul_versions a numbered one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when N or out is 0; in = 0
///          writes b, or zeros)
/// @throws llmlab::Error naming `matmul_forward` and the argument when a size is negative, a grid
///         would be too large, a pointer is null while it would be read or written, the version is
///         out of range, or cuBLAS fails.
cudaError_t matmul_forward(const float* x, const float* w, const float* b, float* y, std::int64_t N,
                           std::int64_t in, std::int64_t out, int version = 0);

/// The bf16 linear layer: \f$ y_{n,o} = \mathrm{bf16}\big(\sum_i x_{n,i} W_{o,i} + b_o\big) \f$,
/// products and sums in fp32, rounded once to nearest-even bf16.
/// @param x (N, in) device, bf16   @param w (out, in) device, bf16
/// @param b (out) device, bf16, or null   @param y (N, out) device, bf16
/// @param N rows of x (B·T)   @param in  inner dimension   @param out rows of W
/// @param version 0 = the best (default), 1 … matmul_versions a numbered one
/// @returns the launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t matmul_forward(const __nv_bfloat16* x, const __nv_bfloat16* w, const __nv_bfloat16* b,
                           __nv_bfloat16* y, std::int64_t N, std::int64_t in, std::int64_t out,
                           int version = 0);

/// Backward of matmul_forward, accumulated in place (three launches: dx, dW, then db):
/// \f[ dx_{n,i} \mathrel{+}= \sum_{o} dy_{n,o} W_{o,i}, \qquad
///     dW_{o,i} \mathrel{+}= \sum_{n} dy_{n,o}\, x_{n,i}, \qquad
///     db_o \mathrel{+}= \sum_{n} dy_{n,o}, \f]
/// each sum formed in fp32 and added to the gradient already there. dx and dW use the same GEMM
/// kernel `version` as the forward (with other strides); db is a column sum, one thread per o.
/// @param dy (N, out) device   @param x (N, in) device   @param w (out, in) device
/// @param dx (N, in) device, accumulated   @param dw (out, in) device, accumulated
/// @param db (out) device, accumulated, or null (no bias)
/// @param N rows of x (B·T)   @param in  inner dimension   @param out rows of W
/// @param version 0 = the best (default), 1 … matmul_versions a numbered one
/// @returns the first launch error, or cudaSuccess
/// @throws llmlab::Error naming `matmul_backward` and the argument, as matmul_forward.
cudaError_t matmul_backward(const float* dy, const float* x, const float* w, float* dx, float* dw,
                            float* db, std::int64_t N, std::int64_t in, std::int64_t out,
                            int version = 0);

/// The bf16 backward, as mixed-precision training does it: bf16 activations and weights in, the
/// same sums in fp32; dx (an activation gradient) is read, added to and rounded back to bf16 once
/// per element, while the parameter gradients dW and db are **fp32**, accumulated and stored
/// without rounding to bf16 — what the optimizer receives (\ref conventions).
/// @param dy (N, out) device, bf16   @param x (N, in) device, bf16   @param w (out, in) device,
/// bf16
/// @param dx (N, in) device, bf16, accumulated   @param dw (out, in) device, **fp32**, accumulated
/// @param db (out) device, **fp32**, accumulated, or null
/// @param N rows of x (B·T)   @param in  inner dimension   @param out rows of W
/// @param version 0 = the best (default), 1 … matmul_versions a numbered one
/// @returns the first launch error, or cudaSuccess
/// @throws llmlab::Error as the fp32 overload.
cudaError_t matmul_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x, const __nv_bfloat16* w,
                            __nv_bfloat16* dx, float* dw, float* db, std::int64_t N,
                            std::int64_t in, std::int64_t out, int version = 0);

}  // namespace llmlab::cuda
