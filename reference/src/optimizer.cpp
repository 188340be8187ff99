#include "llmlab/ref/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "cpu_threads.hpp"
#include "llmlab/core/error.hpp"
#include "shape_of.hpp"
#include "vector_math.hpp"

namespace llmlab::ref {
namespace {

using detail::shape_of;

/// "lr = -0.5" for messages (%g: short, and exact enough to recognise the value).
std::string named(std::string_view name, double value) {
  char s[40];
  std::snprintf(s, sizeof s, "%g", value);
  return std::string(name) + " = " + s;
}

void require_at_least_zero(std::string_view where, std::string_view name, double value) {
  if (!(value >= 0)) throw Error(where, named(name, value) + " must be >= 0");
}

void require_step(std::string_view where, std::int64_t step) {
  if (step < 1)
    throw Error(where, "step = " + std::to_string(step) + " must be >= 1 (steps count from 1)");
}

/// Requires `other` (named `name`) to have param's shape.
template <class T>
void require_like_param(std::string_view where, const xt::xtensor<T, 1>& param,
                        const xt::xtensor<T, 1>& other, std::string_view name) {
  if (other.size() != param.size())
    throw Error(where, "param is " + shape_of(param) + " but " + std::string(name) + " is " +
                           shape_of(other));
}

void check_adam(std::string_view where, const AdamOptions& o) {
  require_at_least_zero(where, "lr", o.lr);
  if (!(o.beta1 >= 0 && o.beta1 < 1))
    throw Error(where, named("beta1", o.beta1) + " must be in [0, 1)");
  if (!(o.beta2 >= 0 && o.beta2 < 1))
    throw Error(where, named("beta2", o.beta2) + " must be in [0, 1)");
  if (!(o.eps > 0)) throw Error(where, named("eps", o.eps) + " must be > 0");
  require_at_least_zero(where, "weight_decay", o.weight_decay);
}

/// Adam's moments and bias-corrected step, in torch.optim's grouping (its _single_tensor_adam and
/// _single_tensor_adamw share these lines): g is the gradient after any L2 term.
template <class T>
void adam_update(T& p, T g, T& m, T& v, T beta1, T beta2, T step_size, T bias_correction2_sqrt,
                 T eps) {
  m = m * beta1 + (T(1) - beta1) * g;        // exp_avg.mul_(β1).add_(g, 1 − β1)
  v = v * beta2 + (T(1) - beta2) * (g * g);  // exp_avg_sq.mul_(β2).addcmul_(g, g)
  const T denom = std::sqrt(v) / bias_correction2_sqrt + eps;  // √v / √(1 − β2^t) + ε
  p = p - step_size * (m / denom);  // addcdiv_(m, denom, −η/(1 − β1^t))
}

/// adam_update on n elements, a vector of them at a time (vector_math.hpp): first p ← keep·p
/// (AdamW's decay; keep = 1 for Adam) and g ← g + l2·p (Adam's L2; l2 = 0 for AdamW).
template <class T>
LLMLAB_VECTOR_CLONES void adam_span(T* p, const T* grad, T* m, T* v, std::size_t n, T keep, T l2,
                                    T beta1, T beta2, T step_size, T bias_correction2_sqrt, T eps) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (l2 != T(0)) g = g + l2 * p[i];
    if (keep != T(1)) p[i] = p[i] * keep;
    adam_update(p[i], g, m[i], v[i], beta1, beta2, step_size, bias_correction2_sqrt, eps);
  }
}

