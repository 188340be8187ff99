/// \file
/// \ingroup group_embedding
/// \brief embedding: \f$ \mathrm{out}_{b,t,:} = \mathrm{wte}_{\mathrm{ids}_{b,t},:} +
/// \mathrm{wpe}_{t,:} \f$ and its deterministic backward.
///
/// The forward is data movement plus one add per element, so it is memory-bound and exact: fp32
/// (or fp32 rounded once to bf16) like the reference. The backward is a scatter: every position
/// (b, t) adds its dout row into the row of its token, and a token that occurs k times receives k
/// rows. Letting each position add with float atomics would be fast and racy-correct but not
/// reproducible (the order of additions changes from run to run), so, as llm.c learned, positions
/// are **bucketed by token** and each token's rows are summed by one block in a fixed order —
/// (b, t) order onto the old value, the reference's order, so fp32 results even match it bitwise.
/// dwpe needs no buckets: position t gathers the B rows dout[:, t, :], one thread per (t, c).
///
/// The launchers copy the B·T ids to the host (4·B·T bytes, small next to the B·T·C rows) to
/// check that every id is in [0, V) — a kernel cannot throw — and the backward reuses that copy
/// to build its buckets.
///
/// Forward versions (tests/embedding_test.cpp checks each, exact):
/// - v1 naive: one thread per output element (b, t, c).
/// - v2 wide: one thread per float4 (fp32) or __nv_bfloat162 (bf16) of an output row when C is a
///   multiple of the width and every array is wide-aligned (else v1's scalar path): a quarter (a
///   half) of the memory instructions for the same bytes.
///
/// Backward versions (each checked with the ratio rule and for bitwise-equal reruns):
/// - v1 scan: one block per vocabulary row v; each thread owns columns c and walks all B·T
///   positions, adding the rows whose id is v. Deterministic and simple, but O(V·B·T) id reads.
/// - v2 buckets: the host sorts the positions by token (a stable counting sort, so each bucket
///   keeps (b, t) order) and uploads them; one block per distinct token sums its bucket's rows.
///   O(B·T·C) work; the cost is one host round trip and a temporary device buffer per call.
///
/// The launchers use v2 for both by default. Timing on a GPU awaits a GPU: none has been lent to
/// this project yet. bench/embedding_bench times the emulated versions, which measures the
/// emulator, not a GPU.

#include <algorithm>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/embedding.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "llmlab/cuda/wide_loads.cuh"

namespace llmlab::cuda {
namespace {

// Every kernel here runs blocks of kBlock threads; add() forms a + b in fp32 and rounds once to
// the inputs' type, for elements and wide vectors (primitives.cuh).

// ---- forward v1: one thread per output element --------------------------------------------------

template <class T>
__global__ void embedding_forward_v1(const std::int32_t* __restrict__ ids,
                                     const T* __restrict__ wte, const T* __restrict__ wpe,
                                     T* __restrict__ out, std::int64_t BT, std::int64_t T_,
                                     std::int64_t C) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= BT * C) return;
  const std::int64_t bt = i / C, c = i % C, t = bt % T_;
  const std::int64_t v = ids[bt];
  out[i] = add(wte[v * C + c], wpe[t * C + c]);
}

// ---- forward v2: one thread per wide vector -----------------------------------------------------

template <class T>
__global__ void embedding_forward_v2(const std::int32_t* __restrict__ ids,
                                     const T* __restrict__ wte, const T* __restrict__ wpe,
                                     T* __restrict__ out, std::int64_t BT, std::int64_t T_,
                                     std::int64_t C) {
  using V = typename Wide<T>::type;
  const std::int64_t CV = C / Wide<T>::width;  // vectors per row (C is a multiple of the width)
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= BT * CV) return;
  const std::int64_t bt = i / CV, cv = i % CV, t = bt % T_;
  const std::int64_t v = ids[bt];
  const V* te = reinterpret_cast<const V*>(wte);
  const V* pe = reinterpret_cast<const V*>(wpe);
  V* o = reinterpret_cast<V*>(out);
  o[i] = add(te[v * CV + cv], pe[t * CV + cv]);
}

