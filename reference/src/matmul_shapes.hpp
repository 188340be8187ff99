#pragma once
/// \file
/// \brief Shape checks shared by the triple-loop and BLAS matmul references (private to
/// reference/).

#include <cstdint>
#include <string>
#include <string_view>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/error.hpp"

namespace llmlab::ref::detail {

/// "(2, 3)" for a matrix, "(3)" for a vector: shapes as messages print them.
template <class T, std::size_t D>
std::string matmul_shape(const xt::xtensor<T, D>& t) {
  return shape_str(std::vector<std::int64_t>(t.shape().begin(), t.shape().end()));
}

/// Throws unless x (N, in), w (out, in) and, when given, b (out) fit together.
template <class T>
void check_forward(std::string_view where, const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w,
                   const xt::xtensor<T, 1>* b) {
  if (w.shape(1) != x.shape(1))
    throw Error(where, "x is " + matmul_shape(x) + " (N, in) but w is " + matmul_shape(w) +
                           " (out, in): in differs");
  if (b != nullptr && b->shape(0) != w.shape(0))
    throw Error(where, "w is " + matmul_shape(w) + " (out, in) but b is " + matmul_shape(*b) +
                           ": b must have out elements");
}

/// Throws unless dy (N, out), dx (N, in), dw (out, in) and, when given, db (out) fit x (N, in)
/// and w (out, in).
template <class T>
void check_backward(std::string_view where, const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x,
                    const xt::xtensor<T, 2>& w, const xt::xtensor<T, 2>& dx,
                    const xt::xtensor<T, 2>& dw, const xt::xtensor<T, 1>* db) {
  check_forward<T>(where, x, w, nullptr);
  const std::string xw = " but x is " + matmul_shape(x) + " and w is " + matmul_shape(w);
  if (dy.shape(0) != x.shape(0) || dy.shape(1) != w.shape(0))
    throw Error(where, "dy is " + matmul_shape(dy) + ", not (N, out)" + xw);
  if (dx.shape() != x.shape())
    throw Error(where, "dx is " + matmul_shape(dx) + ", not x's shape" + xw);
  if (dw.shape() != w.shape())
    throw Error(where, "dw is " + matmul_shape(dw) + ", not w's shape" + xw);
  if (db != nullptr && db->shape(0) != w.shape(0))
    throw Error(where, "db is " + matmul_shape(*db) + ", not (out)" + xw);
}

}  // namespace llmlab::ref::detail
