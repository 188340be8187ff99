#pragma once
/// \file
/// \brief Wide loads for memory-bound kernels: the vector type a kernel moves per load for an
/// element type, whether a pointer allows it, and float widening of the elements.
///
/// One wide load moves `Wide<T>::width` elements of T in a single memory instruction:
///
/// | T               | `Wide<T>::type`  | width | bytes |
/// |-----------------|------------------|-------|-------|
/// | float           | float4           | 4     | 16    |
/// | __nv_bfloat16   | __nv_bfloat162   | 2     | 4     |
///
/// A kernel may reinterpret `const T*` as `const Wide<T>::type*` only where the address is a
/// multiple of those bytes (`wide_aligned`); the elements before the first such address and after
/// the last whole vector go one T at a time. Used by vector_add (v2) and reduce_sum (v3).

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// The wide type a kernel loads for element type T, and how many T it holds.
template <class T>
struct Wide;
/// fp32 loads four at a time.
template <>
struct Wide<float> {
  using type = float4;             ///< the wide type
  static constexpr int width = 4;  ///< elements per wide load
};
/// bf16 loads two at a time.
template <>
struct Wide<__nv_bfloat16> {
  using type = __nv_bfloat162;     ///< the wide type
  static constexpr int width = 2;  ///< elements per wide load
};

/// Whether `p` may be read or written as `Wide<T>::type` (its address a multiple of its size).
template <class T>
__host__ __device__ __forceinline__ bool wide_aligned(const T* p) {
  return reinterpret_cast<std::uintptr_t>(p) % sizeof(typename Wide<T>::type) == 0;
}

/// x as a float (exact for both element types): what kernels accumulate in.
__device__ __forceinline__ float to_float(float x) { return x; }
/// x as a float (exact).
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

}  // namespace llmlab::cuda
