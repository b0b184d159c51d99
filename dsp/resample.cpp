#include "dsp/resample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine/error.h"

namespace duet::dsp {

std::vector<float> resample(const std::vector<float>& x, int from, int to) {
  DUET_CHECK(from > 0 && to > 0, "resample: rates must be positive, got ", from, " -> ", to);
  if (from == to || x.empty()) return x;
  const double cutoff = 0.99 * std::min(1.0, double(to) / from);
  const double width = 6.0 / cutoff;
  const int64_t n_out = int64_t(std::ceil(double(x.size()) * to / from));
  std::vector<float> y(n_out);
  const double pi = 3.14159265358979323846;
#pragma omp parallel for if (n_out > 4096)
  for (int64_t j = 0; j < n_out; ++j) {
    const double t = double(j) * from / to;
    const int64_t k0 = std::max<int64_t>(0, int64_t(std::ceil(t - width)));
    const int64_t k1 = std::min<int64_t>(int64_t(x.size()) - 1, int64_t(std::floor(t + width)));
    // Tap k: sinc(pi*cutoff*u) * Hann window (zero at |u| = width), u = t - k. Stepping k by
    // one steps both angles by a constant, so their sines and cosines follow by the
    // angle-addition formulas from one evaluation per output sample (13 taps each).
    const double step_a = pi * cutoff, step_w = pi / width;
    const double sin_da = std::sin(step_a), cos_da = std::cos(step_a);
    const double sin_dw = std::sin(step_w), cos_dw = std::cos(step_w);
    const double u0 = t - double(k0);
    double sin_a = std::sin(step_a * u0), cos_a = std::cos(step_a * u0);
    double sin_w = std::sin(step_w * u0), cos_w = std::cos(step_w * u0);
    double acc = 0;
    for (int64_t k = k0; k <= k1; ++k) {
      const double a = step_a * (t - double(k));
      const double sinc = std::abs(a) < 1e-12 ? 1.0 : sin_a / a;
      const double win = 0.5 * (1.0 + cos_w);
      acc += x[k] * cutoff * sinc * win;
      // angles minus one step: sin(x - d) = sin x cos d - cos x sin d, cos(x - d) = cos x cos d + sin x sin d
      const double sa = sin_a * cos_da - cos_a * sin_da, ca = cos_a * cos_da + sin_a * sin_da;
      const double sw = sin_w * cos_dw - cos_w * sin_dw, cw = cos_w * cos_dw + sin_w * sin_dw;
      sin_a = sa, cos_a = ca, sin_w = sw, cos_w = cw;
    }
    y[j] = float(acc);
  }
  return y;
}

std::vector<float> fix_length(const std::vector<float>& x, int64_t n) {
  DUET_CHECK(n > 0, "fix_length: length must be positive, got ", n);
  std::vector<float> y(x.begin(), x.begin() + std::min<int64_t>(n, int64_t(x.size())));
  y.resize(n, 0.0f);
  return y;
}

}  // namespace duet::dsp
