#pragma once
/// \file
/// \ingroup group_embedding
/// \brief Token + position embedding on the GPU, forward and deterministic backward (versions in
/// src/embedding.cu).

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// Number of numbered embedding_forward versions (1 … embedding_forward_versions); 0 = the best.
inline constexpr int embedding_forward_versions = 2;
/// Number of numbered embedding_backward versions (1 … embedding_backward_versions); 0 = the best.
inline constexpr int embedding_backward_versions = 2;

/// \f$ \mathrm{out}_{b,t,c} = \mathrm{wte}_{\mathrm{ids}_{b,t},c} + \mathrm{wpe}_{t,c} \f$ in fp32
/// (one rounding: bitwise equal to the reference in float).
/// @param ids (B, T) device, int32, each in [0, V)   @param wte (V, C) device
/// @param wpe (maxT, C) device   @param out (B, T, C) device
/// @param B, T, C, V, maxT the sizes (T ≤ maxT)
/// @param version 0 = the best (default), 1 … embedding_forward_versions a numbered one
/// @returns the launch's cudaError_t (cudaSuccess without a launch when B·T·C == 0)
/// @throws llmlab::Error naming the argument when a size is negative, T > maxT, a pointer is null
///         while it would be used, the version is out of range, or an id is outside [0, V) (the
///         launcher copies the B·T ids to the host to check them, naming [b, t] and the id).
cudaError_t embedding_forward(const std::int32_t* ids, const float* wte, const float* wpe,
                              float* out, std::int64_t B, std::int64_t T, std::int64_t C,
                              std::int64_t V, std::int64_t maxT, int version = 0);

/// The bf16 forward: \f$ \mathrm{out} = \mathrm{bf16}(\mathrm{wte} + \mathrm{wpe}) \f$, the sum
/// formed in fp32 and rounded once to nearest-even.
/// @param ids (B, T) device, int32   @param wte (V, C) device   @param wpe (maxT, C) device
/// @param out (B, T, C) device   @param B, T, C, V, maxT the sizes (T ≤ maxT)
/// @param version 0 = the best (default), 1 … embedding_forward_versions a numbered one
/// @returns the launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t embedding_forward(const std::int32_t* ids, const __nv_bfloat16* wte,
                              const __nv_bfloat16* wpe, __nv_bfloat16* out, std::int64_t B,
                              std::int64_t T, std::int64_t C, std::int64_t V, std::int64_t maxT,
                              int version = 0);

/// Backward of embedding_forward, **deterministic** (no atomics: reruns are bitwise equal) and
/// **accumulating** (`+=`, llm.c's convention) in fp32:
/// \f$ \mathrm{dwte}_{v,c} \mathrel{+}= \sum_{(b,t):\,\mathrm{ids}_{b,t}=v} \mathrm{dout}_{b,t,c},
///     \quad \mathrm{dwpe}_{t,c} \mathrel{+}= \sum_b \mathrm{dout}_{b,t,c} \f$,
/// every sum taken in (b, t) order onto the old value, as the reference does.
/// @param dout (B, T, C) device   @param ids (B, T) device, int32, each in [0, V)
/// @param dwte (V, C) device, accumulated into   @param dwpe (maxT, C) device, accumulated into
/// @param B, T, C, V, maxT the sizes (T ≤ maxT)
/// @param version 0 = the best (default), 1 … embedding_backward_versions a numbered one
/// @returns the first failing launch's cudaError_t (cudaSuccess when there is nothing to do)
/// @throws llmlab::Error as embedding_forward.
cudaError_t embedding_backward(const float* dout, const std::int32_t* ids, float* dwte, float* dwpe,
                               std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t V,
                               std::int64_t maxT, int version = 0);

/// The bf16 backward: dout in bf16, dwte and dwpe accumulated and kept in fp32 (summing many
/// rows into a bf16 gradient would lose all but 8 bits of each).
/// @param dout (B, T, C) device, bf16   @param ids (B, T) device, int32
/// @param dwte (V, C) device, fp32   @param dwpe (maxT, C) device, fp32
/// @param B, T, C, V, maxT the sizes (T ≤ maxT)
/// @param version 0 = the best (default), 1 … embedding_backward_versions a numbered one
/// @returns the first failing launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t embedding_backward(const __nv_bfloat16* dout, const std::int32_t* ids, float* dwte,
                               float* dwpe, std::int64_t B, std::int64_t T, std::int64_t C,
                               std::int64_t V, std::int64_t maxT, int version = 0);

/// The int32 elements of device workspace the workspace overloads of embedding_backward need for
/// (B, T): \f$ 3BT + 1 \f$ (version 2's buckets: at most B·T tokens, their starts and the B·T
/// positions).
/// @param B, T the batch's sizes, ≥ 0   @returns the element count
/// @throws llmlab::Error naming `embedding_backward_workspace` when a size is negative.
std::int64_t embedding_backward_workspace(std::int64_t B, std::int64_t T);
/// embedding_backward with the caller's device workspace for version 2's buckets, so that nothing
/// is allocated (what a training step needs: llmlab::cuda::Gpt).
/// @param dout (B, T, C) device   @param ids (B, T) device, int32   @param dwte (V, C), accumulated
/// @param dwpe (maxT, C), accumulated   @param B, T, C, V, maxT the sizes (T ≤ maxT)
/// @param version 0 = the best, 1 … embedding_backward_versions
/// @param workspace embedding_backward_workspace(B, T) int32 of device memory, overwritten
/// @returns the first failing launch's cudaError_t
/// @throws llmlab::Error as the overload without it, and naming `workspace` when it is null.
cudaError_t embedding_backward(const float* dout, const std::int32_t* ids, float* dwte, float* dwpe,
                               std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t V,
                               std::int64_t maxT, int version, std::int32_t* workspace);
/// The bf16 embedding_backward with the caller's workspace.
/// @param dout (B, T, C) device, bf16   @param ids (B, T) device, int32
/// @param dwte (V, C) device, fp32   @param dwpe (maxT, C) device, fp32
/// @param B, T, C, V, maxT the sizes   @param version as the fp32 overload
/// @param workspace embedding_backward_workspace(B, T) int32 of device memory
/// @returns the first failing launch's cudaError_t
/// @throws llmlab::Error as the fp32 overload.
cudaError_t embedding_backward(const __nv_bfloat16* dout, const std::int32_t* ids, float* dwte,
                               float* dwpe, std::int64_t B, std::int64_t T, std::int64_t C,
                               std::int64_t V, std::int64_t maxT, int version,
                               std::int32_t* workspace);

}  // namespace llmlab::cuda
