#pragma once
/// \file
/// \ingroup group_cross_entropy
/// \brief Reference cross-entropy of next-token logits, forward and backward, its mean over the
/// tokens that count, and perplexity — the loss GPT training minimises and the course's metric.

#include <cstdint>
#include <xtensor/xtensor.hpp>

namespace llmlab::ref {

/// PyTorch's default `ignore_index`: a target equal to it (a padding position) has loss 0, no
/// gradient, and is left out of the mean.
inline constexpr std::int32_t kIgnoreIndex = -100;

/// The log-sum-exp of every row of logits, with the row maximum taken out first so that no
/// exponential overflows:
/// \f$ \mathrm{lse}_{b,t} = m + \log \sum_{v<V} e^{x_{b,t,v} - m},\ m = \max_v x_{b,t,v} \f$.
/// Every exponent is \f$ \le 0 \f$ and the largest term is exactly 1, so the sum lies in [1, V].
/// Non-finite logits follow PyTorch's `log_softmax`: a row holding a NaN or a \f$ +\infty \f$ has
/// lse NaN (\f$ e^{\infty - \infty} \f$); \f$ -\infty \f$ entries add 0, and a row of nothing but
/// \f$ -\infty \f$ has lse \f$ -\infty \f$.
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @param logits (B, T, V)
/// @returns lse (B, T)
/// @throws llmlab::Error naming the shape when V = 0 (a row of no values has no log-sum-exp).
template <class T>
xt::xtensor<T, 2> logsumexp(const xt::xtensor<T, 3>& logits);

/// Per-token cross-entropy, the negative log-probability the logits give the target:
/// \f$ \ell_{b,t} = -\log \mathrm{softmax}(x_{b,t})_{y_{b,t}} = \mathrm{lse}_{b,t} -
/// x_{b,t,y_{b,t}} \f$ (PyTorch's `F.cross_entropy(..., reduction='none')`). Written as lse minus
/// the target's logit, the loss stays exact when the target's probability underflows: a target
/// 120 below the maximum has \f$ p \approx e^{-120} \f$, 0 in float, but \f$ \ell \approx 120 \f$.
/// A position whose target is `ignore_index` has \f$ \ell = 0 \f$.
/// @param logits (B, T, V)   @param targets (B, T), each in [0, V) or equal to ignore_index
/// @param ignore_index the target that marks a position without a loss (PyTorch's default −100)
/// @returns losses (B, T), \f$ \ge 0 \f$ for finite logits
/// @throws llmlab::Error naming the shapes when targets is not (B, T) or V = 0, and naming the
///         position [b, t] and the value when a target is outside [0, V) and not ignore_index.
template <class T>
xt::xtensor<T, 2> cross_entropy_forward(const xt::xtensor<T, 3>& logits,
                                        const xt::xtensor<std::int32_t, 2>& targets,
                                        std::int32_t ignore_index = kIgnoreIndex);

/// The mean loss over the positions that count (PyTorch's `reduction='mean'`):
/// \f$ \bar\ell = \frac{1}{|S|} \sum_{(b,t) \in S} \ell_{b,t},\ S = \{(b,t) : y_{b,t} \ne
/// \mathrm{ignore\_index}\} \f$, summed in row-major order. Its gradient is
/// \f$ \partial \bar\ell / \partial \ell_{b,t} = 1/|S| \f$ on S and 0 elsewhere: the dlosses to
/// hand cross_entropy_backward. With every position ignored, |S| = 0 and the mean is NaN (0/0,
/// as PyTorch returns).
/// @param losses (B, T), cross_entropy_forward's output   @param targets (B, T)
/// @param ignore_index as cross_entropy_forward
/// @returns the mean loss
/// @throws llmlab::Error naming the shapes when losses and targets differ.
template <class T>
T cross_entropy_mean(const xt::xtensor<T, 2>& losses, const xt::xtensor<std::int32_t, 2>& targets,
                     std::int32_t ignore_index = kIgnoreIndex);

/// Backward of cross_entropy_forward: with \f$ p = \mathrm{softmax}(x_{b,t}) = e^{x - \mathrm{lse}}
/// \f$ and \f$ \partial \ell / \partial x_v = p_v - [v = y] \f$,
/// \f$ \mathrm{dlogits}_{b,t,v} = (p_{b,t,v} - [v = y_{b,t}]) \cdot \mathrm{dloss}_{b,t} \f$,
/// and 0 on every ignored position. Written fresh (not accumulated: dlogits is the gradient of
/// an activation that the lm_head's backward consumes at once, and the kernels write it in place
/// over the logits).
/// @param dlosses (B, T): \f$ \partial L / \partial \ell_{b,t} \f$ (1/|S| for the mean)
/// @param logits (B, T, V)   @param targets (B, T)   @param ignore_index as the forward
/// @returns dlogits (B, T, V)
/// @throws llmlab::Error as cross_entropy_forward, and naming the shapes when dlosses is not
///         (B, T).
template <class T>
xt::xtensor<T, 3> cross_entropy_backward(const xt::xtensor<T, 2>& dlosses,
                                         const xt::xtensor<T, 3>& logits,
                                         const xt::xtensor<std::int32_t, 2>& targets,
                                         std::int32_t ignore_index = kIgnoreIndex);

/// Perplexity, the course's evaluation metric: \f$ \mathrm{PPL} = e^{\bar\ell} \f$, the number of
/// equally likely choices that would leave a predictor as uncertain as the model is on average
/// (a uniform guess over V tokens has \f$ \bar\ell = \log V \f$ and PPL = V).
/// @param mean_loss \f$ \bar\ell \f$ in nats (cross_entropy_mean)   @returns \f$ e^{\bar\ell} \f$
template <class T>
T perplexity(T mean_loss);

/// \cond EXPLICIT_INSTANTIATIONS
extern template xt::xtensor<float, 2> logsumexp(const xt::xtensor<float, 3>&);
extern template xt::xtensor<double, 2> logsumexp(const xt::xtensor<double, 3>&);
extern template xt::xtensor<float, 2> cross_entropy_forward(const xt::xtensor<float, 3>&,
                                                            const xt::xtensor<std::int32_t, 2>&,
                                                            std::int32_t);
extern template xt::xtensor<double, 2> cross_entropy_forward(const xt::xtensor<double, 3>&,
                                                             const xt::xtensor<std::int32_t, 2>&,
                                                             std::int32_t);
extern template float cross_entropy_mean(const xt::xtensor<float, 2>&,
                                         const xt::xtensor<std::int32_t, 2>&, std::int32_t);
extern template double cross_entropy_mean(const xt::xtensor<double, 2>&,
                                          const xt::xtensor<std::int32_t, 2>&, std::int32_t);
extern template xt::xtensor<float, 3> cross_entropy_backward(const xt::xtensor<float, 2>&,
                                                             const xt::xtensor<float, 3>&,
                                                             const xt::xtensor<std::int32_t, 2>&,
                                                             std::int32_t);
extern template xt::xtensor<double, 3> cross_entropy_backward(const xt::xtensor<double, 2>&,
                                                              const xt::xtensor<double, 3>&,
                                                              const xt::xtensor<std::int32_t, 2>&,
                                                              std::int32_t);
extern template float perplexity(float);
extern template double perplexity(double);
/// \endcond

}  // namespace llmlab::ref
