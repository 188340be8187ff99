/// \file
/// \brief Chapter 02 lab: the linear layer \f$ y = x W^\top + b \f$ on the GPU — yours to finish.
///
/// x (N, in), W (out, in), b (out) or null, y (N, out), all row-major; fp32 or bf16 in, every
/// product summed in fp32, y rounded once to the input's dtype. The declarations are in
/// <llmlab/cuda/matmul.cuh> (the same as llmlab's solution, optimized/src/matmul.cu; the lab
/// implements the forward only).
///
/// Versions, as in the handout:
/// - v1 naive (given): one thread per y element, lanes of a warp on consecutive rows n.
/// - v2 coalesced (given): the same with lanes on consecutive columns o.
/// - v3 shared-memory tiled: **step 2 — yours**.
/// - v4 register-tiled 2-D blocking: optional step 4; until you write it, version 4 runs v3.
/// Version 0 runs the best you have written (v3, or v4 once it exists).

#include <climits>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/matmul.cuh"
#include "llmlab/cuda/wide_loads.cuh"

namespace llmlab::cuda {
namespace {

/// y's element type from the fp32 sum: float as is, bf16 rounded to nearest-even.
__device__ __forceinline__ void store(float* y, float v) { *y = v; }
__device__ __forceinline__ void store(__nv_bfloat16* y, float v) { *y = __float2bfloat16(v); }

/// y_no = (sum over i of x_ni W_oi) + b_o, for one (n, o) — the sum first, then the bias.
template <class T>
__device__ __forceinline__ void write_y(const T* b, T* y, std::int64_t n, std::int64_t o,
                                        std::int64_t out, float sum) {
  store(&y[n * out + o], b != nullptr ? sum + to_float(b[o]) : sum);
}

// ---- v1 naive (given) ---------------------------------------------------------------------------

constexpr int kFlatX = 32, kFlatY = 8;  // v1/v2 blocks: 32 × 8 threads

/// One thread's whole output: y[n][o] = Σ_i x[n][i] W[o][i] (+ b[o]), if (n, o) is inside y.
template <class T>
__device__ __forceinline__ void linear_at(const T* x, const T* w, const T* b, T* y, std::int64_t n,
                                          std::int64_t o, std::int64_t N, std::int64_t in,
                                          std::int64_t out) {
  if (n >= N || o >= out) return;
  float sum = 0.0f;
  for (std::int64_t i = 0; i < in; ++i) sum += to_float(x[n * in + i]) * to_float(w[o * in + i]);
  write_y(b, y, n, o, out, sum);
}

/// Thread (tx, ty) of block (bx, by) computes y[n][o] with n = 32·bx + tx, o = 8·by + ty: the
/// lanes of a warp take 32 consecutive rows n.
template <class T>
__global__ void matmul_v1(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                          T* __restrict__ y, std::int64_t N, std::int64_t in, std::int64_t out) {
  const std::int64_t n = static_cast<std::int64_t>(blockIdx.x) * kFlatX + threadIdx.x;
  const std::int64_t o = static_cast<std::int64_t>(blockIdx.y) * kFlatY + threadIdx.y;
  linear_at(x, w, b, y, n, o, N, in, out);
}

// ---- v2 coalesced (given) -----------------------------------------------------------------------

/// As v1 with the roles swapped: o = 32·bx + tx, n = 8·by + ty. A warp's 32 lanes now store 32
/// neighbours of y's row n in one transaction and all read the same x[n][i].
template <class T>
__global__ void matmul_v2(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                          T* __restrict__ y, std::int64_t N, std::int64_t in, std::int64_t out) {
  const std::int64_t o = static_cast<std::int64_t>(blockIdx.x) * kFlatX + threadIdx.x;
  const std::int64_t n = static_cast<std::int64_t>(blockIdx.y) * kFlatY + threadIdx.y;
  linear_at(x, w, b, y, n, o, N, in, out);
}

// ---- v3 shared-memory tiled (step 2: yours) -----------------------------------------------------

constexpr int kTile = 32;  // v3: blocks of 32 × 32 threads compute 32 × 32 tiles of y

/// Block (bx, by) computes the tile of y with rows n0 = 32·by … and columns o0 = 32·bx …; thread
/// (tx, ty) computes y[n0 + ty][o0 + tx]. Launched with 32 × 32 threads (see launch_v3).
template <class T>
__global__ void matmul_v3(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                          T* __restrict__ y, std::int64_t N, std::int64_t in, std::int64_t out) {
  __shared__ float xs[kTile][kTile];      // xs[r][c] = x[n0 + r][i0 + c]
  __shared__ float ws[kTile][kTile + 1];  // ws[r][c] = W[o0 + r][i0 + c]; +1: see the handout
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.y) * kTile;
  const std::int64_t o0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  float sum = 0.0f;
  // TODO(step 2): for i0 = 0, 32, 64, … while i0 < in — every tile of the inner dimension,
  //   *including the last, partial one* (in = 97 has tiles at 0, 32, 64 and 96):
  //   1. each thread copies one element of each tile into shared memory, the lanes (tx) walking
  //      the contiguous direction i so a warp reads 32 neighbours:
  //        xs[ty][tx] = x[n0 + ty][i0 + tx]   and   ws[ty][tx] = W[o0 + ty][i0 + tx],
  //      converted with to_float(), and 0.0f where the row or the column is outside the matrix;
  //   2. __syncthreads() — every element of both tiles is written before anyone reads;
  //   3. for c = 0 … 31: sum += xs[ty][c] * ws[tx][c];
  //   4. __syncthreads() — everyone is done reading before the next step overwrites the tiles.
  //   Then, if (n0 + ty, o0 + tx) is inside y: write_y(b, y, n0 + ty, o0 + tx, out, sum).
  (void)x, (void)w, (void)b, (void)y, (void)N, (void)in, (void)out;  // delete when you use them
  (void)xs, (void)ws, (void)n0, (void)o0, (void)tx, (void)ty, (void)sum;
}

// ---- v4 register-tiled 2-D blocking (optional step 4) -------------------------------------------

/// TODO(step 4, optional): a 16 × 16 block computes a 64 × 64 tile of y, each thread 4 × 4
/// outputs (rows ty + 16·r, columns tx + 16·c) in registers, from 64 × 16 tiles of x and W kept
/// k-major in shared memory (xs[k][n], ws[k][o]): per k, load 4 values of each into registers and
/// add their outer product. Launch it in launch_v4 below (16 × 16 threads, grid ⌈out/64⌉ × ⌈N/64⌉).
/// Compare with gemm_v4 in optimized/src/matmul.cu afterwards.

// ---- the launchers (complete) -------------------------------------------------------------------

template <class T>
cudaError_t launch_v3(const T* x, const T* w, const T* b, T* y, std::int64_t N, std::int64_t in,
                      std::int64_t out) {
  // TODO(step 2): delete this statement once matmul_v3 is written.
  throw Error("matmul_forward",
              "not implemented — write the kernel in chapters/02-matmul/lab/matmul.cu "
              "(matmul_v3, step 2 of the handout)");
  return launch(launch_config(dim3(ceil_div(out, kTile), ceil_div(N, kTile)), dim3(kTile, kTile)),
                matmul_v3<T>, x, w, b, y, N, in, out);
}

template <class T>
cudaError_t launch_v4(const T* x, const T* w, const T* b, T* y, std::int64_t N, std::int64_t in,
                      std::int64_t out) {
  // TODO(step 4, optional): launch your matmul_v4<T> here; until then, v3.
  return launch_v3(x, w, b, y, N, in, out);
}

template <class T>
cudaError_t forward_impl(const T* x, const T* w, const T* b, T* y, std::int64_t N, std::int64_t in,
                         std::int64_t out, int version) {
  constexpr const char* where = "matmul_forward";
  if (N < 0 || in < 0 || out < 0)
    throw Error(where, "(N, in, out) = " + shape_str({N, in, out}) + ": sizes must be >= 0");
  if (version < 0 || version > matmul_versions)
    throw Error(where, "version = " + std::to_string(version) + " but versions are 0 (best) to " +
                           std::to_string(matmul_versions));
  if (N > INT_MAX || in > INT_MAX || out > INT_MAX)
    throw Error(where, "(N, in, out) = " + shape_str({N, in, out}) + " is too large");
  if ((x == nullptr && N * in > 0) || (w == nullptr && out * in > 0) ||
      (y == nullptr && N * out > 0))
    throw Error(where, "x, w or y is null but (N, in, out) = " + shape_str({N, in, out}));
  if (N == 0 || out == 0) return cudaSuccess;

  const dim3 flat(kFlatX, kFlatY);
  switch (version) {
    case 1:
      return launch(launch_config(dim3(ceil_div(N, kFlatX), ceil_div(out, kFlatY)), flat),
                    matmul_v1<T>, x, w, b, y, N, in, out);
    case 2:
      return launch(launch_config(dim3(ceil_div(out, kFlatX), ceil_div(N, kFlatY)), flat),
                    matmul_v2<T>, x, w, b, y, N, in, out);
    case 3:
      return launch_v3(x, w, b, y, N, in, out);
    default:
      return launch_v4(x, w, b, y, N, in, out);  // 0 → v4, the best you have written
  }
}

}  // namespace

cudaError_t matmul_forward(const float* x, const float* w, const float* b, float* y, std::int64_t N,
                           std::int64_t in, std::int64_t out, int version) {
  return forward_impl(x, w, b, y, N, in, out, version);
}

cudaError_t matmul_forward(const __nv_bfloat16* x, const __nv_bfloat16* w, const __nv_bfloat16* b,
                           __nv_bfloat16* y, std::int64_t N, std::int64_t in, std::int64_t out,
                           int version) {
  return forward_impl(x, w, b, y, N, in, out, version);
}

}  // namespace llmlab::cuda
