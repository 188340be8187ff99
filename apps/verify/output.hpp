#pragma once
/// \file
/// \brief How `llmlab verify` shows its verdicts: a table as results arrive, or one JSON document.

#include <iosfwd>
#include <memory>
#include <string>

#include "verify/registry.hpp"

namespace llmlab::app {

/// Receives every case result, then a final summary; counts passes and failures.
class Output {
 public:
  virtual ~Output() = default;
  /// Called once before the first result. @param library how the library is named
  virtual void begin(const std::string& library) = 0;
  /// Called as soon as a case is judged.
  virtual void add(const CaseResult& result) = 0;
  /// Called after the last result: prints `N passed, M failed` (or closes the JSON document).
  virtual void end() = 0;
  /// Number of failed cases so far.
  int failed() const { return failed_; }

 protected:
  int passed_ = 0;  ///< cases that passed so far
  int failed_ = 0;  ///< cases that failed so far
  int not_checked_ = 0;  ///< cases not run (--partial: a function the library does not export)
};

/// The table: component, shape, dtype, max error, budget, ratio, PASS/FAIL; a failing row is
/// followed by the oracle's explanation (first bad index, got and want).
std::unique_ptr<Output> table_output(std::ostream& out);

/// One JSON object: {"library", "results": [...], "passed", "failed", "not_checked"}; a row not
/// checked has `"pass": null` and `"not_checked"`: why.
std::unique_ptr<Output> json_output(std::ostream& out);

}  // namespace llmlab::app
