#include "llmlab/ref/attention.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>
#include <xtensor-blas/xblas.hpp>
#include <xtensor/xadapt.hpp>

#include "cpu_threads.hpp"
#include "llmlab/core/error.hpp"
#include "shape_of.hpp"
#include "vector_math.hpp"

namespace llmlab::ref {

using detail::shape_of;

namespace {

/// Checks that q is (B, H, T, D) with T, D > 0 and that every other tensor named in `same` has
/// its shape; @returns T.
template <class T>
std::size_t check_heads(const char* where, const xt::xarray<T>& q,
                        std::initializer_list<std::pair<const char*, const xt::xarray<T>*>> same) {
  if (q.dimension() != 4) throw Error(where, "q is " + shape_of(q) + ": it must be (B, H, T, D)");
  for (const auto& [name, t] : same)
    if (t->shape() != q.shape())
      throw Error(where, std::string(name) + " is " + shape_of(*t) + " but q is " + shape_of(q));
  if (q.shape()[2] == 0) throw Error(where, "q is " + shape_of(q) + ": T = 0, no query");
  if (q.shape()[3] == 0) throw Error(where, "q is " + shape_of(q) + ": D = 0, an empty head");
  return q.shape()[2];
}

/// One head's row-major (rows, cols) matrix at `data`, seen (not copied) as an xtensor for
/// xt::blas::gemm (OpenBLAS's sgemm / dgemm, as matmul_forward_blas).
template <class P>
auto matrix(P* data, std::size_t rows, std::size_t cols) {
  return xt::adapt(data, rows * cols, xt::no_ownership(), std::array<std::size_t, 2>{rows, cols});
}

/// Scores of one row kept in registers at a time by scores (a multiple of the 4 or 8 floats of a
/// vector).
constexpr std::size_t kScoreBlock = 16;
/// Rows of scores computed side by side: kScoreRows independent chains of additions for the CPU
/// to overlap (one would wait on each addition's latency), sharing each load of Kᵀ.
constexpr std::size_t kScoreRows = 4;

/// S = τ Q Kᵀ for one head, row i over the keys j < n_i it sees (n_i = i + 1 when causal, T
/// otherwise; the rest of the row is left for softmax_row to mask): \f$ S_{ij} = \tau \sum_d
/// Q_{id} K_{jd} \f$, each a D-term sum in d order — the order of the kernels' dot products, so the
/// float baseline they are judged against (tests/attention_test.cpp) keeps its rounding. Kᵀ is
/// copied first into `kt` (D, Tp), its columns padded with zeros to Tp, a multiple of
/// kScoreBlock, so that kScoreBlock sums S_ij, …, S_i,j+15 of kScoreRows rows i run side by side
/// in registers (one vector multiply and add per row and d; vector_math.hpp) and are stored once.
template <class T>
LLMLAB_VECTOR_CLONES void scores(const T* qh, const T* kh, std::size_t Tn, std::size_t D, T tau,
                                 bool causal, std::vector<T>& kt, T* s) {
  const std::size_t Tp = kt.size() / D;
  for (std::size_t j = 0; j < Tn; ++j)
    for (std::size_t d = 0; d < D; ++d) kt[d * Tp + j] = kh[j * D + d];
  for (std::size_t i0 = 0; i0 < Tn; i0 += kScoreRows) {
    const std::size_t rows = std::min(kScoreRows, Tn - i0);
    std::array<const T*, kScoreRows> q{};  // the group's rows of Q; past the end, its first again
    for (std::size_t r = 0; r < kScoreRows; ++r) q[r] = qh + (i0 + (r < rows ? r : 0)) * D;
    const std::size_t widest = causal ? i0 + rows : Tn;  // the keys the group's last row sees
    for (std::size_t j0 = 0; j0 < widest; j0 += kScoreBlock) {
      T acc[kScoreRows][kScoreBlock] = {};  // S_ij for the rows i, j in [j0, j0 + kScoreBlock)
      for (std::size_t d = 0; d < D; ++d) {
        const T* ktd = kt.data() + d * Tp + j0;
#pragma GCC unroll 4  // kScoreRows: the accumulators stay in registers
        for (std::size_t r = 0; r < kScoreRows; ++r) {
          const T qid = q[r][d];
          for (std::size_t jj = 0; jj < kScoreBlock; ++jj)
            acc[r][jj] += qid * ktd[jj];  // d in order
        }
      }
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t i = i0 + r, n = causal ? i + 1 : Tn;
        for (std::size_t jj = 0; jj < kScoreBlock && j0 + jj < n; ++jj)
          s[i * Tn + j0 + jj] = tau * acc[r][jj];
      }
    }
  }
}

/// Tn rounded up to a multiple of kScoreBlock: the columns of scores' Kᵀ buffer.
inline std::size_t padded(std::size_t Tn) {
  return (Tn + kScoreBlock - 1) / kScoreBlock * kScoreBlock;
}

/// Row i of P = softmax(S) in place, over the keys j < n it sees (n = i + 1 when causal, T
/// otherwise): \f$ m_i = \max_{j<n} S_{ij} \f$, \f$ \ell_i = \sum_{j<n} e^{S_{ij} - m_i} \f$,
/// \f$ P_{ij} = e^{S_{ij} - m_i} / \ell_i \f$ for j < n and 0 for the masked j ≥ n (their
/// \f$ S_{ij} = -\infty \f$). @returns \f$ L_i = m_i + \log \ell_i \f$.
template <class T>
LLMLAB_VECTOR_CLONES T softmax_row(T* row, std::size_t n, std::size_t Tn) {
  T m = row[0];
#pragma omp simd reduction(max : m)  // exact in any order (a NaN score makes the row NaN anyway)
  for (std::size_t j = 1; j < n; ++j) m = std::max(m, row[j]);
#pragma omp simd  // a vector of j at a time (vector_math.hpp)
  for (std::size_t j = 0; j < n; ++j) row[j] = std::exp(row[j] - m);  // e^{S_ij − m_i}
  T l = 0;
  for (std::size_t j = 0; j < n; ++j) l += row[j];  // left to right, as the float baseline's
#pragma omp simd
  for (std::size_t j = 0; j < n; ++j) row[j] /= l;
  std::fill(row + n, row + Tn, T(0));
  return m + std::log(l);
}

/// Row i of P from the forward's S and L: \f$ P_{ij} = e^{S_{ij} - L_i} \f$ for the keys j < n,
/// 0 for the masked j ≥ n, in place.
template <class T>
LLMLAB_VECTOR_CLONES void probabilities_row(T* row, std::size_t n, std::size_t Tn, T L) {
#pragma omp simd  // a vector of j at a time (vector_math.hpp)
  for (std::size_t j = 0; j < n; ++j) row[j] = std::exp(row[j] - L);
  std::fill(row + n, row + Tn, T(0));
}

}  // namespace

