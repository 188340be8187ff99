/// \file
/// \ingroup group_matmul
/// \brief matmul: \f$ y = x W^\top + b \f$ for x (N, in), W (out, in), and its backward — every
/// piece one GEMM kernel, \f$ \mathrm{dst}_{r,c} = \sum_{k<\mathrm{depth}} \mathrm{lhs}_{r,k}\,
/// \mathrm{rhs}_{k,c} \f$ for a result of (rows, cols), operands read through strides, and an
/// epilogue that adds a bias or accumulates into dst. The GEMM's own names never reuse the model's
/// letters (B, T, C, H, D, V, N: \ref conventions); N is always the rows of x:
///
/// | product       | rows | cols | depth | lhs(r, k)     | rhs(k, c)   | dst           | epilogue |
/// |---------------|------|------|-------|---------------|-------------|---------------|----------|
/// | y = x Wᵀ + b  | N    | out  | in    | x[r·in + k]   | W[c·in + k] | y, x's dtype  | + b[c]   |
/// | dx += dy W    | N    | in   | out   | dy[r·out + k] | W[k·in + c] | dx, x's dtype | += …     |
/// | dW += dyᵀ x   | out  | in   | N     | dy[k·out + r] | x[k·in + c] | dW, fp32      | += …     |
///
/// db += Σₙ dy is a column sum (one thread per column, rows in order), into fp32 db. fp32 or bf16
/// operands, always multiplied and summed in fp32; dst is rounded once to its dtype — y and dx to
/// the input's, dW and db always fp32 (parameter gradients are fp32 in bf16 runs: \ref
/// conventions). Sums run over k in increasing order within a thread, so reruns are bitwise equal
/// (no atomics).
///
/// Versions (each tested against the reference in tests/matmul_test.cpp, fp32 and bf16):
/// - v1 naive: one thread per dst element, lanes of a warp on consecutive *rows* — each lane
///   walks its own row of lhs and the stores of dst are strided by cols: the textbook first
///   attempt.
/// - v2 coalesced: the same with lanes on consecutive *columns*, so a warp stores 32 neighbours
///   of dst at once and reads lhs as a broadcast (rhs stays strided where its column stride is not
///   1).
/// - v3 shared-memory tiled: a 32×32 block computes a 32×32 tile of dst, staging 32×32 tiles of
///   lhs and rhs through shared memory with coalesced loads; every element fetched from global memory
///   is used 32 times, so global traffic drops 32×.
/// - v4 register-tiled 2-D blocking: a 16×16 block computes a 64×64 tile, each thread a 4×4
///   sub-tile in registers from k-major 64×16 tiles in shared memory: 8 shared loads per 16 FMAs
///   (v3: 2 per 1) and each global element used 64 times.
///
/// The launchers default (version 0) to cuBLAS — tensor cores, asynchronous copies and autotuned
/// tiles beat any of ours; under the emulator that is the emulator's cuBLAS subset (fp32 GEMM on
/// OpenBLAS, docs/emulator.md), so the default path is tested here too. Of ours, v4 is the fastest
/// on a GPU by design (fewest global and shared loads per FMA). Timing on a GPU awaits a GPU: none has been
/// lent to this project yet (there, matmul_bench_gpu prints TFLOP/s next to the peak).
/// bench/matmul_bench times the emulated versions, which measures the emulator, not a GPU.

#include <climits>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/matmul.cuh"
#include "llmlab/cuda/primitives.cuh"

// cuBLAS: the toolkit's under nvcc, the emulator's CPU subset (llmlab::emu_cublas) under g++.
#include <cublas_v2.h>

#include <mutex>

