#pragma once
/// \file
/// \ingroup group_vector_add
/// \brief Reference element-wise vector addition — the "hello world" kernel of chapter 00.

#include <xtensor/xtensor.hpp>

namespace llmlab::ref {

/// Element-wise sum of two vectors.
/// \f$ c_i = a_i + b_i, \quad i = 0, \dots, n - 1 \f$
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @param a (n)   @param b (n)
/// @returns c (n), each element one rounding of T away from the exact sum
/// @throws llmlab::Error "vector_add: a is (n) but b is (m)" when the lengths differ.
template <class T>
xt::xtensor<T, 1> vector_add(const xt::xtensor<T, 1>& a, const xt::xtensor<T, 1>& b);

/// \cond EXPLICIT_INSTANTIATIONS
extern template xt::xtensor<float, 1> vector_add(const xt::xtensor<float, 1>&,
                                                 const xt::xtensor<float, 1>&);
extern template xt::xtensor<double, 1> vector_add(const xt::xtensor<double, 1>&,
                                                  const xt::xtensor<double, 1>&);
/// \endcond

}  // namespace llmlab::ref
