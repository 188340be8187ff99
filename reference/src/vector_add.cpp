#include "llmlab/ref/vector_add.hpp"

#include <cstdint>

#include "llmlab/core/error.hpp"

namespace llmlab::ref {

template <class T>
xt::xtensor<T, 1> vector_add(const xt::xtensor<T, 1>& a, const xt::xtensor<T, 1>& b) {
  const auto n = static_cast<std::int64_t>(a.size());
  const auto m = static_cast<std::int64_t>(b.size());
  if (n != m) throw Error("vector_add", "a is " + shape_str({n}) + " but b is " + shape_str({m}));

  xt::xtensor<T, 1> c = xt::empty<T>({a.size()});
  for (std::size_t i = 0; i < a.size(); ++i) c(i) = a(i) + b(i);  // c_i = a_i + b_i
  return c;
}

template xt::xtensor<float, 1> vector_add(const xt::xtensor<float, 1>&,
                                          const xt::xtensor<float, 1>&);
template xt::xtensor<double, 1> vector_add(const xt::xtensor<double, 1>&,
                                           const xt::xtensor<double, 1>&);

}  // namespace llmlab::ref
