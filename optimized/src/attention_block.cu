/// \file
/// \ingroup group_attention
/// \brief The multi-head attention block on the GPU, composed from llmlab's launchers: matmul
/// (c_attn, c_proj, and their backward), attention (FlashAttention-2, forward and backward), and
/// two data-movement kernels of its own that split rows (B·T, parts·C) into heads
/// (parts, B, H, T, D) and merge them back:
/// \f$ \mathrm{heads}_{p,b,h,t,d} = \mathrm{rows}_{bT+t,\ pC + hD + d} \f$ — one thread per
/// element, exact (no arithmetic).

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/attention.cuh"
#include "llmlab/cuda/attention_block.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/matmul.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "scratch.cuh"

namespace llmlab::cuda {
namespace {

using detail::Scratch;

/// heads[p, b, h, t, d] = rows[b·T + t, p·C + h·D + d] (split, to_heads = true) or the reverse
/// (merge); one thread per element of (parts, B, H, T, D).
template <class E>
__global__ void move_heads(const E* __restrict__ src, E* __restrict__ dst, bool to_heads,
                           std::int64_t parts, std::int64_t B, std::int64_t T, std::int64_t C,
                           std::int64_t H) {
  const std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= parts * B * T * C) return;
  const std::int64_t D = C / H;
  const std::int64_t d = e % D, t = e / D % T, h = e / (D * T) % H, b = e / (D * T * H) % B,
                     p = e / (D * T * H * B);
  const std::int64_t r = (b * T + t) * parts * C + p * C + h * D + d;
  if (to_heads)
    dst[e] = src[r];
  else
    dst[r] = src[e];
}

/// Splits rows (B·T, parts·C) into heads (parts, B, H, T, D), or merges them back.
template <class E>
cudaError_t move(const E* src, E* dst, bool to_heads, std::int64_t parts,
                 const AttentionBlockDims& s) {
  return launch(thread_per_item_config(parts * s.B * s.T * s.C), move_heads<E>, src, dst, to_heads,
                parts, s.B, s.T, s.C, s.H);
}

/// Checks sizes and pointers; @returns false when there is nothing to do (B·T = 0).
bool check_block(const char* where, const AttentionBlockDims& s,
                 std::initializer_list<NamedPointer> pointers) {
  check_count(where, "B", s.B);
  check_count(where, "T", s.T);
  check_count(where, "C", s.C);
  if (s.H < 1 || s.C % s.H != 0)
    throw Error(where,
                "H = " + std::to_string(s.H) + " does not divide C = " + std::to_string(s.C));
  if (s.B == 0) return false;
  if (s.T == 0) throw Error(where, "T = 0: a query needs at least one key");
  check_pointers(where, "(B, T, C, H) = " + shape_str({s.B, s.T, s.C, s.H}), pointers);
  return true;
}

/// Returns from the enclosing launcher when a runtime call failed.
#define LLMLAB_TRY(call)                                \
  do {                                                  \
    const cudaError_t llmlab_err_ = (call);             \
    if (llmlab_err_ != cudaSuccess) return llmlab_err_; \
  } while (0)

/// A workspace region: the caller's (ws non-null: `n` elements at ws + at) or, without one, a
/// Scratch allocated here and freed on return.
template <class E>
class Region {
 public:
  Region(E* ws, std::int64_t at, std::int64_t n) {
    if (ws != nullptr)
      p_ = ws + at;
    else
      own_.emplace(n);
  }
  E* get() const { return own_ ? own_->get() : p_; }
  const E* cget() const { return get(); }
  cudaError_t error() const { return own_ ? own_->error() : cudaSuccess; }

