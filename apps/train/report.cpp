/// \file
/// \ingroup group_gpt
/// \brief The training progress line and the loss curve (train/report.hpp).

#include "train/report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include "tokenize/files.hpp"

namespace llmlab::app {

TrainProgress::TrainProgress(std::int64_t first, std::int64_t total)
    : first_(first),
      total_(total),
      active_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

TrainProgress::~TrainProgress() { clear(); }

void TrainProgress::update(std::int64_t step, double loss, double tokens_per_s) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200) && step < total_) return;
  last_draw_ = now;
  constexpr int kWidth = 24;
  const double fraction = static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(total_, 1));
  const int filled = std::clamp(static_cast<int>(fraction * kWidth), 0, kWidth);
  const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                          std::string(static_cast<std::size_t>(kWidth - filled), '-');
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const auto done = static_cast<double>(step - first_);
  const double eta = done > 0 ? elapsed / done * static_cast<double>(total_ - step) : 0.0;
  const auto eta_s = static_cast<long long>(std::llround(eta));
  std::fprintf(stderr, "\r\033[Kstep %lld/%lld [%s] loss %.4f | %.1fk tok/s | ETA %lld:%02lld",
               static_cast<long long>(step), static_cast<long long>(total_), bar.c_str(), loss,
               tokens_per_s / 1e3, eta_s / 60, eta_s % 60);
  std::fflush(stderr);
  drawn_ = true;
}

void TrainProgress::clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

void write_loss_svg(const std::filesystem::path& path, const std::vector<nlohmann::json>& metrics) {
  constexpr double W = 720, H = 400, L = 64, R = 16, T = 36, B = 48;  // size and margins
  double x1 = 1, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& m : metrics) {
    x1 = std::max(x1, m.value("step", 0.0));
    for (const char* k : {"loss", "val_loss"})
      if (m.contains(k) && m[k].is_number()) {
        y0 = std::min(y0, m[k].get<double>());
        y1 = std::max(y1, m[k].get<double>());
      }
  }
  if (!(y0 < y1)) {  // no points, or all equal
    y0 = std::isfinite(y0) ? y0 - 1 : 0;
    y1 = y0 + 2;
  }
  const auto px = [&](double step) { return L + (W - L - R) * step / x1; };
  const auto py = [&](double loss) { return T + (H - T - B) * (y1 - loss) / (y1 - y0); };
  std::ostringstream s;
  s.precision(5);
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << L << "\" y=\"20\" font-size=\"14\">llmlab train: loss per step "
    << "(blue: training batch, orange: validation)</text>\n";
  for (int i = 0; i <= 4; ++i) {  // horizontal grid lines with the loss
    const double v = y0 + (y1 - y0) * i / 4;
    s << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << py(v) << "\" y2=\"" << py(v)
      << "\" stroke=\"#ddd\"/><text x=\"" << L - 6 << "\" y=\"" << py(v) + 4
      << "\" text-anchor=\"end\">" << std::round(v * 100) / 100 << "</text>\n";
  }
  for (int i = 0; i <= 4; ++i) {  // the steps
    const double v = std::round(x1 * i / 4);
    s << "<text x=\"" << px(v) << "\" y=\"" << H - B + 18 << "\" text-anchor=\"middle\">" << v
      << "</text>\n";
  }
  s << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 10
    << "\" text-anchor=\"middle\">step</text>\n"
    << "<text transform=\"translate(16 " << (T + H - B) / 2
    << ") rotate(-90)\" text-anchor=\"middle\">loss (nats per token)</text>\n";
  for (const auto& [key, colour] : {std::pair{"loss", "#1f77b4"}, std::pair{"val_loss", "#ff7f0e"}}) {
    s << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.5\" points=\"";
    for (const auto& m : metrics)
      if (m.contains(key) && m[key].is_number())
        s << px(m.value("step", 0.0)) << "," << py(m[key].get<double>()) << " ";
    s << "\"/>\n";
  }
  s << "</svg>\n";
  OutputFile f(path.string());
  f.stream() << s.str();
  f.commit();
}

}  // namespace llmlab::app
