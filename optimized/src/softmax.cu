/// \file
/// \ingroup group_softmax
/// \brief softmax over each row of x (R, C):
/// \f$ y_j = e^{x_j - m} / \sum_k e^{x_k - m},\ m = \max_k x_k \f$, and its backward
/// \f$ \mathrm{dx}_i \mathrel{+}= y_i (\mathrm{dy}_i - \sum_j \mathrm{dy}_j y_j) \f$.
///
/// fp32 or bf16 in and out, fp32 inside (bf16 is rounded once, on the final store). Subtracting
/// the row maximum makes every exponent ≤ 0, so nothing overflows however large the logits are;
/// tests/softmax_test.cpp keeps a kernel that forgets it, and logits near 90 break it.
///
/// Forward versions (each checked against the reference with the ratio rule, k = 2):
/// - v1 naive: one thread per row, three passes over the row (max, sum of exponentials, write).
///   Neighbouring threads read addresses C apart, so no load is coalesced.
/// - v2 one warp per row: lane l takes columns l, l + 32, …, so a warp's loads are coalesced;
///   the max and the sum are combined across lanes with 5 `__shfl_xor_sync` steps each
///   (warp_allmax, warp_allsum: every lane ends with the total, no shared memory, no barrier).
///   Still three passes over x.
/// - v3 online softmax (Milakov & Gimelshein, 2018): each lane keeps a running maximum m and a
///   running sum d rescaled whenever m grows (\f$ d \leftarrow d e^{m - m'} + e^{x - m'} \f$), and
///   lanes merge their (m, d) pairs the same way (primitives.cuh's MaxSum, push, warp_allmerge) —
///   max and sum in one pass, two passes over x.
///
/// Backward versions (ratio rule, k = 3):
/// - v1 naive: one thread per row (the dot product, then the write).
/// - v2 one warp per row, the dot product \f$ \sum_j \mathrm{dy}_j y_j \f$ by shuffles.
///
/// The launcher uses v3 forward and v2 backward: coalesced, barrier-free, and (v3) one read of x
/// fewer. One warp per row suits C up to a few thousand (attention rows, hidden sizes); for a
/// 50k-wide vocabulary a block per row would keep more loads in flight. Timing on a GPU awaits a
/// GPU: none has been lent to this project yet. bench/softmax_bench times the emulated versions,
/// which measures the emulator, not a GPU.

#include <climits>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "llmlab/cuda/softmax.cuh"

namespace llmlab::cuda {
namespace {

// v2, v3 and backward v2 run blocks of kBlock threads, one warp per row.
constexpr int kRowsPerBlock = kBlock / kWarpSize;  // v2, v3, backward v2: 8 rows per block
constexpr int kThreadRowsPerBlock = 128;           // v1: rows per block, one row per thread

/// This thread's warp's row (v2, v3, backward v2).
__device__ __forceinline__ std::int64_t warp_row() {
  return static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
}

// ---- forward v1: one thread per row -------------------------------------------------------------

template <class T>
__global__ void softmax_forward_v1(const T* __restrict__ x, T* __restrict__ y, std::int64_t rows,
                                   std::int64_t cols) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const T* xr = x + r * cols;
  T* yr = y + r * cols;
  float m = -INFINITY;
  for (std::int64_t k = 0; k < cols; ++k) m = fmaxf(m, to_float(xr[k]));
  float sum = 0.0f;
  for (std::int64_t k = 0; k < cols; ++k) sum += expf(to_float(xr[k]) - m);
  for (std::int64_t j = 0; j < cols; ++j) store(yr + j, expf(to_float(xr[j]) - m) / sum);
}

// ---- forward v2: one warp per row, shuffles -----------------------------------------------------

template <class T>
__global__ void softmax_forward_v2(const T* __restrict__ x, T* __restrict__ y, std::int64_t rows,
                                   std::int64_t cols) {
  const std::int64_t r = warp_row();
  if (r >= rows) return;  // the whole warp leaves together
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const T* xr = x + r * cols;
  T* yr = y + r * cols;
  float m = -INFINITY;
  for (std::int64_t k = lane; k < cols; k += kWarpSize) m = fmaxf(m, to_float(xr[k]));
  m = warp_allmax(m);
  float sum = 0.0f;
  for (std::int64_t k = lane; k < cols; k += kWarpSize) sum += expf(to_float(xr[k]) - m);
  sum = warp_allsum(sum);
  for (std::int64_t j = lane; j < cols; j += kWarpSize)
    store(yr + j, expf(to_float(xr[j]) - m) / sum);
}

// ---- forward v3: online softmax, one warp per row -----------------------------------------------

template <class T>
__global__ void softmax_forward_v3(const T* __restrict__ x, T* __restrict__ y, std::int64_t rows,
                                   std::int64_t cols) {
  const std::int64_t r = warp_row();
  if (r >= rows) return;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const T* xr = x + r * cols;
  T* yr = y + r * cols;
  MaxSum s{-INFINITY, 0.0f};  // this lane's running max and sum of e^{x − m}
  for (std::int64_t k = lane; k < cols; k += kWarpSize) s = push(s, to_float(xr[k]));
  s = warp_allmerge(s);  // the row's (m, d), in every lane
  for (std::int64_t j = lane; j < cols; j += kWarpSize)
    store(yr + j, expf(to_float(xr[j]) - s.m) / s.d);
}

// ---- backward v1: one thread per row ------------------------------------------------------------

template <class T>
__global__ void softmax_backward_v1(const T* __restrict__ dy, const T* __restrict__ y,
                                    T* __restrict__ dx, std::int64_t rows, std::int64_t cols) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const std::int64_t o = r * cols;
  float dot = 0.0f;  // Σ_j dy_j y_j
  for (std::int64_t j = 0; j < cols; ++j) dot += to_float(dy[o + j]) * to_float(y[o + j]);
  for (std::int64_t i = 0; i < cols; ++i)
    store(dx + o + i, to_float(dx[o + i]) + to_float(y[o + i]) * (to_float(dy[o + i]) - dot));
}

