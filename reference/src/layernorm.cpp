#include "llmlab/ref/layernorm.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu_threads.hpp"
#include "llmlab/core/error.hpp"
#include "shape_of.hpp"
#include "vector_math.hpp"

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

/// R rows of the forward (x, y: R rows of C elements), each row: \f$ \mu = \frac1C \sum_c x_c
/// \f$, \f$ \sigma^2 = \frac1C \sum_c (x_c - \mu)^2 \f$, \f$ r = 1/\sqrt{\sigma^2 + \epsilon}
/// \f$, \f$ y_c = (x_c - \mu) r w_c + b_c \f$. Each row's sums run left to right (their order
/// fixes the float baseline the kernels are judged against); the R rows' sums are interleaved, so
/// that the CPU overlaps R chains of dependent additions — the same additions per row, the same
/// bits for any R. The last loop runs a vector of c at a time (vector_math.hpp).
template <class T, std::size_t R>
LLMLAB_VECTOR_CLONES void forward_rows(const T* x, const T* w, const T* b, T eps, std::size_t C,
                                       T* y, T* mean, T* rstd) {
  // mu = (1/C) sum_c x_c
  T mu[R] = {}, var[R] = {};
  for (std::size_t c = 0; c < C; ++c)
#pragma GCC unroll 8  // R: the sums stay in registers
    for (std::size_t r = 0; r < R; ++r) mu[r] += x[r * C + c];
  for (std::size_t r = 0; r < R; ++r) mu[r] /= static_cast<T>(C);
  // sigma^2 = (1/C) sum_c (x_c - mu)^2   (biased, as PyTorch; second pass over x - mu)
  for (std::size_t c = 0; c < C; ++c)
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
      const T d = x[r * C + c] - mu[r];
      var[r] += d * d;
    }
  for (std::size_t r = 0; r < R; ++r) {
    // r = 1 / sqrt(sigma^2 + eps)
    const T rr = T(1) / std::sqrt(var[r] / static_cast<T>(C) + eps);
    const T* xr = x + r * C;
    T* yr = y + r * C;
    // y_c = (x_c - mu) r w_c + b_c
#pragma omp simd
    for (std::size_t c = 0; c < C; ++c) yr[c] = (xr[c] - mu[r]) * rr * w[c] + b[c];
    mean[r] = mu[r];
    rstd[r] = rr;
  }
}

/// R rows of the backward: dx_c += r (g_c − mean(g) − x̂_c mean(g x̂)), g_c = w_c dy_c; each
/// row's two sums left to right, the R rows' sums interleaved (as forward_rows).
template <class T, std::size_t R>
LLMLAB_VECTOR_CLONES void backward_rows(const T* dy, const T* x, const T* w, const T* mu,
                                        const T* r, std::size_t C, T* dx) {
  // The forward was y_c = xhat_c w_c + b_c with xhat_c = (x_c - mu) r. So the gradient reaching
  // xhat_c is g_c = w_c dy_c; we need its two means over the row:
  //   mean_g = (1/C) sum_k g_k,   mean_gxhat = (1/C) sum_k g_k xhat_k.
  T mean_g[R] = {}, mean_gxhat[R] = {};
  for (std::size_t c = 0; c < C; ++c)
#pragma GCC unroll 8  // R: the sums stay in registers
    for (std::size_t i = 0; i < R; ++i) {
      const T xhat = (x[i * C + c] - mu[i]) * r[i];
      const T g = w[c] * dy[i * C + c];
      mean_g[i] += g;
      mean_gxhat[i] += g * xhat;
    }
  for (std::size_t i = 0; i < R; ++i) {
    const T mg = mean_g[i] / static_cast<T>(C), mgx = mean_gxhat[i] / static_cast<T>(C);
    const T *dyi = dy + i * C, *xi = x + i * C;
    T* dxi = dx + i * C;
#pragma omp simd
    for (std::size_t c = 0; c < C; ++c) {
      const T xhat = (xi[c] - mu[i]) * r[i];
      const T g = w[c] * dyi[c];
      // xhat_c depends on x_c directly (r), through mu (-r/C each) and through r
      // (dr/dx_k = -r^3 (x_k - mu) / C): dx_c = r (g_c - mean_g - xhat_c mean_gxhat).
      dxi[c] += (g - mg - xhat * mgx) * r[i];
    }
  }
}

/// Columns [c0, c1) of dw and db: sums over the rows, in row order, a vector of columns at a time.
template <class T>
LLMLAB_VECTOR_CLONES void parameter_sums(const T* dy, const T* x, const T* mean, const T* rstd,
                                         std::size_t rows, std::size_t C, std::size_t c0,
                                         std::size_t c1, T* dw, T* db) {
  for (std::size_t row = 0; row < rows; ++row) {
    const T* dyr = dy + row * C;
    const T* xr = x + row * C;
#pragma omp simd
    for (std::size_t c = c0; c < c1; ++c) {
      const T xhat = (xr[c] - mean[row]) * rstd[row];
      db[c] += dyr[c];
      dw[c] += xhat * dyr[c];
    }
  }
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
  // rows (bi, t) in groups on OpenMP threads (set_cpu_threads), each row's sums by one thread
  detail::for_each_row_group(B * Tn, [&]<std::size_t R>(std::size_t row) {
    forward_rows<T, R>(x.data() + row * C, w.data(), b.data(), static_cast<T>(eps), C,
                       out.y.data() + row * C, out.mean.data() + row, out.rstd.data() + row);
  });
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

  // dx: rows (bi, t) in groups on OpenMP threads, each row by one thread (no sum crosses rows)
  detail::for_each_row_group(B * Tn, [&]<std::size_t R>(std::size_t row) {
    backward_rows<T, R>(dy.data() + row * C, x.data() + row * C, w.data(), mean.data() + row,
                        rstd.data() + row, C, dx.data() + row * C);
  });
  // b_c entered y_c with coefficient 1, w_c with coefficient xhat_c: sums over the rows, in row
  // order. Blocks of kColumns columns on OpenMP threads, each column's two sums by one thread.
  constexpr std::size_t kColumns = 64;
#pragma omp parallel for schedule(static) num_threads(detail::cpu_threads())
  for (std::size_t c0 = 0; c0 < C; c0 += kColumns)
    parameter_sums(dy.data(), x.data(), mean.data(), rstd.data(), B * Tn, C, c0,
                   std::min(C, c0 + kColumns), dw.data(), db.data());
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
