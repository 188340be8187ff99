/// \file
/// \ingroup group_attention
/// \brief attention over heads, q, k, v (B, H, T, D): \f$ O = \mathrm{softmax}(Q K^\top /
/// \sqrt{D})\, V \f$ (causal or not) with the rows' logsumexp L, and the backward dQ, dK, dV.
///
/// fp32 or bf16 q, k, v, O and gradients, fp32 L, fp32 inside (a bf16 output is rounded once, on
/// its store). Every sum is taken by one thread in a fixed order: reruns give the same bits.
///
/// Forward versions (each checked against the reference with the ratio rule, k = 2, O and L):
/// - v1 naive: three kernels — scores \f$ S = \tau Q K^\top \f$ (one thread per element, −∞
///   above the diagonal when causal), a row softmax in place that also writes L, and
///   \f$ O = P V \f$ — through a B·H·T·T fp32 workspace the launcher allocates: O(T²) memory and
///   T² floats written and read back twice.
/// - v2 FlashAttention-2: a block per (head, tile of 64 queries), one thread per query row;
///   tiles of 32 keys and values are staged in shared memory and each row keeps a running
///   maximum and sum (primitives.cuh's MaxSum, merged tile by tile) and an output accumulator
///   rescaled by \f$ e^{m_{old} - m_{new}} \f$ whenever the maximum grows. Only O and L are
///   written; when causal, key tiles wholly above the block's diagonal are never loaded.
///
/// Backward versions (ratio rule, k = 3):
/// - v1 naive: P recomputed from L into a T×T workspace, dS into another, then one thread per
///   element of dV = Pᵀ dO, dQ = τ dS K and dK = τ dSᵀ Q.
/// - v2 FlashAttention-2: \f$ D_i = \mathrm{rowsum}(\mathrm{dO} \circ O) \f$ first (B·H·T
///   floats, the only workspace); then a block per (head, tile of 64 keys), one thread per key,
///   streams query tiles through shared memory, recomputes \f$ P_{ij} = e^{S_{ij} - L_i} \f$ and
///   accumulates dK and dV in registers; dQ comes from a separate pass, a block per (head, tile
///   of 64 queries) streaming key tiles — FlashAttention-2 adds dQ with float atomics instead,
///   whose order (and bits) change from run to run.
///
/// The launchers default to v2. A thread keeps up to three rows of D ≤ 128 floats: simple and
/// exact, but on a GPU that is register pressure a tensor-core kernel would not have; timing on a
/// GPU awaits a GPU (bench/attention_bench times the emulated versions, which measures the
/// emulator, not a GPU).

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/attention.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "scratch.cuh"

