#pragma once
/// \file
/// \brief Wide loads for memory-bound kernels: the vector type a kernel moves per load for an
/// element type, and whether a pointer allows it.
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
/// the last whole vector go one T at a time. Used by vector_add (v2), reduce_sum (v3), gelu (v2)
/// and embedding (forward v2). The elements' float widening (to_float) and the wide adds are in
/// primitives.cuh, which this header includes.

#include <cstdint>

#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"

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

}  // namespace llmlab::cuda
