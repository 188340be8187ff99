/// \file
/// \brief layernorm_forward: \f$ y_{rc} = (x_{rc} - \mu_r)\, s_r\, w_c + b_c \f$ for x (N, C),
/// with \f$ \mu_r \f$ and \f$ s_r = 1/\sqrt{\sigma^2_r + \epsilon} \f$ saved for the backward pass.
///
/// fp32 or bf16 in and out, always fp32 math and fp32 statistics. Every version takes the mean
/// first and then the variance of \f$ x - \mu \f$ (two passes over the row, the second and the
/// output pass served by the cache), and \f$ s = 1 / \sqrt{\cdot} \f$ with IEEE sqrt and division
/// (rsqrtf's extra ulps would show against the float reference). The versions differ in how many
/// threads share a row:
/// - v1 naive: one thread per row, three loops over its C values. Neighbouring threads read
///   addresses C apart, so no load is coalesced; fine for tiny C, poor otherwise.
/// - v2 one warp per row (8 rows per block of 256): lane l takes columns l, l + 32, …, so each
///   warp-wide load is 32 neighbouring values; the sums are 5 `__shfl_xor_sync` steps that leave
///   the total in every lane — no shared memory, no barrier.
/// - v3 one block per row: 256 threads stride the row, warps sum with shuffles and the 8 warp
///   sums meet in shared memory (primitives.cuh's block_allsum: 2 barriers per sum). For large C
///   (GPT-2 XL's 1600, wider models' 4096+) a warp would loop 50+ times per pass; a block keeps 8×
///   more loads in flight per row.
///
/// Version 0 picks v2 for C ≤ 1024 and v3 above: a warp per row needs no barrier and fills the
/// GPU with rows, until a row is long enough that one warp's loop latency dominates. The threshold
/// is llm.c's experience: timing on a GPU awaits a GPU, none has been lent to this project yet.
/// bench/layernorm_bench times the emulated versions, which measures the emulator, not a GPU.

#include <cstdint>

#include "layernorm_common.cuh"
#include "llmlab/cuda/layernorm.cuh"

namespace llmlab::cuda {
namespace {

using namespace layernorm_detail;

/// Row r's outputs once its statistics are known: y = (x − μ) s w + b, plus μ and s if saved.
/// Thread `first` of `step` threads sharing the row writes columns first, first + step, ….
template <class T>
__device__ __forceinline__ void normalise_row(const T* __restrict__ row, const T* __restrict__ w,
                                              const T* __restrict__ b, T* __restrict__ out,
                                              std::int64_t C, float mu, float s, int first,
                                              int step) {
  for (std::int64_t c = first; c < C; c += step) {
    const float xhat = (to_float(row[c]) - mu) * s;
    store(out + c, xhat * to_float(w[c]) + to_float(b[c]));
  }
}

// ---- v1: one thread per row ---------------------------------------------------------------------

template <class T>
__global__ void layernorm_forward_v1(const T* __restrict__ x, const T* __restrict__ w,
                                     const T* __restrict__ b, T* __restrict__ y,
                                     float* __restrict__ mean, float* __restrict__ rstd,
                                     std::int64_t N, std::int64_t C, float eps) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= N) return;
  const T* row = x + r * C;
  float sum = 0.0f;
  for (std::int64_t c = 0; c < C; ++c) sum += to_float(row[c]);
  const float mu = sum / static_cast<float>(C);
  float sq = 0.0f;
  for (std::int64_t c = 0; c < C; ++c) {
    const float d = to_float(row[c]) - mu;
    sq += d * d;
  }
  const float s = 1.0f / sqrtf(sq / static_cast<float>(C) + eps);
  normalise_row(row, w, b, y + r * C, C, mu, s, 0, 1);
  if (mean != nullptr) mean[r] = mu;
  if (rstd != nullptr) rstd[r] = s;
}

// ---- v2: one warp per row -----------------------------------------------------------------------