namespace llmlab::cuda {
namespace {

constexpr int kMaxD = static_cast<int>(attention_max_head_dim);
constexpr int kRows = 64;  // flash: query rows per block (forward, dQ) or keys per block (dK/dV)
constexpr int kTile = 32;  // flash: keys (forward, dQ) or queries (dK/dV) per shared-memory tile

/// Which mistake a flash forward kernel makes (none for the real one).
enum class Flaw { none, no_rescale, attends_future };

/// Whether key j is hidden from query i: \f$ j > i \f$ under the causal mask.
__device__ __forceinline__ bool masked(bool causal, std::int64_t i, std::int64_t j) {
  return causal && j > i;
}

/// \f$ \sum_{d<D} a_d b_d \f$ in fp32, d in increasing order.
__device__ __forceinline__ float dot(const float* a, const float* b, int D) {
  float s = 0.0f;
  for (int d = 0; d < D; ++d) s += a[d] * b[d];
  return s;
}

/// Loads row `row` of a head's (T, D) matrix into `dst` as fp32 (zeros past T).
template <class E>
__device__ __forceinline__ void load_row(const E* head, std::int64_t row, std::int64_t T, int D,
                                         float* dst) {
  for (int d = 0; d < D; ++d) dst[d] = row < T ? to_float(head[row * D + d]) : 0.0f;
}

/// The block's threads copy rows [r0, r0 + kTile) of a head's (T, D) matrix into shared `tile`
/// (kTile × D fp32, zeros past T), thread t taking elements t, t + blockDim.x, ….
template <class E>
__device__ __forceinline__ void stage_tile(const E* head, std::int64_t r0, std::int64_t T, int D,
                                           float* tile) {
  for (int e = static_cast<int>(threadIdx.x); e < kTile * D; e += static_cast<int>(blockDim.x)) {
    const std::int64_t r = r0 + e / D;
    tile[e] = r < T ? to_float(head[r * D + e % D]) : 0.0f;
  }
}

// ---- forward v1: naive, three kernels through a T×T workspace -----------------------------------

/// S[h, i, j] = τ q_i · k_j, or −∞ where masked; one thread per element of (B·H, T, T).
template <class E>
__global__ void naive_scores(const E* __restrict__ q, const E* __restrict__ k,
                             float* __restrict__ S, std::int64_t heads, std::int64_t T, int D,
                             float tau, bool causal) {
  const std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= heads * T * T) return;
  const std::int64_t h = e / (T * T), i = e / T % T, j = e % T;
  if (masked(causal, i, j)) {
    S[e] = -INFINITY;
    return;
  }
  const E* qi = q + (h * T + i) * D;
  const E* kj = k + (h * T + j) * D;
  float s = 0.0f;
  for (int d = 0; d < D; ++d) s += to_float(qi[d]) * to_float(kj[d]);
  S[e] = tau * s;
}

/// Row r of S (B·H·T rows of T) becomes P = softmax(S_r) in place, and L_r = m + log ℓ; one
/// thread per row, three passes (max, sum, write).
__global__ void naive_softmax(float* __restrict__ S, float* __restrict__ lse, std::int64_t rows,
                              std::int64_t T) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float* s = S + r * T;
  float m = -INFINITY;
  for (std::int64_t j = 0; j < T; ++j) m = fmaxf(m, s[j]);
  float l = 0.0f;
  for (std::int64_t j = 0; j < T; ++j) l += expf(s[j] - m);
  for (std::int64_t j = 0; j < T; ++j) s[j] = expf(s[j] - m) / l;
  lse[r] = m + logf(l);
}

/// O[h, i, d] = Σ_j P[h, i, j] v[h, j, d]; one thread per element of (B·H, T, D).
template <class E>
__global__ void naive_pv(const float* __restrict__ P, const E* __restrict__ v, E* __restrict__ out,
                         std::int64_t heads, std::int64_t T, int D) {
  const std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= heads * T * D) return;
  const std::int64_t h = e / (T * D), i = e / D % T, d = e % D;
  const float* p = P + (h * T + i) * T;
  float o = 0.0f;
  for (std::int64_t j = 0; j < T; ++j) o += p[j] * to_float(v[(h * T + j) * D + d]);
  store(out + e, o);
}

// ---- forward v2: FlashAttention-2 ---------------------------------------------------------------

