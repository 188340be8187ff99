#include "llmlab/ref/cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "cpu_threads.hpp"
#include "llmlab/core/error.hpp"
#include "shape_of.hpp"
#include "vector_math.hpp"

namespace llmlab::ref {
namespace {

using detail::shape_of;

/// Checks that targets is (B, T) of logits (B, T, V), V ≥ 1, and that every target is in [0, V)
/// or is ignore_index; `where` names the caller.
template <class T>
void check_targets(const char* where, const xt::xtensor<T, 3>& logits,
                   const xt::xtensor<std::int32_t, 2>& targets, std::int32_t ignore_index) {
  const std::size_t B = logits.shape(0), T_ = logits.shape(1), V = logits.shape(2);
  if (targets.shape(0) != B || targets.shape(1) != T_)
    throw Error(where, "logits is " + shape_of(logits) + " but targets is " + shape_of(targets));
  if (V == 0) throw Error(where, "logits is " + shape_of(logits) + ": rows of V = 0 logits");
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t t = 0; t < T_; ++t) {
      const std::int32_t y = targets(b, t);
      if (y != ignore_index && (y < 0 || static_cast<std::size_t>(y) >= V))
        throw Error(where, "targets[" + std::to_string(b) + ", " + std::to_string(t) + "] = " +
                               std::to_string(y) + " is outside [0, V = " + std::to_string(V) +
                               ") and is not ignore_index = " + std::to_string(ignore_index));
    }
}

/// The logsumexp of R consecutive rows of V logits: lse_r = m_r + log Σ_v e^{x_rv − m_r}, m_r the
/// row's maximum; −∞ entries add e^{−∞} = 0, and a row of only −∞ gives −∞. The exps run a vector
/// at a time (vector_math.hpp), kBlock of them per row into a buffer. Each row's sum runs left to
/// right, an order that fixes the float baseline the kernels are judged against (a vector sum's
/// regrouping would tighten it: tests/cross_entropy_test.cpp); the R rows' sums are interleaved,
/// so that the CPU overlaps R chains of dependent additions instead of waiting on one — the same
/// additions in the same order per row, so the same bits for any R.
template <class T, std::size_t R>
LLMLAB_VECTOR_CLONES void rows_logsumexp(const T* x, std::size_t V, T* lse) {
  T m[R], sum[R];
  for (std::size_t r = 0; r < R; ++r) {
    T mr = -std::numeric_limits<T>::infinity();
    const T* row = x + r * V;
#pragma omp simd reduction(max : mr)  // exact in any order; a NaN may or may not win (see below)
    for (std::size_t v = 0; v < V; ++v) mr = std::max(mr, row[v]);
    m[r] = mr;
    sum[r] = 0;
  }
  constexpr std::size_t kBlock = 64;
  for (std::size_t v0 = 0; v0 < V; v0 += kBlock) {
    const std::size_t n = std::min(kBlock, V - v0);
    T e[R][kBlock];
    for (std::size_t r = 0; r < R; ++r) {
      const T* row = x + r * V + v0;
#pragma omp simd
      for (std::size_t j = 0; j < n; ++j) e[r][j] = std::exp(row[j] - m[r]);
    }
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t r = 0; r < R; ++r) sum[r] += e[r][j];
  }
  for (std::size_t r = 0; r < R; ++r) {
    lse[r] = m[r] + std::log(sum[r]);
    if (m[r] == -std::numeric_limits<T>::infinity()) {  // (−∞) − (−∞) above gave NaN
      lse[r] = m[r];
      for (std::size_t v = 0; v < V; ++v)
        if (std::isnan(x[r * V + v])) lse[r] = x[r * V + v];  // a NaN among −∞s: lse is NaN
    }
  }
}

/// One row of the cross-entropy's gradient: dx_v = (e^{x_v − lse} − [v = y]) dℓ, a vector of
/// elements at a time.
template <class T>
LLMLAB_VECTOR_CLONES void row_gradient(const T* x, T lse, std::size_t y, T dl, T* dx,
                                       std::size_t V) {
#pragma omp simd
  for (std::size_t v = 0; v < V; ++v) dx[v] = std::exp(x[v] - lse) * dl;  // [v = y] = 0 ...
  dx[y] = (std::exp(x[y] - lse) - T(1)) * dl;                             // ... but at y
}

}  // namespace

template <class T>
xt::xtensor<T, 2> logsumexp(const xt::xtensor<T, 3>& logits) {
  const std::size_t B = logits.shape(0), T_ = logits.shape(1), V = logits.shape(2);
  if (V == 0) throw Error("logsumexp", "logits is " + shape_of(logits) + ": rows of V = 0 logits");
  xt::xtensor<T, 2> lse = xt::empty<T>({B, T_});
  detail::for_each_row_group(B * T_, [&]<std::size_t R>(std::size_t row) {
    rows_logsumexp<T, R>(logits.data() + row * V, V, lse.data() + row);
  });
  return lse;
}