// ---- backward: dwpe, one thread per (t, c) ------------------------------------------------------

template <class T>
__global__ void embedding_backward_dwpe(const T* __restrict__ dout, float* __restrict__ dwpe,
                                        std::int64_t B, std::int64_t T_, std::int64_t C) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= T_ * C) return;  // i = t·C + c
  float acc = dwpe[i];
  for (std::int64_t b = 0; b < B; ++b) acc += to_float(dout[b * T_ * C + i]);
  dwpe[i] = acc;
}

// ---- backward v1: one block per vocabulary row, scanning every position -------------------------

template <class T>
__global__ void embedding_backward_dwte_v1(const T* __restrict__ dout,
                                           const std::int32_t* __restrict__ ids,
                                           float* __restrict__ dwte, std::int64_t BT,
                                           std::int64_t C) {
  const std::int64_t v = blockIdx.x;
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    float acc = dwte[v * C + c];
    for (std::int64_t p = 0; p < BT; ++p)
      if (ids[p] == v) acc += to_float(dout[p * C + c]);
    dwte[v * C + c] = acc;
  }
}

// ---- backward v2: one block per bucket (distinct token) -----------------------------------------

/// buckets = [token of bucket k (nb) | first position of bucket k (nb + 1) | positions (B·T)].
template <class T>
__global__ void embedding_backward_dwte_v2(const T* __restrict__ dout,
                                           const std::int32_t* __restrict__ buckets,
                                           float* __restrict__ dwte, std::int64_t nb,
                                           std::int64_t C) {
  const std::int64_t k = blockIdx.x;
  const std::int64_t v = buckets[k];
  const std::int32_t* first = buckets + nb;
  const std::int32_t* positions = buckets + 2 * nb + 1;
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    float acc = dwte[v * C + c];
    for (std::int32_t j = first[k]; j < first[k + 1]; ++j)
      acc += to_float(dout[static_cast<std::int64_t>(positions[j]) * C + c]);
    dwte[v * C + c] = acc;
  }
}

// ---- argument checks ----------------------------------------------------------------------------

/// Checks sizes, version and pointers, copies the ids to the host and checks each is in [0, V).
/// @returns the host copy of the ids (B·T)
std::vector<std::int32_t> checked_ids(const char* where, const std::int32_t* ids, std::int64_t B,
                                      std::int64_t T_, std::int64_t C, std::int64_t V,
                                      std::int64_t maxT, int version, int versions,
                                      std::initializer_list<NamedPointer> tensors) {
  const std::pair<const char*, std::int64_t> sizes[] = {
      {"B", B}, {"T", T_}, {"C", C}, {"V", V}, {"maxT", maxT}};
  for (const auto& [name, n] : sizes) check_count(where, name, n);
  check_version(where, version, versions);
  if (T_ > maxT)
    throw Error(where, "ids is " + shape_str({B, T_}) + ": T = " + std::to_string(T_) +
                           " positions but wpe has only maxT = " + std::to_string(maxT));
  // Positions travel as int32 (buckets), and a grid holds at most 2^31 - 1 blocks.
  if (B > 0 && (T_ > INT_MAX / B || B * T_ * std::max<std::int64_t>(C, 1) > INT_MAX * 256LL))
    throw Error(where, "(B, T, C) = " + shape_str({B, T_, C}) + ": too many elements");
  const std::int64_t BT = B * T_;
  if (BT == 0) return {};
  check_pointers(where, "(B, T)", {B, T_}, {{ids, "ids"}});
  check_pointers(where, "(B, T, C)", {B, T_, C}, tensors);

  std::vector<std::int32_t> host(static_cast<std::size_t>(BT));
  const cudaError_t err =
      cudaMemcpy(host.data(), ids, host.size() * sizeof(std::int32_t), cudaMemcpyDeviceToHost);
  if (err != cudaSuccess)
    throw Error(where, std::string("copying ids to the host failed: ") + cudaGetErrorString(err));
  for (std::int64_t p = 0; p < BT; ++p)
    if (host[p] < 0 || host[p] >= V)
      throw Error(where, "ids[" + std::to_string(p / T_) + ", " + std::to_string(p % T_) +
                             "] = " + std::to_string(host[p]) +
                             " is outside [0, V = " + std::to_string(V) + ")");
  return host;
}

