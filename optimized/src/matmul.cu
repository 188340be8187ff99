/// \file
/// \ingroup group_matmul
/// \brief matmul: \f$ y = x W^\top + b \f$ for x (N, in), W (out, in), and its backward — every
/// piece one GEMM kernel, \f$ C_{m,n} = \sum_{k<K} A_{m,k} B_{k,n} \f$, with operands read
/// through strides, and an epilogue that adds a bias or accumulates into C:
///
/// | product            | M   | N   | K   | A(m, k)       | B(k, n)       | epilogue        |
/// |--------------------|-----|-----|-----|---------------|---------------|-----------------|
/// | y = x Wᵀ + b       | N   | out | in  | x[m·in + k]   | W[n·in + k]   | + b[n]          |
/// | dx += dy W         | N   | in  | out | dy[m·out + k] | W[k·in + n]   | C += …          |
/// | dW += dyᵀ x        | out | in  | N   | dy[k·out + m] | x[k·in + n]   | C += …          |
///
/// db += Σₙ dy is a column sum (one thread per column, rows in order). fp32 or bf16 operands,
/// always multiplied and summed in fp32; C is rounded once to its dtype. Sums run over k in
/// increasing order within a thread, so reruns are bitwise equal (no atomics).
///
/// Versions (each tested against the reference in tests/matmul_test.cpp, fp32 and bf16):
/// - v1 naive: one thread per C element, lanes of a warp on consecutive *rows* m — each lane
///   walks its own row of A and the stores of C are strided by N: the textbook first attempt.
/// - v2 coalesced: the same with lanes on consecutive *columns* n, so a warp stores 32 neighbours
///   of C at once and reads A as a broadcast (B stays strided where its n stride is not 1).
/// - v3 shared-memory tiled: a 32×32 block computes a 32×32 tile of C, staging 32×32 tiles of A
///   and B through shared memory with coalesced loads; every element fetched from global memory
///   is used 32 times, so global traffic drops 32×.
/// - v4 register-tiled 2-D blocking: a 16×16 block computes a 64×64 tile, each thread a 4×4
///   sub-tile in registers from k-major 64×16 tiles in shared memory: 8 shared loads per 16 FMAs
///   (v3: 2 per 1) and each global element used 64 times.
///
/// The launchers default (version 0) to cuBLAS under nvcc — tensor cores, asynchronous copies
/// and autotuned tiles beat any of ours — and to v4 under the emulator, our fastest on a GPU by
/// design (fewest global and shared loads per FMA). Timing on a GPU awaits a GPU: none has been
/// lent to this project yet (there, matmul_bench_gpu prints TFLOP/s next to the peak).
/// bench/matmul_bench times the emulated versions, which measures the emulator, not a GPU.

#include <climits>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/matmul.cuh"
#include "llmlab/cuda/primitives.cuh"

#if !LLMLAB_EMULATED
#include <cublas_v2.h>

#include <mutex>
#endif