// ---- backward v2: one warp per row, shuffles ----------------------------------------------------

template <class T>
__global__ void softmax_backward_v2(const T* __restrict__ dy, const T* __restrict__ y,
                                    T* __restrict__ dx, std::int64_t rows, std::int64_t cols) {
  const std::int64_t r = warp_row();
  if (r >= rows) return;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const std::int64_t o = r * cols;
  float dot = 0.0f;
  for (std::int64_t j = lane; j < cols; j += kWarpSize)
    dot += to_float(dy[o + j]) * to_float(y[o + j]);
  dot = warp_allsum(dot);
  for (std::int64_t i = lane; i < cols; i += kWarpSize)
    store(dx + o + i, to_float(dx[o + i]) + to_float(y[o + i]) * (to_float(dy[o + i]) - dot));
}

// ---- the launchers ------------------------------------------------------------------------------

/// Checks the sizes, version and pointers of a softmax launch (C = 0 is refused, as by the
/// reference); @returns false when R == 0.
bool check_args(const char* where, std::int64_t rows, std::int64_t cols, int version, int versions,
                std::initializer_list<NamedPointer> tensors) {
  check_count(where, "rows", rows);
  check_count(where, "cols", cols);
  check_version(where, version, versions);
  const std::string shape = shape_str({rows, cols});
  if (cols == 0)  // also with no rows: the reference refuses C = 0 whatever the rows
    throw Error(where, "(rows, cols) = " + shape + ": a softmax over 0 values has no sum");
  if (rows == 0) return false;
  if (rows > static_cast<std::int64_t>(INT_MAX) * kRowsPerBlock || rows > INT64_MAX / cols)
    throw Error(where, "(rows, cols) = " + shape + ": too many rows for one grid");
  check_pointers(where, "(rows, cols)", {rows, cols}, tensors);
  return true;
}

/// The launch configuration of a version: a thread per row (v1) or a warp per row.
cudaLaunchConfig_t row_config(std::int64_t rows, bool thread_per_row) {
  return thread_per_row ? thread_per_item_config(rows, kThreadRowsPerBlock)
                        : launch_config(dim3(ceil_div(rows, kRowsPerBlock)), dim3(kBlock));
}

template <class T>
cudaError_t forward_impl(const T* x, T* y, std::int64_t rows, std::int64_t cols, int version) {
  if (!check_args("softmax_forward", rows, cols, version, softmax_forward_versions,
                  {{x, "x"}, {y, "y"}}))
    return cudaSuccess;
  if (version == 0) version = softmax_forward_versions;
  const cudaLaunchConfig_t cfg = row_config(rows, version == 1);
  switch (version) {
    case 1:
      return launch(cfg, softmax_forward_v1<T>, x, y, rows, cols);
    case 2:
      return launch(cfg, softmax_forward_v2<T>, x, y, rows, cols);
    default:
      return launch(cfg, softmax_forward_v3<T>, x, y, rows, cols);
  }
}

template <class T>
cudaError_t backward_impl(const T* dy, const T* y, T* dx, std::int64_t rows, std::int64_t cols,
                          int version) {
  if (!check_args("softmax_backward", rows, cols, version, softmax_backward_versions,
                  {{dy, "dy"}, {y, "y"}, {dx, "dx"}}))
    return cudaSuccess;
  if (version == 0) version = softmax_backward_versions;
  const cudaLaunchConfig_t cfg = row_config(rows, version == 1);
  if (version == 1) return launch(cfg, softmax_backward_v1<T>, dy, y, dx, rows, cols);
  return launch(cfg, softmax_backward_v2<T>, dy, y, dx, rows, cols);
}

}  // namespace

cudaError_t softmax_forward(const float* x, float* y, std::int64_t rows, std::int64_t cols,
                            int version) {
  return forward_impl(x, y, rows, cols, version);
}

cudaError_t softmax_forward(const __nv_bfloat16* x, __nv_bfloat16* y, std::int64_t rows,
                            std::int64_t cols, int version) {
  return forward_impl(x, y, rows, cols, version);
}

cudaError_t softmax_backward(const float* dy, const float* y, float* dx, std::int64_t rows,
                             std::int64_t cols, int version) {
  return backward_impl(dy, y, dx, rows, cols, version);
}

cudaError_t softmax_backward(const __nv_bfloat16* dy, const __nv_bfloat16* y, __nv_bfloat16* dx,
                             std::int64_t rows, std::int64_t cols, int version) {
  return backward_impl(dy, y, dx, rows, cols, version);
}

}  // namespace llmlab::cuda
