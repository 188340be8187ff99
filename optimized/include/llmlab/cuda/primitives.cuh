#pragma once
/// \file
/// \ingroup group_emulator
/// \brief The device primitives every kernel in optimized/src shares: the house's launch shape,
/// warp and block all-reduces, the online-softmax merge, fp32/bf16 loads, stores and adds, and the
/// launchers' argument checks.
///
/// Device side (the same names under nvcc and under the emulator):
/// - kWarpSize, kFullMask, kBlock: lanes per warp, the mask naming all of them, and the house's
///   default threads per block;
/// - warp_allsum, warp_allmax: a value combined over the 32 lanes of a warp, every lane ending
///   with the result (5 `__shfl_xor_sync` steps, no shared memory, no barrier);
/// - block_allsum, block_allmax: the same over a block (warps combine with shuffles, the warp
///   results meet in shared memory, every thread combines them in one fixed order);
/// - MaxSum, push, merge, warp_allmerge: online softmax's running (max, sum of exponentials);
/// - to_float, store, add: fp32 or bf16 elements widened to fp32, and fp32 results rounded once.
///
/// Host side, for the launchers: check_count, check_version / checked_version, check_pointers
/// (each throws llmlab::Error naming the function and the argument), and two launch
/// configurations, thread_per_item_config and grid_stride_config.
///
/// Every reduction here combines its values in an order fixed by the block shape alone, so a rerun
/// gives the same bits (no atomics).

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

// ---- launch shape -------------------------------------------------------------------------------

/// Lanes per warp, \f$ 2^5 \f$ on every NVIDIA GPU (a compile-time constant, unlike `warpSize`).
inline constexpr int kWarpSize = 32;
/// The mask of a warp function in which all 32 lanes take part: bit l set for every lane l.
inline constexpr unsigned kFullMask = 0xffffffffu;
/// The house's default threads per block: 256 = 8 warps. A kernel that needs another size names
/// its own constant for what that size means (rows per block, pieces per block, a tile's side).
inline constexpr int kBlock = 256;

// ---- warp and block all-reduces ----------------------------------------------------------------

