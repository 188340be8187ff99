/// \file
/// \brief Lab 03: LayerNorm forward and backward kernels — your reductions over a row, and a
/// deterministic one down the columns.
///
/// The interface is llmlab's own (<llmlab/cuda/layernorm.cuh>): x is (N, C) row-major, w and b
/// are (C), mean and rstd are (N); fp32, or bf16 activations with fp32 math. The launchers at the
/// bottom are complete; you write the kernels:
/// - step 2, forward v1: one thread per row — three loops over the row (mean, variance of x − μ,
///   the output). Slow on a GPU (no load is coalesced), but the math in its plainest form.
/// - step 3, forward v2: one warp per row — `warp_allsum` (5 `__shfl_xor_sync` steps) and the
///   same three passes with lane l taking columns l, l + 32, ….
/// - step 4, backward: dx with one warp per row (two sums: \f$ \sum g \f$ and
///   \f$ \sum g \hat{x} \f$), then dw, db with one thread per column walking every row in order.
/// - step 5 (optional), forward v3: one block per row with `block_allsum` (shuffles + shared
///   memory); until you write it, version 3 runs v2.
///
/// Check your work:   scripts/lab.sh 03
/// (or run build/default/chapters/03-layers/ch03_checks --gtest_filter='*Forward*/V1' and so on).

#include <climits>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/layernorm.cuh"

namespace llmlab::cuda {
namespace {

// [[maybe_unused]] only because the starter code does not use them all yet.
constexpr int kBlock = 256;             // threads per block, every kernel
constexpr int kWarp = 32;               // lanes per warp
constexpr int kWarps = kBlock / kWarp;  // warps per block = rows per block in v2
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

// ---- forward v1: one thread per row -------------------------------------------------------------

/// Launched with ⌈N / 256⌉ blocks of 256 threads; thread r of the grid normalises row r.
template <class T>
__global__ void layernorm_forward_v1(const T* __restrict__ x, const T* __restrict__ w,
                                     const T* __restrict__ b, T* __restrict__ y,
                                     float* __restrict__ mean, float* __restrict__ rstd,
                                     std::int64_t N, std::int64_t C, float eps) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= N) return;
  // TODO(step 2):
  //   1. mu = (sum of the row's C values) / C, in float (to_float each value).
  //   2. var = (sum of (x_c - mu)^2) / C — a second loop over the row, NOT E[x^2] - mu^2.
  //   3. s = 1.0f / sqrtf(var + eps)   (sqrtf and a division: rsqrtf is less exact).
  //   4. y_c = (x_c - mu) * s * w_c + b_c, written with store(y + r * C + c, ...).
  //   5. mean[r] = mu and rstd[r] = s — but only when the pointer is not null.
  (void)x, (void)w, (void)b, (void)y, (void)mean, (void)rstd, (void)C, (void)eps;
}

// ---- forward v2: one warp per row ---------------------------------------------------------------

/// Sum over the 32 lanes of a warp, every lane ending with the same total.
[[maybe_unused]] __device__ __forceinline__ float warp_allsum(float v) {
  // TODO(step 3): five steps, offset = 16, 8, 4, 2, 1: v += __shfl_xor_sync(kFullMask, v, offset).
  //   With xor, lane i adds lane i ^ offset's value — a butterfly: after the five steps every
  //   lane holds the sum of all 32 (with __shfl_down_sync only lane 0 would).
  return v;
}

/// Launched with ⌈N / 8⌉ blocks of 256 threads: warp w of block k normalises row 8k + w.
template <class T>
__global__ void layernorm_forward_v2(const T* __restrict__ x, const T* __restrict__ w,
                                     const T* __restrict__ b, T* __restrict__ y,
                                     float* __restrict__ mean, float* __restrict__ rstd,
                                     std::int64_t N, std::int64_t C, float eps) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const std::int64_t r =
      static_cast<std::int64_t>(blockIdx.x) * kWarps + static_cast<int>(threadIdx.x) / kWarp;
  if (r >= N) return;  // the whole warp leaves together, so no shuffle misses a lane
  // TODO(step 3): the same three passes as v1, but lane `lane` takes columns lane, lane + 32, …
  //   and each partial sum goes through warp_allsum before it is divided by C. Lane 0 writes
  //   mean[r] and rstd[r].
  (void)lane, (void)x, (void)w, (void)b, (void)y, (void)mean, (void)rstd, (void)C, (void)eps;
}

// ---- forward v3 (optional): one block per row ---------------------------------------------------