/// adam_step and adamw_step: `decoupled` picks AdamW's weight decay over Adam's L2.
template <class T>
void adam_family_step(const char* where, bool decoupled, xt::xtensor<T, 1>& param,
                      const xt::xtensor<T, 1>& grad, xt::xtensor<T, 1>& m, xt::xtensor<T, 1>& v,
                      std::int64_t step, const AdamOptions& o) {
  check_adam(where, o);
  require_step(where, step);
  require_like_param(where, param, grad, "grad");
  require_like_param(where, param, m, "m");
  require_like_param(where, param, v, "v");
  const T lr = static_cast<T>(o.lr), wd = static_cast<T>(o.weight_decay);
  const T beta1 = static_cast<T>(o.beta1), beta2 = static_cast<T>(o.beta2);
  const T eps = static_cast<T>(o.eps);
  const double t = static_cast<double>(step);
  const T bias_correction1 = T(1) - std::pow(beta1, static_cast<T>(t));
  const T bias_correction2 = T(1) - std::pow(beta2, static_cast<T>(t));
  const T step_size = lr / bias_correction1;
  const T bias_correction2_sqrt = std::sqrt(bias_correction2);
  const T decay = T(1) - lr * wd;      // AdamW: param.mul_(1 − lr·wd)
  const T l2 = decoupled ? T(0) : wd;  // Adam: grad.add(param, alpha=wd)
  const T keep = decoupled ? decay : T(1);
  detail::for_each_chunk(param.size(), [&](std::size_t i0, std::size_t n) {  // each element whole
    adam_span(param.data() + i0, grad.data() + i0, m.data() + i0, v.data() + i0, n, keep, l2, beta1,
              beta2, step_size, bias_correction2_sqrt, eps);
  });
}

/// \f$ \sum_i x_i^2 \f$ of n elements in double, the sum in vector lanes: its order regrouped,
/// which moves only the last bits of a double sum (a float's square is exact in double) — far
/// below what the clipping's float gradients carry — and runs the additions side by side instead
/// of one chain of 4M dependent ones (~1.5% of a training step at the bench's size).
template <class T>
LLMLAB_VECTOR_CLONES double sum_of_squares(const T* x, std::size_t n) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return sum;
}

}  // namespace

template <class T>
void sgd_step(xt::xtensor<T, 1>& param, const xt::xtensor<T, 1>& grad,
              xt::xtensor<T, 1>& momentum_buffer, std::int64_t step, const SgdOptions& o) {
  constexpr const char* where = "sgd_step";
  require_at_least_zero(where, "lr", o.lr);
  require_at_least_zero(where, "momentum", o.momentum);
  require_at_least_zero(where, "weight_decay", o.weight_decay);
  if (!(o.dampening >= 0 && o.dampening <= 1))
    throw Error(where, named("dampening", o.dampening) + " must be in [0, 1]");
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw Error(where, "nesterov needs momentum > 0 and dampening = 0, got " +
                           named("momentum", o.momentum) + ", " + named("dampening", o.dampening));
  require_step(where, step);
  require_like_param(where, param, grad, "grad");
  if (o.momentum != 0) require_like_param(where, param, momentum_buffer, "momentum_buffer");
  const T lr = static_cast<T>(o.lr), wd = static_cast<T>(o.weight_decay);
  const T mu = static_cast<T>(o.momentum), damp = static_cast<T>(o.dampening);
  for (std::size_t i = 0; i < param.size(); ++i) {
    T d = grad(i);
    if (o.weight_decay != 0) d = d + wd * param(i);  // d_p.add(param, alpha=wd)
    if (o.momentum != 0) {
      T& b = momentum_buffer(i);
      b = step == 1 ? d : b * mu + (T(1) - damp) * d;  // the first step clones d_p, undamped
      d = o.nesterov ? d + mu * b : b;
    }
    param(i) = param(i) - lr * d;  // param.add_(d_p, alpha=−lr)
  }
}

template <class T>
void adam_step(xt::xtensor<T, 1>& param, const xt::xtensor<T, 1>& grad, xt::xtensor<T, 1>& m,
               xt::xtensor<T, 1>& v, std::int64_t step, const AdamOptions& o) {
  adam_family_step("adam_step", false, param, grad, m, v, step, o);
}

