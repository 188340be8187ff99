#pragma once
/// \file
/// \ingroup group_attention
/// \brief Reference scaled dot-product attention over heads, forward and backward: the scores
/// and the softmax written out row by row, the products with V (and the backward's) as per-head
/// GEMMs through OpenBLAS (reference/src/attention.cpp); the oracle every attention kernel is
/// judged against.
///
/// For one head (b, h), with \f$ Q, K, V \in \mathbb{R}^{T \times D} \f$ and
/// \f$ \tau = 1/\sqrt{D} \f$:
/// \f[ S = \tau\, Q K^\top,\quad P = \mathrm{softmax}_{\mathrm{rows}}(S),\quad O = P V,\quad
///     L_i = \log \sum_j e^{S_{ij}} \f]
/// with \f$ S_{ij} = -\infty \f$ for \f$ j > i \f$ when causal (a query never sees a later key).

#include <xtensor/xarray.hpp>

namespace llmlab::ref {

/// What the forward returns: the output and the rows' logsumexp, which the backward needs to
/// recompute P without storing it.
template <class T>
struct AttentionForward {
  xt::xarray<T> out;  ///< O (B, H, T, D)
  xt::xarray<T> lse;  ///< L (B, H, T): \f$ L_i = m_i + \log \sum_j e^{S_{ij} - m_i} \f$
};

/// The gradients of a scalar loss with respect to q, k and v.
template <class T>
struct AttentionGrads {
  xt::xarray<T> dq;  ///< (B, H, T, D)
  xt::xarray<T> dk;  ///< (B, H, T, D)
  xt::xarray<T> dv;  ///< (B, H, T, D)
};

/// Attention of every head, row by row: for query i,
/// \f$ S_{ij} = \tau \sum_d Q_{id} K_{jd} \f$ over the keys it may see (\f$ j \le i \f$ when
/// causal, all T otherwise), \f$ m_i = \max_j S_{ij} \f$, \f$ \ell_i = \sum_j e^{S_{ij} - m_i} \f$,
/// \f$ O_{id} = \sum_j e^{S_{ij} - m_i} V_{jd} / \ell_i \f$ and \f$ L_i = m_i + \log \ell_i \f$
/// (subtracting \f$ m_i \f$ keeps every exponent \f$ \le 0 \f$).
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @param q (B, H, T, D)   @param k (B, H, T, D)   @param v (B, H, T, D)
/// @param causal whether query i sees only keys \f$ j \le i \f$
/// @returns O (B, H, T, D) and L (B, H, T)
/// @throws llmlab::Error naming the argument when q is not of rank 4, k or v differs from q in
///         shape, or T = 0 or D = 0 (B = 0 or H = 0 gives empty results).
template <class T>
AttentionForward<T> attention_forward(const xt::xarray<T>& q, const xt::xarray<T>& k,
                                      const xt::xarray<T>& v, bool causal = true);

/// Backward of attention_forward, written against it line by line. With P recomputed from L,
/// \f$ P_{ij} = e^{S_{ij} - L_i} \f$, and \f$ D_i = \sum_d \mathrm{dO}_{id} O_{id} \f$
/// (which equals \f$ \sum_j P_{ij}\, \mathrm{dP}_{ij} \f$):
/// \f[ \mathrm{dV}_j = \sum_i P_{ij}\, \mathrm{dO}_i,\quad
///     \mathrm{dP}_{ij} = \mathrm{dO}_i \cdot V_j,\quad
///     \mathrm{dS}_{ij} = P_{ij} (\mathrm{dP}_{ij} - D_i),\quad
///     \mathrm{dQ}_i = \tau \sum_j \mathrm{dS}_{ij} K_j,\quad
///     \mathrm{dK}_j = \tau \sum_i \mathrm{dS}_{ij} Q_i \f]
/// (the softmax backward \f$ \mathrm{dS} = P \circ (\mathrm{dP} - \mathrm{rowsum}(P \circ
/// \mathrm{dP})) \f$, with the row sum taken from O instead of from the T×T matrix P).
/// q, k and v are activations, not parameters: the gradients are returned, not accumulated.
/// @param dout (B, H, T, D)   @param q (B, H, T, D)   @param k (B, H, T, D)
/// @param v (B, H, T, D)   @param out (B, H, T, D) the forward's O   @param lse (B, H, T) its L
/// @param causal as in the forward
/// @returns dQ, dK, dV, each (B, H, T, D)
/// @throws llmlab::Error naming the argument as attention_forward, or when dout or out differs
///         from q in shape, or lse is not (B, H, T).
template <class T>
AttentionGrads<T> attention_backward(const xt::xarray<T>& dout, const xt::xarray<T>& q,
                                     const xt::xarray<T>& k, const xt::xarray<T>& v,
                                     const xt::xarray<T>& out, const xt::xarray<T>& lse,
                                     bool causal = true);

/// \cond EXPLICIT_INSTANTIATIONS
extern template AttentionForward<float> attention_forward(const xt::xarray<float>&,
                                                          const xt::xarray<float>&,
                                                          const xt::xarray<float>&, bool);
extern template AttentionForward<double> attention_forward(const xt::xarray<double>&,
                                                           const xt::xarray<double>&,
                                                           const xt::xarray<double>&, bool);
extern template AttentionGrads<float> attention_backward(
    const xt::xarray<float>&, const xt::xarray<float>&, const xt::xarray<float>&,
    const xt::xarray<float>&, const xt::xarray<float>&, const xt::xarray<float>&, bool);
extern template AttentionGrads<double> attention_backward(
    const xt::xarray<double>&, const xt::xarray<double>&, const xt::xarray<double>&,
    const xt::xarray<double>&, const xt::xarray<double>&, const xt::xarray<double>&, bool);
/// \endcond

}  // namespace llmlab::ref
