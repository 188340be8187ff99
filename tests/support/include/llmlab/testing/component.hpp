#pragma once
/// \file
/// \ingroup group_oracle
/// \brief The component kit: what every component's one description (`<component>_case.hpp`)
/// gives its checkers — the tests, the chapter checks, `llmlab verify`, the benchmarks and the
/// Python tests.
///
/// A component's description holds, in one header:
/// - its **sweep**: a list of shapes, each with the value scale of its inputs (`<C>Shape`, with a
///   `label()`), awkward sizes and value edge cases alike;
/// - a **seeded case** for one shape and dtype (`make_<c>_case`): host inputs as floats, already
///   rounded to bf16 for a bf16 run, so every checker hands the kernel the same values;
/// - the **reference run** on a case in double or float (`<c>_reference<T>`);
/// - the **named outputs** with their oracle rules (`<c>_expected(case)` → `Expected`s);
/// - its **card** (`<c>_card()`): the one-line summary, its Python names, and its outputs' rules
///   in words, from which `llmlab verify --describe` writes the component's documentation page.
///
/// Checkers run their kernels their own way (a launcher, a student's lab, a C symbol found with
/// dlsym), collect what came out as `Outputs`, and let `judge` (or, in GoogleTest,
/// `expect_all_agree` from agree.hpp) compare each named output under its rule. Pure host code.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/oracle/oracle.hpp"

namespace llmlab::testing {

/// One output a kernel writes: what the reference says it should be and how it is judged.
struct Expected {
  std::string name;           ///< its name in the C ABI and in Python: "y", "dx", "mean", …
  oracle::Rule rule;          ///< forward or gradient rule; rule.dtype is the dtype written
  std::vector<double> ref64;  ///< the reference in double
  std::vector<double> ref32;  ///< the reference in float (compare_ratio rounds it for bf16 rules)
};

/// What a kernel produced: each output by name, widened to double in the reference's order.
using Outputs = std::map<std::string, std::vector<double>>;

/// The exact rule in dtype `d`: the output must equal the float reference element for element —
/// itself for fp32, rounded once to bf16 for bf16 (data movement, and at most one fp32 addition,
/// before a single rounding on the final store). Judged by `judge` with compare_exact.
inline oracle::Rule exact_rule(DType d) {
  oracle::Rule r = oracle::Rule::exact();
  r.dtype = d;
  return r;
}

/// Judges every expected output that `got` holds, under its rule; an expected output missing from
/// `got` gives a failing report that says so. Report names are "<prefix> <output>". An exact rule
/// (`exact_rule`) compares `got` with ref32 — rounded once to bf16 when the rule's dtype is bf16 —
/// through compare_exact; every other rule goes to compare_ratio.
/// @param prefix e.g. "gelu f32 (97) x~U(±5)"   @param expected from `<c>_expected`
/// @param got the kernel's outputs by name
inline std::vector<oracle::Report> judge(const std::string& prefix,
                                         const std::vector<Expected>& expected,
                                         const Outputs& got) {
  std::vector<oracle::Report> reports;
  for (const Expected& e : expected) {
    const auto it = got.find(e.name);
    if (it == got.end()) {
      oracle::Report r;
      r.name = prefix + " " + e.name;
      r.rule = e.rule;
      r.error = "the kernel's output `" + e.name + "` was not collected";
      reports.push_back(r);
      continue;
    }
    if (e.rule.kind == oracle::Rule::Kind::exact) {
      std::vector<double> want = e.ref32;
      if (e.rule.dtype == DType::bf16)
        for (double& v : want) v = round_to_bf16(static_cast<float>(v));
      oracle::Report r = oracle::compare_exact(prefix + " " + e.name, want, it->second);
      r.rule = e.rule;
      reports.push_back(r);
      continue;
    }
    reports.push_back(oracle::compare_ratio(prefix + " " + e.name, e.ref64, e.ref32, it->second,
                                            e.rule));
  }
  return reports;
}

/// The expected outputs among `all` whose names are listed in `names` (e.g. the forward's alone).
inline std::vector<Expected> only(const std::vector<Expected>& all,
                                  std::initializer_list<const char*> names) {
  std::vector<Expected> out;
  for (const Expected& e : all)
    for (const char* n : names)
      if (e.name == n) out.push_back(e);
  return out;
}

/// One output, in words, for the component's page (its rule comes from `<c>_expected` itself).
struct OutputCard {
  std::string name;  ///< "y", "dx", …
  std::string what;  ///< what it is, its shape and dtype, overwritten or accumulated (+=)
};

/// What a component's page says beyond its C symbols: its summary, Python names, outputs and the
/// reason for its sweep's value scales. Filled by `<c>_card()` in the component's description.
struct ComponentCard {
  std::string name;                 ///< the component's name everywhere in the tree
  std::string summary;              ///< one line, the math in plain text
  std::vector<std::string> python;  ///< "llmlab.ref.gelu_forward(x) -> y", …
  std::vector<OutputCard> outputs;  ///< every output the checks judge, in words
  std::string sweep_note;           ///< why the sweep's shapes and value scales are what they are
  std::string chapter;              ///< the chapter page that teaches it, e.g. "ch03" ("" if none)
};

}  // namespace llmlab::testing