template <class T>
xt::xtensor<T, 2> cross_entropy_forward(const xt::xtensor<T, 3>& logits,
                                        const xt::xtensor<std::int32_t, 2>& targets,
                                        std::int32_t ignore_index) {
  check_targets("cross_entropy_forward", logits, targets, ignore_index);
  const std::size_t V = logits.shape(2);
  const xt::xtensor<T, 2> lse = logsumexp(logits);
  xt::xtensor<T, 2> losses = xt::zeros<T>(targets.shape());
  for (std::size_t r = 0; r < losses.size(); ++r) {
    const std::int32_t y = targets.data()[r];
    if (y == ignore_index) continue;  // no loss at a padding position
    // ℓ = −log p_y = −(x_y − lse) = lse − x_y: no probability is formed, so none underflows.
    losses.data()[r] = lse.data()[r] - logits.data()[r * V + static_cast<std::size_t>(y)];
  }
  return losses;
}

template <class T>
T cross_entropy_mean(const xt::xtensor<T, 2>& losses, const xt::xtensor<std::int32_t, 2>& targets,
                     std::int32_t ignore_index) {
  if (losses.shape() != targets.shape())
    throw Error("cross_entropy_mean",
                "losses is " + shape_of(losses) + " but targets is " + shape_of(targets));
  T sum = 0;
  std::size_t count = 0;  // |S|: the positions that count
  for (std::size_t r = 0; r < losses.size(); ++r)
    if (targets.data()[r] != ignore_index) {
      sum += losses.data()[r];
      ++count;
    }
  return sum / static_cast<T>(count);  // 0/0 = NaN when every position is ignored
}

template <class T>
xt::xtensor<T, 3> cross_entropy_backward(const xt::xtensor<T, 2>& dlosses,
                                         const xt::xtensor<T, 3>& logits,
                                         const xt::xtensor<std::int32_t, 2>& targets,
                                         std::int32_t ignore_index) {
  constexpr const char* where = "cross_entropy_backward";
  check_targets(where, logits, targets, ignore_index);
  if (dlosses.shape() != targets.shape())
    throw Error(where, "logits is " + shape_of(logits) + " but dlosses is " + shape_of(dlosses));
  const std::size_t V = logits.shape(2);
  const xt::xtensor<T, 2> lse = logsumexp(logits);
  xt::xtensor<T, 3> dlogits = xt::zeros<T>(logits.shape());
  // Rows on OpenMP threads, each row by one.
#pragma omp parallel for schedule(static) num_threads(detail::cpu_threads())
  for (std::size_t r = 0; r < targets.size(); ++r) {
    const std::int32_t y = targets.data()[r];
    if (y == ignore_index) continue;  // the loss is the constant 0 there: no gradient
    // In the forward ℓ = lse − x_y and ∂lse/∂x_v = e^{x_v − lse} = p_v, so ∂ℓ/∂x_v = p_v − [v = y].
    row_gradient(logits.data() + r * V, lse.data()[r], static_cast<std::size_t>(y),
                 dlosses.data()[r], dlogits.data() + r * V, V);
  }
  return dlogits;
}

template <class T>
T perplexity(T mean_loss) {
  return std::exp(mean_loss);
}

template xt::xtensor<float, 2> logsumexp(const xt::xtensor<float, 3>&);
template xt::xtensor<double, 2> logsumexp(const xt::xtensor<double, 3>&);
template xt::xtensor<float, 2> cross_entropy_forward(const xt::xtensor<float, 3>&,
                                                     const xt::xtensor<std::int32_t, 2>&,
                                                     std::int32_t);
template xt::xtensor<double, 2> cross_entropy_forward(const xt::xtensor<double, 3>&,
                                                      const xt::xtensor<std::int32_t, 2>&,
                                                      std::int32_t);
template float cross_entropy_mean(const xt::xtensor<float, 2>&, const xt::xtensor<std::int32_t, 2>&,
                                  std::int32_t);
template double cross_entropy_mean(const xt::xtensor<double, 2>&,
                                   const xt::xtensor<std::int32_t, 2>&, std::int32_t);
template xt::xtensor<float, 3> cross_entropy_backward(const xt::xtensor<float, 2>&,
                                                      const xt::xtensor<float, 3>&,
                                                      const xt::xtensor<std::int32_t, 2>&,
                                                      std::int32_t);
template xt::xtensor<double, 3> cross_entropy_backward(const xt::xtensor<double, 2>&,
                                                       const xt::xtensor<double, 3>&,
                                                       const xt::xtensor<std::int32_t, 2>&,
                                                       std::int32_t);
template float perplexity(float);
template double perplexity(double);

}  // namespace llmlab::ref
