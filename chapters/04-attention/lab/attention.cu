/// \file
/// \brief Lab 04: FlashAttention-2 — the forward kernel with its online softmax (step 2) and the
/// backward with P recomputed from L (step 3).
///
/// The interface is llmlab's own (<llmlab/cuda/attention.cuh>): q, k, v, out, dout and the
/// gradients are (B, H, T, D) row-major, one head after another; lse is (B, H, T) fp32; fp32 or
/// bf16 tensors with fp32 math. The launchers at the bottom are complete (they ignore `version`:
/// your flash kernels are the only ones here); you write the kernels:
/// - step 2, forward: a block per (tile of 64 queries, head), one thread per query row; tiles of
///   32 keys and values staged in shared memory; a running maximum m, a running sum ℓ and an
///   accumulator rescaled whenever m grows; only O and L written.
/// - step 3, backward: D_i is computed for you; write the dK/dV kernel (one thread per key,
///   query tiles streamed) and the dQ kernel (one thread per query, key tiles streamed), each
///   recomputing P_ij = e^{S_ij − L_i}.
///
/// Check your work:   scripts/lab.sh 04
/// (or build/default/chapters/04-attention/ch04_checks --gtest_filter='Forward*' and so on).

#include <cmath>
#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/attention.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"

namespace llmlab::cuda {
namespace {

constexpr int kMaxD = 128;  // attention_max_head_dim: a thread keeps rows of up to 128 floats
constexpr int kRows = 64;   // query rows (forward, dQ) or keys (dK/dV) per block, one per thread
constexpr int kTile = 32;   // keys (forward, dQ) or queries (dK/dV) per shared-memory tile

/// \f$ \sum_{d<D} a_d b_d \f$ in fp32.
[[maybe_unused]] __device__ __forceinline__ float dot(const float* a, const float* b, int D) {
  float s = 0.0f;
  for (int d = 0; d < D; ++d) s += a[d] * b[d];
  return s;
}

/// Row `row` of a head's (T, D) matrix as fp32 in dst (zeros past T).
template <class E>
__device__ __forceinline__ void load_row(const E* head, std::int64_t row, std::int64_t T, int D,
                                         float* dst) {
  for (int d = 0; d < D; ++d) dst[d] = row < T ? to_float(head[row * D + d]) : 0.0f;
}

/// The block's threads copy rows [r0, r0 + kTile) of a head's (T, D) matrix into `tile` (shared,
/// kTile × D fp32, zeros past T). Every thread of the block must call it.
template <class E>
__device__ __forceinline__ void stage_tile(const E* head, std::int64_t r0, std::int64_t T, int D,
                                           float* tile) {
  for (int e = static_cast<int>(threadIdx.x); e < kTile * D; e += static_cast<int>(blockDim.x)) {
    const std::int64_t r = r0 + e / D;
    tile[e] = r < T ? to_float(head[r * D + e % D]) : 0.0f;
  }
}

// ---- step 2: the forward ------------------------------------------------------------------------

/// Launched with a grid of (⌈T / 64⌉, B·H) blocks of 64 threads and 2·32·D floats of dynamic
/// shared memory. Thread t of block (x, h) owns query i = 64x + t of head h.
template <class E>
__global__ void flash_forward(const E* __restrict__ q, const E* __restrict__ k,
                              const E* __restrict__ v, E* __restrict__ out, float* __restrict__ lse,
                              std::int64_t T, int D, float tau, bool causal) {
  const std::int64_t h = blockIdx.y;
  const std::int64_t i0 = static_cast<std::int64_t>(blockIdx.x) * kRows;
  const std::int64_t i = i0 + threadIdx.x;
  const bool row = i < T;               // threads past T still stage tiles and meet every barrier
  float* ks = dynamic_shared<float>();  // kTile × D: this tile's keys
  float* vs = ks + kTile * D;           // kTile × D: this tile's values
  float qi[kMaxD], acc[kMaxD], s[kTile];
  load_row(q + h * T * D, i, T, D, qi);
  for (int d = 0; d < D; ++d) acc[d] = 0.0f;
  float m = -INFINITY, l = 0.0f;  // the running maximum and sum of e^{S − m}
  // TODO(step 2):
  //   1. Loop over key tiles j0 = 0, 32, 64, … while j0 < keys, where keys = T, or when causal
  //      min(T, i0 + 64): tiles past the block's last query are masked for all its rows — skip
  //      them.
  //   2. Stage the tile: stage_tile(k + h*T*D, j0, T, D, ks) and the same for v into vs, then
  //      __syncthreads().
  //   3. If `row`: for the n = min(32, T − j0) keys c of the tile, s[c] = tau · dot(qi, ks + c·D)
  //      or −INFINITY when causal and j0 + c > i; the tile's maximum m_t. If m_t is −∞ the row
  //      sees nothing here: skip to 5.
  //   4. m' = max(m, m_t); α = e^{m − m'} (0 while m is still −∞); p_c = e^{s_c − m'};
  //      l = α·l + Σ p_c;  acc_d = α·acc_d + Σ_c p_c · vs[c·D + d];  m = m'.
  //      (This is the handout's rescaling: forget α and every earlier tile keeps a weight that
  //      is e^{m' − m} too large.)
  //   5. __syncthreads() before the next tile overwrites ks and vs.
  (void)k, (void)v, (void)causal, (void)tau, (void)ks, (void)vs, (void)s, (void)m, (void)l,
      (void)qi, (void)acc;
  if (!row) return;
  // TODO(step 2): out_i = acc / l (store(out + (h*T + i)*D + d, …)) and lse[h*T + i] = m + log l.
  (void)out, (void)lse;
}

// ---- step 3: the backward -----------------------------------------------------------------------

/// D_r = Σ_d dO_rd O_rd for each of the B·H·T rows (given: one thread per row).
template <class E>
__global__ void row_dot(const E* __restrict__ dout, const E* __restrict__ out,
                        float* __restrict__ Dr, std::int64_t rows, int D) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float s = 0.0f;
  for (int d = 0; d < D; ++d) s += to_float(dout[r * D + d]) * to_float(out[r * D + d]);
  Dr[r] = s;
}

/// dK and dV. Launched like the forward, with 2·32·D + 2·32 floats of dynamic shared memory;
/// thread t of block (x, h) owns key j = 64x + t.
template <class E>
__global__ void flash_backward_dkdv(const E* __restrict__ dout, const E* __restrict__ q,
                                    const E* __restrict__ k, const E* __restrict__ v,
                                    const float* __restrict__ lse, const float* __restrict__ Dr,
                                    E* __restrict__ dk, E* __restrict__ dv, std::int64_t T, int D,
                                    float tau, bool causal) {
  // TODO(step 3): keep k_j and v_j in registers and dK_j, dV_j accumulators. Stream query tiles
  //   (q and dout with stage_tile, and their L_i, D_i) through shared memory — when causal start
  //   at the tile holding query j0 = 64·blockIdx.x: earlier queries see none of these keys. For
  //   every query i ≥ j of a tile (all i when not causal):
  //     P = e^{τ q_i·k_j − L_i};  dV_j += P dO_i;  dS = P (dO_i·v_j − D_i);  dK_j += τ dS q_i.
  //   Store dK_j and dV_j at the end (store(): bf16 rounds once). No atomics: one thread, one key.
  (void)dout, (void)q, (void)k, (void)v, (void)lse, (void)Dr, (void)dk, (void)dv, (void)T, (void)D,
      (void)tau, (void)causal;
}

/// dQ, the separate deterministic pass. Launched like the forward; thread t owns query i.
template <class E>
__global__ void flash_backward_dq(const E* __restrict__ dout, const E* __restrict__ q,
                                  const E* __restrict__ k, const E* __restrict__ v,
                                  const float* __restrict__ lse, const float* __restrict__ Dr,
                                  E* __restrict__ dq, std::int64_t T, int D, float tau,
                                  bool causal) {
  // TODO(step 3): like the forward's loop over key tiles (k and v staged), with q_i, dO_i, L_i
  //   and D_i of this thread's query: for every visible key j,
  //     P = e^{τ q_i·k_j − L_i};  dS = P (dO_i·v_j − D_i);  dQ_i += τ dS k_j.
  (void)dout, (void)q, (void)k, (void)v, (void)lse, (void)Dr, (void)dq, (void)T, (void)D, (void)tau,
      (void)causal;
}

// ---- the launchers (complete) -------------------------------------------------------------------

void check_sizes(const char* where, std::int64_t B, std::int64_t H, std::int64_t T,
                 std::int64_t D) {
  if (B < 0 || H < 0) throw Error(where, "B and H must be >= 0");
  if (T < 1) throw Error(where, "T = " + std::to_string(T) + ": a query needs at least one key");
  if (D < 1 || D > kMaxD)
    throw Error(where, "D = " + std::to_string(D) + " must be 1 ... " + std::to_string(kMaxD));
}

cudaLaunchConfig_t flash_config(std::int64_t heads, std::int64_t T, std::int64_t D, int extra) {
  return launch_config(dim3(ceil_div(T, kRows), static_cast<unsigned>(heads)), dim3(kRows),
                       static_cast<std::size_t>(2 * kTile * D + extra) * sizeof(float));
}

template <class E>
cudaError_t forward_impl(const E* q, const E* k, const E* v, E* out, float* lse, std::int64_t B,
                         std::int64_t H, std::int64_t T, std::int64_t D, bool causal) {
  check_sizes("attention_forward", B, H, T, D);
  if (B * H == 0) return cudaSuccess;
  // TODO(step 2): delete this statement once flash_forward is written.
  throw Error("attention_forward",
              "not implemented — write flash_forward in chapters/04-attention/lab/attention.cu "
              "(step 2 of the handout)");
  return launch(flash_config(B * H, T, D, 0), flash_forward<E>, q, k, v, out, lse, T,
                static_cast<int>(D), 1.0f / sqrtf(static_cast<float>(D)), causal);
}

template <class E>
cudaError_t backward_impl(const E* dout, const E* q, const E* k, const E* v, const E* out,
                          const float* lse, E* dq, E* dk, E* dv, std::int64_t B, std::int64_t H,
                          std::int64_t T, std::int64_t D, bool causal) {
  check_sizes("attention_backward", B, H, T, D);
  if (B * H == 0) return cudaSuccess;
  // TODO(step 3): delete this statement once flash_backward_dkdv and flash_backward_dq are
  // written.
  throw Error("attention_backward",
              "not implemented — write flash_backward_dkdv and flash_backward_dq in "
              "chapters/04-attention/lab/attention.cu (step 3 of the handout)");
  const std::int64_t rows = B * H * T;
  const int d = static_cast<int>(D);
  const float tau = 1.0f / sqrtf(static_cast<float>(D));
  float* Dr = nullptr;  // D_i, B·H·T floats: the only workspace
  cudaError_t err = cudaMalloc(reinterpret_cast<void**>(&Dr), rows * sizeof(float));
  if (err == cudaSuccess)
    err = launch(launch_config(dim3(ceil_div(rows, 256)), dim3(256)), row_dot<E>, dout, out, Dr,
                 rows, d);
  if (err == cudaSuccess)
    err = launch(flash_config(B * H, T, D, 2 * kTile), flash_backward_dkdv<E>, dout, q, k, v, lse,
                 Dr, dk, dv, T, d, tau, causal);
  if (err == cudaSuccess)
    err = launch(flash_config(B * H, T, D, 0), flash_backward_dq<E>, dout, q, k, v, lse, Dr, dq, T,
                 d, tau, causal);
  cudaFree(Dr);
  return err;
}

}  // namespace

