#pragma once
/// \file
/// \ingroup group_oracle
/// \brief The oracle: decides whether a result agrees with the double-precision reference.
///
/// The rules (docs/design.md §5), each with the reason for its constants:
/// - **ratio** (kernels vs the reference; the FlashAttention paper's rule):
///   \f$ \max_i |y_i - y^{64}_i| \le k \cdot \max_i |y^{32}_i - y^{64}_i| + \mathrm{floor} \f$,
///   with \f$ y^{64} \f$ the reference in double, \f$ y^{32} \f$ the reference in the kernel's own
///   precision (the baseline: what an honest implementation at that precision gets wrong anyway),
///   k = 2 for forward outputs and 3 for gradients (a kernel may sum in another order, and backward
///   passes chain more roundings), floor = a few ulps of the output dtype at \f$ \max_i |y^{64}_i| \f$
///   (when the baseline happens to be exact, a different but equally good summation order must
///   still pass).
/// - **exact**: every element equal (token ids, data movement, resume, same-seed reruns).
/// - **ulps**: \f$ |y_i - g_i| \le n \cdot \mathrm{ulp}(\max_j |g_j|) \cdot \sqrt{K} \f$ — the reference in
///   float vs a golden float64 file, K the length of the longest sum behind one output
///   (rounding errors of a K-term sum grow like \f$ \sqrt{K} \f$ on average).
/// - **relative**: \f$ \max_i |y_i - g_i| \le \mathrm{tol} \cdot \max_j |g_j| \f$ — the reference in double
///   vs PyTorch float64, tol = 1e-10 (both are double; only summation order differs).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"

namespace llmlab::oracle {

/// How a result is judged; build one with the named constructors.
struct Rule {
  /// The rule: k times the baseline's error, exact equality, ulps × √K, or a relative bound.
  enum class Kind { ratio, exact, ulps, relative };
  Kind kind = Kind::exact;  ///< which rule
  double k = 0;            ///< ratio: allowed multiple of the baseline error
  double floor_ulps = 0;   ///< ratio: floor, in ulps of `dtype` at max|ref64|
  double ulps = 0;         ///< ulps: allowed ulps before the sqrt(K) factor
  std::int64_t K = 1;      ///< ulps: length of the longest sum behind one output
  double tol = 0;          ///< relative: allowed error relative to max|golden|
  DType dtype = DType::f32;///< the output's dtype (sets the ulp for floor and ulps)
  /// ratio and ulps: the magnitude the ulps are taken at; 0 means max|ref64| (ratio) or
  /// max|golden| (ulps). For a sum, pass \f$ \max_r \sum_c |x_{rc}| \f$: every summation order's
  /// rounding error scales with the terms, not with a result that cancellation made small (a row of
  /// ±1 summing to ~0).
  double magnitude = 0;

  /// Forward outputs: k = 2, floor 2 ulps of `out`.
  static Rule forward(DType out = DType::f32);
  /// Gradients: k = 3, floor 4 ulps of `out` (longer chains of rounding).
  static Rule gradient(DType out = DType::f32);
  /// Every element equal.
  static Rule exact();
  /// |got − golden| ≤ n · ulp(max|golden|) · √K, ulp of `d` (at another magnitude: at_magnitude).
  static Rule within_ulps(double n, std::int64_t K, DType d = DType::f32);
  /// max|got − golden| ≤ tol · max|golden| (default 1e-10: double vs PyTorch float64).
  static Rule relative(double tol = 1e-10);
  /// This rule with the floor's magnitude set to `m` (see `magnitude`).
  Rule at_magnitude(double m) const {
    Rule r = *this;
    r.magnitude = m;
    return r;
  }
  /// "ratio k=2 floor=2ulp(f32)" and the like.
  std::string describe() const;
};

/// What a comparison found. `pass` is the verdict; the rest is what a person needs to see why.
struct Report {
  std::string name;                ///< what was compared, e.g. "vector_add f32 n=97"
  Rule rule;                       ///< the rule applied
  bool pass = false;               ///< the verdict
  std::size_t count = 0;           ///< number of elements compared
  double max_abs_err = 0;          ///< max_i |got_i − want_i| (want = ref64 or golden)
  double max_rel_err = 0;          ///< max_i |got_i − want_i| / max(|want_i|, tiny)
  double baseline_err = 0;         ///< ratio rule: max_i |ref32_i − ref64_i|
  double budget = 0;               ///< the largest max_abs_err that passes
  double ratio = 0;                ///< max_abs_err / baseline_err (0 if both 0, inf if only baseline is 0)
  std::int64_t first_bad = -1;     ///< first index over budget (or unequal / NaN); −1 if none
  double got_at_bad = 0;           ///< got[first_bad]
  double want_at_bad = 0;          ///< want[first_bad]
  std::int64_t first_special = -1; ///< first index where got and want differ in a NaN or ±inf
  double got_at_special = 0;       ///< got[first_special]
  double want_at_special = 0;      ///< want[first_special]
  std::size_t specials = 0;        ///< how many elements are such mismatches
  std::vector<std::int64_t> shape; ///< optional: lets first_bad print as a multi-index
  std::string error;               ///< set when the comparison itself is impossible (sizes differ)

  /// One line: "PASS vector_add f32 n=97: max_abs 1.2e-07 baseline 6.0e-08 ratio 2.0 budget ...";
  /// when some got is NaN or infinite where want is not: "… n=97 got NaN at index 3 (want
  /// 6.518e-01; 1 such element) …" instead of an infinite max_abs.
  std::string summary() const;
  /// summary() plus, on failure, the first offending index (multi-index when shape is set) and its
  /// values, and max_rel_err.
  std::string detail() const;
};

/// The ratio rule: got vs ref64, with ref32 (the same computation in float, widened to double) as
/// the baseline. When `rule.dtype` is bf16 the kernel's output was rounded once to bf16 on its
/// final store, so the baseline is ref32 rounded to bf16 here — callers pass the float reference
/// as it is. All three spans have the same length.
Report compare_ratio(std::string name, std::span<const double> ref64, std::span<const double> ref32,
                     std::span<const double> got, Rule rule);

/// Exact equality of floating values (NaN never equals anything).
Report compare_exact(std::string name, std::span<const double> want, std::span<const double> got);

/// Exact equality of integers (token ids, indices).
Report compare_exact(std::string name, std::span<const std::int64_t> want,
                     std::span<const std::int64_t> got);

/// The ulps or relative rule: got (e.g. the reference in float) vs golden (PyTorch float64).
Report compare_golden(std::string name, std::span<const double> golden, std::span<const double> got,
                      Rule rule);

/// Widens floats to doubles (for the compare_* functions).
std::vector<double> widen(std::span<const float> x);
/// Widens bfloat16 bit patterns to doubles.
std::vector<double> widen_bf16(std::span<const std::uint16_t> x);

}  // namespace llmlab::oracle
