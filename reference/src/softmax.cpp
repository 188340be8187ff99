#include "llmlab/ref/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "llmlab/core/error.hpp"
#include "shape_of.hpp"

namespace llmlab::ref {

using detail::shape_of;

template <class T>
xt::xarray<T> softmax_forward(const xt::xarray<T>& x) {
  if (x.dimension() == 0)
    throw Error("softmax_forward", "x is a scalar (rank 0); it needs an axis of C values");
  const std::size_t C = x.shape().back();
  if (C == 0) throw Error("softmax_forward", "x is " + shape_of(x) + ": rows of C = 0 values");
  const std::size_t R = x.size() / C;

  xt::xarray<T> y = xt::empty<T>(x.shape());
  for (std::size_t r = 0; r < R; ++r) {
    const T* xr = x.data() + r * C;
    T* yr = y.data() + r * C;
    T m = xr[0];  // m = max_k x_k
    for (std::size_t k = 1; k < C; ++k) m = std::max(m, xr[k]);
    T sum = 0;  // sum = Σ_k e^{x_k − m}, left to right
    for (std::size_t k = 0; k < C; ++k) {
      yr[k] = std::exp(xr[k] - m);
      sum += yr[k];
    }
    for (std::size_t j = 0; j < C; ++j) yr[j] /= sum;  // y_j = e^{x_j − m} / sum
  }
  return y;
}

template <class T>
void softmax_backward(const xt::xarray<T>& dy, const xt::xarray<T>& y, xt::xarray<T>& dx) {
  constexpr const char* where = "softmax_backward";
  if (dy.dimension() == 0) throw Error(where, "dy is a scalar (rank 0); it needs an axis of C");
  if (y.shape() != dy.shape())
    throw Error(where, "dy is " + shape_of(dy) + " but y is " + shape_of(y));
  if (dx.shape() != dy.shape())
    throw Error(where, "dy is " + shape_of(dy) + " but dx is " + shape_of(dx));
  const std::size_t C = dy.shape().back();
  // As the forward: no softmax has rows of 0 values, so no gradient does (the kernels agree).
  if (C == 0) throw Error(where, "dy is " + shape_of(dy) + ": rows of C = 0 values");
  const std::size_t R = dy.size() / C;

  // In the forward, y_j = e^{x_j} / Σ_k e^{x_k}, so ∂y_j/∂x_i = y_j (δ_ij − y_i) and
  // dx_i = Σ_j dy_j y_j (δ_ij − y_i) = y_i (dy_i − Σ_j dy_j y_j).
  for (std::size_t r = 0; r < R; ++r) {
    const T* dyr = dy.data() + r * C;
    const T* yr = y.data() + r * C;
    T* dxr = dx.data() + r * C;
    T dot = 0;  // Σ_j dy_j y_j, left to right
    for (std::size_t j = 0; j < C; ++j) dot += dyr[j] * yr[j];
    for (std::size_t i = 0; i < C; ++i) dxr[i] += yr[i] * (dyr[i] - dot);
  }
}

template xt::xarray<float> softmax_forward(const xt::xarray<float>&);
template xt::xarray<double> softmax_forward(const xt::xarray<double>&);
template void softmax_backward(const xt::xarray<float>&, const xt::xarray<float>&,
                               xt::xarray<float>&);
template void softmax_backward(const xt::xarray<double>&, const xt::xarray<double>&,
                               xt::xarray<double>&);

}  // namespace llmlab::ref