/// A block per (tile of kRows queries, head); thread t owns query i = blockIdx.x·kRows + t. K and
/// V tiles of kTile keys pass through shared memory (2·kTile·D floats, dynamic). Per tile a row
/// computes its scores s_c, their maximum and sum (tile = (m_t, Σ e^{s_c − m_t})), merges that
/// into its running (m, ℓ) (primitives.cuh's merge) and rescales its accumulator the same way:
/// \f$ \mathrm{acc} \leftarrow e^{m - m'} \mathrm{acc} + e^{m_t - m'} \sum_c e^{s_c - m_t} v_c \f$.
/// At the end \f$ O_i = \mathrm{acc} / \ell \f$ and \f$ L_i = m + \log \ell \f$.
template <class E, Flaw kFlaw = Flaw::none>
__global__ void __launch_bounds__(kRows)
    flash_forward(const E* __restrict__ q, const E* __restrict__ k, const E* __restrict__ v,
                  E* __restrict__ out, float* __restrict__ lse, std::int64_t T, int D, float tau,
                  bool causal) {
  const std::int64_t h = blockIdx.y;
  const std::int64_t i0 = static_cast<std::int64_t>(blockIdx.x) * kRows;
  const std::int64_t i = i0 + threadIdx.x;
  const bool row = i < T;  // threads past T still help stage tiles and meet every barrier
  const E* qh = q + h * T * D;
  const E* kh = k + h * T * D;
  const E* vh = v + h * T * D;
  float* ks = dynamic_shared<float>();  // kTile × D
  float* vs = ks + kTile * D;           // kTile × D

  float qi[kMaxD], acc[kMaxD], s[kTile];
  load_row(qh, i, T, D, qi);
  for (int d = 0; d < D; ++d) acc[d] = 0.0f;
  MaxSum run{-INFINITY, 0.0f};  // (m, ℓ) over the keys seen so far

  // Causal: keys past the block's last query are masked for every row of it — never loaded.
  const std::int64_t keys = causal ? (i0 + kRows < T ? i0 + kRows : T) : T;
  for (std::int64_t j0 = 0; j0 < keys; j0 += kTile) {
    stage_tile(kh, j0, T, D, ks);
    stage_tile(vh, j0, T, D, vs);
    __syncthreads();
    if (row) {
      const int n = static_cast<int>(T - j0 < kTile ? T - j0 : kTile);
      float mt = -INFINITY;
      for (int c = 0; c < n; ++c) {
        const bool hide = kFlaw != Flaw::attends_future && masked(causal, i, j0 + c);
        s[c] = hide ? -INFINITY : tau * dot(qi, ks + c * D, D);
        mt = fmaxf(mt, s[c]);
      }
      if (mt != -INFINITY) {  // a row that sees no key of this tile skips it
        MaxSum tile{mt, 0.0f};
        for (int c = 0; c < n; ++c) {
          s[c] = expf(s[c] - mt);  // e^{−∞} = 0 for the masked
          tile.d += s[c];
        }
        const MaxSum next = merge(run, tile);
        const float alpha = kFlaw == Flaw::no_rescale ? 1.0f : expf(run.m - next.m);
        const float beta = expf(mt - next.m);
        for (int d = 0; d < D; ++d) {
          float pv = 0.0f;
          for (int c = 0; c < n; ++c) pv += s[c] * vs[c * D + d];
          acc[d] = alpha * acc[d] + beta * pv;
        }
        run = next;
      }
    }
    __syncthreads();  // the next tile overwrites ks and vs
  }
  if (!row) return;
  for (int d = 0; d < D; ++d) store(out + (h * T + i) * D + d, acc[d] / run.d);
  lse[h * T + i] = run.m + logf(run.d);
}

// ---- backward: D_i, shared by both versions -----------------------------------------------------

/// \f$ D_r = \sum_d \mathrm{dO}_{rd} O_{rd} \f$ for each of the B·H·T rows; one thread per row.
template <class E>
__global__ void row_dot(const E* __restrict__ dout, const E* __restrict__ out,
                        float* __restrict__ Dr, std::int64_t rows, int D) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float s = 0.0f;
  for (int d = 0; d < D; ++d) s += to_float(dout[r * D + d]) * to_float(out[r * D + d]);
  Dr[r] = s;
}

// ---- backward v1: naive, through two T×T workspaces ---------------------------------------------

/// S (from naive_scores) becomes P = e^{S − L} in place (0 where masked); one thread per element.
__global__ void naive_probs(float* __restrict__ S, const float* __restrict__ lse,
                            std::int64_t heads, std::int64_t T) {
  const std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= heads * T * T) return;
  S[e] = expf(S[e] - lse[e / T]);
}

/// dS[h, i, j] = P_ij (dO_i · v_j − D_i); one thread per element.
template <class E>
__global__ void naive_dscores(const float* __restrict__ P, const E* __restrict__ dout,
                              const E* __restrict__ v, const float* __restrict__ Dr,
                              float* __restrict__ dS, std::int64_t heads, std::int64_t T, int D) {
  const std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= heads * T * T) return;
  const std::int64_t h = e / (T * T), i = e / T % T, j = e % T;
  float dp = 0.0f;
  for (int d = 0; d < D; ++d)
    dp += to_float(dout[(h * T + i) * D + d]) * to_float(v[(h * T + j) * D + d]);
  dS[e] = P[e] * (dp - Dr[h * T + i]);
}

