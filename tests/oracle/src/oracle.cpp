/// \file
/// \brief The oracle's rules (ratio, exact, ulps, relative) and the reports that explain a verdict.
///
/// Every comparison is one pass over the elements: it keeps the largest absolute and relative error
/// and the first index that breaks the rule, so a failing test can point at one element.

#include "llmlab/oracle/oracle.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <utility>

#include "llmlab/core/error.hpp"

namespace llmlab::oracle {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// The denominator floor of max_rel_err: \f$ |y_i - w_i| / \max(|w_i|, \mathrm{tiny}) \f$ with tiny
/// the smallest normal double, so a zero `want` still gives a finite (if huge) relative error.
constexpr double kTiny = DBL_MIN;

/// The spacing of dtype `d` at magnitude m, \f$ \varepsilon_d \, 2^{\lfloor \log_2 m \rfloor} \f$;
/// the spacing at the smallest normal number when m is 0 or subnormal (bf16 shares float's
/// exponent range, so its smallest normal is \f$ 2^{-126} \f$ too).
/// @param d the dtype  @param m a finite magnitude ≥ 0
double ulp(DType d, double m) {
  const double eps = dtype_epsilon(d);
  const double min_normal = d == DType::f64 ? DBL_MIN : static_cast<double>(FLT_MIN);
  if (!(m >= min_normal)) return eps * min_normal;
  int e = 0;
  std::frexp(m, &e);  // m = f · 2^e with f in [0.5, 1), so floor(log2 m) = e − 1
  return eps * std::ldexp(1.0, e - 1);
}

/// \f$ \max_i |x_i| \f$ over the finite elements (0 if none): the magnitude that ulps refer to.
double max_abs_finite(std::span<const double> x) {
  double m = 0;
  for (const double v : x)
    if (std::isfinite(v)) m = std::max(m, std::fabs(v));
  return m;
}

/// Whether `got` and `want` disagree in a way no tolerance can excuse: NaN against a number, an
/// infinity against anything but the same infinity, a number against NaN or an infinity.
bool special_mismatch(double want, double got) {
  if (std::isnan(want)) return !std::isnan(got);
  if (std::isinf(want)) return got != want;
  return !std::isfinite(got);
}

/// |got − want| for the error statistics: 0 for matching NaNs or equal infinities, +inf for a
/// mismatch of specials.
double abs_err(double want, double got) {
  if (special_mismatch(want, got)) return kInf;
  if (!std::isfinite(want)) return 0;
  return std::fabs(got - want);
}

/// A report of the comparison `name` under `rule`, before anything is compared.
Report report_for(std::string name, Rule rule) {
  Report r;
  r.name = std::move(name);
  r.rule = rule;
  return r;
}

/// Whether the spans being compared have one length: otherwise r.error says so ("sizes differ:
/// want has 3 elements but got has 2") and the caller returns r as it is.
bool same_size(Report& r, std::size_t n_want, const char* want_name, std::size_t n_got,
               const char* got_name) {
  if (n_got == n_want) return true;
  std::ostringstream s;
  s << "sizes differ: " << want_name << " has " << n_want << " elements but " << got_name << " has "
    << n_got;
  r.error = s.str();
  return false;
}

/// Fills max_abs_err, max_rel_err, first_bad (and the values there) of `r`. An element is bad
/// when it is a special mismatch or its error exceeds r.budget; with `exact`, when got != want
/// (so NaN is always bad).
void scan(Report& r, std::span<const double> want, std::span<const double> got, bool exact) {
  r.count = want.size();
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double err = abs_err(want[i], got[i]);
    r.max_abs_err = std::max(r.max_abs_err, err);
    r.max_rel_err = std::max(r.max_rel_err, err / std::max(std::fabs(want[i]), kTiny));
    if (special_mismatch(want[i], got[i])) {
      if (r.specials++ == 0) {
        r.first_special = static_cast<std::int64_t>(i);
        r.got_at_special = got[i];
        r.want_at_special = want[i];
      }
    }
    const bool bad =
        exact ? !(got[i] == want[i]) : (special_mismatch(want[i], got[i]) || err > r.budget);
    if (bad && r.first_bad < 0) {
      r.first_bad = static_cast<std::int64_t>(i);
      r.got_at_bad = got[i];
      r.want_at_bad = want[i];
    }
  }
  r.pass = r.first_bad < 0;
}

/// printf("%.3e") into a std::string.
std::string sci(double x, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*e", digits, x);
  return buf;
}

/// "NaN", "inf", "-inf", or the number (sci) for a finite one.
std::string special_name(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return sci(x);
}

/// Formats `k` and the like compactly: 2, 0.5, 1e-10.
std::string num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

