#pragma once
/// \file
/// \brief A seeded random generator whose streams are identical on every platform and compiler.
///
/// std::normal_distribution differs between standard libraries, so llmlab draws its own numbers from
/// std::mt19937_64 bits: the same seed gives the same inputs everywhere (tests, benchmarks, labs).

#include <cstdint>
#include <random>
#include <vector>

namespace llmlab {

/// Seeded generator: uniform and normal floats, reproducible across platforms.
class Rng {
 public:
  /// A generator whose stream depends only on `seed`.
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  /// Uniform in [lo, hi): \f$ lo + (hi - lo) \cdot u,\ u = \mathrm{bits}_{53} \cdot 2^{-53} \f$.
  double uniform(double lo = 0.0, double hi = 1.0);
  /// Standard normal by Box–Muller: \f$ \sqrt{-2 \ln u_1} \cos(2 \pi u_2) \f$.
  double normal();
  /// n uniform floats in [lo, hi).
  std::vector<float> uniform_floats(std::size_t n, double lo = -1.0, double hi = 1.0);
  /// n normal floats with standard deviation `stddev`.
  std::vector<float> normal_floats(std::size_t n, double stddev = 1.0);

 private:
  std::mt19937_64 engine_;
};

}  // namespace llmlab