/// dst[h, r, d] = scale · Σ_c M(r, c) src[h, c, d], with M = W[h] (T×T) or its transpose; one
/// thread per element of (B·H, T, D). dV = Pᵀ dO (scale 1), dQ = τ dS K, dK = τ dSᵀ Q.
template <class E>
__global__ void naive_product(const float* __restrict__ W, bool transpose,
                              const E* __restrict__ src, E* __restrict__ dst, float scale,
                              std::int64_t heads, std::int64_t T, int D) {
  const std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= heads * T * D) return;
  const std::int64_t h = e / (T * D), r = e / D % T, d = e % D;
  const float* w = W + h * T * T;
  float acc = 0.0f;
  for (std::int64_t c = 0; c < T; ++c)
    acc += (transpose ? w[c * T + r] : w[r * T + c]) * to_float(src[(h * T + c) * D + d]);
  store(dst + e, scale * acc);
}

// ---- backward v2: FlashAttention-2 --------------------------------------------------------------

/// dK and dV: a block per (tile of kRows keys, head), thread t owning key j. Query tiles of kTile
/// rows (q, dO, L, D) pass through shared memory; for each visible pair the thread recomputes
/// \f$ P_{ij} = e^{\tau q_i \cdot k_j - L_i} \f$ and adds \f$ \mathrm{dV}_j \mathrel{+}= P_{ij}
/// \mathrm{dO}_i \f$, \f$ \mathrm{dK}_j \mathrel{+}= \tau P_{ij} (\mathrm{dO}_i \cdot v_j - D_i)
/// q_i \f$, i in increasing order. Causal: query tiles wholly before the block's first key are
/// never loaded.
template <class E>
__global__ void __launch_bounds__(kRows)
    flash_backward_dkdv(const E* __restrict__ dout, const E* __restrict__ q,
                        const E* __restrict__ k, const E* __restrict__ v,
                        const float* __restrict__ lse, const float* __restrict__ Dr,
                        E* __restrict__ dk, E* __restrict__ dv, std::int64_t T, int D, float tau,
                        bool causal) {
  const std::int64_t h = blockIdx.y;
  const std::int64_t j0 = static_cast<std::int64_t>(blockIdx.x) * kRows;
  const std::int64_t j = j0 + threadIdx.x;
  const bool key = j < T;
  const std::int64_t o = h * T * D;
  float* qs = dynamic_shared<float>();  // kTile × D
  float* dos = qs + kTile * D;          // kTile × D
  float* ls = dos + kTile * D;          // kTile: L_i
  float* ds = ls + kTile;               // kTile: D_i

  float kj[kMaxD], vj[kMaxD], dkj[kMaxD], dvj[kMaxD];
  load_row(k + o, j, T, D, kj);
  load_row(v + o, j, T, D, vj);
  for (int d = 0; d < D; ++d) dkj[d] = dvj[d] = 0.0f;

  const std::int64_t first = causal ? j0 / kTile * kTile : 0;  // queries before j0 see no key here
  for (std::int64_t i0 = first; i0 < T; i0 += kTile) {
    stage_tile(q + o, i0, T, D, qs);
    stage_tile(dout + o, i0, T, D, dos);
    for (int r = static_cast<int>(threadIdx.x); r < kTile; r += static_cast<int>(blockDim.x)) {
      ls[r] = i0 + r < T ? lse[h * T + i0 + r] : 0.0f;
      ds[r] = i0 + r < T ? Dr[h * T + i0 + r] : 0.0f;
    }
    __syncthreads();
    if (key) {
      const int n = static_cast<int>(T - i0 < kTile ? T - i0 : kTile);
      for (int r = 0; r < n; ++r) {
        if (masked(causal, i0 + r, j)) continue;
        const float* qi = qs + r * D;
        const float* doi = dos + r * D;
        const float p = expf(tau * dot(qi, kj, D) - ls[r]);  // P_ij
        const float dsij = p * (dot(doi, vj, D) - ds[r]);    // dS_ij = P_ij (dP_ij − D_i)
        for (int d = 0; d < D; ++d) {
          dvj[d] += p * doi[d];
          dkj[d] += tau * dsij * qi[d];
        }
      }
    }
    __syncthreads();
  }
  if (!key) return;
  for (int d = 0; d < D; ++d) {
    store(dk + o + j * D + d, dkj[d]);
    store(dv + o + j * D + d, dvj[d]);
  }
}

