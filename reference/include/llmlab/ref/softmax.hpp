#pragma once
/// \file
/// \ingroup group_softmax
/// \brief Reference softmax over the last axis, numerically stable, forward and backward — the
/// piece attention and cross-entropy build on.

#include <xtensor/xarray.hpp>

namespace llmlab::ref {

/// Softmax of every row (the last axis), with the row's maximum subtracted first so that no
/// exponential overflows: \f$ e^{x_j - m} \le 1 \f$, and the largest term is exactly 1.
/// \f$ y_{r,j} = \frac{e^{x_{r,j} - m_r}}{\sum_k e^{x_{r,k} - m_r}}, \quad m_r = \max_k x_{r,k} \f$
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @param x (..., C), any rank ≥ 1: every index of the leading axes is one row of C logits
/// @returns y, the shape of x; every row sums to 1 (up to rounding)
/// @throws llmlab::Error when x has rank 0 or C = 0 (a softmax over no values has no sum to divide
///         by); rows of zero count (e.g. (0, 5)) return an empty y.
template <class T>
xt::xarray<T> softmax_forward(const xt::xarray<T>& x);

/// Backward of softmax_forward, from its output y (the Jacobian is
/// \f$ \partial y_j / \partial x_i = y_j (\delta_{ij} - y_i) \f$). Gradients **accumulate**
/// (`+=`, llm.c's convention): zero dx before the first call.
/// \f$ \mathrm{dx}_{r,i} \mathrel{+}= y_{r,i} \left( \mathrm{dy}_{r,i}
///     - \sum_j \mathrm{dy}_{r,j} \, y_{r,j} \right) \f$
/// @param dy (..., C)   @param y (..., C), softmax_forward's output
/// @param dx (..., C), accumulated into
/// @throws llmlab::Error naming the shapes when y or dx differs from dy, dy has rank 0, or
///         C = 0 (as softmax_forward).
template <class T>
void softmax_backward(const xt::xarray<T>& dy, const xt::xarray<T>& y, xt::xarray<T>& dx);

/// \cond EXPLICIT_INSTANTIATIONS
extern template xt::xarray<float> softmax_forward(const xt::xarray<float>&);
extern template xt::xarray<double> softmax_forward(const xt::xarray<double>&);
extern template void softmax_backward(const xt::xarray<float>&, const xt::xarray<float>&,
                                      xt::xarray<float>&);
extern template void softmax_backward(const xt::xarray<double>&, const xt::xarray<double>&,
                                      xt::xarray<double>&);
/// \endcond

}  // namespace llmlab::ref
