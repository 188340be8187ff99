#include "llmlab/ref/residual.hpp"

#include <string>

#include "llmlab/core/error.hpp"
#include "shape_of.hpp"

namespace llmlab::ref {
namespace {

using detail::shape_of;

/// Throws unless `x` has the shape of `ref`: "<where>: <ref_name> is (..) but <name> is (..)".
template <class T>
void require_shape(const char* where, const xt::xarray<T>& ref, const char* ref_name,
                   const xt::xarray<T>& x, const char* name) {
  if (x.shape() != ref.shape())
    throw Error(where, std::string(ref_name) + " is " + shape_of(ref) + " but " + name + " is " +
                           shape_of(x));
}

}  // namespace

template <class T>
xt::xarray<T> residual_forward(const xt::xarray<T>& a, const xt::xarray<T>& b) {
  require_shape("residual_forward", a, "a", b, "b");
  xt::xarray<T> out = xt::empty<T>(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) out.flat(i) = a.flat(i) + b.flat(i);  // a_i + b_i
  return out;
}

template <class T>
void residual_backward(const xt::xarray<T>& dout, xt::xarray<T>& da, xt::xarray<T>& db) {
  require_shape("residual_backward", dout, "dout", da, "da");
  require_shape("residual_backward", dout, "dout", db, "db");
  // In the forward, out_i = a_i + b_i, so ∂out_i/∂a_i = ∂out_i/∂b_i = 1: dout passes to both.
  for (std::size_t i = 0; i < dout.size(); ++i) {
    da.flat(i) += dout.flat(i);
    db.flat(i) += dout.flat(i);
  }
}

template xt::xarray<float> residual_forward(const xt::xarray<float>&, const xt::xarray<float>&);
template xt::xarray<double> residual_forward(const xt::xarray<double>&, const xt::xarray<double>&);
template void residual_backward(const xt::xarray<float>&, xt::xarray<float>&, xt::xarray<float>&);
template void residual_backward(const xt::xarray<double>&, xt::xarray<double>&,
                                xt::xarray<double>&);

}  // namespace llmlab::ref
