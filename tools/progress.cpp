#include "tools/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace duet::cli {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  char buf[32];
  const long t = long(s + 0.5);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

Progress::Progress(std::string label) : label_(std::move(label)), tty_(isatty(fileno(stdout))) {}

void Progress::update(int64_t done, int64_t total, double seconds, const std::string& unit) {
  if (!tty_) return;  // files get the per-epoch summary lines only
  if (done < total && seconds - last_draw_ < 0.1) return;
  last_draw_ = seconds;
  const int width = 28;
  const double frac = total > 0 ? double(done) / double(total) : 1.0;
  const int filled = int(frac * width);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  const double rate = seconds > 0 ? done / seconds : 0;
  const double eta = rate > 0 ? (total - done) / rate : NAN;
  std::printf("\r%s [%s] %lld/%lld  %.0f %s/s  ETA %s ", label_.c_str(), bar.c_str(), (long long)done,
              (long long)total, rate, unit.c_str(), format_duration(eta).c_str());
  std::fflush(stdout);
  drawn_ = true;
}

void Progress::finish() {
  if (tty_ && drawn_) std::printf("\r\033[K");
  std::fflush(stdout);
  drawn_ = false;
}

}  // namespace duet::cli