namespace llmlab::cuda {
namespace {

/// One GEMM \f$ C_{m,n} \mathrel{(+)}= \sum_k A_{m,k} B_{k,n} \f$ (+ bias_n), operands by strides.
template <class T>
struct Gemm {
  const T* A;  ///< A(m, k) = A[m·sam + k·sak]
  std::int64_t sam, sak;
  const T* B;  ///< B(k, n) = B[k·sbk + n·sbn]
  std::int64_t sbk, sbn;
  T* C;           ///< C (M, N) row-major
  const T* bias;  ///< (N) added to every row, or null
  std::int64_t M, N, K;
  bool accumulate;  ///< C += result (backward) instead of C = result (+ bias)
};

template <class T>
__device__ __forceinline__ float a_at(const Gemm<T>& g, std::int64_t m, std::int64_t k) {
  return to_float(g.A[m * g.sam + k * g.sak]);
}
template <class T>
__device__ __forceinline__ float b_at(const Gemm<T>& g, std::int64_t k, std::int64_t n) {
  return to_float(g.B[k * g.sbk + n * g.sbn]);
}

/// The epilogue every version shares: the sum, then the bias or the old C, rounded once (store).
template <class T>
__device__ __forceinline__ void epilogue(const Gemm<T>& g, std::int64_t m, std::int64_t n,
                                         float sum) {
  T* c = g.C + m * g.N + n;
  float v = sum;
  if (g.accumulate)
    v = to_float(*c) + sum;
  else if (g.bias != nullptr)
    v = sum + to_float(g.bias[n]);
  store(c, v);
}

// ---- v1 naive and v2 coalesced: one thread per element of C -------------------------------------

constexpr int kFlatX = 32, kFlatY = 8;  // v1/v2 blocks: 32 × 8 threads

/// One thread's dot product over all of K, in order.
template <class T>
__device__ __forceinline__ float dot(const Gemm<T>& g, std::int64_t m, std::int64_t n) {
  float sum = 0.0f;
  for (std::int64_t k = 0; k < g.K; ++k) sum += a_at(g, m, k) * b_at(g, k, n);
  return sum;
}

template <class T>
__global__ void gemm_v1(Gemm<T> g) {  // lanes on rows m
  const std::int64_t m = static_cast<std::int64_t>(blockIdx.x) * kFlatX + threadIdx.x;
  const std::int64_t n = static_cast<std::int64_t>(blockIdx.y) * kFlatY + threadIdx.y;
  if (m < g.M && n < g.N) epilogue(g, m, n, dot(g, m, n));
}

template <class T>
__global__ void gemm_v2(Gemm<T> g) {  // lanes on columns n
  const std::int64_t n = static_cast<std::int64_t>(blockIdx.x) * kFlatX + threadIdx.x;
  const std::int64_t m = static_cast<std::int64_t>(blockIdx.y) * kFlatY + threadIdx.y;
  if (m < g.M && n < g.N) epilogue(g, m, n, dot(g, m, n));
}

// ---- v3 shared-memory tiled ---------------------------------------------------------------------

constexpr int kTile = 32;  // v3: 32 × 32 threads, 32 × 32 tiles

/// Thread (tx, ty) copies one element of the A tile (rows m0…, columns k0…) and one of the B tile
/// (rows k0…, columns n0…) into shared memory, 0 outside the matrices. Lanes walk the operand's
/// contiguous direction (k for A when sak = 1, else m; n for B when sbn = 1, else k), so a warp
/// reads 32 neighbours; the +1 column of padding keeps the transposed stores conflict-free.
template <class T>
__device__ __forceinline__ void load_tiles_v3(const Gemm<T>& g, float (*As)[kTile + 1],
                                              float (*Bs)[kTile + 1], std::int64_t m0,
                                              std::int64_t n0, std::int64_t k0) {
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int ar = g.sak == 1 ? ty : tx, ac = g.sak == 1 ? tx : ty;  // As[ar][ac] = A(m0+ar, k0+ac)
  const int br = g.sbn == 1 ? ty : tx, bc = g.sbn == 1 ? tx : ty;  // Bs[br][bc] = B(k0+br, n0+bc)
  As[ar][ac] = (m0 + ar < g.M && k0 + ac < g.K) ? a_at(g, m0 + ar, k0 + ac) : 0.0f;
  Bs[br][bc] = (k0 + br < g.K && n0 + bc < g.N) ? b_at(g, k0 + br, n0 + bc) : 0.0f;
}

template <class T>
__global__ void gemm_v3(Gemm<T> g) {
  __shared__ float As[kTile][kTile + 1];
  __shared__ float Bs[kTile][kTile + 1];
  const std::int64_t m0 = static_cast<std::int64_t>(blockIdx.y) * kTile;
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);

