#include "llmlab/ref/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "llmlab/core/error.hpp"
#include "shape_of.hpp"

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

/// S_i·, row i of one head's scores: τ q_i · k_j for the keys j < n it sees (n = i + 1 when causal,
/// T otherwise), each a D-term sum left to right.
template <class T>
void scores_row(const T* qh, const T* kh, std::size_t i, std::size_t n, std::size_t D, T tau,
                std::vector<T>& s) {
  for (std::size_t j = 0; j < n; ++j) {
    T dot = 0;
    for (std::size_t d = 0; d < D; ++d) dot += qh[i * D + d] * kh[j * D + d];
    s[j] = tau * dot;
  }
}

}  // namespace

template <class T>
AttentionForward<T> attention_forward(const xt::xarray<T>& q, const xt::xarray<T>& k,
                                      const xt::xarray<T>& v, bool causal) {
  const std::size_t Tn = check_heads<T>("attention_forward", q, {{"k", &k}, {"v", &v}});
  const std::size_t D = q.shape()[3], heads = q.shape()[0] * q.shape()[1];
  const T tau = T(1) / std::sqrt(static_cast<T>(D));
  AttentionForward<T> r{xt::zeros<T>(q.shape()), xt::zeros<T>({q.shape()[0], q.shape()[1], Tn})};
  std::vector<T> s(Tn);
  for (std::size_t h = 0; h < heads; ++h) {
    const T *qh = q.data() + h * Tn * D, *kh = k.data() + h * Tn * D, *vh = v.data() + h * Tn * D;
    T* oh = r.out.data() + h * Tn * D;
    for (std::size_t i = 0; i < Tn; ++i) {
      const std::size_t n = causal ? i + 1 : Tn;  // keys j < n; the rest are masked to −∞
      scores_row(qh, kh, i, n, D, tau, s);        // S_ij = τ q_i · k_j
      const T m = *std::max_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
      T l = 0;  // ℓ_i = Σ_j e^{S_ij − m_i}
      for (std::size_t j = 0; j < n; ++j) {
        s[j] = std::exp(s[j] - m);  // s now holds e^{S_ij − m_i}
        l += s[j];
      }
      for (std::size_t j = 0; j < n; ++j)  // O_i = Σ_j (e^{S_ij − m_i} / ℓ_i) v_j
        for (std::size_t d = 0; d < D; ++d) oh[i * D + d] += s[j] / l * vh[j * D + d];
      r.lse.data()[h * Tn + i] = m + std::log(l);  // L_i = m_i + log ℓ_i
    }
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
  AttentionGrads<T> g{xt::zeros<T>(q.shape()), xt::zeros<T>(q.shape()), xt::zeros<T>(q.shape())};
  std::vector<T> p(Tn);
  for (std::size_t h = 0; h < heads; ++h) {
    const std::size_t o = h * Tn * D;
    const T *qh = q.data() + o, *kh = k.data() + o, *vh = v.data() + o;
    const T *doh = dout.data() + o, *oh = out.data() + o;
    T *dq = g.dq.data() + o, *dk = g.dk.data() + o, *dv = g.dv.data() + o;
    for (std::size_t i = 0; i < Tn; ++i) {
      const std::size_t n = causal ? i + 1 : Tn;  // the forward's keys j < n
      scores_row(qh, kh, i, n, D, tau, p);        // the forward's S_ij = τ q_i · k_j
      const T L = lse.data()[h * Tn + i];
      for (std::size_t j = 0; j < n; ++j) p[j] = std::exp(p[j] - L);  // P_ij = e^{S_ij − L_i}
      T Di = 0;  // D_i = Σ_d dO_id O_id  (= Σ_j P_ij dP_ij)
      for (std::size_t d = 0; d < D; ++d) Di += doh[i * D + d] * oh[i * D + d];
      for (std::size_t j = 0; j < n; ++j) {
        T dp = 0;  // forward O_i = Σ_j P_ij v_j:  dV_j += P_ij dO_i,  dP_ij = dO_i · v_j
        for (std::size_t d = 0; d < D; ++d) {
          dv[j * D + d] += p[j] * doh[i * D + d];
          dp += doh[i * D + d] * vh[j * D + d];
        }
        const T ds = p[j] * (dp - Di);  // forward P = softmax(S):  dS_ij = P_ij (dP_ij − D_i)
        for (std::size_t d = 0; d < D; ++d) {  // forward S_ij = τ q_i · k_j
          dq[i * D + d] += tau * ds * kh[j * D + d];
          dk[j * D + d] += tau * ds * qh[i * D + d];
        }
      }
    }
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
