/// \file
/// \brief The stderr progress bar (terminal only).

#include "tokenize/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <utility>

namespace llmlab::app {
namespace {

constexpr int kWidth = 30;  // characters of the bar itself

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace

ProgressBar::ProgressBar(std::string label, std::size_t total, std::size_t min_total)
    : label_(std::move(label)),
      total_(total),
      active_(stderr_is_terminal() && total >= min_total),
      start_(std::chrono::steady_clock::now()),
      last_draw_() {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::size_t done) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
  last_draw_ = now;
  const double fraction =
      total_ == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total_);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '-');
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double mb = 1e-6 * static_cast<double>(done);
  std::fprintf(stderr, "\r\033[K%s [%s] %3d%%  %.1f of %.1f MB  %.1f MB/s", label_.c_str(),
               bar.c_str(), static_cast<int>(100 * fraction), mb,
               1e-6 * static_cast<double>(total_), seconds > 0 ? mb / seconds : 0.0);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!active_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  active_ = false;
}

void status_line(const std::string& message) {
  if (!stderr_is_terminal()) return;
  std::fprintf(stderr, "\r\033[K%s", message.c_str());
  std::fflush(stderr);
}

}  // namespace llmlab::app