cudaError_t attention_forward(const float* q, const float* k, const float* v, float* out,
                              float* lse, std::int64_t B, std::int64_t H, std::int64_t T,
                              std::int64_t D, bool causal, int /*version*/) {
  return forward_impl(q, k, v, out, lse, B, H, T, D, causal);
}

cudaError_t attention_forward(const __nv_bfloat16* q, const __nv_bfloat16* k,
                              const __nv_bfloat16* v, __nv_bfloat16* out, float* lse,
                              std::int64_t B, std::int64_t H, std::int64_t T, std::int64_t D,
                              bool causal, int /*version*/) {
  return forward_impl(q, k, v, out, lse, B, H, T, D, causal);
}

cudaError_t attention_backward(const float* dout, const float* q, const float* k, const float* v,
                               const float* out, const float* lse, float* dq, float* dk, float* dv,
                               std::int64_t B, std::int64_t H, std::int64_t T, std::int64_t D,
                               bool causal, int /*version*/) {
  return backward_impl(dout, q, k, v, out, lse, dq, dk, dv, B, H, T, D, causal);
}

cudaError_t attention_backward(const __nv_bfloat16* dout, const __nv_bfloat16* q,
                               const __nv_bfloat16* k, const __nv_bfloat16* v,
                               const __nv_bfloat16* out, const float* lse, __nv_bfloat16* dq,
                               __nv_bfloat16* dk, __nv_bfloat16* dv, std::int64_t B, std::int64_t H,
                               std::int64_t T, std::int64_t D, bool causal, int /*version*/) {
  return backward_impl(dout, q, k, v, out, lse, dq, dk, dv, B, H, T, D, causal);
}

}  // namespace llmlab::cuda
