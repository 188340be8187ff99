/// \file
/// \brief layernorm_backward: dx, dw and db of layernorm_forward, accumulated (`+=`).
///
/// With \f$ \hat{x}_{rc} = (x_{rc} - \mu_r) s_r \f$ recomputed from the saved mean and rstd, and
/// \f$ g_{rc} = w_c\, dy_{rc} \f$ (the gradient reaching \f$ \hat{x} \f$):
/// - **dx** is a row reduction, like the forward: two means over the row,
///   \f$ \overline{g} \f$ and \f$ \overline{g\hat{x}} \f$, then
///   \f$ dx_{rc} \mathrel{+}= s_r (g_{rc} - \overline{g} - \hat{x}_{rc}\, \overline{g\hat{x}}) \f$.
/// - **dw, db** are column reductions over all N rows:
///   \f$ dw_c \mathrel{+}= \sum_r \hat{x}_{rc}\, dy_{rc} \f$, \f$ db_c \mathrel{+}= \sum_r dy_{rc}
///   \f$. No float atomics (docs/design.md §3: reproducible), so the order of the sum is fixed.
///
/// Versions (each tested against the reference in tests/layernorm_test.cpp):
/// - v1 naive: dx with one thread per row (uncoalesced, like forward v1); dw/db with one thread
///   per column walking all N rows — coalesced and deterministic, but only C threads do N·C work.
/// - v2 dx with one warp per row (shuffle sums, no barrier); dw/db in two stages: blocks of 32×8
///   threads each sum a chunk of ≤ 64 rows for 32 columns (the 8 row-strided partials combined in
///   shared memory in a fixed order) into scratch (chunks, C), then one thread per column adds
///   the chunks in order — N/64 times more threads at work than v1's column pass.
/// - v3 dx with one block per row (block_allsum: shuffles + shared memory) for large C; dw/db as
/// v2.
///
/// Version 0 picks v2 for C ≤ 1024 and v3 above, as the forward does. Timing on a GPU awaits a
/// GPU: none has been lent to this project yet. bench/layernorm_bench times the emulated versions,
/// which measures the emulator, not a GPU.

#include <cstdint>

#include "layernorm_common.cuh"
#include "llmlab/cuda/layernorm.cuh"

namespace llmlab::cuda {
namespace {

using namespace layernorm_detail;

constexpr int kColsPerTile = 32;   ///< stage 1: columns per block (one per lane of x)
constexpr int kRowLanes = 8;       ///< stage 1: threads per column, striding the chunk's rows
constexpr int kRowsPerChunk = 64;  ///< stage 1: target rows per chunk
constexpr int kMaxChunks = 65535;  ///< stage 1: gridDim.y limit

/// The number of row chunks for N rows (a function of N alone, so the sum's order is fixed).
std::int64_t chunk_count(std::int64_t N) {
  std::int64_t chunks = (N + kRowsPerChunk - 1) / kRowsPerChunk;
  return chunks < kMaxChunks ? chunks : kMaxChunks;
}

/// dx for one row, once the two means are known. Thread `first` of `step` writes columns first,
/// first + step, …: dx += s (g − mean_g − x̂ · mean_gx̂).
template <class T>
__device__ __forceinline__ void dx_row(const T* __restrict__ dy, const T* __restrict__ x,
                                       const T* __restrict__ w, T* __restrict__ dx, std::int64_t C,
                                       float mu, float s, float mean_g, float mean_gxhat, int first,
                                       int step) {
  for (std::int64_t c = first; c < C; c += step) {
    const float xhat = (to_float(x[c]) - mu) * s;
    const float g = to_float(w[c]) * to_float(dy[c]);
    store(dx + c, to_float(dx[c]) + (g - mean_g - xhat * mean_gxhat) * s);
  }
}

/// This thread's share of the row's two sums, \f$ \sum g \f$ and \f$ \sum g \hat{x} \f$.
template <class T>
__device__ __forceinline__ float2 row_sums(const T* __restrict__ dy, const T* __restrict__ x,
                                           const T* __restrict__ w, std::int64_t C, float mu,
                                           float s, int first, int step) {
  float2 acc{0.0f, 0.0f};
  for (std::int64_t c = first; c < C; c += step) {
    const float xhat = (to_float(x[c]) - mu) * s;
    const float g = to_float(w[c]) * to_float(dy[c]);
    acc.x += g;
    acc.y += g * xhat;
  }
  return acc;
}

// ---- dx: v1 one thread per row, v2 one warp per row, v3 one block per row -----------------------

template <class T>
__global__ void layernorm_dx_v1(const T* __restrict__ dy, const T* __restrict__ x,
                                const T* __restrict__ w, const float* __restrict__ mean,
                                const float* __restrict__ rstd, T* __restrict__ dx, std::int64_t N,
                                std::int64_t C) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= N) return;
  const std::int64_t o = r * C;
  const float2 sums = row_sums(dy + o, x + o, w, C, mean[r], rstd[r], 0, 1);
  const float n = static_cast<float>(C);
  dx_row(dy + o, x + o, w, dx + o, C, mean[r], rstd[r], sums.x / n, sums.y / n, 0, 1);
}