/// The buckets of embedding_backward_dwte_v2 for `ids` (B·T, each in [0, V)): a stable counting
/// sort of the positions by token. @returns [tokens (nb) | firsts (nb + 1) | positions (B·T)]
std::vector<std::int32_t> bucket_by_token(const std::vector<std::int32_t>& ids, std::int64_t V,
                                          std::int64_t& nb) {
  std::vector<std::int32_t> count(static_cast<std::size_t>(V) + 1, 0);
  for (const std::int32_t v : ids) ++count[static_cast<std::size_t>(v) + 1];
  for (std::size_t v = 1; v < count.size(); ++v) count[v] += count[v - 1];  // count[v] = start
  std::vector<std::int32_t> tokens, firsts;
  for (std::int64_t v = 0; v < V; ++v)
    if (count[v + 1] > count[v]) {
      tokens.push_back(static_cast<std::int32_t>(v));
      firsts.push_back(count[v]);
    }
  nb = static_cast<std::int64_t>(tokens.size());
  firsts.push_back(static_cast<std::int32_t>(ids.size()));
  std::vector<std::int32_t> positions(ids.size());
  for (std::size_t p = 0; p < ids.size(); ++p)  // in (b, t) order: each bucket stays sorted
    positions[static_cast<std::size_t>(count[static_cast<std::size_t>(ids[p])]++)] =
        static_cast<std::int32_t>(p);
  std::vector<std::int32_t> out = tokens;
  out.insert(out.end(), firsts.begin(), firsts.end());
  out.insert(out.end(), positions.begin(), positions.end());
  return out;
}

// ---- the launchers ------------------------------------------------------------------------------

template <class T>
cudaError_t forward_impl(const std::int32_t* ids, const T* wte, const T* wpe, T* out,
                         std::int64_t B, std::int64_t T_, std::int64_t C, std::int64_t V,
                         std::int64_t maxT, int version) {
  checked_ids("embedding_forward", ids, B, T_, C, V, maxT, version, embedding_forward_versions,
              {{wte, "wte"}, {wpe, "wpe"}, {out, "out"}});
  const std::int64_t BT = B * T_;
  if (BT * C == 0) return cudaSuccess;
  if (version == 0) version = embedding_forward_versions;

  constexpr int W = Wide<T>::width;
  if (version == 2 && C % W == 0 && wide_aligned(wte) && wide_aligned(wpe) && wide_aligned(out)) {
    return launch(thread_per_item_config(BT * (C / W)), embedding_forward_v2<T>, ids, wte, wpe, out,
                  BT, T_, C);
  }
  return launch(thread_per_item_config(BT * C), embedding_forward_v1<T>, ids, wte, wpe, out, BT, T_,
                C);
}