  float sum = 0.0f;
  for (std::int64_t k0 = 0; k0 < g.K; k0 += kTile) {  // every K tile, the last partial one too
    load_tiles_v3(g, As, Bs, m0, n0, k0);
    __syncthreads();  // the tiles are complete
    for (int kk = 0; kk < kTile; ++kk) sum += As[ty][kk] * Bs[kk][tx];
    __syncthreads();  // everyone is done with them before the next load
  }
  if (m0 + ty < g.M && n0 + tx < g.N) epilogue(g, m0 + ty, n0 + tx, sum);
}

// ---- v4 register-tiled 2-D blocking -------------------------------------------------------------

constexpr int kBM = 64, kBN = 64, kBK = 16;  // v4 block tile: 64 × 64 of C, 16 of K per step
constexpr int kThreads = 16;                 // v4 block: 16 × 16 threads
constexpr int kTM = kBM / kThreads, kTN = kBN / kThreads;  // 4 × 4 outputs per thread

/// The 256 threads copy the A tile (kBM × kBK) and the B tile (kBK × kBN) into k-major shared
/// arrays As[k][m], Bs[k][n], walking each operand's contiguous direction, 0 outside the matrices.
template <class T>
__device__ __forceinline__ void load_tiles_v4(const Gemm<T>& g, float (*As)[kBM + 4],
                                              float (*Bs)[kBN + 4], std::int64_t m0,
                                              std::int64_t n0, std::int64_t k0) {
  const int t = static_cast<int>(threadIdx.y) * kThreads + static_cast<int>(threadIdx.x);
  for (int l = t; l < kBM * kBK; l += kThreads * kThreads) {
    const int kk = g.sak == 1 ? l % kBK : l / kBM;
    const int mm = g.sak == 1 ? l / kBK : l % kBM;
    As[kk][mm] = (m0 + mm < g.M && k0 + kk < g.K) ? a_at(g, m0 + mm, k0 + kk) : 0.0f;
  }
  for (int l = t; l < kBK * kBN; l += kThreads * kThreads) {
    const int kk = g.sbn == 1 ? l / kBN : l % kBK;
    const int nn = g.sbn == 1 ? l % kBN : l / kBK;
    Bs[kk][nn] = (k0 + kk < g.K && n0 + nn < g.N) ? b_at(g, k0 + kk, n0 + nn) : 0.0f;
  }
}

template <class T>
__global__ void gemm_v4(Gemm<T> g) {
  __shared__ float As[kBK][kBM + 4];  // +4: the k-major stores of a k-contiguous A spread banks
  __shared__ float Bs[kBK][kBN + 4];
  const std::int64_t m0 = static_cast<std::int64_t>(blockIdx.y) * kBM;
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.x) * kBN;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);

  // Thread (tx, ty) owns rows ty + 16i and columns tx + 16j of the tile: neighbouring lanes own
  // neighbouring columns, so shared reads of Bs and the stores of C are contiguous.
  float acc[kTM][kTN] = {};
  for (std::int64_t k0 = 0; k0 < g.K; k0 += kBK) {
    load_tiles_v4(g, As, Bs, m0, n0, k0);
    __syncthreads();
    for (int kk = 0; kk < kBK; ++kk) {
      float a[kTM], b[kTN];
      for (int i = 0; i < kTM; ++i) a[i] = As[kk][ty + kThreads * i];
      for (int j = 0; j < kTN; ++j) b[j] = Bs[kk][tx + kThreads * j];
      for (int i = 0; i < kTM; ++i)
        for (int j = 0; j < kTN; ++j) acc[i][j] += a[i] * b[j];  // the outer product
    }
    __syncthreads();
  }
  for (int i = 0; i < kTM; ++i)
    for (int j = 0; j < kTN; ++j) {
      const std::int64_t m = m0 + ty + kThreads * i, n = n0 + tx + kThreads * j;
      if (m < g.M && n < g.N) epilogue(g, m, n, acc[i][j]);
    }
}

// ---- db: column sums ----------------------------------------------------------------------------

// column_sum_accumulate and fill_rows run one thread per item in blocks of kBlock threads.

/// db_o (+)= Σ_n dy_{n,o}: thread o walks column o top to bottom (a warp reads 32 neighbours).
template <class T>
__global__ void column_sum_accumulate(const T* __restrict__ dy, T* __restrict__ db, std::int64_t N,
                                      std::int64_t out) {
  const std::int64_t o = static_cast<std::int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  if (o >= out) return;
  float sum = 0.0f;
  for (std::int64_t n = 0; n < N; ++n) sum += to_float(dy[n * out + o]);
  store(db + o, to_float(db[o]) + sum);
}

