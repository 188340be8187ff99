#pragma once
/// \file
/// \brief A progress bar on stderr for long `tokenize` runs — drawn only when stderr is a terminal,
/// so logs and pipes stay clean.

#include <chrono>
#include <cstddef>
#include <string>

namespace llmlab::app {

/// `label [##########----------]  48%  12.3 of 25.6 MB  1.9 MB/s`, redrawn in place at most ten
/// times a second, erased by finish() (or the destructor).
class ProgressBar {
 public:
  /// A bar for `total` bytes of work; inactive (draws nothing) unless stderr is a terminal and
  /// total ≥ `min_total` (short runs need no bar).
  ProgressBar(std::string label, std::size_t total, std::size_t min_total = 1 << 20);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// `done` of the total bytes are through.
  void update(std::size_t done);
  /// Erases the bar.
  void finish();
  /// Whether it draws at all.
  bool active() const { return active_; }

 private:
  std::string label_;
  std::size_t total_;
  bool active_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

/// Prints `message` as a status line on stderr when stderr is a terminal (e.g. "training …" while
/// a step without progress reports runs); erased by the next bar or status line.
void status_line(const std::string& message);

}  // namespace llmlab::app