 private:
  E* p_ = nullptr;
  std::optional<Scratch<E>> own_;
};

template <class E>
cudaError_t forward_impl(const E* x, const AttentionBlockWeights<E>& w, E* y,
                         const AttentionBlockSaved<E>& saved, AttentionBlockDims s, bool causal,
                         const AttentionBlockWorkspace<E>& ws = {}) {
  if (!check_block("attention_block_forward", s,
                   {{x, "x"},
                    {w.c_attn_w, "c_attn_w"},
                    {w.c_attn_b, "c_attn_b"},
                    {w.c_proj_w, "c_proj_w"},
                    {w.c_proj_b, "c_proj_b"},
                    {y, "y"},
                    {saved.heads, "saved.heads"},
                    {saved.merged, "saved.merged"},
                    {saved.lse, "saved.lse"}}))
    return cudaSuccess;
  const std::int64_t N = s.B * s.T, C = s.C, D = s.C / s.H, each = s.B * s.T * s.C;
  Region<E> qkv(ws.e, 0, N * 3 * C), att(ws.e, N * 3 * C, each);
  LLMLAB_TRY(qkv.error());
  LLMLAB_TRY(att.error());
  LLMLAB_TRY(matmul_forward(x, w.c_attn_w, w.c_attn_b, qkv.get(), N, C, 3 * C));
  LLMLAB_TRY(move(qkv.cget(), saved.heads, true, 3, s));
  const E* q = saved.heads;
  LLMLAB_TRY(
      attention_forward(q, q + each, q + 2 * each, att.get(), saved.lse, s.B, s.H, s.T, D, causal));
  LLMLAB_TRY(move(att.cget(), saved.merged, false, 1, s));
  return matmul_forward(saved.merged, w.c_proj_w, w.c_proj_b, y, N, C, C);
}

template <class E>
cudaError_t backward_impl(const E* dy, const E* x, const AttentionBlockWeights<E>& w,
                          const AttentionBlockSaved<E>& saved, E* dx, const AttentionBlockGrads& g,
                          AttentionBlockDims s, bool causal,
                          const AttentionBlockWorkspace<E>& ws = {}) {
  if (!check_block("attention_block_backward", s,
                   {{dy, "dy"},
                    {x, "x"},
                    {w.c_attn_w, "c_attn_w"},
                    {w.c_proj_w, "c_proj_w"},
                    {saved.heads, "saved.heads"},
                    {saved.merged, "saved.merged"},
                    {saved.lse, "saved.lse"},
                    {dx, "dx"},
                    {g.c_attn_w, "grads.c_attn_w"},
                    {g.c_attn_b, "grads.c_attn_b"},
                    {g.c_proj_w, "grads.c_proj_w"},
                    {g.c_proj_b, "grads.c_proj_b"}}))
    return cudaSuccess;
  const std::int64_t N = s.B * s.T, C = s.C, D = s.C / s.H, each = s.B * s.T * s.C;
  Region<E> dmerged(ws.e, 0, each), att(ws.e, each, each), datt(ws.e, 2 * each, each),
      dheads(ws.e, 3 * each, 3 * each), dqkv(ws.e, 6 * each, 3 * each);
  for (const auto* b : {&dmerged, &att, &datt, &dheads, &dqkv}) LLMLAB_TRY(b->error());
  // forward y = merged c_proj_wᵀ + c_proj_b  (matmul_backward accumulates: dmerged from 0)
  LLMLAB_TRY(cudaMemset(dmerged.get(), 0, static_cast<std::size_t>(each) * sizeof(E)));
  LLMLAB_TRY(matmul_backward(dy, saved.merged, w.c_proj_w, dmerged.get(), g.c_proj_w, g.c_proj_b, N,
                             C, C));
  // forward merged = merge(att):  datt = split(dmerged), and att itself for D_i
  LLMLAB_TRY(move(dmerged.cget(), datt.get(), true, 1, s));
  LLMLAB_TRY(move(saved.merged, att.get(), true, 1, s));
  // forward att = attention(q, k, v)
  const E* q = saved.heads;
  E* dq = dheads.get();
  if (ws.f != nullptr)
    LLMLAB_TRY(attention_backward(datt.cget(), q, q + each, q + 2 * each, att.cget(), saved.lse, dq,
                                  dq + each, dq + 2 * each, s.B, s.H, s.T, D, causal, 0, ws.f));
  else
    LLMLAB_TRY(attention_backward(datt.cget(), q, q + each, q + 2 * each, att.cget(), saved.lse,
                                  dq, dq + each, dq + 2 * each, s.B, s.H, s.T, D, causal));
  // forward heads = split(qkv):  dqkv = merge(dq, dk, dv)
  LLMLAB_TRY(move(dheads.cget(), dqkv.get(), false, 3, s));
  // forward qkv = x c_attn_wᵀ + c_attn_b
  return matmul_backward(dqkv.cget(), x, w.c_attn_w, dx, g.c_attn_w, g.c_attn_b, N, C, 3 * C);
}

#undef LLMLAB_TRY

}  // namespace

