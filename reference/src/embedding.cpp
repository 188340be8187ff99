#include "llmlab/ref/embedding.hpp"

#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "shape_of.hpp"

namespace llmlab::ref {
namespace {

using detail::shape_of;

/// Checks that every id is in [0, V) and that T ≤ maxT; `where` names the caller.
void check_ids(const char* where, const xt::xtensor<std::int32_t, 2>& ids, std::int64_t V,
               std::int64_t maxT) {
  const auto B = static_cast<std::int64_t>(ids.shape(0));
  const auto T = static_cast<std::int64_t>(ids.shape(1));
  if (T > maxT)
    throw Error(where, "ids is " + shape_str({B, T}) + ": T = " + std::to_string(T) +
                           " positions but wpe has only maxT = " + std::to_string(maxT));
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) {
      const std::int32_t id = ids(b, t);
      if (id < 0 || id >= V)
        throw Error(where, "ids[" + std::to_string(b) + ", " + std::to_string(t) +
                               "] = " + std::to_string(id) +
                               " is outside [0, V = " + std::to_string(V) + ")");
    }
}

}  // namespace

template <class T>
xt::xtensor<T, 3> embedding_forward(const xt::xtensor<std::int32_t, 2>& ids,
                                    const xt::xtensor<T, 2>& wte, const xt::xtensor<T, 2>& wpe) {
  constexpr const char* where = "embedding_forward";
  const std::size_t B = ids.shape(0), T_ = ids.shape(1);
  const std::size_t V = wte.shape(0), C = wte.shape(1), maxT = wpe.shape(0);
  if (wpe.shape(1) != C)
    throw Error(where, "wte is " + shape_of(wte) + " but wpe is " + shape_of(wpe) +
                           ": both need C columns");
  check_ids(where, ids, static_cast<std::int64_t>(V), static_cast<std::int64_t>(maxT));

  xt::xtensor<T, 3> out = xt::empty<T>({B, T_, C});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t t = 0; t < T_; ++t) {
      const auto v = static_cast<std::size_t>(ids(b, t));
      for (std::size_t c = 0; c < C; ++c) out(b, t, c) = wte(v, c) + wpe(t, c);  // wte[v] + wpe[t]
    }
  return out;
}

template <class T>
void embedding_backward(const xt::xtensor<T, 3>& dout, const xt::xtensor<std::int32_t, 2>& ids,
                        xt::xtensor<T, 2>& dwte, xt::xtensor<T, 2>& dwpe) {
  constexpr const char* where = "embedding_backward";
  const std::size_t B = dout.shape(0), T_ = dout.shape(1), C = dout.shape(2);
  if (ids.shape(0) != B || ids.shape(1) != T_)
    throw Error(where, "dout is " + shape_of(dout) + " but ids is " + shape_of(ids));
  if (dwte.shape(1) != C)
    throw Error(where, "dout is " + shape_of(dout) + " but dwte is " + shape_of(dwte));
  if (dwpe.shape(1) != C)
    throw Error(where, "dout is " + shape_of(dout) + " but dwpe is " + shape_of(dwpe));
  check_ids(where, ids, static_cast<std::int64_t>(dwte.shape(0)),
            static_cast<std::int64_t>(dwpe.shape(0)));

  // In the forward, out[b,t,:] = wte[ids[b,t],:] + wpe[t,:], so now dout[b,t,:] flows back into
  // both rows it was summed from; a repeated token gathers every one of its rows.
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t t = 0; t < T_; ++t) {
      const auto v = static_cast<std::size_t>(ids(b, t));
      for (std::size_t c = 0; c < C; ++c) {
        dwte(v, c) += dout(b, t, c);
        dwpe(t, c) += dout(b, t, c);
      }
    }
}

template xt::xtensor<float, 3> embedding_forward(const xt::xtensor<std::int32_t, 2>&,
                                                 const xt::xtensor<float, 2>&,
                                                 const xt::xtensor<float, 2>&);
template xt::xtensor<double, 3> embedding_forward(const xt::xtensor<std::int32_t, 2>&,
                                                  const xt::xtensor<double, 2>&,
                                                  const xt::xtensor<double, 2>&);
template void embedding_backward(const xt::xtensor<float, 3>&, const xt::xtensor<std::int32_t, 2>&,
                                 xt::xtensor<float, 2>&, xt::xtensor<float, 2>&);
template void embedding_backward(const xt::xtensor<double, 3>&, const xt::xtensor<std::int32_t, 2>&,
                                 xt::xtensor<double, 2>&, xt::xtensor<double, 2>&);

}  // namespace llmlab::ref
