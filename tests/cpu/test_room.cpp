// Rooms (dsp/room.h): the synthetic impulse response has the direct sound, the gap, the
// energy ratio and the decay it is asked for; FFT convolution equals the direct sum; a clip
// heard in a room is the clip followed by its reverberation.
#include <gtest/gtest.h>

#include <cmath>

#include "dsp/room.h"
#include "engine/error.h"
#include "models/audio_data.h"

using namespace duet;

namespace {

double energy(const std::vector<float>& h, size_t from, size_t to) {
  double e = 0;
  for (size_t i = from; i < to && i < h.size(); ++i) e += double(h[i]) * h[i];
  return e;
}

// Index of the first non-zero sample after the direct sound.
size_t tail_start(const std::vector<float>& h) {
  size_t i = 1;
  while (i < h.size() && h[i] == 0.0f) ++i;
  return i;
}

}  // namespace

TEST(Room, ResponseHasDirectSoundGapRatioAndDecay) {
  const int rate = 8000;
  for (auto [rt60, drr] : {std::pair{0.5, 6.0}, {1.0, 0.0}, {0.2, -3.0}, {2.0, 20.0}}) {
    Rng rng(3);
    const std::vector<float> h = dsp::room_response(rt60, drr, rate, rng);
    const size_t start = tail_start(h), len = size_t(std::ceil(rt60 * rate));
    EXPECT_EQ(h[0], 1.0f);
    // The first reflection 1-10 ms after the direct sound, then rt60 of tail.
    EXPECT_GE(start, size_t(1 + 8)) << rt60;
    EXPECT_LE(start, size_t(1 + 80)) << rt60;
    EXPECT_EQ(h.size(), start + len) << rt60;
    // The tail's energy lies drr_db below the direct sound's (energy 1).
    EXPECT_NEAR(10 * std::log10(energy(h, start, h.size())), -drr, 1e-3) << rt60;
    // Decay: below 1 kHz 60 dB per rt60, above it twice as fast. Between the first and the
    // fifth tenth of the tail (0.4 rt60 apart) the part below 1 kHz falls 24 dB and the part
    // above it 48 dB; as the two start equal, the whole falls by 24 + 3 dB.
    const double early = energy(h, start, start + len / 10), late = energy(h, start + 4 * len / 10, start + len / 2);
    EXPECT_NEAR(10 * std::log10(early / late), 27.0, 2.0) << rt60;
    // Reproducible for a seed, another seed another room.
    Rng again(3), other(4);
    EXPECT_EQ(dsp::room_response(rt60, drr, rate, again), h);
    EXPECT_NE(dsp::room_response(rt60, drr, rate, other), h);
  }
  Rng rng(0);
  for (double rt60 : {0.0, -0.5, 5.5, double(NAN), double(INFINITY)})
    EXPECT_THROW(dsp::room_response(rt60, 0, 8000, rng), Error) << rt60;
  for (double drr : {-31.0, 41.0, double(NAN)}) EXPECT_THROW(dsp::room_response(0.5, drr, 8000, rng), Error) << drr;
  EXPECT_THROW(dsp::room_response(0.5, 0, 0, rng), Error);
}

TEST(Room, FftConvolutionEqualsTheDirectSum) {
  Rng rng(7);
  for (auto [n, m] : {std::pair{1, 1}, {37, 11}, {11, 37}, {1000, 300}, {4097, 1}, {2, 4095}}) {
    std::vector<float> x(n), h(m);
    for (float& v : x) v = float(rng.normal());
    for (float& v : h) v = float(rng.normal());
    const std::vector<float> y = dsp::convolve(x, h);
    ASSERT_EQ(y.size(), size_t(n + m - 1));
    double worst = 0;
    for (int k = 0; k < n + m - 1; ++k) {
      double s = 0;
      for (int i = std::max(0, k - m + 1); i <= std::min(k, n - 1); ++i) s += double(x[i]) * h[k - i];
      worst = std::max(worst, std::abs(s - y[k]) / (1 + std::abs(s)));
    }
    EXPECT_LT(worst, 1e-5) << n << " by " << m;
  }
  EXPECT_TRUE(dsp::convolve({}, {1.0f}).empty());
  EXPECT_TRUE(dsp::convolve({1.0f}, {}).empty());
}

// A click heard in a room is the room's impulse response; a tone keeps sounding after it
// stops; trimming cuts what lies 40 dB below the loudest frame.
TEST(Room, ClipInARoomIsFollowedByItsReverberation) {
  const int rate = 8000;
  models::AudioRecipe dry_recipe, trimming;  // 8 kHz; without and with silence trimming
  dry_recipe.trim = false, trimming.trim = true;
  ASSERT_EQ(dry_recipe.sample_rate, rate);
  std::vector<float> click(100, 0.0f);
  click[0] = 1.0f;
  Rng a(5), b(5);
  const std::vector<float> heard = models::in_room(click, 0.5, 6, dry_recipe, a);
  std::vector<float> h = dsp::room_response(0.5, 6, rate, b);
  ASSERT_EQ(heard.size(), click.size() + h.size() - 1);
  for (size_t i = 0; i < h.size(); ++i) ASSERT_NEAR(heard[i], h[i], 1e-5) << i;

  std::vector<float> tone(2000);  // 0.25 s at 500 Hz
  for (size_t i = 0; i < tone.size(); ++i) tone[i] = float(std::sin(2 * M_PI * 500 * double(i) / rate));
  Rng c(6), d(6);
  const std::vector<float> full = models::in_room(tone, 1.0, 0, dry_recipe, c);
  const std::vector<float> trimmed = models::in_room(tone, 1.0, 0, trimming, d);
  // After the tone: 0.1 s later the room still sounds, within 20 dB of the tone's power.
  const double tone_power = energy(tone, 0, tone.size()) / double(tone.size());
  const double after = energy(full, 2800, 3600) / 800.0;
  EXPECT_GT(10 * std::log10(after / tone_power), -20.0);
  EXPECT_LT(trimmed.size(), full.size()) << "nothing 40 dB down was trimmed";
  EXPECT_GT(trimmed.size(), tone.size()) << "the trim cut into the reverberation's loud part";
}
