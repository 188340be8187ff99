/// \file
/// \ingroup group_vector_add
/// \brief vector_add: \f$ c_i = a_i + b_i \f$, element-wise, fp32 and bf16.
///
/// bf16 adds in float and rounds once (`__float2bfloat16`, nearest-even), so a correct kernel is
/// bitwise equal to the float reference rounded to bf16. The kernel is memory-bound (2 loads, 1
/// store, 1 add per element); the versions are about feeding the memory system, not about the add.
///
/// Versions (each tested against the reference in tests/vector_add_test.cpp):
/// - v1 naive: one thread per element, ⌈n / 256⌉ blocks of 256, `if (i < n)` guards the last block.
/// - v2 grid-stride: a grid capped at 1024 blocks (about what an A100/H100 keeps resident), each
///   thread walks at least 4 items `gridDim.x * blockDim.x` apart, so index math and block launch
///   cost are paid once per several items; when a, b and c are all aligned it moves float4 (fp32,
///   16 B) or __nv_bfloat162 (bf16, 4 B) per load, and the < 4 trailing elements go scalar.
///
/// The launcher uses v2 by default: fewer, wider memory instructions for the same bytes. Timing
/// on a GPU awaits a GPU: none has been lent to this project yet. No bench/vector_add_bench
/// exists; the kernel benches in bench/ (e.g. bench/reduce_sum_bench) time emulated versions,
/// which measures the emulator, not a GPU.

#include <climits>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "llmlab/cuda/vector_add.cuh"
#include "llmlab/cuda/wide_loads.cuh"

namespace llmlab::cuda {
namespace {

// Both versions run blocks of kBlock threads; add() (fp32, bf16 rounded once, and the wide
// vectors) is primitives.cuh's.
constexpr int kItemsPerThread = 4;  // v2: grid sized so each thread handles at least this many

// ---- v1: one thread per element -----------------------------------------------------------------

template <class T>
__global__ void vector_add_v1(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c,
                              std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) c[i] = add(a[i], b[i]);
}

// ---- v2: grid-stride loop, wide loads when aligned ----------------------------------------------

template <class T, bool kWide>
__global__ void vector_add_v2(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c,
                              std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t done = 0;  // elements the wide loop covers
  if constexpr (kWide) {
    using V = typename Wide<T>::type;
    const std::int64_t nv = n / Wide<T>::width;
    const V* av = reinterpret_cast<const V*>(a);
    const V* bv = reinterpret_cast<const V*>(b);
    V* cv = reinterpret_cast<V*>(c);
    for (std::int64_t i = first; i < nv; i += stride) cv[i] = add(av[i], bv[i]);
    done = nv * Wide<T>::width;
  }
  for (std::int64_t i = done + first; i < n; i += stride) c[i] = add(a[i], b[i]);  // tail / all
}

// ---- the launcher -------------------------------------------------------------------------------

template <class T>
cudaError_t vector_add_impl(const T* a, const T* b, T* c, std::int64_t n, int version) {
  constexpr const char* where = "vector_add";
  check_count(where, "n", n);
  version = checked_version(where, version, vector_add_versions);
  check_pointers(where, "n", {n}, {{a, "a"}, {b, "b"}, {c, "c"}});
  if (n == 0) return cudaSuccess;

  if (version == 1) {
    const long long blocks = (n + kBlock - 1) / kBlock;
    if (blocks > INT_MAX)
      throw Error(where, "n = " + std::to_string(n) + " needs " + std::to_string(blocks) +
                             " blocks, more than v1's grid limit of 2^31 - 1 (use v2)");
    return launch(thread_per_item_config(n), vector_add_v1<T>, a, b, c, n);
  }
  // v2
  const bool wide = wide_aligned(a) && wide_aligned(b) && wide_aligned(c);
  const std::int64_t items = wide ? n / Wide<T>::width : n;  // the < width tail rides along
  const cudaLaunchConfig_t cfg = grid_stride_config(items, kItemsPerThread);
  return wide ? launch(cfg, vector_add_v2<T, true>, a, b, c, n)
              : launch(cfg, vector_add_v2<T, false>, a, b, c, n);
}

}  // namespace

cudaError_t vector_add(const float* a, const float* b, float* c, std::int64_t n, int version) {
  return vector_add_impl(a, b, c, n, version);
}

cudaError_t vector_add(const __nv_bfloat16* a, const __nv_bfloat16* b, __nv_bfloat16* c,
                       std::int64_t n, int version) {
  return vector_add_impl(a, b, c, n, version);
}

}  // namespace llmlab::cuda
