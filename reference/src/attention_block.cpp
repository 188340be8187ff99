#include "llmlab/ref/attention_block.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/attention.hpp"
#include "llmlab/ref/compose.hpp"
#include "llmlab/ref/matmul.hpp"
#include "shape_of.hpp"

namespace llmlab::ref {

using detail::shape_of;

namespace {

/// (B, T, C, H, D) of a block, after checking x, H and the parameters' shapes.
struct Dims {
  std::size_t B, T, C, H, D;
};

template <class T>
Dims check_block(const char* where, const xt::xtensor<T, 3>& x, const AttentionBlockParams<T>& p,
                 std::int64_t H) {
  const std::size_t C = x.shape()[2];
  if (H < 1 || C % static_cast<std::size_t>(H) != 0)
    throw Error(where, "H = " + std::to_string(H) + " does not divide C = " + std::to_string(C) +
                           " (x is " + shape_of(x) + ")");
  const auto want = [&](const char* name, const auto& t, std::initializer_list<std::size_t> s) {
    if (!std::equal(t.shape().begin(), t.shape().end(), s.begin(), s.end()))
      throw Error(where, std::string(name) + " is " + shape_of(t) + " but x is " + shape_of(x));
  };
  want("c_attn_w", p.c_attn_w, {3 * C, C});
  want("c_attn_b", p.c_attn_b, {3 * C});
  want("c_proj_w", p.c_proj_w, {C, C});
  want("c_proj_b", p.c_proj_b, {C});
  const auto h = static_cast<std::size_t>(H);
  return {x.shape()[0], x.shape()[1], C, h, C / h};
}

/// Part `part` of rows (B·T, parts·C) as heads (B, H, T, D): \f$ A_{b,h,t,d} =
/// \mathrm{rows}_{bT+t,\ \mathrm{part}\cdot C + hD + d} \f$.
template <class T>
xt::xarray<T> split_heads(const xt::xtensor<T, 2>& rows, std::size_t part, const Dims& s) {
  xt::xarray<T> a = xt::xarray<T>::from_shape({s.B, s.H, s.T, s.D});  // (not copied in)
  const std::size_t width = rows.shape()[1];
  for (std::size_t b = 0; b < s.B; ++b)
    for (std::size_t h = 0; h < s.H; ++h)
      for (std::size_t t = 0; t < s.T; ++t)  // the D values of (b, h, t) are contiguous in both
        std::copy_n(rows.data() + (b * s.T + t) * width + part * s.C + h * s.D, s.D,
                    a.data() + ((b * s.H + h) * s.T + t) * s.D);
  return a;
}

/// The inverse: heads (B, H, T, D) written into part `part` of rows (B·T, parts·C).
template <class T>
void merge_heads(const xt::xarray<T>& a, std::size_t part, const Dims& s, xt::xtensor<T, 2>& rows) {
  const std::size_t width = rows.shape()[1];
  for (std::size_t b = 0; b < s.B; ++b)
    for (std::size_t h = 0; h < s.H; ++h)
      for (std::size_t t = 0; t < s.T; ++t)
        std::copy_n(a.data() + ((b * s.H + h) * s.T + t) * s.D, s.D,
                    rows.data() + (b * s.T + t) * width + part * s.C + h * s.D);
}

}  // namespace

template <class T>
AttentionBlockParams<T> attention_block_zero_grads(std::int64_t C) {
  const auto c = static_cast<std::size_t>(C);
  return {xt::zeros<T>({3 * c, c}), xt::zeros<T>({3 * c}), xt::zeros<T>({c, c}), xt::zeros<T>({c})};
}

template <class T>
AttentionBlockForward<T> attention_block_forward(const xt::xtensor<T, 3>& x,
                                                 const AttentionBlockParams<T>& p, std::int64_t H,
                                                 bool causal) {
  const Dims s = check_block("attention_block_forward", x, p, H);
  // (N, 3C); the BLAS matmul, as the model's MLP (the same result as matmul_forward's loops,
  // up to the order of the sums: tests/matmul_test.cpp)
  const xt::xtensor<T, 2> qkv =
      matmul_forward_blas<T>(reshaped<T, 2>(x, {s.B * s.T, s.C}), p.c_attn_w, p.c_attn_b);
  AttentionBlockSaved<T> saved{
      split_heads(qkv, 0, s),        split_heads(qkv, 1, s), split_heads(qkv, 2, s), {}, {},
      xt::zeros<T>({s.B * s.T, s.C})};
  AttentionForward<T> att = attention_forward<T>(saved.q, saved.k, saved.v, causal);
  saved.att = std::move(att.out);
  saved.lse = std::move(att.lse);
  merge_heads(saved.att, 0, s, saved.merged);  // (N, C)
  xt::xtensor<T, 2> y = matmul_forward_blas<T>(saved.merged, p.c_proj_w, p.c_proj_b);
  return {reshaped<T, 3>(std::move(y), {s.B, s.T, s.C}), std::move(saved)};  // (B, T, C)
}

template <class T>
void attention_block_backward(const xt::xtensor<T, 3>& dy, const xt::xtensor<T, 3>& x,
                              const AttentionBlockParams<T>& p, const AttentionBlockSaved<T>& saved,
                              std::int64_t H, xt::xtensor<T, 3>& dx, AttentionBlockParams<T>& grads,
                              bool causal) {
  constexpr const char* where = "attention_block_backward";
  const Dims s = check_block(where, x, p, H);
  if (dy.shape() != x.shape())
    throw Error(where, "dy is " + shape_of(dy) + " but x is " + shape_of(x));
  if (dx.shape() != x.shape())
    throw Error(where, "dx is " + shape_of(dx) + " but x is " + shape_of(x));
  // forward y = merged c_proj_wᵀ + c_proj_b
  xt::xtensor<T, 2> dmerged = xt::zeros<T>({s.B * s.T, s.C});
  matmul_backward_blas<T>(reshaped<T, 2>(dy, {s.B * s.T, s.C}), saved.merged, p.c_proj_w, dmerged,
                          grads.c_proj_w, grads.c_proj_b);
  // forward merged = merge(att):  datt = split(dmerged)
  const xt::xarray<T> datt = split_heads(dmerged, 0, s);
  // forward att = attention(q, k, v)
  const AttentionGrads<T> g =
      attention_backward<T>(datt, saved.q, saved.k, saved.v, saved.att, saved.lse, causal);
  // forward q, k, v = split(qkv):  dqkv = merge(dq, dk, dv)
  xt::xtensor<T, 2> dqkv = xt::empty<T>({s.B * s.T, 3 * s.C});
  merge_heads(g.dq, 0, s, dqkv);
  merge_heads(g.dk, 1, s, dqkv);
  merge_heads(g.dv, 2, s, dqkv);
  // forward qkv = x c_attn_wᵀ + c_attn_b
  // (dx's storage moved into rows and back: accumulated into, not copied)
  xt::xtensor<T, 2> dx_rows = reshaped<T, 2>(std::move(dx), {s.B * s.T, s.C});
  matmul_backward_blas<T>(dqkv, reshaped<T, 2>(x, {s.B * s.T, s.C}), p.c_attn_w, dx_rows,
                          grads.c_attn_w, grads.c_attn_b);
  dx = reshaped<T, 3>(std::move(dx_rows), {s.B, s.T, s.C});
}

template AttentionBlockParams<float> attention_block_zero_grads(std::int64_t);
template AttentionBlockParams<double> attention_block_zero_grads(std::int64_t);
template AttentionBlockForward<float> attention_block_forward(const xt::xtensor<float, 3>&,
                                                              const AttentionBlockParams<float>&,
                                                              std::int64_t, bool);
template AttentionBlockForward<double> attention_block_forward(const xt::xtensor<double, 3>&,
                                                               const AttentionBlockParams<double>&,
                                                               std::int64_t, bool);
template void attention_block_backward(const xt::xtensor<float, 3>&, const xt::xtensor<float, 3>&,
                                       const AttentionBlockParams<float>&,
                                       const AttentionBlockSaved<float>&, std::int64_t,
                                       xt::xtensor<float, 3>&, AttentionBlockParams<float>&, bool);
template void attention_block_backward(const xt::xtensor<double, 3>&, const xt::xtensor<double, 3>&,
                                       const AttentionBlockParams<double>&,
                                       const AttentionBlockSaved<double>&, std::int64_t,
                                       xt::xtensor<double, 3>&, AttentionBlockParams<double>&,
                                       bool);

}  // namespace llmlab::ref
