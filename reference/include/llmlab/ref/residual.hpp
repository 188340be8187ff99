#pragma once
/// \file
/// \ingroup group_residual
/// \brief Reference residual connection: the stream every GPT-2 block adds its output to.

#include <xtensor/xarray.hpp>

namespace llmlab::ref {

/// The residual connection, element-wise (GPT-2: \f$ x + \mathrm{attn}(\mathrm{ln}(x)) \f$).
/// \f$ \mathrm{out}_i = a_i + b_i \f$
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @param a any shape, usually (B, T, C)   @param b the shape of a
/// @returns out, the shape of a; each element one rounding of T away from the exact sum
/// @throws llmlab::Error "residual_forward: a is (..) but b is (..)" when the shapes differ.
template <class T>
xt::xarray<T> residual_forward(const xt::xarray<T>& a, const xt::xarray<T>& b);

/// Backward of residual_forward: the sum passes its gradient unchanged to both inputs.
/// Gradients **accumulate** (`+=`, llm.c's convention): zero da and db before the first call.
/// \f$ \mathrm{da}_i \mathrel{+}= \mathrm{dout}_i, \qquad \mathrm{db}_i \mathrel{+}=
/// \mathrm{dout}_i \f$
/// @param dout any shape   @param da, db the shape of dout, accumulated into
/// @throws llmlab::Error naming both shapes when da or db differs from dout.
template <class T>
void residual_backward(const xt::xarray<T>& dout, xt::xarray<T>& da, xt::xarray<T>& db);

/// \cond EXPLICIT_INSTANTIATIONS
extern template xt::xarray<float> residual_forward(const xt::xarray<float>&,
                                                   const xt::xarray<float>&);
extern template xt::xarray<double> residual_forward(const xt::xarray<double>&,
                                                    const xt::xarray<double>&);
extern template void residual_backward(const xt::xarray<float>&, xt::xarray<float>&,
                                       xt::xarray<float>&);
extern template void residual_backward(const xt::xarray<double>&, xt::xarray<double>&,
                                       xt::xarray<double>&);
/// \endcond

}  // namespace llmlab::ref
