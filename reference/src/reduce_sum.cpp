#include "llmlab/ref/reduce_sum.hpp"

namespace llmlab::ref {

template <class T>
xt::xtensor<T, 1> reduce_sum(const xt::xtensor<T, 2>& x) {
  const std::size_t R = x.shape(0);
  const std::size_t C = x.shape(1);

  xt::xtensor<T, 1> out = xt::empty<T>({R});
  for (std::size_t r = 0; r < R; ++r) {
    T sum = 0;  // out_r = x_{r,0} + x_{r,1} + ... + x_{r,C-1}, left to right
    for (std::size_t c = 0; c < C; ++c) sum += x(r, c);
    out(r) = sum;
  }
  return out;
}

template xt::xtensor<float, 1> reduce_sum(const xt::xtensor<float, 2>&);
template xt::xtensor<double, 1> reduce_sum(const xt::xtensor<double, 2>&);

}  // namespace llmlab::ref
