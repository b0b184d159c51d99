// What the codec tests (MP3, AAC) give the reference encoders: a test signal and a WAV writer.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

namespace duet_test {

// 16-bit PCM, channels interleaved: tones (300 Hz, 150 Hz higher each channel) that drop to a
// fifth for 0.15 s of every 0.4 s, with 4 ms bursts of noise every 0.3 s (transients, which the
// encoders code in short blocks), and from `noise_from` seconds on noise alone (which AAC codes
// by noise substitution).
inline std::vector<int16_t> codec_test_signal(int rate, int channels, int samples, uint32_t seed,
                                              double noise_from = 1e9) {
  std::mt19937 rng{seed};
  std::normal_distribution<double> noise(0, 0.3);
  std::vector<int16_t> pcm(size_t(samples) * size_t(channels));
  for (int i = 0; i < samples; ++i)
    for (int ch = 0; ch < channels; ++ch) {
      const double t = double(i) / rate;
      double v = 0.3 * std::sin(2 * std::numbers::pi * (300 + 150 * ch) * t) * (std::fmod(t, 0.4) < 0.25 ? 1 : 0.2);
      if (std::fmod(t + 0.05 * ch, 0.3) < 0.004) v += noise(rng);
      if (t > noise_from) v = 0.3 * noise(rng);
      pcm[size_t(i) * size_t(channels) + size_t(ch)] = int16_t(std::lround(std::clamp(v, -1.0, 1.0) * 32000));
    }
  return pcm;
}

// Writes 16-bit PCM (channels interleaved) as a WAV file, for the encoder to read.
inline void write_pcm16_wav(const std::string& path, const std::vector<int16_t>& pcm, int channels, int rate) {
  std::ofstream f(path, std::ios::binary);
  auto put = [&](uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) f.put(char(v >> (8 * i)));
  };
  const uint32_t data = uint32_t(pcm.size() * 2);
  f.write("RIFF", 4), put(36 + data, 4), f.write("WAVEfmt ", 8), put(16, 4), put(1, 2), put(uint32_t(channels), 2);
  put(uint32_t(rate), 4), put(uint32_t(rate * channels * 2), 4), put(uint32_t(channels * 2), 2), put(16, 2);
  f.write("data", 4), put(data, 4);
  f.write(reinterpret_cast<const char*>(pcm.data()), std::streamsize(data));
}

}  // namespace duet_test