// Per head: the scores row by row (scores), the row softmax, then O = P V as a GEMM (T×T by
// T×D); a causal head's P is 0 above the diagonal, so the GEMM over the full square adds nothing
// for the masked keys (and is still faster than a triangle of dot products). The B·H heads run
// on set_cpu_threads's OpenMP threads, each head whole on one thread (OpenBLAS then runs each
// GEMM on its caller's thread); by default one head after another, each GEMM on OpenBLAS's threads.
template <class T>
AttentionForward<T> attention_forward(const xt::xarray<T>& q, const xt::xarray<T>& k,
                                      const xt::xarray<T>& v, bool causal) {
  const std::size_t Tn = check_heads<T>("attention_forward", q, {{"k", &k}, {"v", &v}});
  const std::size_t D = q.shape()[3], heads = q.shape()[0] * q.shape()[1];
  const T tau = T(1) / std::sqrt(static_cast<T>(D));
  AttentionForward<T> r{xt::empty<T>(q.shape()), xt::empty<T>({q.shape()[0], q.shape()[1], Tn})};
#pragma omp parallel for schedule(static) num_threads(detail::cpu_threads())
  for (std::size_t h = 0; h < heads; ++h) {
    const std::size_t o = h * Tn * D;
    std::vector<T> p(Tn * Tn), kt(D * padded(Tn));                         // S, then P (T, T); Kᵀ
    scores(q.data() + o, k.data() + o, Tn, D, tau, causal, kt, p.data());  // S = τ Q Kᵀ
    for (std::size_t i = 0; i < Tn; ++i) {
      const std::size_t n = causal ? i + 1 : Tn;  // keys j < n; the rest are masked to −∞
      r.lse.data()[h * Tn + i] = softmax_row(p.data() + i * Tn, n, Tn);  // P = softmax(S), L
    }
    const auto P = matrix(p.data(), Tn, Tn);
    const auto V = matrix(v.data() + o, Tn, D);
    auto O = matrix(r.out.data() + o, Tn, D);
    xt::blas::gemm(P, V, O, false, false, T(1), T(0));  // O = P V
  }
  return r;
}

