/// \file
/// \brief Lab 05: the fused cross-entropy kernel — each row of logits read once with an online
/// max and sum, the loss and the log-sum-exp written, and the backward written in place over the
/// logits.
///
/// The interface is llmlab's own (<llmlab/cuda/cross_entropy.cuh>): logits are (B, T, V)
/// row-major (B·T rows of V), targets (B, T) int32, losses and lse (B, T) fp32; logits fp32, or
/// bf16 with fp32 math. A target equal to ignore_index has loss 0 and a zero gradient row. The
/// launchers at the bottom are complete; you write the pieces:
/// - step 2: `push` — one logit into a lane's running (m, d), online softmax's update.
/// - step 3: `merge` and `warp_merge` — two running states into one, and all 32 lanes' states
///   into one with five `__shfl_xor_sync` steps.
/// - step 4: `cross_entropy_forward_fused` — one warp per row: every lane pushes its logits,
///   the warp merges, lane 0 writes lse = m + log d and the loss lse − x[target].
/// - step 5: `cross_entropy_backward_fused` — dlogits = (e^{x − lse} − [v = target]) · dloss,
///   written at the index it was read from, so dlogits may be the logits (in place).
///
/// Check your work:   scripts/lab.sh 05
/// (or run build/default/chapters/05-cross-entropy/ch05_checks --gtest_filter='Handout*').

