#include "llmlab/core/rng.hpp"

#include <cmath>
#include <numbers>

namespace llmlab {

double Rng::uniform(double lo, double hi) {
  const double u = static_cast<double>(engine_() >> 11) * 0x1p-53;  // 53 random bits in [0, 1)
  return lo + (hi - lo) * u;
}

double Rng::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::vector<float> Rng::uniform_floats(std::size_t n, double lo, double hi) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(uniform(lo, hi));
  return v;
}

std::vector<float> Rng::normal_floats(std::size_t n, double stddev) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(stddev * normal());
  return v;
}

}  // namespace llmlab
