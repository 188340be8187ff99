/// \file
/// \ingroup group_cross_entropy
/// \brief cross-entropy of each row of logits x (B·T rows of V) against its target y:
/// \f$ \ell = \mathrm{lse}(x) - x_y \f$ with \f$ \mathrm{lse}(x) = m + \log \sum_v e^{x_v - m} \f$,
/// and its backward \f$ \mathrm{dx}_v = (e^{x_v - \mathrm{lse}} - [v = y]) \cdot
/// \mathrm{d}\ell \f$.
///
/// fp32 or bf16 logits, fp32 inside; losses, lse and dlosses are fp32, dlogits takes the logits'
/// dtype (rounded once). The loss is formed as lse minus the target's logit — never as
/// \f$ -\log p_y \f$, which is \f$ -\log 0 = \infty \f$ once \f$ p_y \f$ underflows (a target 104
/// below its row's maximum in fp32); tests/cross_entropy_test.cpp keeps a kernel that takes that
/// road (through llmlab's softmax launcher) and one that forgets the row maximum, and the sweep
/// rejects both.
///
/// Forward versions (each checked against the reference with the ratio rule, k = 2):
/// - v1 unfused, PyTorch's decomposition: a log-softmax kernel writes
///   \f$ \log p = x - \mathrm{lse} \f$ for every logit into a (B·T, V) fp32 workspace (one warp
///   per row, three passes over the row: max, sum of exponentials, write), then an nll kernel
///   reads \f$ -\log p_y \f$ back, one thread per row. The V-sized round trip through memory is
///   what fusion removes.
/// - v2 fused (llm.c's fused classifier): one warp per row keeps online softmax's running
///   (max, sum) per lane (primitives.cuh's MaxSum, push, warp_allmerge), so each logit is read
///   once, and lane 0 writes \f$ \mathrm{lse} = m + \log d \f$ and \f$ \ell = \mathrm{lse} - x_y
///   \f$. No workspace.
///
/// Backward versions (ratio rule, k = 3):
/// - v1 unfused: an elementwise kernel writes \f$ p = e^{x - \mathrm{lse}} \f$ into a (B·T, V)
///   fp32 workspace, a second one reads it back and writes \f$ (p - [v = y]) \mathrm{d}\ell \f$.
/// - v2 fused: one warp per row reads each logit once and writes its gradient at the same index,
///   so dlogits may be the logits themselves (in place: no second V-sized buffer).
///
/// Rows whose target is ignore_index get a loss of 0 and a gradient row of 0 (their lse is still
/// written). Non-finite logits go where the reference's arithmetic takes them: a NaN or
/// \f$ +\infty \f$ in a row makes its lse NaN (online softmax merges \f$ e^{\infty - \infty} \f$),
/// and the loss and gradient follow.
///
/// The launchers use v2 for both. The targets are copied to the host (4·B·T bytes, small next to
/// the B·T·V logits) and checked — a kernel cannot throw. One warp per row keeps every load
/// coalesced; with B·T in the thousands there are enough rows to fill a GPU, while a block per
/// row (llm.c's choice) would keep more loads in flight for a single short batch. Timing on a
/// GPU awaits a GPU: bench/cross_entropy_bench times the emulated versions and counts the bytes
/// each moves against the minimum.

#include <climits>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/cross_entropy.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"