namespace detail {

/// Addition as a reduction: \f$ a + b \f$, identity 0.
struct SumOp {
  static constexpr float identity = 0.0f;  ///< \f$ 0 + a = a \f$
  /// @returns \f$ a + b \f$
  __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};

/// Maximum as a reduction: \f$ \max(a, b) \f$ (`fmaxf`: a NaN loses to a number), identity
/// \f$ -\infty \f$.
struct MaxOp {
  static constexpr float identity = -INFINITY;  ///< \f$ \max(-\infty, a) = a \f$
  /// @returns \f$ \max(a, b) \f$
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

/// The butterfly over the 32 lanes: for offsets o = 16, 8, 4, 2, 1 each lane l combines its
/// value with lane \f$ l \oplus o \f$'s, \f$ v \leftarrow \mathrm{op}(v, v_{l \oplus o}) \f$. After
/// 5 steps every lane holds the combination of all 32, partners combining the same two values.
template <class Op>
__device__ __forceinline__ float warp_allreduce(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    v = Op{}(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

/// Op over a block of kThreads threads: each warp reduces with warp_allreduce, lane 0 of warp w
/// writes \f$ s_w \f$ to shared memory, and after a barrier every thread computes
/// \f$ \mathrm{op}(\dots\mathrm{op}(\mathrm{op}(\mathrm{identity}, s_0), s_1)\dots, s_{W-1}) \f$
/// in that order (\f$ W = \mathrm{kThreads}/32 \f$). A second barrier lets the next call reuse
/// the shared buffer.
template <int kThreads, class Op>
__device__ __forceinline__ float block_allreduce(float v) {
  static_assert(kThreads % kWarpSize == 0 && kThreads > 0 && kThreads <= 1024,
                "a block of whole warps, at most 1024 threads");
  constexpr int kWarps = kThreads / kWarpSize;
  __shared__ float warp_partial[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  v = warp_allreduce<Op>(v);
  if (lane == 0) warp_partial[warp] = v;
  __syncthreads();
  float total = Op::identity;
  for (int i = 0; i < kWarps; ++i) total = Op{}(total, warp_partial[i]);
  __syncthreads();
  return total;
}

}  // namespace detail

/// \f$ \sum_{l<32} v_l \f$ over the 32 lanes of a warp, every lane ending with the same sum.
/// Butterfly: in 5 steps (offsets 16, 8, 4, 2, 1) each lane adds its partner's (lane ⊕ offset)
/// value, \f$ v \leftarrow v + v_{l \oplus o} \f$. Lane 0 adds in the same tree as a
/// `__shfl_down_sync` reduction, so its bits equal that one's. All 32 lanes must call it together.
/// @param v this lane's value  @returns the warp's sum, in every lane
__device__ __forceinline__ float warp_allsum(float v) {
  return detail::warp_allreduce<detail::SumOp>(v);
}

/// \f$ \max_{l<32} v_l \f$ over the 32 lanes of a warp, every lane ending with it (the butterfly
/// of warp_allsum with `fmaxf`: \f$ v \leftarrow \max(v, v_{l \oplus o}) \f$, exact in any order).
/// All 32 lanes must call it together.
/// @param v this lane's value  @returns the warp's maximum, in every lane
__device__ __forceinline__ float warp_allmax(float v) {
  return detail::warp_allreduce<detail::MaxOp>(v);
}

/// \f$ \sum_{t<\mathrm{kThreads}} v_t \f$ over every thread of a block of kThreads threads (one
/// dimension), every thread ending with the same total. Each warp sums its lanes (warp_allsum),
/// lane 0 of warp w writes \f$ s_w \f$ to shared memory, and after a barrier every thread adds
/// \f$ ((0 + s_0) + s_1) + \dots + s_{W-1} \f$ in that order, \f$ W = \mathrm{kThreads}/32 \f$. A
/// second barrier lets the next call reuse the shared buffer. Every thread of the block must call
/// it (it holds two `__syncthreads`).
/// @tparam kThreads the block's size (blockDim.x), a multiple of 32 up to 1024
/// @param v this thread's value  @returns the block's sum, in every thread
template <int kThreads = kBlock>
__device__ __forceinline__ float block_allsum(float v) {
  return detail::block_allreduce<kThreads, detail::SumOp>(v);
}

/// \f$ \max_{t<\mathrm{kThreads}} v_t \f$ over every thread of a block of kThreads threads, every
/// thread ending with it: block_allsum's scheme with `fmaxf` (warp_allmax, then
/// \f$ \max(\dots\max(-\infty, s_0)\dots, s_{W-1}) \f$), two barriers. Every thread must call it.
/// @tparam kThreads the block's size (blockDim.x), a multiple of 32 up to 1024
/// @param v this thread's value  @returns the block's maximum, in every thread
template <int kThreads = kBlock>
__device__ __forceinline__ float block_allmax(float v) {
  return detail::block_allreduce<kThreads, detail::MaxOp>(v);
}

// ---- online softmax -----------------------------------------------------------------------------

/// The running state of online softmax (Milakov & Gimelshein, 2018) over a part of a row: its
/// maximum \f$ m = \max_k x_k \f$ and \f$ d = \sum_k e^{x_k - m} \f$. The empty part is
/// \f$ (m, d) = (-\infty, 0) \f$. Attention and cross-entropy keep the same pair.
struct MaxSum {
  float m;  ///< running maximum \f$ m \f$
  float d;  ///< running sum \f$ d = \sum_k e^{x_k - m} \f$
};

/// Adds one value x to the state s: if \f$ x > m \f$ the old sum is rescaled to the new maximum,
/// \f$ (m, d) \leftarrow (x,\ d\, e^{m - x} + 1) \f$ (as \f$ e^{x - x} = 1 \f$); otherwise
/// \f$ d \leftarrow d + e^{x - m} \f$. No exponent is ever positive, so nothing overflows. A
/// masked entry, \f$ x = -\infty \f$, adds \f$ e^{-\infty} = 0 \f$ and leaves s as it is — also
/// while m is still \f$ -\infty \f$, where the formula would give
/// \f$ e^{-\infty - (-\infty)} \f$ = NaN (a causal attention row's lanes past the diagonal see
/// only such entries). A NaN, or \f$ +\infty \f$ (whose \f$ e^{x - m} \f$ is
/// \f$ e^{\infty - \infty} \f$), makes the state NaN for good, as it makes the two-pass sum NaN:
/// the whole row's result is then NaN, like the reference's (fmaxf alone would drop a NaN).
/// @param s the state so far  @param x the next value  @returns the state with x
__device__ __forceinline__ MaxSum push(MaxSum s, float x) {
  if (x != x || x == INFINITY) return {NAN, NAN};  // x != x: x is NaN
  if (x > s.m) return {x, s.d * expf(s.m - x) + 1.0f};
  if (x == -INFINITY) return s;
  return {s.m, s.d + expf(x - s.m)};
}

/// The state of two disjoint parts a and b together:
/// \f$ m = \max(m_a, m_b),\quad d = d_a e^{m_a - m} + d_b e^{m_b - m} \f$.
/// Two empty parts (\f$ m = -\infty \f$) merge to a, not to \f$ e^{-\infty - (-\infty)} \f$ = NaN.
/// A NaN part (see push) makes the union NaN (fmaxf would drop its NaN maximum).
/// @param a one part  @param b the other  @returns their union's state
__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
  if (a.m != a.m || b.m != b.m) return {NAN, NAN};  // a NaN part: the row is NaN
  const float m = fmaxf(a.m, b.m);
  if (m == -INFINITY) return a;  // both empty
  return {m, a.d * expf(a.m - m) + b.d * expf(b.m - m)};
}

/// The merge of the 32 lanes' states, every lane ending with it: the butterfly of warp_allsum
/// with merge, \f$ s \leftarrow \mathrm{merge}(s, s_{l \oplus o}) \f$ for offsets 16, 8, 4, 2, 1.
/// Every lane gets the same m; d is the same to the bit under the emulator, and on a GPU may differ
/// between lanes in its last bit, since nvcc may fuse one of merge's two products into an FMA and
/// partners hold them in opposite roles. All 32 lanes must call it together.
/// @param s this lane's state  @returns the warp's state, in every lane
__device__ __forceinline__ MaxSum warp_allmerge(MaxSum s) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    const MaxSum other{__shfl_xor_sync(kFullMask, s.m, offset),
                       __shfl_xor_sync(kFullMask, s.d, offset)};
    s = merge(s, other);
  }
  return s;
}

// ---- fp32 / bf16 elements -----------------------------------------------------------------------

/// x as a float: what kernels accumulate in (exact).
__device__ __forceinline__ float to_float(float x) { return x; }
/// x as a float (exact: every bf16 is a float with the low 16 mantissa bits zero).
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

/// Writes v to *p (fp32: as is).
__device__ __forceinline__ void store(float* p, float v) { *p = v; }
/// Writes v to *p rounded once to bf16, to nearest, ties to even (`__float2bfloat16`).
__device__ __forceinline__ void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16(v); }