template <class T>
AttentionGrads<T> attention_backward(const xt::xarray<T>& dout, const xt::xarray<T>& q,
                                     const xt::xarray<T>& k, const xt::xarray<T>& v,
                                     const xt::xarray<T>& out, const xt::xarray<T>& lse,
                                     bool causal) {
  constexpr const char* where = "attention_backward";
  const std::size_t Tn =
      check_heads<T>(where, q, {{"k", &k}, {"v", &v}, {"dout", &dout}, {"out", &out}});
  const std::size_t D = q.shape()[3], heads = q.shape()[0] * q.shape()[1];
  const std::vector<std::size_t> lse_shape = {q.shape()[0], q.shape()[1], Tn};
  if (std::vector<std::size_t>(lse.shape().begin(), lse.shape().end()) != lse_shape)
    throw Error(where,
                "lse is " + shape_of(lse) + " but q is " + shape_of(q) + ": it must be (B, H, T)");
  const T tau = T(1) / std::sqrt(static_cast<T>(D));
  AttentionGrads<T> g{xt::empty<T>(q.shape()), xt::empty<T>(q.shape()), xt::empty<T>(q.shape())};
  // the heads on set_cpu_threads's OpenMP threads, each whole on one, as in the forward
#pragma omp parallel for schedule(static) num_threads(detail::cpu_threads())
  for (std::size_t h = 0; h < heads; ++h) {
    const std::size_t o = h * Tn * D;
    std::vector<T> p(Tn * Tn), ds(Tn * Tn), kt(D * padded(Tn));            // P, dS (T, T); Kᵀ
    scores(q.data() + o, k.data() + o, Tn, D, tau, causal, kt, p.data());  // the forward's S
    for (std::size_t i = 0; i < Tn; ++i) {
      const std::size_t n = causal ? i + 1 : Tn;  // the forward's keys j < n
      probabilities_row(p.data() + i * Tn, n, Tn, lse.data()[h * Tn + i]);
    }
    const auto P = matrix(p.data(), Tn, Tn);
    const auto Q = matrix(q.data() + o, Tn, D);
    const auto K = matrix(k.data() + o, Tn, D);
    const auto V = matrix(v.data() + o, Tn, D);
    const auto dO = matrix(dout.data() + o, Tn, D);
    auto dS = matrix(ds.data(), Tn, Tn);
    auto dQ = matrix(g.dq.data() + o, Tn, D), dK = matrix(g.dk.data() + o, Tn, D),
         dV = matrix(g.dv.data() + o, Tn, D);
    // forward O = P V:  dV = Pᵀ dO,  dP = dO Vᵀ
    xt::blas::gemm(P, dO, dV, true, false, T(1), T(0));
    xt::blas::gemm(dO, V, dS, false, true, T(1), T(0));  // dS holds dP for now
    for (std::size_t i = 0; i < Tn; ++i) {
      T Di = 0;  // D_i = Σ_d dO_id O_id  (= Σ_j P_ij dP_ij)
      for (std::size_t d = 0; d < D; ++d)
        Di += dout.data()[o + i * D + d] * out.data()[o + i * D + d];
      for (std::size_t j = 0; j < Tn; ++j)  // forward P = softmax(S):  dS_ij = P_ij (dP_ij − D_i)
        ds[i * Tn + j] = p[i * Tn + j] * (ds[i * Tn + j] - Di);
    }
    // forward S = τ Q Kᵀ:  dQ = τ dS K,  dK = τ dSᵀ Q
    xt::blas::gemm(dS, K, dQ, false, false, tau, T(0));
    xt::blas::gemm(dS, Q, dK, true, false, tau, T(0));
  }
  return g;
}

template AttentionForward<float> attention_forward(const xt::xarray<float>&,
                                                   const xt::xarray<float>&,
                                                   const xt::xarray<float>&, bool);
template AttentionForward<double> attention_forward(const xt::xarray<double>&,
                                                    const xt::xarray<double>&,
                                                    const xt::xarray<double>&, bool);
template AttentionGrads<float> attention_backward(
    const xt::xarray<float>&, const xt::xarray<float>&, const xt::xarray<float>&,
    const xt::xarray<float>&, const xt::xarray<float>&, const xt::xarray<float>&, bool);
template AttentionGrads<double> attention_backward(
    const xt::xarray<double>&, const xt::xarray<double>&, const xt::xarray<double>&,
    const xt::xarray<double>&, const xt::xarray<double>&, const xt::xarray<double>&, bool);

}  // namespace llmlab::ref