#include <climits>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/cross_entropy.cuh"
#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {
namespace {

// [[maybe_unused]] only because the starter code does not use them all yet.
constexpr int kBlock = 256;                                   // threads per block, every kernel
constexpr int kWarp = 32;                                     // lanes per warp
constexpr int kWarps = kBlock / kWarp;                        // warps per block = rows per block
[[maybe_unused]] constexpr unsigned kFullMask = 0xffffffffu;  // all 32 lanes of a warp

/// x as a float (exact for both element types): what the kernels compute in.
[[maybe_unused]] __device__ __forceinline__ float to_float(float x) { return x; }
[[maybe_unused]] __device__ __forceinline__ float to_float(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

/// Writes v to *p in p's dtype (bf16: rounded once, to nearest-even).
[[maybe_unused]] __device__ __forceinline__ void store(float* p, float v) { *p = v; }
[[maybe_unused]] __device__ __forceinline__ void store(__nv_bfloat16* p, float v) {
  *p = __float2bfloat16(v);
}

// ---- step 2: the running (max, sum) of online softmax -------------------------------------------

/// A part of a row: its maximum m and d = Σ e^{x − m} over its values. Empty: (−∞, 0).
struct Running {
  float m;  ///< the largest value so far
  float d;  ///< the sum of e^{x − m} over the values so far
};

/// s with one more value x.
[[maybe_unused]] __device__ __forceinline__ Running push(Running s, float x) {
  // TODO(step 2):
  //   - if x > s.m: the maximum moves to x, and every term of the old sum is rescaled by e^{m − x}:
  //       return {x, s.d * expf(s.m - x) + 1.0f}      (the new term is e^{x − x} = 1)
  //   - if x == -INFINITY: it adds e^{−∞} = 0 — return s unchanged (while s.m is still −∞, the
  //     formula below would give e^{−∞ − (−∞)} = NaN)
  //   - otherwise: return {s.m, s.d + expf(x - s.m)}
  (void)x;
  return s;
}

// ---- step 3: merging running states -------------------------------------------------------------

/// The state of two disjoint parts together:
/// m = max(a.m, b.m), d = a.d e^{a.m − m} + b.d e^{b.m − m}.
[[maybe_unused]] __device__ __forceinline__ Running merge(Running a, Running b) {
  // TODO(step 3): compute m = fmaxf(a.m, b.m); if m == -INFINITY both parts are empty: return a.
  //   Otherwise return {m, a.d * expf(a.m - m) + b.d * expf(b.m - m)}.
  (void)b;
  return a;
}

/// The merge of all 32 lanes' states, every lane ending with it.
[[maybe_unused]] __device__ __forceinline__ Running warp_merge(Running s) {
  // TODO(step 3): for offset = 16, 8, 4, 2, 1: fetch the partner's state,
  //     Running other{__shfl_xor_sync(kFullMask, s.m, offset),
  //                   __shfl_xor_sync(kFullMask, s.d, offset)};
  //   and s = merge(s, other). After five steps every lane holds the whole warp's (m, d).
  return s;
}

// ---- step 4: the fused forward ------------------------------------------------------------------

/// Launched with ⌈rows / 8⌉ blocks of 256 threads: warp w of block k handles row r = 8k + w.
template <class T>
__global__ void cross_entropy_forward_fused(const T* __restrict__ x,
                                            const std::int32_t* __restrict__ targets,
                                            float* __restrict__ losses, float* __restrict__ lse,
                                            std::int64_t rows, std::int64_t V,
                                            std::int32_t ignore_index) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / kWarp;
  if (r >= rows) return;  // the whole warp leaves together
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  // TODO(step 4):
  //   1. Running s{-INFINITY, 0.0f}; lane takes v = lane, lane + 32, … < V:
  //      s = push(s, to_float(x[r * V + v])) — each logit is read once, by one lane.
  //   2. s = warp_merge(s): the row's (m, d) in every lane.
  //   3. Lane 0 only: l = s.m + logf(s.d); lse[r] = l; and with y = targets[r],
  //      losses[r] = y == ignore_index ? 0 : l - to_float(x[r * V + y]).
  //      (Never −log of a probability: e^{−120} is 0 in float, the loss is 120.)
  (void)x, (void)targets, (void)losses, (void)lse, (void)V, (void)ignore_index, (void)lane;
}

// ---- step 5: the fused backward, in place -------------------------------------------------------

/// Launched like the forward. dx may be x itself, so neither pointer is __restrict__.
template <class T>
__global__ void cross_entropy_backward_fused(const T* x, const std::int32_t* __restrict__ targets,
                                             const float* __restrict__ lse,
                                             const float* __restrict__ dlosses, T* dx,
                                             std::int64_t rows, std::int64_t V,
                                             std::int32_t ignore_index) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / kWarp;
  if (r >= rows) return;
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  // TODO(step 5): y = targets[r]. For v = lane, lane + 32, … < V:
  //   - if y == ignore_index: store(dx + r * V + v, 0.0f)   (no gradient: overwrite with zeros)
  //   - else: p = expf(to_float(x[r * V + v]) - lse[r]);
  //           store(dx + r * V + v, (p - (v == y ? 1.0f : 0.0f)) * dlosses[r]).
  //   Each lane reads x[r·V + v] before it writes dx[r·V + v], and no other lane touches that
  //   element: that is what makes dx == x safe.
  (void)x, (void)targets, (void)lse, (void)dlosses, (void)dx, (void)V, (void)ignore_index,
      (void)lane;
}

// ---- the launchers (complete but for the "not implemented" lines) -------------------------------

/// Sizes, version and pointers (llmlab's own launcher also copies the targets to the host to
/// check each is in [0, V) or ignore_index; the lab trusts them).
void check_arguments(const char* where, std::int64_t B, std::int64_t T_, std::int64_t V,
                     int version, int versions, std::initializer_list<const void*> pointers) {
  if (B < 0 || T_ < 0 || V < 0 || (B * T_ > 0 && V == 0))
    throw Error(where, "(B, T, V) = " + shape_str({B, T_, V}) + ": sizes >= 0 and V >= 1");
  if (version < 0 || version > versions)
    throw Error(where, "version = " + std::to_string(version) + " but versions are 0 (best) to " +
                           std::to_string(versions));
  if (B * T_ > static_cast<std::int64_t>(INT_MAX) * kWarps)
    throw Error(where, "B * T = " + std::to_string(B * T_) + ": too many rows for a grid");
  for (const void* p : pointers)
    if (p == nullptr && B * T_ > 0)
      throw Error(where, "a pointer is null but (B, T, V) = " + shape_str({B, T_, V}));
}