/// "[1, 3, 0]" for a flat index into a row-major `shape`, or "" when shape does not cover `count`.
std::string multi_index(std::int64_t flat, std::span<const std::int64_t> shape, std::size_t count) {
  if (shape.empty()) return "";
  std::int64_t total = 1;
  for (const std::int64_t d : shape) total *= d;
  if (total != static_cast<std::int64_t>(count)) return "";
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t a = shape.size(); a-- > 0;) {
    idx[a] = flat % shape[a];
    flat /= shape[a];
  }
  std::ostringstream s;
  s << '[';
  for (std::size_t a = 0; a < idx.size(); ++a) s << (a ? ", " : "") << idx[a];
  s << ']';
  return s.str();
}

}  // namespace

// ---- Rule ---------------------------------------------------------------------------------------

Rule Rule::forward(DType out) {
  Rule r;
  r.kind = Kind::ratio;
  r.k = 2;           // another summation order may cost up to about twice the baseline rounding
  r.floor_ulps = 2;  // when the baseline is exact, a different order may still round twice
  r.dtype = out;
  return r;
}

Rule Rule::gradient(DType out) {
  Rule r;
  r.kind = Kind::ratio;
  r.k = 3;  // backward passes chain more roundings than the forward they mirror
  r.floor_ulps = 4;
  r.dtype = out;
  return r;
}

Rule Rule::exact() {
  Rule r;
  r.kind = Kind::exact;
  return r;
}

Rule Rule::within_ulps(double n, std::int64_t K, DType d) {
  require(n >= 0, "Rule::within_ulps", "n must be >= 0, got " + num(n));
  require(K >= 1, "Rule::within_ulps", "K must be >= 1, got " + std::to_string(K));
  Rule r;
  r.kind = Kind::ulps;
  r.ulps = n;
  r.K = K;
  r.dtype = d;
  return r;
}

Rule Rule::relative(double tol) {
  require(tol >= 0, "Rule::relative", "tol must be >= 0, got " + num(tol));
  Rule r;
  r.kind = Kind::relative;
  r.tol = tol;
  return r;
}

std::string Rule::describe() const {
  const std::string d(dtype_name(dtype));
  switch (kind) {
    case Kind::ratio:
      return "ratio k=" + num(k) + " + " + num(floor_ulps) + " ulp(" + d + ")" +
             (magnitude > 0 ? " at " + num(magnitude) : "");
    case Kind::exact:
      return "exact";
    case Kind::ulps:
      return "ulps " + num(ulps) + " ulp(" + d + ") * sqrt(K=" + std::to_string(K) + ")" +
             (magnitude > 0 ? " at " + num(magnitude) : "");
    case Kind::relative:
      return "relative tol=" + num(tol);
  }
  return "?";
}

// ---- Report -------------------------------------------------------------------------------------

std::string Report::summary() const {
  std::ostringstream s;
  s << (pass ? "PASS " : "FAIL ") << name << " [" << rule.describe() << "]";
  if (!error.empty()) {
    s << ": " << error;
    return s.str();
  }
  s << ": n=" << count;
  if (first_special >= 0)  // "got NaN at index 3", not an infinite max_abs
    s << " got " << special_name(got_at_special) << " at index " << first_special << " (want "
      << special_name(want_at_special) << "; " << specials << " such element" << (specials == 1 ? "" : "s")
      << ")";
  else
    s << " max_abs " << sci(max_abs_err) << " max_rel " << sci(max_rel_err);
  if (rule.kind == Rule::Kind::ratio)
    s << " baseline " << sci(baseline_err) << " budget " << sci(budget)
      << (first_special >= 0 ? "" : " ratio " + sci(ratio));
  else if (rule.kind != Rule::Kind::exact)
    s << " budget " << sci(budget);
  return s.str();
}

std::string Report::detail() const {
  std::string out = summary();
  if (pass || !error.empty() || first_bad < 0) return out;
  // Print the two values with as few digits as still tells them apart (3 first, up to 17).
  int digits = 3;
  if (std::isfinite(got_at_bad) && std::isfinite(want_at_bad))
    while (digits < 17 && sci(got_at_bad, digits) == sci(want_at_bad, digits)) ++digits;
  const std::string mi = multi_index(first_bad, shape, count);
  std::ostringstream s;
  s << "\n  first bad index ";
  if (!mi.empty())
    s << mi << " (flat " << first_bad << ")";
  else
    s << first_bad;
  s << ": got " << sci(got_at_bad, digits) << " want " << sci(want_at_bad, digits);
  if (rule.kind == Rule::Kind::exact)
    s << " (not equal)";
  else if (!std::isfinite(want_at_bad))
    s << " (the reference has " << special_name(want_at_bad) << " here)";
  else if (!std::isfinite(got_at_bad))
    s << " (" << special_name(got_at_bad) << " where the reference has a number)";
  else
    s << " |diff| " << sci(abs_err(want_at_bad, got_at_bad)) << " > budget " << sci(budget);
  return out + s.str();
}

