#include "dsp/room.h"

#include <cmath>
#include <memory>

#include "dsp/fft.h"
#include "engine/error.h"

namespace duet::dsp {

std::vector<float> room_response(double rt60, double drr_db, int rate, Rng& rng) {
  DUET_CHECK(std::isfinite(rt60) && rt60 > 0 && rt60 <= 5, "room_response: rt60 in (0, 5] s, got ", rt60);
  DUET_CHECK(std::isfinite(drr_db) && drr_db >= -30 && drr_db <= 40,
             "room_response: direct-to-reverberant ratio in [-30, 40] dB, got ", drr_db);
  DUET_CHECK(rate > 0, "room_response: sample rate must be positive, got ", rate);
  // The first reflection arrives 1-10 ms after the direct sound (0.3-3.4 m more path).
  const int64_t gap = std::max<int64_t>(1, std::lround(rng.uniform(0.001, 0.010) * rate));
  const int64_t len = int64_t(std::ceil(rt60 * rate));
  // Two noises, below and above about 1 kHz: a one-pole low-pass of white noise and the rest.
  std::vector<double> low(len), high(len);
  const double a = std::exp(-2 * M_PI * 1000.0 / rate);
  double state = 0, p_low = 0, p_high = 0;
  for (int64_t n = 0; n < len; ++n) {
    const double w = rng.normal();
    state = a * state + (1 - a) * w;
    low[n] = state, high[n] = w - state;
    p_low += state * state, p_high += high[n] * high[n];
  }
  // Unit power each, then the decays: 60 dB (a factor 1000 in amplitude) over rt60 below
  // 1 kHz, over rt60 / 2 above.
  const double k = 3 * std::log(10.0) / (rt60 * rate);
  const double s_low = 1 / std::sqrt(std::max(p_low / double(len), 1e-30));
  const double s_high = 1 / std::sqrt(std::max(p_high / double(len), 1e-30));
  std::vector<double> tail(len);
  double energy = 0;
  for (int64_t n = 0; n < len; ++n) {
    tail[n] = low[n] * s_low * std::exp(-k * double(n)) + high[n] * s_high * std::exp(-2 * k * double(n));
    energy += tail[n] * tail[n];
  }
  // The direct sound has energy 1; the tail's is drr_db below it.
  const double scale = std::sqrt(std::pow(10.0, -drr_db / 10) / std::max(energy, 1e-30));
  std::vector<float> h(size_t(1 + gap + len), 0.0f);
  h[0] = 1.0f;
  for (int64_t n = 0; n < len; ++n) h[size_t(1 + gap + n)] = float(tail[n] * scale);
  return h;
}

std::vector<float> convolve(const std::vector<float>& x, const std::vector<float>& h) {
  if (x.empty() || h.empty()) return {};
  const size_t out = x.size() + h.size() - 1;
  DUET_CHECK(out < (size_t(1) << 30), "convolve: ", x.size(), " by ", h.size(), " samples is too long");
  int n = 1;
  while (size_t(n) < out) n *= 2;  // circular convolution of length n >= out is the linear one
  const FftPlans p = fft_plans(n);
  const int F = n / 2 + 1;
  std::unique_ptr<double, decltype(&fftw_free)> a(fftw_alloc_real(size_t(n)), fftw_free), b(fftw_alloc_real(size_t(n)), fftw_free);
  std::unique_ptr<fftw_complex, decltype(&fftw_free)> A(fftw_alloc_complex(size_t(F)), fftw_free),
      B(fftw_alloc_complex(size_t(F)), fftw_free);
  for (int i = 0; i < n; ++i) {
    a.get()[i] = size_t(i) < x.size() ? double(x[size_t(i)]) : 0.0;
    b.get()[i] = size_t(i) < h.size() ? double(h[size_t(i)]) : 0.0;
  }
  fftw_execute_dft_r2c(p.forward, a.get(), A.get());
  fftw_execute_dft_r2c(p.forward, b.get(), B.get());
  for (int f = 0; f < F; ++f) {
    const double re = A.get()[f][0] * B.get()[f][0] - A.get()[f][1] * B.get()[f][1];
    const double im = A.get()[f][0] * B.get()[f][1] + A.get()[f][1] * B.get()[f][0];
    A.get()[f][0] = re, A.get()[f][1] = im;
  }
  fftw_execute_dft_c2r(p.inverse, A.get(), a.get());  // unnormalised: n times the result
  std::vector<float> y(out);
  for (size_t i = 0; i < out; ++i) y[i] = float(a.get()[i] / n);
  return y;
}

}  // namespace duet::dsp