cudaError_t attention_block_forward(const float* x, const AttentionBlockWeights<float>& w, float* y,
                                    const AttentionBlockSaved<float>& saved,
                                    AttentionBlockDims dims, bool causal) {
  return forward_impl(x, w, y, saved, dims, causal);
}

cudaError_t attention_block_forward(const __nv_bfloat16* x,
                                    const AttentionBlockWeights<__nv_bfloat16>& w, __nv_bfloat16* y,
                                    const AttentionBlockSaved<__nv_bfloat16>& saved,
                                    AttentionBlockDims dims, bool causal) {
  return forward_impl(x, w, y, saved, dims, causal);
}

cudaError_t attention_block_backward(const float* dy, const float* x,
                                     const AttentionBlockWeights<float>& w,
                                     const AttentionBlockSaved<float>& saved, float* dx,
                                     const AttentionBlockGrads& grads, AttentionBlockDims dims,
                                     bool causal) {
  return backward_impl(dy, x, w, saved, dx, grads, dims, causal);
}

cudaError_t attention_block_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x,
                                     const AttentionBlockWeights<__nv_bfloat16>& w,
                                     const AttentionBlockSaved<__nv_bfloat16>& saved,
                                     __nv_bfloat16* dx, const AttentionBlockGrads& grads,
                                     AttentionBlockDims dims, bool causal) {
  return backward_impl(dy, x, w, saved, dx, grads, dims, causal);
}

AttentionBlockWorkspaceSize attention_block_workspace_size(AttentionBlockDims dims) {
  check_block("attention_block_workspace_size", dims, {});
  const std::int64_t each = dims.B * dims.T * dims.C;
  return {9 * each, dims.B * dims.H * dims.T};
}

namespace {
template <class E>
void check_workspace(const char* where, const AttentionBlockWorkspace<E>& ws, bool floats) {
  if (ws.e == nullptr) throw Error(where, "workspace.e is null");
  if (floats && ws.f == nullptr) throw Error(where, "workspace.f is null");
}
}  // namespace

cudaError_t attention_block_forward(const float* x, const AttentionBlockWeights<float>& w, float* y,
                                    const AttentionBlockSaved<float>& saved,
                                    AttentionBlockDims dims, bool causal,
                                    const AttentionBlockWorkspace<float>& workspace) {
  check_workspace("attention_block_forward", workspace, false);
  return forward_impl(x, w, y, saved, dims, causal, workspace);
}

cudaError_t attention_block_forward(const __nv_bfloat16* x,
                                    const AttentionBlockWeights<__nv_bfloat16>& w, __nv_bfloat16* y,
                                    const AttentionBlockSaved<__nv_bfloat16>& saved,
                                    AttentionBlockDims dims, bool causal,
                                    const AttentionBlockWorkspace<__nv_bfloat16>& workspace) {
  check_workspace("attention_block_forward", workspace, false);
  return forward_impl(x, w, y, saved, dims, causal, workspace);
}

cudaError_t attention_block_backward(const float* dy, const float* x,
                                     const AttentionBlockWeights<float>& w,
                                     const AttentionBlockSaved<float>& saved, float* dx,
                                     const AttentionBlockGrads& grads, AttentionBlockDims dims,
                                     bool causal, const AttentionBlockWorkspace<float>& workspace) {
  check_workspace("attention_block_backward", workspace, true);
  return backward_impl(dy, x, w, saved, dx, grads, dims, causal, workspace);
}

cudaError_t attention_block_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x,
                                     const AttentionBlockWeights<__nv_bfloat16>& w,
                                     const AttentionBlockSaved<__nv_bfloat16>& saved,
                                     __nv_bfloat16* dx, const AttentionBlockGrads& grads,
                                     AttentionBlockDims dims, bool causal,
                                     const AttentionBlockWorkspace<__nv_bfloat16>& workspace) {
  check_workspace("attention_block_backward", workspace, true);
  return backward_impl(dy, x, w, saved, dx, grads, dims, causal, workspace);
}

}  // namespace llmlab::cuda