namespace llmlab::cuda {
namespace {

/// One GEMM \f$ \mathrm{dst}_{r,c} \mathrel{(+)}= \sum_{k<\mathrm{depth}} \mathrm{lhs}_{r,k}\,
/// \mathrm{rhs}_{k,c} \f$ (+ bias_c), operands by strides; always filled with designated
/// initialisers. In: the operands' element type; Out: dst's (fp32 for dW of a bf16 run).
template <class In, class Out = In>
struct Gemm {
  std::int64_t rows;              ///< rows of dst
  std::int64_t cols;              ///< columns of dst
  std::int64_t depth;             ///< products in each sum
  const In* lhs;                  ///< lhs(r, k) = lhs[r·lhs_row_stride + k·lhs_depth_stride]
  std::int64_t lhs_row_stride;    ///< lhs's step from row r to r + 1
  std::int64_t lhs_depth_stride;  ///< lhs's step from k to k + 1
  const In* rhs;                  ///< rhs(k, c) = rhs[k·rhs_depth_stride + c·rhs_col_stride]
  std::int64_t rhs_depth_stride;  ///< rhs's step from k to k + 1
  std::int64_t rhs_col_stride;    ///< rhs's step from column c to c + 1
  Out* dst;                       ///< (rows, cols) row-major
  const Out* bias = nullptr;      ///< (cols) added to every row, or null
  bool accumulate = false;        ///< dst += result (backward) instead of dst = result (+ bias)
};

template <class In, class Out>
__device__ __forceinline__ float lhs_at(const Gemm<In, Out>& g, std::int64_t row, std::int64_t k) {
  return to_float(g.lhs[row * g.lhs_row_stride + k * g.lhs_depth_stride]);
}
template <class In, class Out>
__device__ __forceinline__ float rhs_at(const Gemm<In, Out>& g, std::int64_t k, std::int64_t col) {
  return to_float(g.rhs[k * g.rhs_depth_stride + col * g.rhs_col_stride]);
}

/// The epilogue every version shares: the sum, then the bias or the old dst, rounded once (store).
template <class In, class Out>
__device__ __forceinline__ void epilogue(const Gemm<In, Out>& g, std::int64_t row, std::int64_t col,
                                         float sum) {
  Out* c = g.dst + row * g.cols + col;
  float v = sum;
  if (g.accumulate)
    v = to_float(*c) + sum;
  else if (g.bias != nullptr)
    v = sum + to_float(g.bias[col]);
  store(c, v);
}

// ---- v1 naive and v2 coalesced: one thread per element of C -------------------------------------

constexpr int kFlatX = 32, kFlatY = 8;  // v1/v2 blocks: 32 × 8 threads

/// One thread's dot product over all of depth, in order.
template <class In, class Out>
__device__ __forceinline__ float dot(const Gemm<In, Out>& g, std::int64_t row, std::int64_t col) {
  float sum = 0.0f;
  for (std::int64_t k = 0; k < g.depth; ++k) sum += lhs_at(g, row, k) * rhs_at(g, k, col);
  return sum;
}

template <class In, class Out>
__global__ void gemm_v1(Gemm<In, Out> g) {  // lanes on rows
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kFlatX + threadIdx.x;
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.y) * kFlatY + threadIdx.y;
  if (row < g.rows && col < g.cols) epilogue(g, row, col, dot(g, row, col));
}

template <class In, class Out>
__global__ void gemm_v2(Gemm<In, Out> g) {  // lanes on columns
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kFlatX + threadIdx.x;
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.y) * kFlatY + threadIdx.y;
  if (row < g.rows && col < g.cols) epilogue(g, row, col, dot(g, row, col));
}

// ---- v3 shared-memory tiled ---------------------------------------------------------------------

constexpr int kTile = 32;  // v3: 32 × 32 threads, 32 × 32 tiles

/// Thread (tx, ty) copies one element of the lhs tile (rows row0…, depth k0…) and one of the rhs
/// tile (depth k0…, columns col0…) into shared memory, 0 outside the matrices. Lanes walk the
/// operand's contiguous direction (k for lhs when lhs_depth_stride = 1, else rows; columns for rhs
/// when rhs_col_stride = 1, else k), so a warp reads 32 neighbours; the +1 column of padding keeps
/// the transposed stores conflict-free.
template <class In, class Out>
__device__ __forceinline__ void load_tiles_v3(const Gemm<In, Out>& g, float (*Ls)[kTile + 1],
                                              float (*Rs)[kTile + 1], std::int64_t row0,
                                              std::int64_t col0, std::int64_t k0) {
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const bool lhs_k_fast = g.lhs_depth_stride == 1, rhs_col_fast = g.rhs_col_stride == 1;
  const int lr = lhs_k_fast ? ty : tx,
            lk = lhs_k_fast ? tx : ty;  // Ls[lr][lk] = lhs(row0+lr, k0+lk)
  const int rk = rhs_col_fast ? ty : tx,
            rc = rhs_col_fast ? tx : ty;  // Rs[rk][rc] = rhs(k0+rk, col0+rc)
  Ls[lr][lk] = (row0 + lr < g.rows && k0 + lk < g.depth) ? lhs_at(g, row0 + lr, k0 + lk) : 0.0f;
  Rs[rk][rc] = (k0 + rk < g.depth && col0 + rc < g.cols) ? rhs_at(g, k0 + rk, col0 + rc) : 0.0f;
}

