/// \file
/// \brief The triple-loop matmul reference: \f$ y = x W^\top + b \f$ and its backward.

#include "llmlab/ref/matmul.hpp"

#include <cstddef>

#include "matmul_shapes.hpp"

namespace llmlab::ref {
namespace {

/// y (N, out) = x W^T (+ b when b is not null): for every (n, o), the sum over i left to right,
/// then the bias.
template <class T>
xt::xtensor<T, 2> forward(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w,
                          const xt::xtensor<T, 1>* b) {
  detail::check_forward<T>("matmul_forward", x, w, b);
  const std::size_t N = x.shape(0), in = x.shape(1), out = w.shape(0);

  xt::xtensor<T, 2> y = xt::empty<T>({N, out});
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t o = 0; o < out; ++o) {
      T sum = 0;  // y_no = x_n0 W_o0 + x_n1 W_o1 + ... + x_n,in-1 W_o,in-1
      for (std::size_t i = 0; i < in; ++i) sum += x(n, i) * w(o, i);
      y(n, o) = b != nullptr ? sum + (*b)(o) : sum;
    }
  }
  return y;
}

/// The backward of forward(), line by line; db may be null (no bias).
template <class T>
void backward(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w,
              xt::xtensor<T, 2>& dx, xt::xtensor<T, 2>& dw, xt::xtensor<T, 1>* db) {
  detail::check_backward<T>("matmul_backward", dy, x, w, dx, dw, db);
  const std::size_t N = x.shape(0), in = x.shape(1), out = w.shape(0);

  // forward: y_no = sum_i x_ni W_oi, so x_ni reached y_no through W_oi: dx_ni += sum_o dy_no W_oi
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t i = 0; i < in; ++i) {
      T sum = 0;
      for (std::size_t o = 0; o < out; ++o) sum += dy(n, o) * w(o, i);
      dx(n, i) += sum;
    }
  }
  // ... and W_oi reached y_no of every row n through x_ni: dW_oi += sum_n dy_no x_ni
  for (std::size_t o = 0; o < out; ++o) {
    for (std::size_t i = 0; i < in; ++i) {
      T sum = 0;
      for (std::size_t n = 0; n < N; ++n) sum += dy(n, o) * x(n, i);
      dw(o, i) += sum;
    }
  }
  // forward: + b_o on every row n, so db_o += sum_n dy_no
  if (db != nullptr) {
    for (std::size_t o = 0; o < out; ++o) {
      T sum = 0;
      for (std::size_t n = 0; n < N; ++n) sum += dy(n, o);
      (*db)(o) += sum;
    }
  }
}

}  // namespace

template <class T>
xt::xtensor<T, 2> matmul_forward(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w,
                                 const xt::xtensor<T, 1>& b) {
  return forward<T>(x, w, &b);
}

template <class T>
xt::xtensor<T, 2> matmul_forward(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w) {
  return forward<T>(x, w, nullptr);
}

template <class T>
void matmul_backward(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x,
                     const xt::xtensor<T, 2>& w, xt::xtensor<T, 2>& dx, xt::xtensor<T, 2>& dw,
                     xt::xtensor<T, 1>& db) {
  backward<T>(dy, x, w, dx, dw, &db);
}

template <class T>
void matmul_backward(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x,
                     const xt::xtensor<T, 2>& w, xt::xtensor<T, 2>& dx, xt::xtensor<T, 2>& dw) {
  backward<T>(dy, x, w, dx, dw, nullptr);
}

/// \cond EXPLICIT_INSTANTIATIONS
template xt::xtensor<float, 2> matmul_forward(const xt::xtensor<float, 2>&,
                                              const xt::xtensor<float, 2>&,
                                              const xt::xtensor<float, 1>&);
template xt::xtensor<double, 2> matmul_forward(const xt::xtensor<double, 2>&,
                                               const xt::xtensor<double, 2>&,
                                               const xt::xtensor<double, 1>&);
template xt::xtensor<float, 2> matmul_forward(const xt::xtensor<float, 2>&,
                                              const xt::xtensor<float, 2>&);
template xt::xtensor<double, 2> matmul_forward(const xt::xtensor<double, 2>&,
                                               const xt::xtensor<double, 2>&);
template void matmul_backward(const xt::xtensor<float, 2>&, const xt::xtensor<float, 2>&,
                              const xt::xtensor<float, 2>&, xt::xtensor<float, 2>&,
                              xt::xtensor<float, 2>&, xt::xtensor<float, 1>&);
template void matmul_backward(const xt::xtensor<double, 2>&, const xt::xtensor<double, 2>&,
                              const xt::xtensor<double, 2>&, xt::xtensor<double, 2>&,
                              xt::xtensor<double, 2>&, xt::xtensor<double, 1>&);
template void matmul_backward(const xt::xtensor<float, 2>&, const xt::xtensor<float, 2>&,
                              const xt::xtensor<float, 2>&, xt::xtensor<float, 2>&,
                              xt::xtensor<float, 2>&);
template void matmul_backward(const xt::xtensor<double, 2>&, const xt::xtensor<double, 2>&,
                              const xt::xtensor<double, 2>&, xt::xtensor<double, 2>&,
                              xt::xtensor<double, 2>&);
/// \endcond

}  // namespace llmlab::ref