/// dQ, the separate deterministic pass: a block per (tile of kRows queries, head), thread t
/// owning query i; key tiles (k, v) pass through shared memory and
/// \f$ \mathrm{dQ}_i \mathrel{+}= \tau\, \mathrm{dS}_{ij} k_j \f$, j in increasing order. Causal:
/// key tiles past the block's last query are never loaded.
template <class E>
__global__ void __launch_bounds__(kRows)
    flash_backward_dq(const E* __restrict__ dout, const E* __restrict__ q, const E* __restrict__ k,
                      const E* __restrict__ v, const float* __restrict__ lse,
                      const float* __restrict__ Dr, E* __restrict__ dq, std::int64_t T, int D,
                      float tau, bool causal) {
  const std::int64_t h = blockIdx.y;
  const std::int64_t i0 = static_cast<std::int64_t>(blockIdx.x) * kRows;
  const std::int64_t i = i0 + threadIdx.x;
  const bool row = i < T;
  const std::int64_t o = h * T * D;
  float* ks = dynamic_shared<float>();  // kTile × D
  float* vs = ks + kTile * D;           // kTile × D

  float qi[kMaxD], doi[kMaxD], dqi[kMaxD];
  load_row(q + o, i, T, D, qi);
  load_row(dout + o, i, T, D, doi);
  for (int d = 0; d < D; ++d) dqi[d] = 0.0f;
  const float Li = row ? lse[h * T + i] : 0.0f;
  const float Di = row ? Dr[h * T + i] : 0.0f;

  const std::int64_t keys = causal ? (i0 + kRows < T ? i0 + kRows : T) : T;
  for (std::int64_t j0 = 0; j0 < keys; j0 += kTile) {
    stage_tile(k + o, j0, T, D, ks);
    stage_tile(v + o, j0, T, D, vs);
    __syncthreads();
    if (row) {
      const int n = static_cast<int>(T - j0 < kTile ? T - j0 : kTile);
      for (int c = 0; c < n; ++c) {
        if (masked(causal, i, j0 + c)) continue;
        const float* kj = ks + c * D;
        const float p = expf(tau * dot(qi, kj, D) - Li);        // P_ij
        const float dsij = p * (dot(doi, vs + c * D, D) - Di);  // dS_ij
        for (int d = 0; d < D; ++d) dqi[d] += tau * dsij * kj[d];
      }
    }
    __syncthreads();
  }
  if (!row) return;
  for (int d = 0; d < D; ++d) store(dq + o + i * D + d, dqi[d]);
}

// ---- the launchers ------------------------------------------------------------------------------

/// Checks the sizes of an attention launch; @returns B·H (0: nothing to launch).
std::int64_t check_sizes(const char* where, std::int64_t B, std::int64_t H, std::int64_t T,
                         std::int64_t D) {
  check_count(where, "B", B);
  check_count(where, "H", H);
  if (T < 1) throw Error(where, "T = " + std::to_string(T) + ": a query needs at least one key");
  if (D < 1) throw Error(where, "D = " + std::to_string(D) + ": a head needs D >= 1");
  if (D > attention_max_head_dim)
    throw Error(where, "D = " + std::to_string(D) + " exceeds the supported maximum " +
                           std::to_string(attention_max_head_dim));
  const std::int64_t heads = B * H;
  if (heads > 65535 || T > static_cast<std::int64_t>(INT_MAX) / kBlock)
    throw Error(where, "(B, H, T, D) = " + shape_str({B, H, T, D}) + ": too large for one grid");
  return heads;
}

/// The naive versions launch a thread per element of (B·H, T, T): that many must fit one grid.
void check_naive(const char* where, std::int64_t heads, std::int64_t T) {
  if (heads * T * T > static_cast<std::int64_t>(INT_MAX) * kBlock)
    throw Error(where, "B·H·T·T = " + std::to_string(heads * T * T) +
                           " scores: too many for the naive version (version 1)");
}

using Workspace = detail::Scratch<float>;

/// The D_i workspace, the caller's or a Workspace's, read as a Workspace is (get, cget).
struct DrView {
  float* p;
  float* get() const { return p; }
  const float* cget() const { return p; }
};

/// The flash kernels' grid: (tiles of kRows rows, heads), blocks of kRows threads, `tiles`
/// kTile × D fp32 tiles (+ `extra` floats) of dynamic shared memory.
cudaLaunchConfig_t flash_config(std::int64_t heads, std::int64_t T, int D, int tiles,
                                int extra = 0) {
  return launch_config(dim3(ceil_div(T, kRows), static_cast<unsigned>(heads)), dim3(kRows),
                       (static_cast<std::size_t>(tiles) * kTile * D + extra) * sizeof(float));
}