template <class In, class Out>
__global__ void gemm_v3(Gemm<In, Out> g) {
  __shared__ float Ls[kTile][kTile + 1];
  __shared__ float Rs[kTile][kTile + 1];
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.y) * kTile;
  const std::int64_t col0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);

  float sum = 0.0f;
  for (std::int64_t k0 = 0; k0 < g.depth; k0 += kTile) {  // every depth tile, the last partial too
    load_tiles_v3(g, Ls, Rs, row0, col0, k0);
    __syncthreads();  // the tiles are complete
    for (int kk = 0; kk < kTile; ++kk) sum += Ls[ty][kk] * Rs[kk][tx];
    __syncthreads();  // everyone is done with them before the next load
  }
  if (row0 + ty < g.rows && col0 + tx < g.cols) epilogue(g, row0 + ty, col0 + tx, sum);
}

// ---- v4 register-tiled 2-D blocking -------------------------------------------------------------

// v4 block tile: 64 rows × 64 columns of dst, 16 of depth per step.
constexpr int kTileRows = 64, kTileCols = 64, kTileDepth = 16;
constexpr int kThreads = 16;  // v4 block: 16 × 16 threads
// 4 × 4 outputs per thread.
constexpr int kThreadRows = kTileRows / kThreads, kThreadCols = kTileCols / kThreads;

/// The 256 threads copy the lhs tile (kTileRows × kTileDepth) and the rhs tile (kTileDepth ×
/// kTileCols) into k-major shared arrays Ls[k][row], Rs[k][col], walking each operand's contiguous
/// direction, 0 outside the matrices.
template <class In, class Out>
__device__ __forceinline__ void load_tiles_v4(const Gemm<In, Out>& g, float (*Ls)[kTileRows + 4],
                                              float (*Rs)[kTileCols + 4], std::int64_t row0,
                                              std::int64_t col0, std::int64_t k0) {
  const int t = static_cast<int>(threadIdx.y) * kThreads + static_cast<int>(threadIdx.x);
  const bool lhs_k_fast = g.lhs_depth_stride == 1, rhs_col_fast = g.rhs_col_stride == 1;
  for (int l = t; l < kTileRows * kTileDepth; l += kThreads * kThreads) {
    const int kk = lhs_k_fast ? l % kTileDepth : l / kTileRows;
    const int rr = lhs_k_fast ? l / kTileDepth : l % kTileRows;
    Ls[kk][rr] = (row0 + rr < g.rows && k0 + kk < g.depth) ? lhs_at(g, row0 + rr, k0 + kk) : 0.0f;
  }
  for (int l = t; l < kTileDepth * kTileCols; l += kThreads * kThreads) {
    const int kk = rhs_col_fast ? l / kTileCols : l % kTileDepth;
    const int cc = rhs_col_fast ? l % kTileCols : l / kTileDepth;
    Rs[kk][cc] = (k0 + kk < g.depth && col0 + cc < g.cols) ? rhs_at(g, k0 + kk, col0 + cc) : 0.0f;
  }
}

