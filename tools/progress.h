// Progress reporting for long loops: a redrawn bar with rate and ETA on a terminal, plain
// occasional lines when the output is a file or a pipe.
#pragma once
#include <cstdint>
#include <string>

namespace duet::cli {

class Progress {
 public:
  explicit Progress(std::string label);
  // done of total units after `seconds`; redraws at most ~10 times a second.
  void update(int64_t done, int64_t total, double seconds, const std::string& unit = "samples");
  void finish();  // ends the bar's line on a terminal

 private:
  std::string label_;
  bool tty_;
  double last_draw_ = -1;
  bool drawn_ = false;
};

std::string format_duration(double seconds);

}  // namespace duet::cli
