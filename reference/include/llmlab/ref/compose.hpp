#pragma once
/// \file
/// \ingroup group_gpt
/// \brief The glue for composing the reference components into a model (ref::gpt_forward and
/// chapter 07's lab): moving between activations (B, T, C) and the rows (N, C) = (B·T, C) that
/// matmul takes, and the residual connection on (B, T, C) tensors through the residual component.

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <xtensor/xstrided_view.hpp>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/error.hpp"

namespace llmlab::ref {

namespace detail {
/// Throws llmlab::Error "reshaped: a tensor of n elements into a shape of m" unless the
/// product m of `shape` is n.
template <std::size_t M>
void check_reshape(std::size_t n, const std::array<std::size_t, M>& shape) {
  std::size_t size = 1;
  for (const std::size_t d : shape) size *= d;
  if (size != n)
    throw Error("reshaped", "a tensor of " + std::to_string(n) + " elements into a shape of " +
                                std::to_string(size));
}
}  // namespace detail

/// A copy of `e` in another shape with the same elements in the same (row-major) order: (B, T, C)
/// as rows (N, C) with N = B·T, or rows back as (B, T, C).
/// @tparam T the scalar   @tparam M the result's rank
/// @param e any expression   @param shape the result's shape; its product is e's size
template <class T, std::size_t M, class E>
xt::xtensor<T, M> reshaped(const E& e, const std::array<std::size_t, M>& shape) {
  return xt::reshape_view(e, shape);
}

/// reshaped for a tensor (contiguous, row-major): the same copy, element by element in memory
/// order, without going through a view.
/// @param e the tensor   @param shape the result's shape, of e's size
/// @throws llmlab::Error "reshaped: …" when the shape's product is not e's size.
template <class T, std::size_t M, std::size_t K>
xt::xtensor<T, M> reshaped(const xt::xtensor<T, K>& e, const std::array<std::size_t, M>& shape) {
  detail::check_reshape(e.size(), shape);
  xt::xtensor<T, M> out = xt::xtensor<T, M>::from_shape(shape);
  std::copy(e.data(), e.data() + e.size(), out.data());
  return out;
}

/// `e` in another shape, its elements moved, not copied: for a tensor no longer needed in its own
/// shape (a temporary, or `std::move(t)`), which is left empty.
/// @tparam T the scalar   @tparam M the result's rank   @tparam K e's rank
/// @param e the tensor to take the elements of   @param shape the result's shape, of e's size
/// @throws llmlab::Error "reshaped: …" when the shape's product is not e's size.
template <class T, std::size_t M, std::size_t K>
xt::xtensor<T, M> reshaped(xt::xtensor<T, K>&& e, const std::array<std::size_t, M>& shape) {
  detail::check_reshape(e.size(), shape);
  xt::xtensor<T, M> out;
  out.storage() = std::move(e.storage());
  out.resize(shape);  // the storage already has the size: only the shape and strides change
  e.resize(std::array<std::size_t, K>{});
  return out;
}

/// The residual connection \f$ a + b \f$ on (B, T, C) activations: residual_forward's
/// \f$ \mathrm{out}_i = a_i + b_i \f$ and errors, without its copies into xt::xarray
/// (reference/src/residual.cpp holds both).
/// @param a (B, T, C)   @param b the shape of a   @returns the shape of a
/// @throws llmlab::Error as residual_forward when the shapes differ.
template <class T>
xt::xtensor<T, 3> residual_add(const xt::xtensor<T, 3>& a, const xt::xtensor<T, 3>& b);

/// Backward of residual_add (residual_backward's): both inputs get the gradient unchanged,
/// \f$ \mathrm{da} \mathrel{+}= \mathrm{dout} \f$ and \f$ \mathrm{db} \mathrel{+}= \mathrm{dout}
/// \f$ (both accumulate).
/// @param dout (B, T, C)   @param da, db the shape of dout, accumulated into
/// @throws llmlab::Error as residual_backward when a shape differs from dout's.
template <class T>
void residual_add_backward(const xt::xtensor<T, 3>& dout, xt::xtensor<T, 3>& da,
                           xt::xtensor<T, 3>& db);

/// \cond EXPLICIT_INSTANTIATIONS
extern template xt::xtensor<float, 3> residual_add(const xt::xtensor<float, 3>&,
                                                   const xt::xtensor<float, 3>&);
extern template xt::xtensor<double, 3> residual_add(const xt::xtensor<double, 3>&,
                                                    const xt::xtensor<double, 3>&);
extern template void residual_add_backward(const xt::xtensor<float, 3>&, xt::xtensor<float, 3>&,
                                           xt::xtensor<float, 3>&);
extern template void residual_add_backward(const xt::xtensor<double, 3>&, xt::xtensor<double, 3>&,
                                           xt::xtensor<double, 3>&);
/// \endcond

}  // namespace llmlab::ref