template <class In, class Out>
__global__ void gemm_v4(Gemm<In, Out> g) {
  __shared__ float Ls[kTileDepth][kTileRows + 4];  // +4: k-major stores of a k-contiguous lhs
  __shared__ float Rs[kTileDepth][kTileCols + 4];  //     spread over the banks
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.y) * kTileRows;
  const std::int64_t col0 = static_cast<std::int64_t>(blockIdx.x) * kTileCols;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);

  // Thread (tx, ty) owns rows ty + 16i and columns tx + 16j of the tile: neighbouring lanes own
  // neighbouring columns, so shared reads of Rs and the stores of dst are contiguous.
  float acc[kThreadRows][kThreadCols] = {};
  for (std::int64_t k0 = 0; k0 < g.depth; k0 += kTileDepth) {
    load_tiles_v4(g, Ls, Rs, row0, col0, k0);
    __syncthreads();
    for (int kk = 0; kk < kTileDepth; ++kk) {
      float l[kThreadRows], r[kThreadCols];
      for (int i = 0; i < kThreadRows; ++i) l[i] = Ls[kk][ty + kThreads * i];
      for (int j = 0; j < kThreadCols; ++j) r[j] = Rs[kk][tx + kThreads * j];
      for (int i = 0; i < kThreadRows; ++i)
        for (int j = 0; j < kThreadCols; ++j) acc[i][j] += l[i] * r[j];  // the outer product
    }
    __syncthreads();
  }
  for (int i = 0; i < kThreadRows; ++i)
    for (int j = 0; j < kThreadCols; ++j) {
      const std::int64_t row = row0 + ty + kThreads * i, col = col0 + tx + kThreads * j;
      if (row < g.rows && col < g.cols) epilogue(g, row, col, acc[i][j]);
    }
}

// ---- db: column sums ----------------------------------------------------------------------------

// column_sum_accumulate and fill_rows run one thread per item in blocks of kBlock threads.