template <class T>
cudaError_t backward_impl(const T* dout, const std::int32_t* ids, float* dwte, float* dwpe,
                          std::int64_t B, std::int64_t T_, std::int64_t C, std::int64_t V,
                          std::int64_t maxT, int version, std::int32_t* workspace = nullptr) {
  const std::vector<std::int32_t> host_ids =
      checked_ids("embedding_backward", ids, B, T_, C, V, maxT, version,
                  embedding_backward_versions, {{dout, "dout"}, {dwte, "dwte"}, {dwpe, "dwpe"}});
  const std::int64_t BT = B * T_;
  if (BT * C == 0) return cudaSuccess;
  if (version == 0) version = embedding_backward_versions;

  cudaError_t err =
      launch(thread_per_item_config(T_ * C), embedding_backward_dwpe<T>, dout, dwpe, B, T_, C);
  if (err != cudaSuccess) return err;
  if (version == 1) {
    if (V > INT_MAX) throw Error("embedding_backward", "v1 needs V <= 2^31 - 1 blocks");
    return launch(launch_config(dim3(static_cast<unsigned>(V)), dim3(kBlock)),
                  embedding_backward_dwte_v1<T>, dout, ids, dwte, BT, C);
  }
  std::int64_t nb = 0;
  const std::vector<std::int32_t> buckets = bucket_by_token(host_ids, V, nb);
  std::int32_t* d_buckets = workspace;  // the caller's (no allocation), else allocated here
  const std::size_t bytes = buckets.size() * sizeof(std::int32_t);
  if (workspace == nullptr && (err = cudaMalloc(&d_buckets, bytes)) != cudaSuccess) return err;
  err = cudaMemcpy(d_buckets, buckets.data(), bytes, cudaMemcpyHostToDevice);
  if (err == cudaSuccess)
    err = launch(launch_config(dim3(static_cast<unsigned>(nb)), dim3(kBlock)),
                 embedding_backward_dwte_v2<T>, dout, static_cast<const std::int32_t*>(d_buckets),
                 dwte, nb, C);
  if (workspace != nullptr) return err;
  const cudaError_t freed = cudaFree(d_buckets);  // waits for the kernel on a GPU
  return err != cudaSuccess ? err : freed;
}

}  // namespace

cudaError_t embedding_forward(const std::int32_t* ids, const float* wte, const float* wpe,
                              float* out, std::int64_t B, std::int64_t T, std::int64_t C,
                              std::int64_t V, std::int64_t maxT, int version) {
  return forward_impl(ids, wte, wpe, out, B, T, C, V, maxT, version);
}

cudaError_t embedding_forward(const std::int32_t* ids, const __nv_bfloat16* wte,
                              const __nv_bfloat16* wpe, __nv_bfloat16* out, std::int64_t B,
                              std::int64_t T, std::int64_t C, std::int64_t V, std::int64_t maxT,
                              int version) {
  return forward_impl(ids, wte, wpe, out, B, T, C, V, maxT, version);
}

cudaError_t embedding_backward(const float* dout, const std::int32_t* ids, float* dwte, float* dwpe,
                               std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t V,
                               std::int64_t maxT, int version) {
  return backward_impl(dout, ids, dwte, dwpe, B, T, C, V, maxT, version);
}

cudaError_t embedding_backward(const __nv_bfloat16* dout, const std::int32_t* ids, float* dwte,
                               float* dwpe, std::int64_t B, std::int64_t T, std::int64_t C,
                               std::int64_t V, std::int64_t maxT, int version) {
  return backward_impl(dout, ids, dwte, dwpe, B, T, C, V, maxT, version);
}

std::int64_t embedding_backward_workspace(std::int64_t B, std::int64_t T) {
  check_count("embedding_backward_workspace", "B", B);
  check_count("embedding_backward_workspace", "T", T);
  return 3 * B * T + 1;  // ≤ B·T buckets' tokens, their B·T + 1 starts, the B·T positions
}

cudaError_t embedding_backward(const float* dout, const std::int32_t* ids, float* dwte, float* dwpe,
                               std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t V,
                               std::int64_t maxT, int version, std::int32_t* workspace) {
  check_pointers("embedding_backward", "(B, T, C)", {B, T, C}, {{workspace, "workspace"}});
  return backward_impl(dout, ids, dwte, dwpe, B, T, C, V, maxT, version, workspace);
}

cudaError_t embedding_backward(const __nv_bfloat16* dout, const std::int32_t* ids, float* dwte,
                               float* dwpe, std::int64_t B, std::int64_t T, std::int64_t C,
                               std::int64_t V, std::int64_t maxT, int version,
                               std::int32_t* workspace) {
  check_pointers("embedding_backward", "(B, T, C)", {B, T, C}, {{workspace, "workspace"}});
  return backward_impl(dout, ids, dwte, dwpe, B, T, C, V, maxT, version, workspace);
}

}  // namespace llmlab::cuda
