#pragma once
/// \file
/// \ingroup group_attention
/// \brief The multi-head attention block GPT calls (nanoGPT's `CausalSelfAttention` without
/// dropout), composed from the reference matmul (its BLAS path) and attention: c_attn, split
/// into heads, attention, merge, c_proj.
///
/// With x (B, T, C), H heads of D = C / H:
/// \f[ [Q\,|\,K\,|\,V] = x W_{\mathrm{attn}}^\top + b_{\mathrm{attn}} \in \mathbb{R}^{B \times T
///     \times 3C},\quad Q_{b,h,t,d} = Q_{b,t,hD+d}\ (\text{and } K, V),\quad
///     A = \mathrm{attention}(Q, K, V),\quad y = \mathrm{merge}(A)\, W_{\mathrm{proj}}^\top +
///     b_{\mathrm{proj}} \f]
/// where merge is the inverse of the split: \f$ \mathrm{merge}(A)_{b,t,hD+d} = A_{b,h,t,d} \f$.

#include <cstdint>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

namespace llmlab::ref {

/// The block's parameters, with nanoGPT's names (`c_attn.weight`, `c_attn.bias`,
/// `c_proj.weight`, `c_proj.bias`); also the shape of their gradients.
template <class T>
struct AttentionBlockParams {
  xt::xtensor<T, 2> c_attn_w;  ///< c_attn.weight (3C, C)
  xt::xtensor<T, 1> c_attn_b;  ///< c_attn.bias (3C)
  xt::xtensor<T, 2> c_proj_w;  ///< c_proj.weight (C, C)
  xt::xtensor<T, 1> c_proj_b;  ///< c_proj.bias (C)
};

/// What the forward keeps for the backward.
template <class T>
struct AttentionBlockSaved {
  xt::xarray<T> q;           ///< (B, H, T, D)
  xt::xarray<T> k;           ///< (B, H, T, D)
  xt::xarray<T> v;           ///< (B, H, T, D)
  xt::xarray<T> att;         ///< (B, H, T, D) attention's output
  xt::xarray<T> lse;         ///< (B, H, T) attention's logsumexp
  xt::xtensor<T, 2> merged;  ///< (B·T, C) the heads merged: c_proj's input
};

/// The forward's output and what it keeps.
template <class T>
struct AttentionBlockForward {
  xt::xtensor<T, 3> y;           ///< (B, T, C)
  AttentionBlockSaved<T> saved;  ///< for attention_block_backward
};

/// Zero gradients shaped like the parameters of a block of width C.
/// @param C channels  @returns c_attn (3C, C), (3C) and c_proj (C, C), (C), all zero
template <class T>
AttentionBlockParams<T> attention_block_zero_grads(std::int64_t C);

/// The block's forward (see the file's equations): c_attn, split into H heads, attention_forward,
/// merge, c_proj.
/// @param x (B, T, C)   @param p the parameters, c_attn (3C, C), (3C), c_proj (C, C), (C)
/// @param H heads, dividing C   @param causal attention's mask (GPT: true)
/// @returns y (B, T, C) and the saved activations
/// @throws llmlab::Error naming `attention_block_forward` and the argument when H does not
///         divide C or a parameter's shape is not the one C asks for (and as attention_forward,
///         e.g. for T = 0).
template <class T>
AttentionBlockForward<T> attention_block_forward(const xt::xtensor<T, 3>& x,
                                                 const AttentionBlockParams<T>& p, std::int64_t H,
                                                 bool causal = true);

/// Backward of attention_block_forward, written against it line by line (c_proj's backward,
/// split of dA, attention_backward, merge of dQ, dK, dV into d[Q|K|V], c_attn's backward). dx and
/// every parameter gradient **accumulate** (+=).
/// @param dy (B, T, C)   @param x (B, T, C) the forward's input   @param p the parameters
/// @param saved the forward's saved activations   @param H heads   @param dx (B, T, C), accumulated
/// @param grads the parameters' gradients, accumulated (attention_block_zero_grads to start)
/// @param causal as in the forward
/// @throws llmlab::Error naming `attention_block_backward` and the argument when dy or dx is not
///         x's shape (and as the forward).
template <class T>
void attention_block_backward(const xt::xtensor<T, 3>& dy, const xt::xtensor<T, 3>& x,
                              const AttentionBlockParams<T>& p, const AttentionBlockSaved<T>& saved,
                              std::int64_t H, xt::xtensor<T, 3>& dx, AttentionBlockParams<T>& grads,
                              bool causal = true);

/// \cond EXPLICIT_INSTANTIATIONS
extern template AttentionBlockParams<float> attention_block_zero_grads(std::int64_t);
extern template AttentionBlockParams<double> attention_block_zero_grads(std::int64_t);
extern template AttentionBlockForward<float> attention_block_forward(
    const xt::xtensor<float, 3>&, const AttentionBlockParams<float>&, std::int64_t, bool);
extern template AttentionBlockForward<double> attention_block_forward(
    const xt::xtensor<double, 3>&, const AttentionBlockParams<double>&, std::int64_t, bool);
extern template void attention_block_backward(const xt::xtensor<float, 3>&,
                                              const xt::xtensor<float, 3>&,
                                              const AttentionBlockParams<float>&,
                                              const AttentionBlockSaved<float>&, std::int64_t,
                                              xt::xtensor<float, 3>&, AttentionBlockParams<float>&,
                                              bool);
extern template void attention_block_backward(const xt::xtensor<double, 3>&,
                                              const xt::xtensor<double, 3>&,
                                              const AttentionBlockParams<double>&,
                                              const AttentionBlockSaved<double>&, std::int64_t,
                                              xt::xtensor<double, 3>&,
                                              AttentionBlockParams<double>&, bool);
/// \endcond

}  // namespace llmlab::ref
