#include "llmlab/ref/residual.hpp"

#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/compose.hpp"
#include "shape_of.hpp"

namespace llmlab::ref {
namespace {

using detail::shape_of;

/// Throws unless `x` has the shape of `ref`: "<where>: <ref_name> is (..) but <name> is (..)".
template <class A>
void require_shape(const char* where, const A& ref, const char* ref_name, const A& x,
                   const char* name) {
  if (x.shape() != ref.shape())
    throw Error(where, std::string(ref_name) + " is " + shape_of(ref) + " but " + name + " is " +
                           shape_of(x));
}

/// residual_forward for either container, A = xarray or (B, T, C) xtensor.
template <class A>
A forward(const A& a, const A& b) {
  require_shape("residual_forward", a, "a", b, "b");
  A out = A::from_shape(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) out.flat(i) = a.flat(i) + b.flat(i);  // a_i + b_i
  return out;
}

/// residual_backward for either container.
template <class A>
void backward(const A& dout, A& da, A& db) {
  require_shape("residual_backward", dout, "dout", da, "da");
  require_shape("residual_backward", dout, "dout", db, "db");
  // In the forward, out_i = a_i + b_i, so ∂out_i/∂a_i = ∂out_i/∂b_i = 1: dout passes to both.
  for (std::size_t i = 0; i < dout.size(); ++i) {
    da.flat(i) += dout.flat(i);
    db.flat(i) += dout.flat(i);
  }
}

}  // namespace

template <class T>
xt::xarray<T> residual_forward(const xt::xarray<T>& a, const xt::xarray<T>& b) {
  return forward(a, b);
}

template <class T>
void residual_backward(const xt::xarray<T>& dout, xt::xarray<T>& da, xt::xarray<T>& db) {
  backward(dout, da, db);
}

template <class T>
xt::xtensor<T, 3> residual_add(const xt::xtensor<T, 3>& a, const xt::xtensor<T, 3>& b) {
  return forward(a, b);
}

template <class T>
void residual_add_backward(const xt::xtensor<T, 3>& dout, xt::xtensor<T, 3>& da,
                           xt::xtensor<T, 3>& db) {
  backward(dout, da, db);
}

template xt::xarray<float> residual_forward(const xt::xarray<float>&, const xt::xarray<float>&);
template xt::xarray<double> residual_forward(const xt::xarray<double>&, const xt::xarray<double>&);
template void residual_backward(const xt::xarray<float>&, xt::xarray<float>&, xt::xarray<float>&);
template void residual_backward(const xt::xarray<double>&, xt::xarray<double>&,
                                xt::xarray<double>&);
template xt::xtensor<float, 3> residual_add(const xt::xtensor<float, 3>&,
                                            const xt::xtensor<float, 3>&);
template xt::xtensor<double, 3> residual_add(const xt::xtensor<double, 3>&,
                                             const xt::xtensor<double, 3>&);
template void residual_add_backward(const xt::xtensor<float, 3>&, xt::xtensor<float, 3>&,
                                    xt::xtensor<float, 3>&);
template void residual_add_backward(const xt::xtensor<double, 3>&, xt::xtensor<double, 3>&,
                                    xt::xtensor<double, 3>&);

}  // namespace llmlab::ref
