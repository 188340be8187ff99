#include "llmlab/ref/layernorm.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "shape_of.hpp"

namespace llmlab::ref {
namespace {

using detail::shape_of;

/// Throws Error(where, "x is (B, T, C) but <name> is (...)") unless `got` has the shape `want`.
template <class E, class S>
void require_shape(const char* where, const std::string& x_shape, const char* name, const E& got,
                   const S& want) {
  if (!std::equal(got.shape().begin(), got.shape().end(), want.begin(), want.end()))
    throw Error(where, "x is " + x_shape + " but " + name + " is " + shape_of(got));
}

}  // namespace

template <class T>
LayerNormForward<T> layernorm_forward(const xt::xtensor<T, 3>& x, const xt::xtensor<T, 1>& w,
                                      const xt::xtensor<T, 1>& b, double eps) {
  constexpr const char* where = "layernorm_forward";
  const std::size_t B = x.shape(0), Tn = x.shape(1), C = x.shape(2);
  const std::string xs = shape_of(x);
  if (C == 0) throw Error(where, "x is " + xs + ": C must be >= 1");
  require_shape(where, xs, "w", w, std::array<std::size_t, 1>{C});
  require_shape(where, xs, "b", b, std::array<std::size_t, 1>{C});
  if (!(eps > 0)) throw Error(where, "eps = " + std::to_string(eps) + " must be > 0");

  LayerNormForward<T> out{xt::empty<T>({B, Tn, C}), xt::empty<T>({B, Tn}), xt::empty<T>({B, Tn})};
  // rows (bi, t) on OpenMP threads (set_cpu_threads), each row's sums by one thread
#pragma omp parallel for collapse(2) schedule(static)
  for (std::size_t bi = 0; bi < B; ++bi) {
    for (std::size_t t = 0; t < Tn; ++t) {
      // mu = (1/C) sum_c x_c
      T mu = 0;
      for (std::size_t c = 0; c < C; ++c) mu += x(bi, t, c);
      mu /= static_cast<T>(C);
      // sigma^2 = (1/C) sum_c (x_c - mu)^2   (biased, as PyTorch; second pass over x - mu)
      T var = 0;
      for (std::size_t c = 0; c < C; ++c) {
        const T d = x(bi, t, c) - mu;
        var += d * d;
      }
      var /= static_cast<T>(C);
      // r = 1 / sqrt(sigma^2 + eps)
      const T r = T(1) / std::sqrt(var + static_cast<T>(eps));
      // y_c = (x_c - mu) r w_c + b_c
      for (std::size_t c = 0; c < C; ++c) {
        const T xhat = (x(bi, t, c) - mu) * r;
        out.y(bi, t, c) = xhat * w(c) + b(c);
      }
      out.mean(bi, t) = mu;
      out.rstd(bi, t) = r;
    }
  }
  return out;
}

template <class T>
void layernorm_backward(const xt::xtensor<T, 3>& dy, const xt::xtensor<T, 3>& x,
                        const xt::xtensor<T, 1>& w, const xt::xtensor<T, 2>& mean,
                        const xt::xtensor<T, 2>& rstd, xt::xtensor<T, 3>& dx, xt::xtensor<T, 1>& dw,
                        xt::xtensor<T, 1>& db) {
  constexpr const char* where = "layernorm_backward";
  const std::size_t B = x.shape(0), Tn = x.shape(1), C = x.shape(2);
  const std::string xs = shape_of(x);
  const std::array<std::size_t, 3> btc{B, Tn, C};
  const std::array<std::size_t, 2> bt{B, Tn};
  const std::array<std::size_t, 1> c1{C};
  if (C == 0) throw Error(where, "x is " + xs + ": C must be >= 1");  // as the forward
  require_shape(where, xs, "dy", dy, btc);
  require_shape(where, xs, "w", w, c1);
  require_shape(where, xs, "mean", mean, bt);
  require_shape(where, xs, "rstd", rstd, bt);
  require_shape(where, xs, "dx", dx, btc);
  require_shape(where, xs, "dw", dw, c1);
  require_shape(where, xs, "db", db, c1);

  // dx: rows (bi, t) on OpenMP threads, each row by one thread (no sum crosses rows)
#pragma omp parallel for collapse(2) schedule(static)
  for (std::size_t bi = 0; bi < B; ++bi) {
    for (std::size_t t = 0; t < Tn; ++t) {
      const T mu = mean(bi, t);
      const T r = rstd(bi, t);
      // The forward was y_c = xhat_c w_c + b_c with xhat_c = (x_c - mu) r. So the gradient reaching
      // xhat_c is g_c = w_c dy_c; we need its two means over the row:
      //   mean_g = (1/C) sum_k g_k,   mean_gxhat = (1/C) sum_k g_k xhat_k.
      T mean_g = 0, mean_gxhat = 0;
      for (std::size_t c = 0; c < C; ++c) {
        const T xhat = (x(bi, t, c) - mu) * r;
        const T g = w(c) * dy(bi, t, c);
        mean_g += g;
        mean_gxhat += g * xhat;
      }
      mean_g /= static_cast<T>(C);
      mean_gxhat /= static_cast<T>(C);
      for (std::size_t c = 0; c < C; ++c) {
        const T xhat = (x(bi, t, c) - mu) * r;
        const T g = w(c) * dy(bi, t, c);
        // xhat_c depends on x_c directly (r), through mu (-r/C each) and through r
        // (dr/dx_k = -r^3 (x_k - mu) / C): dx_c = r (g_c - mean_g - xhat_c mean_gxhat).
        dx(bi, t, c) += (g - mean_g - xhat * mean_gxhat) * r;
      }
    }
  }
  // b_c entered y_c with coefficient 1, w_c with coefficient xhat_c: sums over the rows, in row
  // order. Blocks of kColumns columns on OpenMP threads, each column's two sums by one thread.
  constexpr std::size_t kColumns = 16;
#pragma omp parallel for schedule(static)
  for (std::size_t c0 = 0; c0 < C; c0 += kColumns) {
    const std::size_t c1 = std::min(C, c0 + kColumns);
    for (std::size_t bi = 0; bi < B; ++bi)
      for (std::size_t t = 0; t < Tn; ++t)
        for (std::size_t c = c0; c < c1; ++c) {
          const T xhat = (x(bi, t, c) - mean(bi, t)) * rstd(bi, t);
          db(c) += dy(bi, t, c);
          dw(c) += xhat * dy(bi, t, c);
        }
  }
}

template LayerNormForward<float> layernorm_forward(const xt::xtensor<float, 3>&,
                                                   const xt::xtensor<float, 1>&,
                                                   const xt::xtensor<float, 1>&, double);
template LayerNormForward<double> layernorm_forward(const xt::xtensor<double, 3>&,
                                                    const xt::xtensor<double, 1>&,
                                                    const xt::xtensor<double, 1>&, double);
template void layernorm_backward(const xt::xtensor<float, 3>&, const xt::xtensor<float, 3>&,
                                 const xt::xtensor<float, 1>&, const xt::xtensor<float, 2>&,
                                 const xt::xtensor<float, 2>&, xt::xtensor<float, 3>&,
                                 xt::xtensor<float, 1>&, xt::xtensor<float, 1>&);
template void layernorm_backward(const xt::xtensor<double, 3>&, const xt::xtensor<double, 3>&,
                                 const xt::xtensor<double, 1>&, const xt::xtensor<double, 2>&,
                                 const xt::xtensor<double, 2>&, xt::xtensor<double, 3>&,
                                 xt::xtensor<double, 1>&, xt::xtensor<double, 1>&);

}  // namespace llmlab::ref