/// db_o (+)= Σ_n dy_{n,o}: thread o walks column o top to bottom (a warp reads 32 neighbours).
/// T: dy's element type; G: db's (fp32 in a bf16 run).
template <class T, class G>
__global__ void column_sum_accumulate(const T* __restrict__ dy, G* __restrict__ db, std::int64_t N,
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

template <class In, class Out>
cudaError_t launch_gemm(const char* where, const Gemm<In, Out>& g, int version,
                        const std::string& shape) {
  if (g.rows == 0 || g.cols == 0) return cudaSuccess;
  switch (version) {
    case 1:
      check_grid_y(where, ceil_div(g.cols, kFlatY), shape);
      return launch(launch_config(dim3(ceil_div(g.rows, kFlatX), ceil_div(g.cols, kFlatY)),
                                  dim3(kFlatX, kFlatY)),
                    gemm_v1<In, Out>, g);
    case 2:
      check_grid_y(where, ceil_div(g.rows, kFlatY), shape);
      return launch(launch_config(dim3(ceil_div(g.cols, kFlatX), ceil_div(g.rows, kFlatY)),
                                  dim3(kFlatX, kFlatY)),
                    gemm_v2<In, Out>, g);
    case 3:
      check_grid_y(where, ceil_div(g.rows, kTile), shape);
      return launch(
          launch_config(dim3(ceil_div(g.cols, kTile), ceil_div(g.rows, kTile)), dim3(kTile, kTile)),
          gemm_v3<In, Out>, g);
    default:
      check_grid_y(where, ceil_div(g.rows, kTileRows), shape);
      return launch(launch_config(dim3(ceil_div(g.cols, kTileCols), ceil_div(g.rows, kTileRows)),
                                  dim3(kThreads, kThreads)),
                    gemm_v4<In, Out>, g);
  }
}

// ---- cuBLAS (the real one under nvcc, the emulator's subset under g++) ----------------------------

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

/// Row-major dst (rows, cols) (+)= lhs · rhs (depth products each) as cuBLAS's column-major
/// dstᵀ = rhsᵀ lhsᵀ, in fp32 compute; dst may be fp32 while the operands are bf16 (dW of a bf16
/// run). trans_lhs / trans_rhs say whether the row-major lhs, rhs are used transposed; lhs_ld /
/// rhs_ld are their row-major row lengths.
template <class In, class Out>
void cublas_gemm(const char* where, bool trans_lhs, bool trans_rhs, std::int64_t rows,
                 std::int64_t cols, std::int64_t depth, const In* lhs, std::int64_t lhs_ld,
                 const In* rhs, std::int64_t rhs_ld, Out* dst, float beta) {
  const float alpha = 1.0f;
  const cublasStatus_t st = cublasGemmEx(
      cublas_handle(), trans_rhs ? CUBLAS_OP_T : CUBLAS_OP_N, trans_lhs ? CUBLAS_OP_T : CUBLAS_OP_N,
      static_cast<int>(cols), static_cast<int>(rows), static_cast<int>(depth), &alpha, rhs,
      cuda_type<In>(), static_cast<int>(rhs_ld), lhs, cuda_type<In>(), static_cast<int>(lhs_ld),
      &beta, dst, cuda_type<Out>(), static_cast<int>(cols), CUBLAS_COMPUTE_32F,
      CUBLAS_GEMM_DEFAULT);
  if (st != CUBLAS_STATUS_SUCCESS)
    throw Error(where, std::string("cublasGemmEx failed: ") + cublasGetStatusString(st));
}

// ---- argument checks ----------------------------------------------------------------------------

void check_sizes(const char* where, std::int64_t N, std::int64_t in, std::int64_t out,
                 int version) {
  check_count(where, "N", N);
  check_count(where, "in", in);
  check_count(where, "out", out);
  check_version(where, version, matmul_versions);  // 0: cuBLAS (the emulator's subset under g++)
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
  if (version == 0) {  // y = b on every row, then y += x Wᵀ with β = 1
    float beta = 0.0f;
    if (b != nullptr) {
      const cudaError_t err = launch(thread_per_item_config(N * out), fill_rows<T>, b, y, N, out);
      if (err != cudaSuccess) return err;
      beta = 1.0f;
    }
    cublas_gemm(where, false, true, N, out, in, x, in, w, in, y, beta);
    return cudaGetLastError();
  }
  // y (N, out) = x (N, in) · Wᵀ (in, out) + b
  const Gemm<T> g{.rows = N,
                  .cols = out,
                  .depth = in,
                  .lhs = x,
                  .lhs_row_stride = in,
                  .lhs_depth_stride = 1,
                  .rhs = w,
                  .rhs_depth_stride = 1,
                  .rhs_col_stride = in,
                  .dst = y,
                  .bias = b};
  return launch_gemm(where, g, version == 0 ? matmul_versions : version, shape);
}

/// T: the activations' element type (dy, x, w, dx); G: the parameter gradients' (dw, db), fp32
/// whenever T is bf16.
template <class T, class G>
cudaError_t backward_impl(const T* dy, const T* x, const T* w, T* dx, G* dw, G* db, std::int64_t N,
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
  if (version == 0) {
    if (N > 0 && in > 0 && out > 0) {
      cublas_gemm(where, false, false, N, in, out, dy, out, w, in, dx, 1.0f);  // dx += dy W
      cublas_gemm(where, true, false, out, in, N, dy, out, x, in, dw, 1.0f);   // dW += dyᵀ x
    }
  } else
  {
    const int v = version == 0 ? matmul_versions : version;
    // dx (N, in) += dy (N, out) · W (out, in)
    const Gemm<T> gx{.rows = N,
                     .cols = in,
                     .depth = out,
                     .lhs = dy,
                     .lhs_row_stride = out,
                     .lhs_depth_stride = 1,
                     .rhs = w,
                     .rhs_depth_stride = in,
                     .rhs_col_stride = 1,
                     .dst = dx,
                     .accumulate = true};
    cudaError_t err = launch_gemm(where, gx, v, shape);
    if (err != cudaSuccess) return err;
    // dW (out, in) += dyᵀ (out, N) · x (N, in)
    const Gemm<T, G> gw{.rows = out,
                        .cols = in,
                        .depth = N,
                        .lhs = dy,
                        .lhs_row_stride = 1,
                        .lhs_depth_stride = out,
                        .rhs = x,
                        .rhs_depth_stride = in,
                        .rhs_col_stride = 1,
                        .dst = dw,
                        .accumulate = true};
    err = launch_gemm(where, gw, v, shape);
    if (err != cudaSuccess) return err;
  }
  if (db != nullptr && out > 0)  // db += column sums of dy
    return launch(thread_per_item_config(out), column_sum_accumulate<T, G>, dy, db, N, out);
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
                            __nv_bfloat16* dx, float* dw, float* db, std::int64_t N,
                            std::int64_t in, std::int64_t out, int version) {
  return backward_impl(dy, x, w, dx, dw, db, N, in, out, version);
}

}  // namespace llmlab::cuda
