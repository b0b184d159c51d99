#include "dsp/filter.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/error.h"

namespace duet::dsp {

namespace {

// One biquad section in transposed direct form II, run in place over x (forward, or from the
// last sample to the first), starting from rest.
struct Biquad {
  double b0, b1, b2, a1, a2;  // a0 normalised to 1
  void run(std::vector<double>& x, bool backward) const {
    double s1 = 0, s2 = 0;
    const size_t n = x.size();
    for (size_t k = 0; k < n; ++k) {
      double& v = x[backward ? n - 1 - k : k];
      const double y = b0 * v + s1;
      s1 = b1 * v - a1 * y + s2;
      s2 = b2 * v - a2 * y;
      v = y;
    }
  }
};

// The second-order Butterworth high-pass at fc by the bilinear transform (the audio-EQ
// cookbook's HPF with Q = 1/sqrt(2)).
Biquad butterworth_highpass(double fc, int rate) {
  const double w0 = 2 * std::numbers::pi * fc / rate, cosw = std::cos(w0);
  const double alpha = std::sin(w0) / (2 * (1 / std::numbers::sqrt2));
  const double a0 = 1 + alpha;
  return {(1 + cosw) / 2 / a0, -(1 + cosw) / a0, (1 + cosw) / 2 / a0, -2 * cosw / a0, (1 - alpha) / a0};
}

}  // namespace

std::vector<float> highpass(const std::vector<float>& x, int rate, double cutoff_hz) {
  DUET_CHECK(rate > 0, "highpass: sample rate must be positive, got ", rate);
  DUET_CHECK(cutoff_hz > 0 && cutoff_hz <= rate / 4.0, "highpass: cut-off ", cutoff_hz, " Hz is outside (0, ",
             rate / 4.0, "] for ", rate, " Hz audio");
  const size_t n = x.size();
  if (n == 0) return {};
  // Removing the mean first leaves the filter no DC step to ring on.
  double mean = 0;
  for (float v : x) mean += v;
  mean /= double(n);
  // Each end is extended by its point reflection (2 x[0] - x[k]: the same value and slope), two
  // periods of the cut-off long, so that the filter's start-up transient dies away there
  // (seven time constants) rather than in the clip.
  const size_t pad = std::min(n - 1, size_t(std::ceil(2.0 * rate / cutoff_hz)));
  std::vector<double> y(n + 2 * pad);
  for (size_t k = 0; k < n; ++k) y[pad + k] = x[k] - mean;
  const double first = y[pad], last = y[pad + n - 1];
  for (size_t k = 1; k <= pad; ++k) {
    y[pad - k] = 2 * first - y[pad + k];
    y[pad + n - 1 + k] = 2 * last - y[pad + n - 1 - k];
  }
  const Biquad f = butterworth_highpass(cutoff_hz, rate);
  f.run(y, false);
  f.run(y, true);
  return std::vector<float>(y.begin() + pad, y.begin() + pad + n);
}

}  // namespace duet::dsp