/// \f$ a + b \f$ in fp32.
__device__ __forceinline__ float add(float a, float b) { return a + b; }
/// \f$ a + b \f$ formed in fp32 and rounded once to bf16 (nearest-even).
__device__ __forceinline__ __nv_bfloat16 add(__nv_bfloat16 a, __nv_bfloat16 b) {
  return __float2bfloat16(__bfloat162float(a) + __bfloat162float(b));
}
/// \f$ a + b \f$ element by element for four fp32 (one wide load's worth).
__device__ __forceinline__ float4 add(float4 a, float4 b) {
  return float4{a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w};
}
/// \f$ a + b \f$ element by element for two bf16, each formed in fp32 and rounded once.
__device__ __forceinline__ __nv_bfloat162 add(__nv_bfloat162 a, __nv_bfloat162 b) {
  return __nv_bfloat162(add(a.x, b.x), add(a.y, b.y));
}

// ---- the launchers' argument checks (host) ------------------------------------------------------

/// A pointer argument of a launcher, its name in messages, and whether the launch would
/// dereference it (a pointer that is not needed may be null).
struct NamedPointer {
  const void* pointer;  ///< the argument
  const char* name;     ///< its name, as the declaration spells it
  bool needed = true;   ///< false: null is allowed (e.g. an optional output, or nothing to read)
};

/// Requires a size or count \f$ n \ge 0 \f$.
/// @param where the launcher  @param name the argument's name  @param n its value
/// @throws Error(where, "<name> = <n> must be >= 0") when n < 0
inline void check_count(std::string_view where, std::string_view name, std::int64_t n) {
  if (n < 0) throw Error(where, std::string(name) + " = " + std::to_string(n) + " must be >= 0");
}