template <class T>
__global__ void layernorm_dx_v2(const T* __restrict__ dy, const T* __restrict__ x,
                                const T* __restrict__ w, const float* __restrict__ mean,
                                const float* __restrict__ rstd, T* __restrict__ dx, std::int64_t N,
                                std::int64_t C) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const std::int64_t r =
      static_cast<std::int64_t>(blockIdx.x) * kWarps + static_cast<int>(threadIdx.x) / kWarpSize;
  if (r >= N) return;  // warp-uniform
  const std::int64_t o = r * C;
  const float2 part = row_sums(dy + o, x + o, w, C, mean[r], rstd[r], lane, kWarpSize);
  const float n = static_cast<float>(C);
  const float mean_g = warp_allsum(part.x) / n;
  const float mean_gxhat = warp_allsum(part.y) / n;
  dx_row(dy + o, x + o, w, dx + o, C, mean[r], rstd[r], mean_g, mean_gxhat, lane, kWarpSize);
}

template <class T>
__global__ void layernorm_dx_v3(const T* __restrict__ dy, const T* __restrict__ x,
                                const T* __restrict__ w, const float* __restrict__ mean,
                                const float* __restrict__ rstd, T* __restrict__ dx,
                                std::int64_t C) {
  const std::int64_t r = blockIdx.x;
  const int t = static_cast<int>(threadIdx.x);
  const std::int64_t o = r * C;
  const float2 part = row_sums(dy + o, x + o, w, C, mean[r], rstd[r], t, kBlock);
  const float n = static_cast<float>(C);
  const float mean_g = block_allsum(part.x) / n;
  const float mean_gxhat = block_allsum(part.y) / n;
  dx_row(dy + o, x + o, w, dx + o, C, mean[r], rstd[r], mean_g, mean_gxhat, t, kBlock);
}

// ---- dw, db: v1 one thread per column over all rows ---------------------------------------------

template <class T>
__global__ void layernorm_dwdb_v1(const T* __restrict__ dy, const T* __restrict__ x,
                                  const float* __restrict__ mean, const float* __restrict__ rstd,
                                  float* __restrict__ dw, float* __restrict__ db, std::int64_t N,
                                  std::int64_t C) {
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float sum_dw = 0.0f, sum_db = 0.0f;
  for (std::int64_t r = 0; r < N; ++r) {
    const float d = to_float(dy[r * C + c]);
    sum_dw += (to_float(x[r * C + c]) - mean[r]) * rstd[r] * d;
    sum_db += d;
  }
  dw[c] += sum_dw;
  db[c] += sum_db;
}

// ---- dw, db: two stages (v2, v3) ----------------------------------------------------------------

/// Stage 1: block (kColsPerTile, kRowLanes) sums rows [chunk·R, (chunk+1)·R) of its 32 columns.
/// Thread (tx, ty) takes rows ty, ty + 8, … of the chunk; the 8 partials per column meet in shared
/// memory and thread ty = 0 adds them in order. scratch: dw partials (chunks, C), then db's.
template <class T>
__global__ void layernorm_dwdb_partial(const T* __restrict__ dy, const T* __restrict__ x,
                                       const float* __restrict__ mean,
                                       const float* __restrict__ rstd, float* __restrict__ scratch,
                                       std::int64_t N, std::int64_t C,
                                       std::int64_t rows_per_chunk) {
  __shared__ float part_dw[kRowLanes][kColsPerTile + 1];  // +1: no bank conflicts down a column
  __shared__ float part_db[kRowLanes][kColsPerTile + 1];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * kColsPerTile + tx;
  const std::int64_t begin = static_cast<std::int64_t>(blockIdx.y) * rows_per_chunk;
  const std::int64_t end = begin + rows_per_chunk < N ? begin + rows_per_chunk : N;
  float sum_dw = 0.0f, sum_db = 0.0f;
  if (c < C) {
    for (std::int64_t r = begin + ty; r < end; r += kRowLanes) {
      const float d = to_float(dy[r * C + c]);
      sum_dw += (to_float(x[r * C + c]) - mean[r]) * rstd[r] * d;
      sum_db += d;
    }
  }
  part_dw[ty][tx] = sum_dw;
  part_db[ty][tx] = sum_db;
  __syncthreads();
  if (ty == 0 && c < C) {
    float total_dw = 0.0f, total_db = 0.0f;
    for (int i = 0; i < kRowLanes; ++i) {
      total_dw += part_dw[i][tx];
      total_db += part_db[i][tx];
    }
    const std::int64_t chunks = gridDim.y;
    scratch[static_cast<std::int64_t>(blockIdx.y) * C + c] = total_dw;
    scratch[(chunks + blockIdx.y) * C + c] = total_db;
  }
}