template <class T>
void adamw_step(xt::xtensor<T, 1>& param, const xt::xtensor<T, 1>& grad, xt::xtensor<T, 1>& m,
                xt::xtensor<T, 1>& v, std::int64_t step, const AdamOptions& o) {
  adam_family_step("adamw_step", true, param, grad, m, v, step, o);
}

template <class T>
double clip_grad_norm(std::span<xt::xtensor<T, 1>* const> grads, double max_norm) {
  if (!(max_norm >= 0) || !std::isfinite(max_norm))
    throw Error("clip_grad_norm", named("max_norm", max_norm) + " must be finite and >= 0");
  double sum_sq = 0;  // in double for both T: the norm is the reference's, not float's
  for (const xt::xtensor<T, 1>* g : grads)
    if (g != nullptr) sum_sq += sum_of_squares(g->data(), g->size());
  const double norm = std::sqrt(sum_sq);
  const double clip = max_norm / (norm + 1e-6);
  if (clip < 1)
    for (xt::xtensor<T, 1>* g : grads)
      if (g != nullptr)
        for (T& x : *g) x = static_cast<T>(static_cast<double>(x) * clip);
  return norm;
}

double lr_at(std::int64_t step, double max_lr, double min_lr, std::int64_t warmup_steps,
             std::int64_t total_steps) {
  constexpr const char* where = "lr_at";
  if (step < 0) throw Error(where, "step = " + std::to_string(step) + " must be >= 0");
  require_at_least_zero(where, "max_lr", max_lr);
  if (!(min_lr >= 0 && min_lr <= max_lr))
    throw Error(where, named("min_lr", min_lr) + " must be in [0, max_lr] (" +
                           named("max_lr", max_lr) + ")");
  if (warmup_steps < 0)
    throw Error(where, "warmup_steps = " + std::to_string(warmup_steps) + " must be >= 0");
  if (total_steps < warmup_steps)
    throw Error(where, "total_steps = " + std::to_string(total_steps) +
                           " must be >= warmup_steps = " + std::to_string(warmup_steps));
  if (step < warmup_steps)
    return max_lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  if (step >= total_steps) return min_lr;  // past the end (and S = W: no decay at all)
  const double r =
      static_cast<double>(step - warmup_steps) / static_cast<double>(total_steps - warmup_steps);
  const double pi = 3.14159265358979323846;
  return min_lr + 0.5 * (1.0 + std::cos(pi * r)) * (max_lr - min_lr);
}

template void sgd_step(xt::xtensor<float, 1>&, const xt::xtensor<float, 1>&, xt::xtensor<float, 1>&,
                       std::int64_t, const SgdOptions&);
template void sgd_step(xt::xtensor<double, 1>&, const xt::xtensor<double, 1>&,
                       xt::xtensor<double, 1>&, std::int64_t, const SgdOptions&);
template void adam_step(xt::xtensor<float, 1>&, const xt::xtensor<float, 1>&,
                        xt::xtensor<float, 1>&, xt::xtensor<float, 1>&, std::int64_t,
                        const AdamOptions&);
template void adam_step(xt::xtensor<double, 1>&, const xt::xtensor<double, 1>&,
                        xt::xtensor<double, 1>&, xt::xtensor<double, 1>&, std::int64_t,
                        const AdamOptions&);
template void adamw_step(xt::xtensor<float, 1>&, const xt::xtensor<float, 1>&,
                         xt::xtensor<float, 1>&, xt::xtensor<float, 1>&, std::int64_t,
                         const AdamOptions&);
template void adamw_step(xt::xtensor<double, 1>&, const xt::xtensor<double, 1>&,
                         xt::xtensor<double, 1>&, xt::xtensor<double, 1>&, std::int64_t,
                         const AdamOptions&);
template double clip_grad_norm(std::span<xt::xtensor<float, 1>* const>, double);
template double clip_grad_norm(std::span<xt::xtensor<double, 1>* const>, double);

}  // namespace llmlab::ref