/// Launched with N blocks of 256 threads: block r normalises row r.
template <class T>
__global__ void layernorm_forward_v3(const T* __restrict__ x, const T* __restrict__ w,
                                     const T* __restrict__ b, T* __restrict__ y,
                                     float* __restrict__ mean, float* __restrict__ rstd,
                                     std::int64_t C, float eps) {
  // TODO(step 5, optional): write block_allsum(v) — warp_allsum, lane 0 of each warp stores its
  //   sum in `__shared__ float warp_partial[kWarps]`, __syncthreads(), every thread adds the 8
  //   in the same order, __syncthreads() again (so the next call may reuse warp_partial) — then
  //   the three passes with thread t taking columns t, t + 256, …. Launch it in launch_forward_v3.
  (void)x, (void)w, (void)b, (void)y, (void)mean, (void)rstd, (void)C, (void)eps;
}

// ---- backward: dx with one warp per row, dw and db with one thread per column -------------------

/// Launched like forward v2. With x̂_c = (x_c − μ) s and g_c = w_c dy_c:
/// dx_c += s (g_c − mean(g) − x̂_c · mean(g x̂)).
template <class T>
__global__ void layernorm_dx(const T* __restrict__ dy, const T* __restrict__ x,
                             const T* __restrict__ w, const float* __restrict__ mean,
                             const float* __restrict__ rstd, T* __restrict__ dx, std::int64_t N,
                             std::int64_t C) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const std::int64_t r =
      static_cast<std::int64_t>(blockIdx.x) * kWarps + static_cast<int>(threadIdx.x) / kWarp;
  if (r >= N) return;
  // TODO(step 4):
  //   1. Over the lane's columns: x̂ = (x - mean[r]) * rstd[r], g = w * dy; sum g and g * x̂.
  //   2. warp_allsum both sums, divide by C: mean_g and mean_gxhat.
  //   3. Over the lane's columns again: dx_c = dx_c + (g - mean_g - x̂ * mean_gxhat) * rstd[r]
  //      (read dx, add in float, store once: the gradient accumulates).
  (void)lane, (void)dy, (void)x, (void)w, (void)mean, (void)rstd, (void)dx, (void)C;
}

/// Launched with ⌈C / 256⌉ blocks of 256 threads: thread c sums column c over every row, in row
/// order — deterministic (no atomics), and coalesced (neighbouring threads, neighbouring columns).
template <class T>
__global__ void layernorm_dwdb(const T* __restrict__ dy, const T* __restrict__ x,
                               const float* __restrict__ mean, const float* __restrict__ rstd,
                               float* __restrict__ dw, float* __restrict__ db, std::int64_t N,
                               std::int64_t C) {
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  // TODO(step 4): for r = 0 … N − 1: dw_c += x̂_rc · dy_rc and db_c += dy_rc, summed in two float
  //   registers and added to dw[c] and db[c] once at the end.
  (void)dy, (void)x, (void)mean, (void)rstd, (void)dw, (void)db, (void)N;
}

// ---- the launchers (complete; delete each `throw` when its step is done) ------------------------

template <class T>
cudaError_t launch_forward_v1(const T* x, const T* w, const T* b, T* y, float* mean, float* rstd,
                              std::int64_t N, std::int64_t C, float eps) {
  // TODO(step 2): delete this statement once layernorm_forward_v1 is written.
  throw Error("layernorm_forward",
              "not implemented — write layernorm_forward_v1 in chapters/03-layers/lab/layernorm.cu "
              "(step 2 of the handout)");
  return launch(launch_config(dim3(ceil_div(N, kBlock)), dim3(kBlock)), layernorm_forward_v1<T>, x,
                w, b, y, mean, rstd, N, C, eps);
}

template <class T>
cudaError_t launch_forward_v2(const T* x, const T* w, const T* b, T* y, float* mean, float* rstd,
                              std::int64_t N, std::int64_t C, float eps) {
  // TODO(step 3): delete this statement once warp_allsum and layernorm_forward_v2 are written.
  throw Error("layernorm_forward",
              "not implemented — write warp_allsum and layernorm_forward_v2 in "
              "chapters/03-layers/lab/layernorm.cu (step 3 of the handout)");
  return launch(launch_config(dim3(ceil_div(N, kWarps)), dim3(kBlock)), layernorm_forward_v2<T>, x,
                w, b, y, mean, rstd, N, C, eps);
}

template <class T>
cudaError_t launch_forward_v3(const T* x, const T* w, const T* b, T* y, float* mean, float* rstd,
                              std::int64_t N, std::int64_t C, float eps) {
  // TODO(step 5, optional): launch layernorm_forward_v3<T> with `N` blocks of kBlock threads
  //   once it is written; until then, v2.
  return launch_forward_v2(x, w, b, y, mean, rstd, N, C, eps);
}