namespace llmlab::cuda {
namespace {

constexpr int kRowsPerBlock = kBlock / kWarpSize;  // the warp-per-row kernels: 8 rows per block

/// This thread's warp's row (the warp-per-row kernels).
__device__ __forceinline__ std::int64_t warp_row() {
  return static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
}

// ---- forward v1: log-softmax into a workspace, then nll -----------------------------------------

/// logp[r, v] = x[r, v] − lse_r, and lse_r, one warp per row (max, sum, write: three passes).
template <class T>
__global__ void log_softmax_rows(const T* __restrict__ x, float* __restrict__ logp,
                                 float* __restrict__ lse, std::int64_t rows, std::int64_t V) {
  const std::int64_t r = warp_row();
  if (r >= rows) return;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const T* xr = x + r * V;
  float m = -INFINITY;
  for (std::int64_t v = lane; v < V; v += kWarpSize) m = fmaxf(m, to_float(xr[v]));
  m = warp_allmax(m);
  float sum = 0.0f;  // −∞ logits add nothing (a row of only −∞ has lse −∞, as the reference)
  for (std::int64_t v = lane; v < V; v += kWarpSize)
    if (to_float(xr[v]) != -INFINITY) sum += expf(to_float(xr[v]) - m);
  const float l = m + logf(warp_allsum(sum));
  for (std::int64_t v = lane; v < V; v += kWarpSize) logp[r * V + v] = to_float(xr[v]) - l;
  if (lane == 0) lse[r] = l;
}

/// ℓ_r = −logp[r, y_r] (0 where ignored), one thread per row.
__global__ void nll_rows(const float* __restrict__ logp, const std::int32_t* __restrict__ targets,
                         float* __restrict__ losses, std::int64_t rows, std::int64_t V,
                         std::int32_t ignore_index) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const std::int32_t y = targets[r];
  losses[r] = y == ignore_index ? 0.0f : -logp[r * V + y];
}

// ---- forward v2: fused, online max/sum, one read of each logit ----------------------------------

template <class T>
__global__ void cross_entropy_forward_v2(const T* __restrict__ x,
                                         const std::int32_t* __restrict__ targets,
                                         float* __restrict__ losses, float* __restrict__ lse,
                                         std::int64_t rows, std::int64_t V,
                                         std::int32_t ignore_index) {
  const std::int64_t r = warp_row();
  if (r >= rows) return;  // the whole warp leaves together
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const T* xr = x + r * V;
  MaxSum s{-INFINITY, 0.0f};  // this lane's running max and sum of e^{x − m}
  for (std::int64_t v = lane; v < V; v += kWarpSize) s = push(s, to_float(xr[v]));
  s = warp_allmerge(s);  // the row's (m, d), in every lane
  if (lane != 0) return;
  const float l = s.m + logf(s.d);
  const std::int32_t y = targets[r];
  lse[r] = l;
  losses[r] = y == ignore_index ? 0.0f : l - to_float(xr[y]);
}

// ---- backward v1: probabilities into a workspace, then the gradient -----------------------------

/// p[i] = e^{x[i] − lse_r}, one thread per logit.
template <class T>
__global__ void probabilities(const T* __restrict__ x, const float* __restrict__ lse,
                              float* __restrict__ p, std::int64_t n, std::int64_t V) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) p[i] = expf(to_float(x[i]) - lse[i / V]);
}

/// dx[i] = (p[i] − [v = y_r]) dℓ_r, 0 on ignored rows, one thread per logit.
template <class T>
__global__ void gradient_from_probabilities(const float* __restrict__ p,
                                            const std::int32_t* __restrict__ targets,
                                            const float* __restrict__ dlosses, T* __restrict__ dx,
                                            std::int64_t n, std::int64_t V,
                                            std::int32_t ignore_index) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const std::int64_t r = i / V;
  const std::int32_t y = targets[r];
  const float onehot = i - r * V == y ? 1.0f : 0.0f;
  store(dx + i, y == ignore_index ? 0.0f : (p[i] - onehot) * dlosses[r]);
}

// ---- backward v2: fused, in place ---------------------------------------------------------------

/// Each lane reads x[v] and writes dx[v] at the same index, so dx may alias x (no __restrict__).
template <class T>
__global__ void cross_entropy_backward_v2(const T* x, const std::int32_t* __restrict__ targets,
                                          const float* __restrict__ lse,
                                          const float* __restrict__ dlosses, T* dx,
                                          std::int64_t rows, std::int64_t V,
                                          std::int32_t ignore_index) {
  const std::int64_t r = warp_row();
  if (r >= rows) return;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const std::int32_t y = targets[r];
  if (y == ignore_index) {  // no gradient: the row is overwritten with zeros, nothing read
    for (std::int64_t v = lane; v < V; v += kWarpSize) store(dx + r * V + v, 0.0f);
    return;
  }
  const float l = lse[r], dl = dlosses[r];
  for (std::int64_t v = lane; v < V; v += kWarpSize) {
    const float p = expf(to_float(x[r * V + v]) - l);
    store(dx + r * V + v, (p - (v == y ? 1.0f : 0.0f)) * dl);
  }
}

// ---- the launchers ------------------------------------------------------------------------------