template <class E, Flaw kFlaw = Flaw::none>
cudaError_t forward_impl(const E* q, const E* k, const E* v, E* out, float* lse, std::int64_t B,
                         std::int64_t H, std::int64_t T, std::int64_t D, bool causal, int version,
                         const char* where = "attention_forward") {
  const std::int64_t heads = check_sizes(where, B, H, T, D);
  check_version(where, version, attention_forward_versions);
  if (heads == 0) return cudaSuccess;
  check_pointers(where, "(B, H, T, D) = " + shape_str({B, H, T, D}),
                 {{q, "q"}, {k, "k"}, {v, "v"}, {out, "out"}, {lse, "lse"}});
  const int d = static_cast<int>(D);
  const float tau = 1.0f / sqrtf(static_cast<float>(D));
  if (version == 1) {
    check_naive(where, heads, T);
    Workspace S(heads * T * T);
    if (S.error() != cudaSuccess) return S.error();
    cudaError_t err = launch(thread_per_item_config(heads * T * T), naive_scores<E>, q, k, S.get(),
                             heads, T, d, tau, causal);
    if (err == cudaSuccess)
      err = launch(thread_per_item_config(heads * T), naive_softmax, S.get(), lse, heads * T, T);
    if (err == cudaSuccess)
      err =
          launch(thread_per_item_config(heads * T * D), naive_pv<E>, S.cget(), v, out, heads, T, d);
    return err;
  }
  return launch(flash_config(heads, T, d, 2), flash_forward<E, kFlaw>, q, k, v, out, lse, T, d, tau,
                causal);
}

template <class E>
cudaError_t backward_impl(const E* dout, const E* q, const E* k, const E* v, const E* out,
                          const float* lse, E* dq, E* dk, E* dv, std::int64_t B, std::int64_t H,
                          std::int64_t T, std::int64_t D, bool causal, int version,
                          float* workspace = nullptr) {
  constexpr const char* where = "attention_backward";
  const std::int64_t heads = check_sizes(where, B, H, T, D);
  check_version(where, version, attention_backward_versions);
  if (heads == 0) return cudaSuccess;
  check_pointers(where, "(B, H, T, D) = " + shape_str({B, H, T, D}),
                 {{dout, "dout"},
                  {q, "q"},
                  {k, "k"},
                  {v, "v"},
                  {out, "out"},
                  {lse, "lse"},
                  {dq, "dq"},
                  {dk, "dk"},
                  {dv, "dv"}});
  const int d = static_cast<int>(D);
  const float tau = 1.0f / sqrtf(static_cast<float>(D));
  // D_i: in the caller's workspace when given (no allocation), else allocated here
  std::optional<Workspace> own;
  if (workspace == nullptr) {
    own.emplace(heads * T);
    if (own->error() != cudaSuccess) return own->error();
  }
  const DrView Dr{workspace != nullptr ? workspace : own->get()};
  cudaError_t err =
      launch(thread_per_item_config(heads * T), row_dot<E>, dout, out, Dr.get(), heads * T, d);
  if (err != cudaSuccess) return err;
  if (version == 1) {
    check_naive(where, heads, T);
    Workspace P(heads * T * T), dS(heads * T * T);
    if (P.error() != cudaSuccess) return P.error();
    if (dS.error() != cudaSuccess) return dS.error();
    const auto squares = thread_per_item_config(heads * T * T);
    const auto rows = thread_per_item_config(heads * T * D);
    err = launch(squares, naive_scores<E>, q, k, P.get(), heads, T, d, tau, causal);
    if (err == cudaSuccess) err = launch(squares, naive_probs, P.get(), lse, heads, T);
    if (err == cudaSuccess)
      err = launch(squares, naive_dscores<E>, P.cget(), dout, v, Dr.cget(), dS.get(), heads, T, d);
    if (err == cudaSuccess)
      err = launch(rows, naive_product<E>, P.cget(), true, dout, dv, 1.0f, heads, T, d);
    if (err == cudaSuccess)
      err = launch(rows, naive_product<E>, dS.cget(), false, k, dq, tau, heads, T, d);
    if (err == cudaSuccess)
      err = launch(rows, naive_product<E>, dS.cget(), true, q, dk, tau, heads, T, d);
    return err;
  }
  err = launch(flash_config(heads, T, d, 2, 2 * kTile), flash_backward_dkdv<E>, dout, q, k, v, lse,
               Dr.cget(), dk, dv, T, d, tau, causal);
  if (err != cudaSuccess) return err;
  return launch(flash_config(heads, T, d, 2), flash_backward_dq<E>, dout, q, k, v, lse, Dr.cget(),
                dq, T, d, tau, causal);
}

}  // namespace