/// Stage 2: one thread per column adds the chunks' partials in chunk order into dw and db.
__global__ void layernorm_dwdb_final(const float* __restrict__ scratch, float* __restrict__ dw,
                                     float* __restrict__ db, std::int64_t chunks, std::int64_t C) {
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float sum_dw = 0.0f, sum_db = 0.0f;
  for (std::int64_t k = 0; k < chunks; ++k) {
    sum_dw += scratch[k * C + c];
    sum_db += scratch[(chunks + k) * C + c];
  }
  dw[c] += sum_dw;
  db[c] += sum_db;
}

// ---- the launcher -------------------------------------------------------------------------------

template <class T>
cudaError_t layernorm_backward_impl(const T* dy, const T* x, const T* w, const float* mean,
                                    const float* rstd, T* dx, float* dw, float* db, float* scratch,
                                    std::int64_t N, std::int64_t C, int version) {
  constexpr const char* where = "layernorm_backward";
  check_sizes(where, N, C, version, layernorm_backward_versions);
  version = pick_version(version, C);
  check_pointers(where, "(N, C)", {N, C},
                 {{dy, "dy"},
                  {x, "x"},
                  {w, "w"},
                  {mean, "mean"},
                  {rstd, "rstd"},
                  {dx, "dx"},
                  {dw, "dw"},
                  {db, "db"},
                  {scratch, "scratch", version != 1}});  // v1 needs no scratch
  if (N == 0) return cudaSuccess;

  cudaError_t err = cudaSuccess;
  switch (version) {
    case 1:
      err = launch(thread_per_item_config(N), layernorm_dx_v1<T>, dy, x, w, mean, rstd, dx, N, C);
      if (err != cudaSuccess) return err;
      return launch(thread_per_item_config(C), layernorm_dwdb_v1<T>, dy, x, mean, rstd, dw, db, N,
                    C);
    case 2:
      err = launch(launch_config(dim3(ceil_div(N, kWarps)), dim3(kBlock)), layernorm_dx_v2<T>, dy,
                   x, w, mean, rstd, dx, N, C);
      break;
    default:
      err = launch(launch_config(dim3(static_cast<unsigned>(N)), dim3(kBlock)), layernorm_dx_v3<T>,
                   dy, x, w, mean, rstd, dx, C);
      break;
  }
  if (err != cudaSuccess) return err;
  const std::int64_t chunks = chunk_count(N);
  const std::int64_t rows_per_chunk = (N + chunks - 1) / chunks;
  err = launch(launch_config(dim3(ceil_div(C, kColsPerTile), static_cast<unsigned>(chunks)),
                             dim3(kColsPerTile, kRowLanes)),
               layernorm_dwdb_partial<T>, dy, x, mean, rstd, scratch, N, C, rows_per_chunk);
  if (err != cudaSuccess) return err;
  return launch(thread_per_item_config(C), layernorm_dwdb_final, static_cast<const float*>(scratch),
                dw, db, chunks, C);
}

}  // namespace

std::int64_t layernorm_backward_scratch(std::int64_t N, std::int64_t C) {
  if (N <= 0 || C <= 0) return 0;
  return 2 * chunk_count(N) * C;
}

cudaError_t layernorm_backward(const float* dy, const float* x, const float* w, const float* mean,
                               const float* rstd, float* dx, float* dw, float* db, float* scratch,
                               std::int64_t N, std::int64_t C, int version) {
  return layernorm_backward_impl(dy, x, w, mean, rstd, dx, dw, db, scratch, N, C, version);
}

cudaError_t layernorm_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x,
                               const __nv_bfloat16* w, const float* mean, const float* rstd,
                               __nv_bfloat16* dx, float* dw, float* db, float* scratch,
                               std::int64_t N, std::int64_t C, int version) {
  return layernorm_backward_impl(dy, x, w, mean, rstd, dx, dw, db, scratch, N, C, version);
}

}  // namespace llmlab::cuda