/// y_{n,o} = b_o (or 0): the cuBLAS path's C before a GEMM with β = 1, and y when in = 0.
template <class T>
__global__ void fill_rows(const T* __restrict__ b, T* __restrict__ y, std::int64_t N,
                          std::int64_t out) {
  const std::int64_t idx = static_cast<std::int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  if (idx >= N * out) return;
  if (b != nullptr)
    y[idx] = b[idx % out];
  else
    store(y + idx, 0.0f);
}

// ---- launching one GEMM -------------------------------------------------------------------------

/// Throws unless `blocks` fits a grid's y dimension (65535).
void check_grid_y(const char* where, unsigned long long blocks, const std::string& shape) {
  if (blocks > 65535)
    throw Error(where,
                shape + " needs " + std::to_string(blocks) + " blocks in grid y, more than 65535");
}

template <class T>
cudaError_t launch_gemm(const char* where, const Gemm<T>& g, int version,
                        const std::string& shape) {
  if (g.M == 0 || g.N == 0) return cudaSuccess;
  switch (version) {
    case 1:
      check_grid_y(where, ceil_div(g.N, kFlatY), shape);
      return launch(
          launch_config(dim3(ceil_div(g.M, kFlatX), ceil_div(g.N, kFlatY)), dim3(kFlatX, kFlatY)),
          gemm_v1<T>, g);
    case 2:
      check_grid_y(where, ceil_div(g.M, kFlatY), shape);
      return launch(
          launch_config(dim3(ceil_div(g.N, kFlatX), ceil_div(g.M, kFlatY)), dim3(kFlatX, kFlatY)),
          gemm_v2<T>, g);
    case 3:
      check_grid_y(where, ceil_div(g.M, kTile), shape);
      return launch(
          launch_config(dim3(ceil_div(g.N, kTile), ceil_div(g.M, kTile)), dim3(kTile, kTile)),
          gemm_v3<T>, g);
    default:
      check_grid_y(where, ceil_div(g.M, kBM), shape);
      return launch(
          launch_config(dim3(ceil_div(g.N, kBN), ceil_div(g.M, kBM)), dim3(kThreads, kThreads)),
          gemm_v4<T>, g);
  }
}

// ---- cuBLAS (GPU builds only) -------------------------------------------------------------------

#if !LLMLAB_EMULATED
/// One cuBLAS handle for the process, made on first use.
cublasHandle_t cublas_handle() {
  static std::once_flag once;
  static cublasHandle_t handle = nullptr;
  std::call_once(once, [] {
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS)
      throw Error("matmul", "cublasCreate failed (no GPU or out of memory?)");
  });
  return handle;
}

template <class T>
constexpr cudaDataType_t cuda_type() {
  return sizeof(T) == 4 ? CUDA_R_32F : CUDA_R_16BF;
}

