#pragma once
/// \file
/// \ingroup group_layernorm
/// \brief Reference layer normalisation over the last axis, forward and backward (GPT-2's ln_1,
/// ln_2 and ln_f).
///
/// Shapes (llm.c's names): x, y, dy, dx are (B, T, C); w, b, dw, db are (C); mean and rstd are
/// (B, T). Callers with (…, C) activations view them as (1, N, C).

#include <xtensor/xtensor.hpp>

namespace llmlab::ref {

/// What layernorm_forward returns: the output and the two statistics the backward pass reuses.
template <class T>
struct LayerNormForward {
  xt::xtensor<T, 3> y;     ///< (B, T, C) the normalised, scaled and shifted output
  xt::xtensor<T, 2> mean;  ///< (B, T) \f$ \mu \f$ of each row
  xt::xtensor<T, 2> rstd;  ///< (B, T) \f$ 1 / \sqrt{\sigma^2 + \epsilon} \f$ of each row
};

/// Layer normalisation of each row of C values, with the biased (population) variance, as
/// torch.nn.functional.layer_norm:
/// \f[ \mu = \frac{1}{C} \sum_c x_c, \quad \sigma^2 = \frac{1}{C} \sum_c (x_c - \mu)^2, \quad
///     r = \frac{1}{\sqrt{\sigma^2 + \epsilon}}, \quad y_c = (x_c - \mu)\, r\, w_c + b_c. \f]
/// The variance is taken in two passes (over \f$ x - \mu \f$, never \f$ E[x^2] - \mu^2 \f$, which
/// cancels catastrophically when \f$ |\mu| \gg \sigma \f$).
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @param x (B, T, C), C ≥ 1   @param w (C) the gain   @param b (C) the bias
/// @param eps \f$ \epsilon \f$ > 0, added to the variance (PyTorch's and GPT-2's default 1e-5)
/// @returns y (B, T, C), mean (B, T) and rstd (B, T)
/// @throws llmlab::Error naming layernorm_forward and the shapes when C = 0, w or b is not (C),
///         or eps ≤ 0.
template <class T>
LayerNormForward<T> layernorm_forward(const xt::xtensor<T, 3>& x, const xt::xtensor<T, 1>& w,
                                      const xt::xtensor<T, 1>& b, double eps = 1e-5);

/// The gradients of layernorm_forward, written term by term against it (llm.c's
/// layernorm_backward). With \f$ \hat{x}_c = (x_c - \mu) r \f$ and \f$ g_c = w_c\, dy_c \f$ (the
/// gradient reaching \f$ \hat{x} \f$): \f[ dx_c \mathrel{+}= r \Big( g_c - \frac{1}{C}\sum_k g_k -
/// \hat{x}_c \frac{1}{C}\sum_k g_k
///     \hat{x}_k \Big), \quad dw_c \mathrel{+}= \sum_{\mathrm{rows}} \hat{x}_c\, dy_c, \quad
///     db_c \mathrel{+}= \sum_{\mathrm{rows}} dy_c. \f]
/// All three accumulate (`+=`, llm.c's convention), so gradient accumulation works; zero them first
/// for a plain gradient.
/// @param dy (B, T, C) the gradient of the loss with respect to y
/// @param x (B, T, C) the forward's input   @param w (C) the forward's gain
/// @param mean (B, T) as layernorm_forward returned it
/// @param rstd (B, T) as layernorm_forward returned it
/// @param dx (B, T, C) accumulates \f$ \partial L / \partial x \f$
/// @param dw (C) accumulates \f$ \partial L / \partial w \f$
/// @param db (C) accumulates \f$ \partial L / \partial b \f$
/// @throws llmlab::Error naming layernorm_backward and the shapes when any argument's shape
///         disagrees with x's (B, T, C), or C = 0 (as layernorm_forward).
template <class T>
void layernorm_backward(const xt::xtensor<T, 3>& dy, const xt::xtensor<T, 3>& x,
                        const xt::xtensor<T, 1>& w, const xt::xtensor<T, 2>& mean,
                        const xt::xtensor<T, 2>& rstd, xt::xtensor<T, 3>& dx, xt::xtensor<T, 1>& dw,
                        xt::xtensor<T, 1>& db);

/// \cond EXPLICIT_INSTANTIATIONS
extern template LayerNormForward<float> layernorm_forward(const xt::xtensor<float, 3>&,
                                                          const xt::xtensor<float, 1>&,
                                                          const xt::xtensor<float, 1>&, double);
extern template LayerNormForward<double> layernorm_forward(const xt::xtensor<double, 3>&,
                                                           const xt::xtensor<double, 1>&,
                                                           const xt::xtensor<double, 1>&, double);
extern template void layernorm_backward(const xt::xtensor<float, 3>&, const xt::xtensor<float, 3>&,
                                        const xt::xtensor<float, 1>&, const xt::xtensor<float, 2>&,
                                        const xt::xtensor<float, 2>&, xt::xtensor<float, 3>&,
                                        xt::xtensor<float, 1>&, xt::xtensor<float, 1>&);
extern template void layernorm_backward(const xt::xtensor<double, 3>&,
                                        const xt::xtensor<double, 3>&,
                                        const xt::xtensor<double, 1>&,
                                        const xt::xtensor<double, 2>&,
                                        const xt::xtensor<double, 2>&, xt::xtensor<double, 3>&,
                                        xt::xtensor<double, 1>&, xt::xtensor<double, 1>&);
/// \endcond

}  // namespace llmlab::ref
