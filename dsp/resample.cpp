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
    double acc = 0;
    for (int64_t k = k0; k <= k1; ++k) {
      const double u = t - double(k);
      const double a = pi * cutoff * u;
      const double sinc = std::abs(a) < 1e-12 ? 1.0 : std::sin(a) / a;
      const double win = 0.5 * (1.0 + std::cos(pi * u / width));  // Hann, zero at |u| = width
      acc += x[k] * cutoff * sinc * win;
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
