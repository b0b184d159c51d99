// Lossy coding (dsp/lossy.h): the MDCT with the sine window reconstructs what it analysed;
// lossy_coded() keeps what it is asked to keep (the bands' signal-to-noise ratio, nothing above
// the cut-off) and refuses what it cannot do; the training's lossy coding reaches the features.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "dsp/lossy.h"
#include "engine/error.h"

using namespace duet;

namespace {

std::vector<float> white(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, 0.1f);
  std::vector<float> x(n);
  for (float& v : x) v = d(gen);
  return x;
}

std::vector<float> tone(double hz, size_t n, int rate) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = float(0.5 * std::sin(2 * M_PI * hz * double(i) / rate));
  return x;
}

// 10 log10 of x's energy over that of x - y, from sample `from` to `to`.
double snr_db(const std::vector<float>& x, const std::vector<float>& y, size_t from = 0, size_t to = SIZE_MAX) {
  double s = 0, n = 0;
  for (size_t i = from; i < std::min(to, x.size()); ++i)
    s += double(x[i]) * x[i], n += double(x[i] - y[i]) * (x[i] - y[i]);
  return 10 * std::log10(s / n);
}

double energy(const std::vector<float>& x, size_t from, size_t to) {
  double e = 0;
  for (size_t i = from; i < to; ++i) e += double(x[i]) * x[i];
  return e;
}

}  // namespace

TEST(Lossy, MdctWithTheSineWindowReconstructsItsInput) {
  for (int m : {2, 128, 576, 1024})
    for (size_t n : {size_t(1), size_t(m), size_t(m) + 1, size_t(3000), size_t(8000)}) {
      const std::vector<float> x = white(n, unsigned(m + n));
      const auto c = dsp::mdct(x, m);
      EXPECT_EQ(c.size(), (n + size_t(m) - 1) / size_t(m) + 1) << m << " " << n;
      const std::vector<float> y = dsp::imdct(c, m, n);
      ASSERT_EQ(y.size(), n);
      double worst = 0;
      for (size_t i = 0; i < n; ++i) worst = std::max(worst, double(std::abs(x[i] - y[i])));
      EXPECT_LT(worst, 1e-5) << "hop " << m << ", " << n << " samples";
    }
  // A tone lands in the coefficients around its frequency (m bins over 0 to rate/2).
  const auto c = dsp::mdct(tone(1000, 8000, 8000), 128);
  const std::vector<float>& mid = c[30];
  int loudest = 0;
  for (int k = 1; k < 128; ++k)
    if (std::abs(mid[size_t(k)]) > std::abs(mid[size_t(loudest)])) loudest = k;
  EXPECT_NEAR(loudest, 1000 / (4000.0 / 128) - 0.5, 1.0);
  EXPECT_THROW(dsp::mdct({1.0f}, 3), Error);
  EXPECT_THROW(dsp::mdct({1.0f}, 0), Error);
  EXPECT_THROW(dsp::imdct({std::vector<float>(64)}, 128, 10), Error);  // a frame of the wrong size
}

TEST(Lossy, CodedClipKeepsTheBandsSnrAndNothingAboveTheCutoff) {
  const std::vector<float> x = white(8000, 7);
  double previous = -1;
  for (double want : {3.0, 6.0, 12.0, 20.0, 40.0}) {
    const std::vector<float> y = dsp::lossy_coded(x, 8000, 4000, want, 128);
    ASSERT_EQ(y.size(), x.size());
    const double got = snr_db(x, y);
    // Below about 6 dB most coefficients round to zero and the quantiser's noise is the
    // signal itself, so the ratio ends near 0 dB instead of below it.
    if (want >= 6)
      EXPECT_NEAR(got, want, 1.0) << want;
    else
      EXPECT_GT(got, 0.0);
    EXPECT_GT(got, previous);
    previous = got;
    EXPECT_EQ(dsp::lossy_coded(x, 8000, 4000, want, 128), y);  // no randomness
  }
  // Coarser steps leave more coefficients at zero (the spectral holes).
  auto zeros = [&](double want) {
    int z = 0;
    for (const auto& frame : dsp::mdct(dsp::lossy_coded(x, 8000, 4000, want, 576), 576))
      for (float v : frame) z += std::abs(v) < 1e-6f;
    return z;
  };
  EXPECT_GT(zeros(3), 2 * zeros(20));
  // The cut-off: a tone above it is gone, one below it stays (away from the clip's ends).
  for (int hop : {128, 576}) {
    const std::vector<float> high = tone(3500, 8000, 8000), low = tone(500, 8000, 8000);
    EXPECT_LT(energy(dsp::lossy_coded(high, 8000, 3000, 40, hop), 1000, 7000), 1e-3 * energy(high, 1000, 7000));
    EXPECT_GT(snr_db(low, dsp::lossy_coded(low, 8000, 3000, 40, hop), 1000, 7000), 30.0);
  }
  // Other rates: 16 ms at 44.1 kHz.
  const std::vector<float> fast = white(44100, 3);
  EXPECT_NEAR(snr_db(fast, dsp::lossy_coded(fast, 44100, 22050, 12, 706)), 12.0, 1.0);
  EXPECT_TRUE(dsp::lossy_coded({}, 8000, 4000, 10, 128).empty());
  const std::vector<float> silence(1000, 0.0f);
  EXPECT_EQ(dsp::lossy_coded(silence, 8000, 4000, 10, 128), silence);
}

TEST(Lossy, RefusesWhatItCannotCode) {
  const std::vector<float> x = white(800, 1);
  EXPECT_THROW(dsp::lossy_coded(x, 7999, 3000, 10, 128), Error);
  EXPECT_THROW(dsp::lossy_coded(x, 8000, 0, 10, 128), Error);
  EXPECT_THROW(dsp::lossy_coded(x, 8000, 4001, 10, 128), Error);
  EXPECT_THROW(dsp::lossy_coded(x, 8000, 3000, 61, 128), Error);
  EXPECT_THROW(dsp::lossy_coded(x, 8000, 3000, -11, 128), Error);
  EXPECT_THROW(dsp::lossy_coded(x, 8000, 3000, 10, 127), Error);
  try {
    dsp::lossy_coded(x, 8000, 5000, 10, 128);
    FAIL() << "a cut-off above the Nyquist frequency was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("5000"), std::string::npos) << e.what();
  }
}
