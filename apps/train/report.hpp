#pragma once
/// \file
/// \ingroup group_gpt
/// \brief What `llmlab train` shows while it runs: a progress line on a terminal, and the loss
/// curve as an SVG image.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

namespace llmlab::app {

/// `step 120/600 [######--------] loss 3.2104 | 15.2k tok/s | ETA 1:05`, redrawn in place on
/// stderr at most five times a second — only when stderr is a terminal (active()); otherwise
/// `llmlab train` prints plain lines every `--log-every` steps instead.
class TrainProgress {
 public:
  /// A line for steps `first` + 1 … `total`.
  TrainProgress(std::int64_t first, std::int64_t total);
  ~TrainProgress();
  TrainProgress(const TrainProgress&) = delete;
  TrainProgress& operator=(const TrainProgress&) = delete;
  /// Step `step` is done with this loss, at `tokens_per_s`.
  void update(std::int64_t step, double loss, double tokens_per_s);
  /// Erases the line (before other output, and at the end).
  void clear();
  /// Whether it draws at all (stderr is a terminal).
  bool active() const { return active_; }

 private:
  std::int64_t first_, total_;
  bool active_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_{};
};

/// Writes `path` (atomically): the training loss of every metrics line and the validation loss
/// where evaluated, against the step, as two polylines on labelled axes (an SVG 1.1 image any
/// browser opens).
/// @throws TokenizeError when the file cannot be written
void write_loss_svg(const std::filesystem::path& path, const std::vector<nlohmann::json>& metrics);

}  // namespace llmlab::app