/// Checks sizes, version and pointers, copies the targets to the host and checks each is in
/// [0, V) or is ignore_index. @returns false when there is nothing to do (B·T == 0).
bool check_args(const char* where, const std::int32_t* targets, std::int64_t B, std::int64_t T_,
                std::int64_t V, std::int32_t ignore_index, int version, int versions,
                std::initializer_list<NamedPointer> tensors) {
  check_count(where, "B", B);
  check_count(where, "T", T_);
  check_count(where, "V", V);
  check_version(where, version, versions);
  if (T_ > 0 && B > INT64_MAX / T_)
    throw Error(where, "(B, T) = " + shape_str({B, T_}) + ": too many positions");
  const std::int64_t N = B * T_;
  if (N == 0) return false;
  const std::string shape = shape_str({B, T_, V});
  if (V == 0) throw Error(where, "(B, T, V) = " + shape + ": rows of V = 0 logits have no loss");
  // A row's length and target are int32; v1's one thread per logit needs ⌈N·V / 256⌉ < 2^31 blocks.
  if (V > INT_MAX || N > INT64_MAX / V || N * V > static_cast<std::int64_t>(INT_MAX) * kBlock)
    throw Error(where, "(B, T, V) = " + shape + ": too large for one grid");
  check_pointers(where, "(B, T, V)", {B, T_, V}, tensors);
  check_pointers(where, "(B, T)", {B, T_}, {{targets, "targets"}});

  std::vector<std::int32_t> host(static_cast<std::size_t>(N));
  const cudaError_t err =
      cudaMemcpy(host.data(), targets, host.size() * sizeof(std::int32_t), cudaMemcpyDeviceToHost);
  if (err != cudaSuccess)
    throw Error(where,
                std::string("copying targets to the host failed: ") + cudaGetErrorString(err));
  for (std::int64_t r = 0; r < N; ++r) {
    const std::int32_t y = host[static_cast<std::size_t>(r)];
    if (y != ignore_index && (y < 0 || y >= V))
      throw Error(where, "targets[" + std::to_string(r / T_) + ", " + std::to_string(r % T_) +
                             "] = " + std::to_string(y) +
                             " is outside [0, V = " + std::to_string(V) +
                             ") and is not ignore_index = " + std::to_string(ignore_index));
  }
  return true;
}

/// A warp per row: ⌈rows / 8⌉ blocks of kBlock.
cudaLaunchConfig_t warp_per_row_config(std::int64_t rows) {
  return launch_config(dim3(ceil_div(rows, kRowsPerBlock)), dim3(kBlock));
}

/// Runs `body(workspace)` with a (N·V) fp32 device workspace, freed afterwards (v1's buffer).
template <class Body>
cudaError_t with_workspace(std::int64_t floats, Body body) {
  float* workspace = nullptr;
  cudaError_t err = cudaMalloc(&workspace, static_cast<std::size_t>(floats) * sizeof(float));
  if (err != cudaSuccess) return err;
  err = body(workspace);
  const cudaError_t freed = cudaFree(workspace);  // waits for the kernels on a GPU
  return err != cudaSuccess ? err : freed;
}

template <class T>
cudaError_t forward_impl(const T* logits, const std::int32_t* targets, float* losses, float* lse,
                         std::int64_t B, std::int64_t T_, std::int64_t V, std::int32_t ignore_index,
                         int version) {
  if (!check_args("cross_entropy_forward", targets, B, T_, V, ignore_index, version,
                  cross_entropy_forward_versions,
                  {{logits, "logits"}, {losses, "losses"}, {lse, "lse"}}))
    return cudaSuccess;
  const std::int64_t N = B * T_;
  if (version == 1)
    return with_workspace(N * V, [&](float* logp) {
      const cudaError_t err =
          launch(warp_per_row_config(N), log_softmax_rows<T>, logits, logp, lse, N, V);
      if (err != cudaSuccess) return err;
      return launch(thread_per_item_config(N), nll_rows, static_cast<const float*>(logp), targets,
                    losses, N, V, ignore_index);
    });
  return launch(warp_per_row_config(N), cross_entropy_forward_v2<T>, logits, targets, losses, lse,
                N, V, ignore_index);
}

template <class T>
cudaError_t backward_impl(const T* logits, const std::int32_t* targets, const float* lse,
                          const float* dlosses, T* dlogits, std::int64_t B, std::int64_t T_,
                          std::int64_t V, std::int32_t ignore_index, int version) {
  if (!check_args("cross_entropy_backward", targets, B, T_, V, ignore_index, version,
                  cross_entropy_backward_versions,
                  {{logits, "logits"}, {lse, "lse"}, {dlosses, "dlosses"}, {dlogits, "dlogits"}}))
    return cudaSuccess;
  const std::int64_t N = B * T_, n = N * V;
  if (version == 1)
    return with_workspace(n, [&](float* p) {
      const cudaError_t err =
          launch(thread_per_item_config(n), probabilities<T>, logits, lse, p, n, V);
      if (err != cudaSuccess) return err;
      return launch(thread_per_item_config(n), gradient_from_probabilities<T>,
                    static_cast<const float*>(p), targets, dlosses, dlogits, n, V, ignore_index);
    });
  return launch(warp_per_row_config(N), cross_entropy_backward_v2<T>, logits, targets, lse, dlosses,
                dlogits, N, V, ignore_index);
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