template <class T>
__global__ void layernorm_forward_v2(const T* __restrict__ x, const T* __restrict__ w,
                                     const T* __restrict__ b, T* __restrict__ y,
                                     float* __restrict__ mean, float* __restrict__ rstd,
                                     std::int64_t N, std::int64_t C, float eps) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const std::int64_t r =
      static_cast<std::int64_t>(blockIdx.x) * kWarps + static_cast<int>(threadIdx.x) / kWarpSize;
  if (r >= N) return;  // the whole warp leaves together: no shuffle misses a lane
  const T* row = x + r * C;
  float sum = 0.0f;
  for (std::int64_t c = lane; c < C; c += kWarpSize) sum += to_float(row[c]);
  const float mu = warp_allsum(sum) / static_cast<float>(C);
  float sq = 0.0f;
  for (std::int64_t c = lane; c < C; c += kWarpSize) {
    const float d = to_float(row[c]) - mu;
    sq += d * d;
  }
  const float s = 1.0f / sqrtf(warp_allsum(sq) / static_cast<float>(C) + eps);
  normalise_row(row, w, b, y + r * C, C, mu, s, lane, kWarpSize);
  if (lane == 0 && mean != nullptr) mean[r] = mu;
  if (lane == 0 && rstd != nullptr) rstd[r] = s;
}

// ---- v3: one block per row ----------------------------------------------------------------------

template <class T>
__global__ void layernorm_forward_v3(const T* __restrict__ x, const T* __restrict__ w,
                                     const T* __restrict__ b, T* __restrict__ y,
                                     float* __restrict__ mean, float* __restrict__ rstd,
                                     std::int64_t C, float eps) {
  const std::int64_t r = blockIdx.x;
  const int t = static_cast<int>(threadIdx.x);
  const T* row = x + r * C;
  float sum = 0.0f;
  for (std::int64_t c = t; c < C; c += kBlock) sum += to_float(row[c]);
  const float mu = block_allsum(sum) / static_cast<float>(C);
  float sq = 0.0f;
  for (std::int64_t c = t; c < C; c += kBlock) {
    const float d = to_float(row[c]) - mu;
    sq += d * d;
  }
  const float s = 1.0f / sqrtf(block_allsum(sq) / static_cast<float>(C) + eps);
  normalise_row(row, w, b, y + r * C, C, mu, s, t, kBlock);
  if (t == 0 && mean != nullptr) mean[r] = mu;
  if (t == 0 && rstd != nullptr) rstd[r] = s;
}

// ---- the launcher -------------------------------------------------------------------------------

template <class T>
cudaError_t layernorm_forward_impl(const T* x, const T* w, const T* b, T* y, float* mean,
                                   float* rstd, std::int64_t N, std::int64_t C, float eps,
                                   int version) {
  constexpr const char* where = "layernorm_forward";
  check_sizes(where, N, C, version, layernorm_forward_versions);
  if (!(eps > 0.0f)) throw Error(where, "eps = " + std::to_string(eps) + " must be > 0");
  check_pointers(where, "(N, C)", {N, C}, {{x, "x"}, {w, "w"}, {b, "b"}, {y, "y"}});
  if (N == 0) return cudaSuccess;

  switch (pick_version(version, C)) {
    case 1:
      return launch(thread_per_item_config(N), layernorm_forward_v1<T>, x, w, b, y, mean, rstd, N,
                    C, eps);
    case 2:
      return launch(launch_config(dim3(ceil_div(N, kWarps)), dim3(kBlock)), layernorm_forward_v2<T>,
                    x, w, b, y, mean, rstd, N, C, eps);
    default:
      return launch(launch_config(dim3(static_cast<unsigned>(N)), dim3(kBlock)),
                    layernorm_forward_v3<T>, x, w, b, y, mean, rstd, C, eps);
  }
}

}  // namespace

cudaError_t layernorm_forward(const float* x, const float* w, const float* b, float* y, float* mean,
                              float* rstd, std::int64_t N, std::int64_t C, float eps, int version) {
  return layernorm_forward_impl(x, w, b, y, mean, rstd, N, C, eps, version);
}

cudaError_t layernorm_forward(const __nv_bfloat16* x, const __nv_bfloat16* w,
                              const __nv_bfloat16* b, __nv_bfloat16* y, float* mean, float* rstd,
                              std::int64_t N, std::int64_t C, float eps, int version) {
  return layernorm_forward_impl(x, w, b, y, mean, rstd, N, C, eps, version);
}

}  // namespace llmlab::cuda
