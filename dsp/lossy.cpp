#include "dsp/lossy.h"

#include <algorithm>
#include <cmath>

#include "dsp/fft.h"
#include "engine/error.h"

namespace duet::dsp {

namespace {

std::vector<double> sine_window(int m) {
  std::vector<double> w(size_t(2 * m));
  for (int n = 0; n < 2 * m; ++n) w[size_t(n)] = std::sin(M_PI * (n + 0.5) / (2.0 * m));
  return w;
}

void check_hop(int m) {
  DUET_CHECK(m >= 2 && m <= 8192 && m % 2 == 0, "mdct: the hop (coefficients a frame) must be even, 2-8192, got ", m);
}

}  // namespace

std::vector<std::vector<float>> mdct(const std::vector<float>& x, int m) {
  check_hop(m);
  const std::vector<double> w = sine_window(m);
  const size_t frames = (x.size() + size_t(m) - 1) / size_t(m) + 1;
  std::vector<std::vector<float>> out(frames, std::vector<float>(size_t(m)));
  std::vector<double> z(size_t(2 * m)), c(static_cast<size_t>(m));
  for (size_t j = 0; j < frames; ++j) {
    const int64_t start = (int64_t(j) - 1) * m;  // the first frame starts m samples before x
    for (int n = 0; n < 2 * m; ++n) {
      const int64_t s = start + n;
      z[size_t(n)] = s >= 0 && s < int64_t(x.size()) ? w[size_t(n)] * x[size_t(s)] : 0.0;
    }
    mdct_frame(z.data(), m, c.data());
    for (int k = 0; k < m; ++k) out[j][size_t(k)] = float(c[size_t(k)]);
  }
  return out;
}

std::vector<float> imdct(const std::vector<std::vector<float>>& coefficients, int m, size_t size) {
  check_hop(m);
  const std::vector<double> w = sine_window(m);
  std::vector<double> y(coefficients.size() * size_t(m) + size_t(m));  // y[i] is sample i - m
  std::vector<double> c(static_cast<size_t>(m)), frame(size_t(2 * m));
  for (size_t j = 0; j < coefficients.size(); ++j) {
    DUET_CHECK(coefficients[j].size() == size_t(m), "imdct: frame ", j, " holds ", coefficients[j].size(),
               " coefficients, expected ", m);
    std::copy(coefficients[j].begin(), coefficients[j].end(), c.begin());
    imdct_frame(c.data(), m, frame.data());
    // With the sine window (w[n]^2 + w[n + m]^2 = 1) the overlap-add of 2 w imdct_frame
    // cancels the aliasing of neighbouring frames and gives the samples back.
    for (int n = 0; n < 2 * m; ++n) y[j * size_t(m) + size_t(n)] += 2 * w[size_t(n)] * frame[size_t(n)];
  }
  std::vector<float> out(size);
  for (size_t i = 0; i < size && i + size_t(m) < y.size(); ++i) out[i] = float(y[i + size_t(m)]);
  return out;
}

std::vector<float> lossy_coded(const std::vector<float>& x, int rate, double cutoff_hz, double snr_db, int hop) {
  DUET_CHECK(rate >= 8000 && rate <= 48000, "lossy_coded: the rate must be 8000-48000 Hz, got ", rate);
  DUET_CHECK(cutoff_hz > 0 && cutoff_hz <= rate / 2.0, "lossy_coded: the cut-off must lie in (0, ", rate / 2.0,
             "] Hz, got ", cutoff_hz);
  DUET_CHECK(snr_db >= -10 && snr_db <= 60, "lossy_coded: the bands' signal-to-noise ratio must be -10 to 60 dB, got ",
             snr_db);
  check_hop(hop);
  if (x.empty()) return x;
  const int m = hop;
  std::vector<std::vector<float>> c = mdct(x, m);
  const double hz_per_bin = rate / (2.0 * m);
  // Band edges in coefficients: 125 Hz wide to 1 kHz, 250 Hz to 2 kHz, 500 Hz to 4 kHz, then 1 kHz.
  std::vector<int> edges{0};
  for (double hz = 0; edges.back() < m;) {
    hz += hz < 1000 ? 125 : hz < 2000 ? 250 : hz < 4000 ? 500 : 1000;
    edges.push_back(std::min(m, std::max(edges.back() + 1, int(std::lround(hz / hz_per_bin)))));
  }
  const int kept = std::clamp(int(std::floor(cutoff_hz / hz_per_bin)), 0, m);  // coefficients below the cut-off
  const double noise_to_signal = std::sqrt(12.0) * std::pow(10.0, -snr_db / 20.0);
  for (std::vector<float>& frame : c) {
    std::fill(frame.begin() + kept, frame.end(), 0.0f);
    for (size_t b = 0; b + 1 < edges.size(); ++b) {
      const int lo = edges[b], hi = std::min(edges[b + 1], kept);
      if (lo >= hi) break;
      double energy = 0;
      for (int k = lo; k < hi; ++k) energy += double(frame[size_t(k)]) * frame[size_t(k)];
      const double step = std::sqrt(energy / (hi - lo)) * noise_to_signal;
      for (int k = lo; k < hi; ++k)
        frame[size_t(k)] = step > 0 ? float(step * std::nearbyint(frame[size_t(k)] / step)) : 0.0f;
    }
  }
  return imdct(c, m, x.size());
}

}  // namespace duet::dsp
