// What the AIFF and CAF tests share: ffmpeg writes a test signal into the container in each of
// its uncompressed codings, and duet must read every file as ffmpeg decodes it.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "codec_signals.h"
#include "dsp/wav.h"
#include "reference_aac.h"

namespace duet_test {

// For each of `codecs` (ffmpeg's names: pcm_s16be, pcm_f32le, pcm_alaw, ...): ffmpeg writes a
// second of two-channel 16 kHz test signal into `dir`/CODEC.`extension` (the extension picks
// the muxer) and decodes it to float; duet's read_audio must give the same samples, channels
// averaged, within 1e-6, at 16 kHz and two channels. Call after DUET_REQUIRE_REFERENCE_FFMPEG.
inline void expect_reads_as_ffmpeg(const std::string& dir, const std::string& extension,
                                   std::initializer_list<const char*> codecs, uint32_t seed) {
  const std::string wav = dir + "/in.wav";
  write_pcm16_wav(wav, codec_test_signal(16000, 2, 16000, seed, 0.7), 2, 16000);
  for (const char* codec : codecs) {
    const std::string file = dir + "/" + codec + "." + extension, ref = dir + "/" + codec + ".f32";
    ASSERT_EQ(ffmpeg("-i " + wav + " -c:a " + codec + " " + file), "") << codec;
    ASSERT_EQ(ffmpeg("-i " + file + " -f f32le " + ref), "") << codec;
    duet::dsp::WavInfo info;
    const duet::dsp::Audio a = duet::dsp::read_audio(file, &info);
    std::ifstream in(ref, std::ios::binary);
    const std::vector<uint8_t> f{std::istreambuf_iterator<char>(in), {}};
    ASSERT_EQ(a.samples.size() * 8, f.size()) << codec;  // two channels of float
    double worst = 0;
    for (size_t i = 0; i < a.samples.size(); ++i) {
      float l, r;
      std::memcpy(&l, &f[8 * i], 4), std::memcpy(&r, &f[8 * i + 4], 4);
      worst = std::max(worst, double(std::abs(a.samples[i] - (l + r) / 2)));
    }
    EXPECT_LT(worst, 1e-6) << codec;
    EXPECT_EQ(a.sample_rate, 16000) << codec;
    EXPECT_EQ(info.channels, 2) << codec;
  }
}

}  // namespace duet_test