template <class T>
cudaError_t forward_impl(const T* logits, const std::int32_t* targets, float* losses, float* lse,
                         std::int64_t B, std::int64_t T_, std::int64_t V, std::int32_t ignore_index,
                         int version) {
  check_arguments("cross_entropy_forward", B, T_, V, version, cross_entropy_forward_versions,
                  {logits, targets, losses, lse});
  const std::int64_t rows = B * T_;
  if (rows == 0) return cudaSuccess;
  // TODO(steps 2-4): delete this statement once push, merge, warp_merge and
  //   cross_entropy_forward_fused are written.
  throw Error("cross_entropy_forward",
              "not implemented — write push, merge, warp_merge and cross_entropy_forward_fused in "
              "chapters/05-cross-entropy/lab/cross_entropy.cu (steps 2-4 of the handout)");
  return launch(launch_config(dim3(ceil_div(rows, kWarps)), dim3(kBlock)),
                cross_entropy_forward_fused<T>, logits, targets, losses, lse, rows, V,
                ignore_index);  // every version: the lab has one
}

template <class T>
cudaError_t backward_impl(const T* logits, const std::int32_t* targets, const float* lse,
                          const float* dlosses, T* dlogits, std::int64_t B, std::int64_t T_,
                          std::int64_t V, std::int32_t ignore_index, int version) {
  check_arguments("cross_entropy_backward", B, T_, V, version, cross_entropy_backward_versions,
                  {logits, targets, lse, dlosses, dlogits});
  const std::int64_t rows = B * T_;
  if (rows == 0) return cudaSuccess;
  // TODO(step 5): delete this statement once cross_entropy_backward_fused is written.
  throw Error("cross_entropy_backward",
              "not implemented — write cross_entropy_backward_fused in "
              "chapters/05-cross-entropy/lab/cross_entropy.cu (step 5 of the handout)");
  return launch(launch_config(dim3(ceil_div(rows, kWarps)), dim3(kBlock)),
                cross_entropy_backward_fused<T>, logits, targets, lse, dlosses, dlogits, rows, V,
                ignore_index);
}

}  // namespace

cudaError_t cross_entropy_forward(const float* logits, const std::int32_t* targets, float* losses,
                                  float* lse, std::int64_t B, std::int64_t T, std::int64_t V,
                                  std::int32_t ignore_index, int version) {
  return forward_impl(logits, targets, losses, lse, B, T, V, ignore_index, version);
}

cudaError_t cross_entropy_forward(const __nv_bfloat16* logits, const std::int32_t* targets,
                                  float* losses, float* lse, std::int64_t B, std::int64_t T,
                                  std::int64_t V, std::int32_t ignore_index, int version) {
  return forward_impl(logits, targets, losses, lse, B, T, V, ignore_index, version);
}

cudaError_t cross_entropy_backward(const float* logits, const std::int32_t* targets,
                                   const float* lse, const float* dlosses, float* dlogits,
                                   std::int64_t B, std::int64_t T, std::int64_t V,
                                   std::int32_t ignore_index, int version) {
  return backward_impl(logits, targets, lse, dlosses, dlogits, B, T, V, ignore_index, version);
}

cudaError_t cross_entropy_backward(const __nv_bfloat16* logits, const std::int32_t* targets,
                                   const float* lse, const float* dlosses, __nv_bfloat16* dlogits,
                                   std::int64_t B, std::int64_t T, std::int64_t V,
                                   std::int32_t ignore_index, int version) {
  return backward_impl(logits, targets, lse, dlosses, dlogits, B, T, V, ignore_index, version);
}

}  // namespace llmlab::cuda
