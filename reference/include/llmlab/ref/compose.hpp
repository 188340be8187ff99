#pragma once
/// \file
/// \ingroup group_gpt
/// \brief The glue for composing the reference components into a model (ref::gpt_forward and
/// chapter 07's lab): moving between activations (B, T, C) and the rows (N, C) = (B·T, C) that
/// matmul takes, and the residual connection on (B, T, C) tensors through the residual component.

#include <array>
#include <cstddef>
#include <xtensor/xarray.hpp>
#include <xtensor/xstrided_view.hpp>
#include <xtensor/xtensor.hpp>

#include "llmlab/ref/residual.hpp"

namespace llmlab::ref {

/// A copy of `e` in another shape with the same elements in the same (row-major) order: (B, T, C)
/// as rows (N, C) with N = B·T, or rows back as (B, T, C).
/// @tparam T the scalar   @tparam M the result's rank
/// @param e any expression   @param shape the result's shape; its product is e's size
template <class T, std::size_t M, class E>
xt::xtensor<T, M> reshaped(const E& e, const std::array<std::size_t, M>& shape) {
  return xt::reshape_view(e, shape);
}

/// The residual connection \f$ a + b \f$ on (B, T, C) activations (residual_forward).
/// @throws llmlab::Error as residual_forward when the shapes differ.
template <class T>
xt::xtensor<T, 3> residual_add(const xt::xtensor<T, 3>& a, const xt::xtensor<T, 3>& b) {
  return residual_forward<T>(xt::xarray<T>(a), xt::xarray<T>(b));
}

/// Backward of residual_add: \f$ \mathrm{da} \mathrel{+}= \mathrm{dout} \f$ and
/// \f$ \mathrm{db} \mathrel{+}= \mathrm{dout} \f$ (residual_backward; both accumulate).
/// @throws llmlab::Error as residual_backward when a shape differs from dout's.
template <class T>
void residual_add_backward(const xt::xtensor<T, 3>& dout, xt::xtensor<T, 3>& da,
                           xt::xtensor<T, 3>& db) {
  xt::xarray<T> a = da, b = db;
  residual_backward<T>(xt::xarray<T>(dout), a, b);
  da = a;
  db = b;
}

}  // namespace llmlab::ref