/// Requires \f$ 0 \le \mathrm{version} \le \mathrm{versions} \f$ (0 asks for the best).
/// @param where the launcher  @param version the one asked for  @param versions how many exist
/// @throws Error(where, "version = <v> but versions are 0 (best) to <versions>") otherwise
inline void check_version(std::string_view where, int version, int versions) {
  if (version < 0 || version > versions)
    throw Error(where, "version = " + std::to_string(version) + " but versions are 0 (best) to " +
                           std::to_string(versions));
}

/// check_version, then the version to run: version itself, or for 0 the highest, `versions`
/// (for launchers whose last version is their best everywhere).
/// @returns \f$ \mathrm{version} \ne 0\ ?\ \mathrm{version} : \mathrm{versions} \f$
/// @throws Error as check_version
inline int checked_version(std::string_view where, int version, int versions) {
  check_version(where, version, versions);
  return version == 0 ? versions : version;
}

/// Requires every needed pointer to be non-null.
/// @param where the launcher
/// @param extent the sizes that make them needed, as messages print them ("n = 4",
///        "(N, in, out) = (2, 3, 2)")
/// @param pointers the pointers, checked in order
/// @throws Error(where, "<name> is null but <extent>") for the first needed null pointer
inline void check_pointers(std::string_view where, std::string_view extent,
                           std::initializer_list<NamedPointer> pointers) {
  for (const NamedPointer& p : pointers)
    if (p.needed && p.pointer == nullptr)
      throw Error(where, std::string(p.name) + " is null but " + std::string(extent));
}

/// Requires every needed pointer to be non-null when the tensor of the given sizes has elements
/// (every size \f$ > 0 \f$); the message names the sizes: "x is null but n = 4" for one size,
/// "x is null but (rows, cols) = (2, 3)" for several.
/// @param where the launcher  @param names the sizes' names ("n", "(rows, cols)")
/// @param sizes their values  @param pointers the pointers, checked in order
/// @throws Error(where, "<name> is null but <names> = <sizes>") for the first needed null pointer
inline void check_pointers(std::string_view where, std::string_view names,
                           std::initializer_list<std::int64_t> sizes,
                           std::initializer_list<NamedPointer> pointers) {
  for (const std::int64_t size : sizes)
    if (size <= 0) return;  // nothing is read or written
  for (const NamedPointer& p : pointers)
    if (p.needed && p.pointer == nullptr) {
      const std::string values =
          sizes.size() == 1 ? std::to_string(*sizes.begin()) : shape_str(sizes);
      throw Error(where,
                  std::string(p.name) + " is null but " + std::string(names) + " = " + values);
    }
}

// ---- launch configurations (host) ---------------------------------------------------------------

/// The grid-stride kernels' cap on blocks: about what an A100 or H100 keeps resident at once.
inline constexpr long long kGridStrideMaxBlocks = 1024;

/// One thread per item: \f$ \lceil \mathrm{items} / \mathrm{threads} \rceil \f$ blocks of
/// `threads` (the kernel guards `i < items`).
/// @param items how many items (> 0)  @param threads threads per block
inline cudaLaunchConfig_t thread_per_item_config(std::int64_t items, int threads = kBlock) {
  return launch_config(dim3(ceil_div(items, threads)), dim3(threads));
}

/// A grid-stride loop's grid: blocks of `threads`, each thread taking at least
/// `items_per_thread` of the items, \f$ \min(\max(\lceil \mathrm{items} / (\mathrm{threads} \cdot
/// \mathrm{items\_per\_thread}) \rceil, 1), \mathrm{kGridStrideMaxBlocks}) \f$ blocks; the kernel
/// strides by `gridDim.x * blockDim.x`, so the cap costs no coverage.
/// @param items how many items (elements, or wide vectors)  @param items_per_thread the least each
/// thread takes  @param threads threads per block
inline cudaLaunchConfig_t grid_stride_config(std::int64_t items, int items_per_thread = 1,
                                             int threads = kBlock) {
  const long long per_block = static_cast<long long>(threads) * items_per_thread;
  long long blocks = (items + per_block - 1) / per_block;
  if (blocks < 1) blocks = 1;
  if (blocks > kGridStrideMaxBlocks) blocks = kGridStrideMaxBlocks;
  return launch_config(dim3(static_cast<unsigned>(blocks)), dim3(threads));
}

}  // namespace llmlab::cuda