// ---- comparisons --------------------------------------------------------------------------------

Report compare_ratio(std::string name, std::span<const double> ref64, std::span<const double> ref32,
                     std::span<const double> got, Rule rule) {
  require(rule.kind == Rule::Kind::ratio, "compare_ratio",
          "needs a ratio rule (Rule::forward or Rule::gradient), got " + rule.describe());
  Report r = report_for(std::move(name), rule);
  if (!same_size(r, ref64.size(), "ref64", ref32.size(), "ref32") ||
      !same_size(r, ref64.size(), "ref64", got.size(), "got"))
    return r;
  // The baseline: what the reference itself loses at the kernel's precision. A bf16 output is
  // rounded once more on its final store, so its honest baseline is the float reference rounded to
  // bf16 (rounding a value that already is bf16 changes nothing).
  for (std::size_t i = 0; i < ref64.size(); ++i) {
    const double base = rule.dtype == DType::bf16
                            ? static_cast<double>(round_to_bf16(static_cast<float>(ref32[i])))
                            : ref32[i];
    if (special_mismatch(ref64[i], base)) {
      r.error = "ref32 is " + sci(base) + " where ref64 is " + sci(ref64[i]) + " at index " +
                std::to_string(i) + ": the baseline itself is broken";
      return r;
    }
    r.baseline_err = std::max(r.baseline_err, abs_err(ref64[i], base));
  }
  const double scale = rule.magnitude > 0 ? rule.magnitude : max_abs_finite(ref64);
  const double floor = rule.floor_ulps * ulp(rule.dtype, scale);
  r.budget = rule.k * r.baseline_err + floor;
  scan(r, ref64, got, /*exact=*/false);
  if (r.baseline_err > 0)
    r.ratio = r.max_abs_err / r.baseline_err;
  else
    r.ratio = r.max_abs_err > 0 ? kInf : 0;
  return r;
}

Report compare_exact(std::string name, std::span<const double> want, std::span<const double> got) {
  Report r = report_for(std::move(name), Rule::exact());
  if (!same_size(r, want.size(), "want", got.size(), "got")) return r;
  scan(r, want, got, /*exact=*/true);
  return r;
}

Report compare_exact(std::string name, std::span<const std::int64_t> want,
                     std::span<const std::int64_t> got) {
  Report r = report_for(std::move(name), Rule::exact());
  if (!same_size(r, want.size(), "want", got.size(), "got")) return r;
  r.count = want.size();
  for (std::size_t i = 0; i < want.size(); ++i) {
    // Errors in double: exact below 2^53, which covers every token id and index we compare.
    const double w = static_cast<double>(want[i]);
    const double err = std::fabs(static_cast<double>(got[i]) - w);
    r.max_abs_err = std::max(r.max_abs_err, err);
    r.max_rel_err = std::max(r.max_rel_err, err / std::max(std::fabs(w), 1.0));
    if (got[i] != want[i] && r.first_bad < 0) {
      r.first_bad = static_cast<std::int64_t>(i);
      r.got_at_bad = static_cast<double>(got[i]);
      r.want_at_bad = w;
    }
  }
  r.pass = r.first_bad < 0;
  return r;
}

Report compare_golden(std::string name, std::span<const double> golden, std::span<const double> got,
                      Rule rule) {
  require(rule.kind == Rule::Kind::ulps || rule.kind == Rule::Kind::relative, "compare_golden",
          "needs an ulps or relative rule, got " + rule.describe());
  Report r = report_for(std::move(name), rule);
  if (!same_size(r, golden.size(), "golden", got.size(), "got")) return r;
  const double g = max_abs_finite(golden);
  if (rule.kind == Rule::Kind::ulps)
    r.budget = rule.ulps * ulp(rule.dtype, rule.magnitude > 0 ? rule.magnitude : g) *
               std::sqrt(static_cast<double>(rule.K));
  else
    r.budget = rule.tol * g;
  scan(r, golden, got, /*exact=*/false);
  return r;
}

std::vector<double> widen(std::span<const float> x) { return {x.begin(), x.end()}; }

std::vector<double> widen_bf16(std::span<const std::uint16_t> x) {
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = bf16_bits_to_float(x[i]);
  return out;
}

}  // namespace llmlab::oracle