cudaError_t attention_forward(const float* q, const float* k, const float* v, float* out,
                              float* lse, std::int64_t B, std::int64_t H, std::int64_t T,
                              std::int64_t D, bool causal, int version) {
  return forward_impl(q, k, v, out, lse, B, H, T, D, causal, version);
}

cudaError_t attention_forward(const __nv_bfloat16* q, const __nv_bfloat16* k,
                              const __nv_bfloat16* v, __nv_bfloat16* out, float* lse,
                              std::int64_t B, std::int64_t H, std::int64_t T, std::int64_t D,
                              bool causal, int version) {
  return forward_impl(q, k, v, out, lse, B, H, T, D, causal, version);
}

cudaError_t attention_backward(const float* dout, const float* q, const float* k, const float* v,
                               const float* out, const float* lse, float* dq, float* dk, float* dv,
                               std::int64_t B, std::int64_t H, std::int64_t T, std::int64_t D,
                               bool causal, int version) {
  return backward_impl(dout, q, k, v, out, lse, dq, dk, dv, B, H, T, D, causal, version);
}

cudaError_t attention_backward(const __nv_bfloat16* dout, const __nv_bfloat16* q,
                               const __nv_bfloat16* k, const __nv_bfloat16* v,
                               const __nv_bfloat16* out, const float* lse, __nv_bfloat16* dq,
                               __nv_bfloat16* dk, __nv_bfloat16* dv, std::int64_t B, std::int64_t H,
                               std::int64_t T, std::int64_t D, bool causal, int version) {
  return backward_impl(dout, q, k, v, out, lse, dq, dk, dv, B, H, T, D, causal, version);
}

cudaError_t attention_backward(const float* dout, const float* q, const float* k, const float* v,
                               const float* out, const float* lse, float* dq, float* dk, float* dv,
                               std::int64_t B, std::int64_t H, std::int64_t T, std::int64_t D,
                               bool causal, int version, float* workspace) {
  check_pointers("attention_backward", "(B, H, T, D)", {B, H, T, D}, {{workspace, "workspace"}});
  return backward_impl(dout, q, k, v, out, lse, dq, dk, dv, B, H, T, D, causal, version, workspace);
}

cudaError_t attention_backward(const __nv_bfloat16* dout, const __nv_bfloat16* q,
                               const __nv_bfloat16* k, const __nv_bfloat16* v,
                               const __nv_bfloat16* out, const float* lse, __nv_bfloat16* dq,
                               __nv_bfloat16* dk, __nv_bfloat16* dv, std::int64_t B, std::int64_t H,
                               std::int64_t T, std::int64_t D, bool causal, int version,
                               float* workspace) {
  check_pointers("attention_backward", "(B, H, T, D)", {B, H, T, D}, {{workspace, "workspace"}});
  return backward_impl(dout, q, k, v, out, lse, dq, dk, dv, B, H, T, D, causal, version, workspace);
}

cudaError_t attention_forward_flawed(const float* q, const float* k, const float* v, float* out,
                                     float* lse, std::int64_t B, std::int64_t H, std::int64_t T,
                                     std::int64_t D, bool causal, AttentionFlaw flaw) {
  constexpr const char* where = "attention_forward_flawed";
  if (flaw == AttentionFlaw::no_rescale)
    return forward_impl<float, Flaw::no_rescale>(q, k, v, out, lse, B, H, T, D, causal, 2, where);
  return forward_impl<float, Flaw::attends_future>(q, k, v, out, lse, B, H, T, D, causal, 2, where);
}

}  // namespace llmlab::cuda
