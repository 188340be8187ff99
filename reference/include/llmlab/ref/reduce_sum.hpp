#pragma once
/// \file
/// \ingroup group_reduce_sum
/// \brief Reference row-wise sum — the first reduction of chapter 00.

#include <xtensor/xtensor.hpp>

namespace llmlab::ref {

/// Sum of each row of a matrix, added left to right in T (the order a student expects; kernels
/// regroup the sum and are judged against this in double).
/// \f$ \mathrm{out}_r = \sum_{c=0}^{C-1} x_{r,c}, \quad r = 0, \dots, R - 1 \f$
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @param x (R, C); C may be 0 (every sum is then 0)
/// @returns out (R)
/// @throws nothing of its own: every (R, C) is a valid input.
template <class T>
xt::xtensor<T, 1> reduce_sum(const xt::xtensor<T, 2>& x);

/// \cond EXPLICIT_INSTANTIATIONS
extern template xt::xtensor<float, 1> reduce_sum(const xt::xtensor<float, 2>&);
extern template xt::xtensor<double, 1> reduce_sum(const xt::xtensor<double, 2>&);
/// \endcond

}  // namespace llmlab::ref