/// Row-major C (M, N) (+)= A B as cuBLAS's column-major Cᵀ = Bᵀ Aᵀ. op_a / op_b say whether the
/// row-major A, B are used transposed; lda / ldb are their row-major row lengths.
template <class T>
void cublas_gemm(const char* where, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
                 std::int64_t K, const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T* C,
                 float beta) {
  const float alpha = 1.0f;
  const cublasStatus_t st = cublasGemmEx(
      cublas_handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &alpha, B, cuda_type<T>(),
      static_cast<int>(ldb), A, cuda_type<T>(), static_cast<int>(lda), &beta, C, cuda_type<T>(),
      static_cast<int>(N), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (st != CUBLAS_STATUS_SUCCESS)
    throw Error(where, std::string("cublasGemmEx failed: ") + cublasGetStatusString(st));
}
#endif

// ---- argument checks ----------------------------------------------------------------------------

void check_sizes(const char* where, std::int64_t N, std::int64_t in, std::int64_t out,
                 int version) {
  check_count(where, "N", N);
  check_count(where, "in", in);
  check_count(where, "out", out);
  check_version(where, version, matmul_versions);  // 0: cuBLAS under nvcc, v4 under the emulator
  // cuBLAS takes int sizes and every grid dimension is at most 2^31 - 1 blocks.
  if (N > INT_MAX || in > INT_MAX || out > INT_MAX ||
      (N > 0 && (in > INT64_MAX / N || out > INT64_MAX / N)) || (out > 0 && in > INT64_MAX / out))
    throw Error(where, "(N, in, out) = " + shape_str({N, in, out}) + " is too large");
}

// ---- the launchers ------------------------------------------------------------------------------

template <class T>
cudaError_t forward_impl(const T* x, const T* w, const T* b, T* y, std::int64_t N, std::int64_t in,
                         std::int64_t out, int version) {
  constexpr const char* where = "matmul_forward";
  check_sizes(where, N, in, out, version);
  const std::string shape = shape_str({N, in, out});
  // Each operand is needed when it has elements (x with N = 0 or in = 0 is never read).
  check_pointers(where, "(N, in, out) = " + shape,
                 {{x, "x", N * in > 0}, {w, "w", out * in > 0}, {y, "y", N * out > 0}});
  if (N == 0 || out == 0) return cudaSuccess;
  if (in == 0)  // an empty sum: y = b (or 0) on every row
    return launch(thread_per_item_config(N * out), fill_rows<T>, b, y, N, out);
#if !LLMLAB_EMULATED
  if (version == 0) {  // y = b on every row, then y += x Wᵀ with β = 1
    float beta = 0.0f;
    if (b != nullptr) {
      const cudaError_t err = launch(thread_per_item_config(N * out), fill_rows<T>, b, y, N, out);
      if (err != cudaSuccess) return err;
      beta = 1.0f;
    }
    cublas_gemm<T>(where, false, true, N, out, in, x, in, w, in, y, beta);
    return cudaGetLastError();
  }
#endif
  const Gemm<T> g{x, in, 1, w, 1, in, y, b, N, out, in, false};
  return launch_gemm(where, g, version == 0 ? matmul_versions : version, shape);
}

template <class T>
cudaError_t backward_impl(const T* dy, const T* x, const T* w, T* dx, T* dw, T* db, std::int64_t N,
                          std::int64_t in, std::int64_t out, int version) {
  constexpr const char* where = "matmul_backward";
  check_sizes(where, N, in, out, version);
  const std::string shape = shape_str({N, in, out});
  check_pointers(where, "(N, in, out) = " + shape,
                 {{dy, "dy", N * out > 0},
                  {x, "x", N * in > 0},
                  {w, "w", out * in > 0},
                  {dx, "dx", N * in > 0},
                  {dw, "dw", out * in > 0}});
#if !LLMLAB_EMULATED
  if (version == 0) {
    if (N > 0 && in > 0 && out > 0) {
      cublas_gemm<T>(where, false, false, N, in, out, dy, out, w, in, dx, 1.0f);  // dx += dy W
      cublas_gemm<T>(where, true, false, out, in, N, dy, out, x, in, dw, 1.0f);   // dW += dyᵀ x
    }
  } else
#endif
  {
    const int v = version == 0 ? matmul_versions : version;
    // dx (N, in) += dy (N, out) · W (out, in)
    const Gemm<T> gx{dy, out, 1, w, in, 1, dx, nullptr, N, in, out, true};
    cudaError_t err = launch_gemm(where, gx, v, shape);
    if (err != cudaSuccess) return err;
    // dW (out, in) += dyᵀ (out, N) · x (N, in)
    const Gemm<T> gw{dy, 1, out, x, in, 1, dw, nullptr, out, in, N, true};
    err = launch_gemm(where, gw, v, shape);
    if (err != cudaSuccess) return err;
  }
  if (db != nullptr && out > 0)  // db += column sums of dy
    return launch(thread_per_item_config(out), column_sum_accumulate<T>, dy, db, N, out);
  return cudaGetLastError();
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

cudaError_t matmul_backward(const float* dy, const float* x, const float* w, float* dx, float* dw,
                            float* db, std::int64_t N, std::int64_t in, std::int64_t out,
                            int version) {
  return backward_impl(dy, x, w, dx, dw, db, N, in, out, version);
}

cudaError_t matmul_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x, const __nv_bfloat16* w,
                            __nv_bfloat16* dx, __nv_bfloat16* dw, __nv_bfloat16* db, std::int64_t N,
                            std::int64_t in, std::int64_t out, int version) {
  return backward_impl(dy, x, w, dx, dw, db, N, in, out, version);
}

}  // namespace llmlab::cuda
