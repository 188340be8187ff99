#pragma once
/// \file
/// \ingroup group_optimizer
/// \brief Reference optimizers with PyTorch's exact semantics (torch.optim.SGD, Adam, AdamW,
/// torch.nn.utils.clip_grad_norm_), step for step, and the learning-rate schedule (linear warm-up,
/// then cosine decay to a minimum).
///
/// Every step updates one parameter tensor, flattened row-major to (n), in place, with its
/// gradient (n) and its state (n) — what torch.optim does per tensor. Hyper-parameters are given in
/// double and used in T (the float reference rounds them as a float kernel does). Steps count from
/// 1 (the first update is step 1, as torch.optim's `state['step']` after it).

#include <cstdint>
#include <span>
#include <xtensor/xtensor.hpp>

namespace llmlab::ref {

/// torch.optim.SGD's hyper-parameters (the same names and defaults, lr aside).
struct SgdOptions {
  double lr = 1e-2;         ///< \f$ \eta \ge 0 \f$
  double momentum = 0;      ///< \f$ \mu \ge 0 \f$ (0: no momentum buffer is used)
  double dampening = 0;     ///< \f$ \tau \f$, in [0, 1]
  double weight_decay = 0;  ///< \f$ \lambda \ge 0 \f$, L2: added to the gradient
  bool nesterov = false;    ///< Nesterov momentum (needs \f$ \mu > 0 \f$ and \f$ \tau = 0 \f$)
};

/// The hyper-parameters of torch.optim.Adam and AdamW (the same names and defaults, lr aside).
struct AdamOptions {
  double lr = 1e-3;         ///< \f$ \eta \ge 0 \f$
  double beta1 = 0.9;       ///< \f$ \beta_1 \in [0, 1) \f$, the first moment's decay
  double beta2 = 0.999;     ///< \f$ \beta_2 \in [0, 1) \f$, the second moment's decay
  double eps = 1e-8;        ///< \f$ \varepsilon > 0 \f$, added to \f$ \sqrt{\hat v} \f$
  double weight_decay = 0;  ///< \f$ \lambda \ge 0 \f$: L2 in Adam, decoupled in AdamW
};

/// One step of torch.optim.SGD on one tensor (its `_single_tensor_sgd`), with
/// \f$ g \leftarrow g + \lambda p \f$ first when \f$ \lambda > 0 \f$ (L2 weight decay):
/// \f[ b_1 = g_1, \quad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t \ (t > 1), \qquad
///     d = \begin{cases} g_t + \mu\, b_t & \text{Nesterov} \\ b_t & \text{otherwise} \end{cases},
///     \qquad p \leftarrow p - \eta\, d \f]
/// (the first step copies g into the buffer, undamped, as PyTorch does); with \f$ \mu = 0 \f$,
/// \f$ d = g \f$ and the buffer is not touched.
/// @param param (n), updated in place   @param grad (n), \f$ \partial L / \partial p \f$ (not
/// modified)
/// @param momentum_buffer (n), the state b: read from step 2 on, written when \f$ \mu > 0 \f$
/// @param step this step's number t ≥ 1   @param o the hyper-parameters
/// @throws llmlab::Error naming sgd_step and the argument when lr, momentum or weight_decay is
///         negative, dampening is outside [0, 1], nesterov is asked without momentum or with
///         dampening, step < 1, or grad or momentum_buffer has another shape than param.
template <class T>
void sgd_step(xt::xtensor<T, 1>& param, const xt::xtensor<T, 1>& grad,
              xt::xtensor<T, 1>& momentum_buffer, std::int64_t step, const SgdOptions& o);

/// One step of torch.optim.Adam on one tensor, L2 weight decay added to the gradient
/// (\f$ g \leftarrow g + \lambda p \f$, so it is then divided by \f$ \sqrt{\hat v} \f$ like the
/// rest), then the bias-corrected update as adamw_step's (PyTorch's grouping):
/// \f[ m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2,
///     \quad p \leftarrow p - \frac{\eta}{1 - \beta_1^t} \cdot
///     \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \varepsilon}. \f]
/// @param param (n), updated   @param grad (n), not modified   @param m (n) first moment, updated
/// @param v (n) second moment, updated   @param step this step's number t ≥ 1
/// @param o the hyper-parameters
/// @throws llmlab::Error naming adam_step and the argument when lr < 0, a beta is outside
///         [0, 1), eps ≤ 0, weight_decay < 0, step < 1, or grad, m or v has another shape than
///         param.
template <class T>
void adam_step(xt::xtensor<T, 1>& param, const xt::xtensor<T, 1>& grad, xt::xtensor<T, 1>& m,
               xt::xtensor<T, 1>& v, std::int64_t step, const AdamOptions& o);

/// One step of torch.optim.AdamW on one tensor: decoupled weight decay first, on the parameter
/// alone (Loshchilov & Hutter), then Adam's bias-corrected step on the raw gradient:
/// \f[ p \leftarrow p\,(1 - \eta \lambda), \quad m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad
///     v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \f]
/// \f[ p \leftarrow p - \frac{\eta}{1 - \beta_1^t} \cdot
///     \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \varepsilon}, \f]
/// i.e. \f$ p \leftarrow p - \eta\, \hat m / (\sqrt{\hat v} + \varepsilon) \f$ with
/// \f$ \hat m = m / (1 - \beta_1^t) \f$, \f$ \hat v = v / (1 - \beta_2^t) \f$, grouped as
/// torch.optim.AdamW groups it.
/// @param param (n), updated   @param grad (n), not modified   @param m (n) first moment, updated
/// @param v (n) second moment, updated   @param step this step's number t ≥ 1
/// @param o the hyper-parameters
/// @throws llmlab::Error naming adamw_step and the argument, as adam_step.
template <class T>
void adamw_step(xt::xtensor<T, 1>& param, const xt::xtensor<T, 1>& grad, xt::xtensor<T, 1>& m,
                xt::xtensor<T, 1>& v, std::int64_t step, const AdamOptions& o);

/// Gradient clipping by the global norm, torch.nn.utils.clip_grad_norm_ (norm_type 2): over every
/// gradient present (a null entry is a frozen parameter without a gradient, skipped as PyTorch
/// skips `p.grad is None`),
/// \f[ \|g\| = \Big(\sum_k \sum_i g_{k,i}^2\Big)^{1/2} \text{ (accumulated in double)}, \qquad
///     c = \frac{\mathrm{max\_norm}}{\|g\| + 10^{-6}}, \qquad g \leftarrow c\, g \ \text{ only if }
///     c < 1. \f]
/// @param grads the gradients, each (n_k), scaled in place; null entries are skipped
/// @param max_norm the largest norm kept, ≥ 0
/// @returns \f$ \|g\| \f$ before clipping (0 when there is no gradient)
/// @throws llmlab::Error naming clip_grad_norm and max_norm when max_norm < 0 or is not finite.
template <class T>
double clip_grad_norm(std::span<xt::xtensor<T, 1>* const> grads, double max_norm);

/// The learning-rate schedule: linear warm-up, then cosine decay to a minimum (llm.c's and
/// nanoGPT's), for steps counted from 0 (the s-th update uses lr_at(s)):
/// \f[ \eta(s) = \eta_{\max} \frac{s + 1}{W} \quad (s < W), \f]
/// \f[ \eta(s) = \eta_{\min} + \tfrac{1}{2}\big(1 + \cos(\pi r)\big)(\eta_{\max} - \eta_{\min}),
///     \quad r = \frac{s - W}{S - W} \quad (W \le s \le S), \f]
/// \f[ \eta(s) = \eta_{\min} \quad (s > S) \f]
/// (when S = W the decay is empty and every s ≥ W gets \f$ \eta_{\min} \f$).
/// @param step s ≥ 0   @param max_lr \f$ \eta_{\max} \ge 0 \f$
/// @param min_lr \f$ \eta_{\min} \in [0, \eta_{\max}] \f$
/// @param warmup_steps W ≥ 0   @param total_steps S ≥ W, the step at which the decay ends
/// @returns \f$ \eta(s) \f$
/// @throws llmlab::Error naming lr_at and the argument when step < 0, max_lr < 0, min_lr is
///         outside [0, max_lr], warmup_steps < 0 or total_steps < warmup_steps.
double lr_at(std::int64_t step, double max_lr, double min_lr, std::int64_t warmup_steps,
             std::int64_t total_steps);

/// \cond EXPLICIT_INSTANTIATIONS
extern template void sgd_step(xt::xtensor<float, 1>&, const xt::xtensor<float, 1>&,
                              xt::xtensor<float, 1>&, std::int64_t, const SgdOptions&);
extern template void sgd_step(xt::xtensor<double, 1>&, const xt::xtensor<double, 1>&,
                              xt::xtensor<double, 1>&, std::int64_t, const SgdOptions&);
extern template void adam_step(xt::xtensor<float, 1>&, const xt::xtensor<float, 1>&,
                               xt::xtensor<float, 1>&, xt::xtensor<float, 1>&, std::int64_t,
                               const AdamOptions&);
extern template void adam_step(xt::xtensor<double, 1>&, const xt::xtensor<double, 1>&,
                               xt::xtensor<double, 1>&, xt::xtensor<double, 1>&, std::int64_t,
                               const AdamOptions&);
extern template void adamw_step(xt::xtensor<float, 1>&, const xt::xtensor<float, 1>&,
                                xt::xtensor<float, 1>&, xt::xtensor<float, 1>&, std::int64_t,
                                const AdamOptions&);
extern template void adamw_step(xt::xtensor<double, 1>&, const xt::xtensor<double, 1>&,
                                xt::xtensor<double, 1>&, xt::xtensor<double, 1>&, std::int64_t,
                                const AdamOptions&);
extern template double clip_grad_norm(std::span<xt::xtensor<float, 1>* const>, double);
extern template double clip_grad_norm(std::span<xt::xtensor<double, 1>* const>, double);
/// \endcond

}  // namespace llmlab::ref
