#pragma once
/// \file
/// \ingroup group_gelu
/// \brief Reference GELU, GPT-2's tanh approximation, forward and backward (element-wise, any
/// shape of rank 1, 2 or 3: (N), (N, C) or (B, T, C)).

#include <cstddef>
#include <xtensor/xtensor.hpp>

namespace llmlab::ref {

/// GELU with GPT-2's tanh approximation (PyTorch's `F.gelu(x, approximate='tanh')`), element-wise:
/// \f[ y = \tfrac{1}{2} x \big(1 + \tanh u\big), \qquad u = \sqrt{2/\pi}\,\big(x + 0.044715\,
/// x^3\big). \f] Evaluated as written, in T, with \f$ \tanh u \f$ from one exp (gelu.cpp's
/// tanh_of; no -ffast-math: llm.c's GELU backward turned into NaNs with it).
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @tparam N the rank (1, 2 or 3 are instantiated)
/// @param x any shape   @returns y, the shape of x
/// @throws nothing of its own: every x is a valid input (an empty one gives an empty y).
template <class T, std::size_t N>
xt::xtensor<T, N> gelu_forward(const xt::xtensor<T, N>& x);

/// The gradient of gelu_forward, accumulated into dx (`+=`, llm.c's gelu_backward; zero dx first
/// for a plain gradient). With u as in the forward and \f$ \mathrm{sech}^2 u = 1 - \tanh^2 u \f$:
/// \f[ dx \mathrel{+}= dy \Big( \tfrac{1}{2}(1 + \tanh u) + \tfrac{1}{2} x\, \mathrm{sech}^2 u\,
///     \sqrt{2/\pi}\,\big(1 + 3 \cdot 0.044715\, x^2\big) \Big). \f]
/// @param dy the gradient of the loss with respect to y, the shape of x   @param x the forward's
/// input
/// @param dx accumulates \f$ \partial L / \partial x \f$, the shape of x
/// @throws llmlab::Error naming gelu_backward and the shapes when dy or dx differs from x's shape.
template <class T, std::size_t N>
void gelu_backward(const xt::xtensor<T, N>& dy, const xt::xtensor<T, N>& x, xt::xtensor<T, N>& dx);

/// \cond EXPLICIT_INSTANTIATIONS
extern template xt::xtensor<float, 1> gelu_forward(const xt::xtensor<float, 1>&);
extern template xt::xtensor<float, 2> gelu_forward(const xt::xtensor<float, 2>&);
extern template xt::xtensor<float, 3> gelu_forward(const xt::xtensor<float, 3>&);
extern template xt::xtensor<double, 1> gelu_forward(const xt::xtensor<double, 1>&);
extern template xt::xtensor<double, 2> gelu_forward(const xt::xtensor<double, 2>&);
extern template xt::xtensor<double, 3> gelu_forward(const xt::xtensor<double, 3>&);
extern template void gelu_backward(const xt::xtensor<float, 1>&, const xt::xtensor<float, 1>&,
                                   xt::xtensor<float, 1>&);
extern template void gelu_backward(const xt::xtensor<float, 2>&, const xt::xtensor<float, 2>&,
                                   xt::xtensor<float, 2>&);
extern template void gelu_backward(const xt::xtensor<float, 3>&, const xt::xtensor<float, 3>&,
                                   xt::xtensor<float, 3>&);
extern template void gelu_backward(const xt::xtensor<double, 1>&, const xt::xtensor<double, 1>&,
                                   xt::xtensor<double, 1>&);
extern template void gelu_backward(const xt::xtensor<double, 2>&, const xt::xtensor<double, 2>&,
                                   xt::xtensor<double, 2>&);
extern template void gelu_backward(const xt::xtensor<double, 3>&, const xt::xtensor<double, 3>&,
                                   xt::xtensor<double, 3>&);
/// \endcond

}  // namespace llmlab::ref
