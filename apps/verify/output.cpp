/// \file
/// \brief The table and JSON outputs of `llmlab verify`.

#include "verify/output.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

namespace llmlab::app {
namespace {

/// printf into a std::string.
template <class... A>
std::string format(const char* fmt, A... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

/// The max error column: "1.2e-07"; "NaN" or "inf" where the kernel wrote one and the reference
/// has a number, "finite" for the reverse; "-" (no comparison).
std::string error_text(const oracle::Report& r) {
  if (!r.error.empty()) return "-";
  if (r.first_special >= 0)
    return std::isnan(r.got_at_special) ? "NaN" : std::isinf(r.got_at_special) ? "inf" : "finite";
  return format("%.3e", r.max_abs_err);
}

/// The ratio column: "0.50", "inf" (an error where the baseline is exact), "-" (no comparison,
/// or a NaN or infinity: no ratio describes it).
std::string ratio_text(const oracle::Report& r) {
  if (!r.error.empty() || r.first_special >= 0) return "-";
  if (std::isinf(r.ratio)) return "inf";
  return format(r.ratio < 1000 ? "%.2f" : "%.2e", r.ratio);
}

class Table final : public Output {
 public:
  explicit Table(std::ostream& out) : out_(out) {}

  void begin(const std::string& library) override {
    out_ << "llmlab verify: " << library << "\n"
         << format("%-16s %-28s %-5s %-11s %-11s %-9s %s\n", "component", "shape", "dtype",
                   "max error", "budget", "ratio", "result");
    out_.flush();
  }

  void add(const CaseResult& c) override {
    const oracle::Report& r = c.report;
    if (!c.not_checked.empty()) {
      ++not_checked_;
      out_ << format("%-16s %-28s %-5s %-11s %-11s %-9s %s\n", c.component.c_str(),
                     c.shape.c_str(), c.dtype.c_str(), "-", "-", "-", "NOT CHECKED")
           << "    " << c.not_checked << "\n";
      out_.flush();
      return;
    }
    (r.pass ? passed_ : failed_)++;
    const std::string err = error_text(r);
    const std::string budget = r.error.empty() ? format("%.3e", r.budget) : "-";
    out_ << format("%-16s %-28s %-5s %-11s %-11s %-9s %s\n", c.component.c_str(), c.shape.c_str(),
                   c.dtype.c_str(), err.c_str(), budget.c_str(), ratio_text(r).c_str(),
                   r.pass ? "PASS" : "FAIL");
    if (!r.pass) {  // the oracle's explanation, indented under the row
      std::string detail = r.detail();
      for (std::size_t at = 0; (at = detail.find('\n', at)) != std::string::npos; at += 5)
        detail.replace(at, 1, "\n    ");
      out_ << "    " << detail << "\n";
    }
    out_.flush();  // a slow emulated sweep shows its progress
  }

  void end() override {
    out_ << passed_ << " passed, " << failed_ << " failed";
    if (not_checked_ > 0) out_ << ", " << not_checked_ << " not checked (--partial)";
    out_ << "\n";
  }

 private:
  std::ostream& out_;
};

class Json final : public Output {
 public:
  explicit Json(std::ostream& out) : out_(out) {}

  void begin(const std::string& library) override { doc_["library"] = library; }

  void add(const CaseResult& c) override {
    const oracle::Report& r = c.report;
    if (!c.not_checked.empty()) {
      ++not_checked_;
      results_.push_back({{"component", c.component},
                          {"shape", c.shape},
                          {"dtype", c.dtype},
                          {"pass", nullptr},
                          {"not_checked", c.not_checked}});
      return;
    }
    (r.pass ? passed_ : failed_)++;
    nlohmann::ordered_json j = {{"component", c.component},
                                {"shape", c.shape},
                                {"dtype", c.dtype},
                                {"pass", r.pass},
                                {"rule", r.rule.describe()}};
    if (!r.error.empty()) {
      j["error"] = r.error;
    } else {
      // nlohmann writes a non-finite number as null (an infinite ratio: the baseline was exact).
      j["max_abs_err"] = r.max_abs_err;
      j["baseline_err"] = r.baseline_err;
      j["budget"] = r.budget;
      j["ratio"] = r.ratio;
      j["first_bad"] = r.first_bad;
    }
    j["detail"] = r.detail();
    results_.push_back(std::move(j));
  }

  void end() override {
    doc_["results"] = results_;
    doc_["passed"] = passed_;
    doc_["failed"] = failed_;
    doc_["not_checked"] = not_checked_;
    out_ << doc_.dump(2) << "\n";
  }

 private:
  std::ostream& out_;
  nlohmann::ordered_json doc_ = nlohmann::ordered_json::object();
  nlohmann::ordered_json results_ = nlohmann::ordered_json::array();
};

}  // namespace

std::unique_ptr<Output> table_output(std::ostream& out) { return std::make_unique<Table>(out); }
std::unique_ptr<Output> json_output(std::ostream& out) { return std::make_unique<Json>(out); }

}  // namespace llmlab::app