template <class T>
cudaError_t launch_backward(const T* dy, const T* x, const T* w, const float* mean,
                            const float* rstd, T* dx, float* dw, float* db, std::int64_t N,
                            std::int64_t C) {
  // TODO(step 4): delete this statement once layernorm_dx and layernorm_dwdb are written.
  throw Error("layernorm_backward",
              "not implemented — write layernorm_dx and layernorm_dwdb in "
              "chapters/03-layers/lab/layernorm.cu (step 4 of the handout)");
  const cudaError_t err = launch(launch_config(dim3(ceil_div(N, kWarps)), dim3(kBlock)),
                                 layernorm_dx<T>, dy, x, w, mean, rstd, dx, N, C);
  if (err != cudaSuccess) return err;
  return launch(launch_config(dim3(ceil_div(C, kBlock)), dim3(kBlock)), layernorm_dwdb<T>, dy, x,
                mean, rstd, dw, db, N, C);
}

/// The argument checks llmlab's own launchers make (complete).
void check_arguments(const char* where, std::int64_t N, std::int64_t C, int version, int versions,
                     std::initializer_list<const void*> pointers) {
  if (N < 0) throw Error(where, "N = " + std::to_string(N) + " must be >= 0");
  if (C < 0 || (N > 0 && C == 0))
    throw Error(where, "C = " + std::to_string(C) + " must be >= 1 (a row needs a value)");
  if (version < 0 || version > versions)
    throw Error(where, "version = " + std::to_string(version) + " but versions are 0 (best) to " +
                           std::to_string(versions));
  if (N > INT_MAX) throw Error(where, "N = " + std::to_string(N) + ": too many for a grid");
  for (const void* p : pointers)
    if (p == nullptr && N > 0)
      throw Error(where, "a pointer is null but (N, C) = " + shape_str({N, C}));
}

template <class T>
cudaError_t forward_impl(const T* x, const T* w, const T* b, T* y, float* mean, float* rstd,
                         std::int64_t N, std::int64_t C, float eps, int version) {
  check_arguments("layernorm_forward", N, C, version, layernorm_forward_versions, {x, w, b, y});
  if (!(eps > 0.0f)) throw Error("layernorm_forward", "eps must be > 0");
  if (N == 0) return cudaSuccess;
  if (version == 0) version = C <= 1024 ? 2 : 3;  // a warp per row up to 1024 columns
  switch (version) {
    case 1:
      return launch_forward_v1(x, w, b, y, mean, rstd, N, C, eps);
    case 2:
      return launch_forward_v2(x, w, b, y, mean, rstd, N, C, eps);
    default:
      return launch_forward_v3(x, w, b, y, mean, rstd, N, C, eps);
  }
}

template <class T>
cudaError_t backward_impl(const T* dy, const T* x, const T* w, const float* mean, const float* rstd,
                          T* dx, float* dw, float* db, std::int64_t N, std::int64_t C,
                          int version) {
  check_arguments("layernorm_backward", N, C, version, layernorm_backward_versions,
                  {dy, x, w, mean, rstd, dx, dw, db});
  if (N == 0) return cudaSuccess;
  return launch_backward(dy, x, w, mean, rstd, dx, dw, db, N, C);  // one lab version
}

}  // namespace

cudaError_t layernorm_forward(const float* x, const float* w, const float* b, float* y, float* mean,
                              float* rstd, std::int64_t N, std::int64_t C, float eps, int version) {
  return forward_impl(x, w, b, y, mean, rstd, N, C, eps, version);
}

cudaError_t layernorm_forward(const __nv_bfloat16* x, const __nv_bfloat16* w,
                              const __nv_bfloat16* b, __nv_bfloat16* y, float* mean, float* rstd,
                              std::int64_t N, std::int64_t C, float eps, int version) {
  return forward_impl(x, w, b, y, mean, rstd, N, C, eps, version);
}

/// The lab's backward needs no scratch (its dw/db pass is one thread per column).
std::int64_t layernorm_backward_scratch(std::int64_t, std::int64_t) { return 0; }

cudaError_t layernorm_backward(const float* dy, const float* x, const float* w, const float* mean,
                               const float* rstd, float* dx, float* dw, float* db, float*,
                               std::int64_t N, std::int64_t C, int version) {
  return backward_impl(dy, x, w, mean, rstd, dx, dw, db, N, C, version);
}

cudaError_t layernorm_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x,
                               const __nv_bfloat16* w, const float* mean, const float* rstd,
                               __nv_bfloat16* dx, float* dw, float* db, float*, std::int64_t N,
                               std::int64_t C, int version) {
  return backward_impl(dy, x, w, mean, rstd, dx, dw, db, N, C, version);
}

}  // namespace llmlab::cuda
