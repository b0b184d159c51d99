// The AAC decoder: ADTS streams built here element by element (every rate, the elements it
// skips, and what it must refuse), and M4A and ADTS files that ffmpeg's encoder writes, decoded
// as ffmpeg's decoder decodes them (ffmpeg is installed by tools/setup.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "bit_writer.h"
#include "codec_signals.h"
#include "dsp/aac.h"
#include "dsp/aac_tables.h"
#include "dsp/mp3.h"
#include "dsp/wav.h"
#include "engine/error.h"
#include "reference_aac.h"
#include "scratch.h"

using namespace duet;
using namespace duet::dsp;
using duet_test::BitWriter;

namespace {

using Bytes = std::vector<uint8_t>;

// A silent individual_channel_stream: no bands coded (max_sfb 0).
void silent_stream(BitWriter& w, int window_sequence = 0) {
  w.put(100, 8);  // global gain
  w.put(0, 1), w.put(uint64_t(window_sequence), 2), w.put(0, 1);
  if (window_sequence == 2)
    w.put(0, 4), w.put(0, 7);  // max_sfb, grouping
  else
    w.put(0, 6), w.put(0, 1);  // max_sfb, no prediction
  w.put(0, 3);                 // no pulse, TNS or gain control data
}

// A raw data block: one single channel element (or a pair), then END.
Bytes block(int channels, int window_sequence = 0) {
  BitWriter w;
  if (channels == 1) {
    w.put(0, 3), w.put(0, 4);
    silent_stream(w, window_sequence);
  } else {
    w.put(1, 3), w.put(0, 4), w.put(0, 1);  // CPE, no common window
    silent_stream(w, window_sequence);
    silent_stream(w, window_sequence);
  }
  w.put(7, 3);
  return w.bytes;
}

Bytes adts(const Bytes& payload, int rate_index, int channels, int object_type = 2, bool crc = false) {
  BitWriter w;
  const size_t length = (crc ? 9 : 7) + payload.size();
  w.put(0xFFF, 12), w.put(0, 1), w.put(0, 2), w.put(crc ? 0 : 1, 1);
  w.put(uint64_t(object_type - 1), 2), w.put(uint64_t(rate_index), 4), w.put(0, 1), w.put(uint64_t(channels), 3);
  w.put(0, 4), w.put(length, 13), w.put(0x7FF, 11), w.put(0, 2);
  if (crc) w.put(0, 16);
  Bytes b = w.bytes;
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes repeat(const Bytes& frame, int n) {
  Bytes b;
  for (int i = 0; i < n; ++i) b.insert(b.end(), frame.begin(), frame.end());
  return b;
}

std::string error_of(const Bytes& b) {
  try {
    decode_aac(b, "clip.aac");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_error(const Bytes& b, const std::string& want) {
  const std::string got = error_of(b);
  EXPECT_NE(got.find(want), std::string::npos) << "expected \"" << want << "\" in \"" << got << "\"";
}

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// ffmpeg's 32-bit float output, channels averaged.
std::vector<float> read_f32(const std::string& path, int channels) {
  const Bytes b = read_file(path);
  std::vector<float> all(b.size() / 4), mono(all.size() / size_t(channels));
  std::memcpy(all.data(), b.data(), all.size() * 4);
  for (size_t i = 0; i < mono.size(); ++i) {
    float s = 0;
    for (int c = 0; c < channels; ++c) s += all[i * size_t(channels) + size_t(c)];
    mono[i] = s / float(channels);
  }
  return mono;
}

}  // namespace

TEST(Aac, SilentAdtsFramesOfEveryRate) {
  const int rates[12] = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000};
  for (int r = 0; r < 12; ++r)
    for (int channels : {1, 2}) {
      const Bytes b = repeat(adts(block(channels, r % 4), r, channels), 5);
      EXPECT_TRUE(is_aac(b));
      WavInfo info;
      const Audio a = decode_audio(b, "x.aac", &info);
      EXPECT_EQ(a.sample_rate, rates[r]);
      EXPECT_EQ(a.samples.size(), size_t(5 * 1024));
      for (float v : a.samples) ASSERT_EQ(v, 0.0f);
      EXPECT_EQ(info.encoding, "AAC-LC (ADTS)");
      EXPECT_EQ(info.channels, channels);
      EXPECT_EQ(info.note, "");
    }
}

TEST(Aac, ElementsSkippedAndRefused) {
  // Data stream and fill elements are skipped, an LFE channel is read.
  BitWriter w;
  w.put(4, 3), w.put(0, 4), w.put(1, 1), w.put(3, 8), w.align(), w.put(0xABCDEF, 24);  // DSE, 3 aligned bytes
  w.put(6, 3), w.put(2, 4), w.put(0xFFFF, 16);                                         // FIL, 2 bytes
  w.put(0, 3), w.put(0, 4);
  silent_stream(w);
  w.put(3, 3), w.put(0, 4);  // LFE
  silent_stream(w);
  w.put(7, 3);
  WavInfo info;
  EXPECT_EQ(decode_aac(repeat(adts(w.bytes, 4, 1), 3), "x", &info).samples.size(), size_t(3 * 1024));
  EXPECT_EQ(info.channels, 2);
  // What the decoder refuses, each an error naming the file and the frame (the second).
  const Bytes good = adts(block(1), 4, 1);
  auto second = [&](const std::function<void(BitWriter&)>& body, const std::string& want) {
    BitWriter b;
    body(b);
    Bytes stream = good;
    const Bytes bad = adts(b.bytes, 4, 1);
    stream.insert(stream.end(), bad.begin(), bad.end());
    expect_error(stream, "clip.aac: AAC frame 2 (byte " + std::to_string(good.size()) + "): " + want);
  };
  auto sce = [](BitWriter& b) { b.put(0, 3), b.put(0, 4), b.put(255, 8); };  // then ics_info
  second([](BitWriter& b) { b.put(2, 3); }, "a coupling channel element");
  second([](BitWriter& b) { b.put(5, 3); }, "a program configuration element");
  second([](BitWriter& b) { b.put(7, 3); }, "a frame with no audio channel");
  second([&](BitWriter& b) { sce(b), b.put(1, 1); }, "a reserved bit of its ics_info is set");
  second([&](BitWriter& b) { sce(b), b.put(0, 4), b.put(0, 6), b.put(1, 1); }, "it uses prediction (AAC Main)");
  second([&](BitWriter& b) { sce(b), b.put(0, 4), b.put(63, 6), b.put(0, 1); }, "its max_sfb exceeds");
  second([&](BitWriter& b) { sce(b), b.put(0, 4), b.put(1, 6), b.put(0, 1), b.put(12, 4); },
         "it uses the reserved codebook 12");
  second([&](BitWriter& b) { sce(b), b.put(0, 4), b.put(1, 6), b.put(0, 1), b.put(1, 4), b.put(2, 5); },
         "a section runs past its max_sfb");
  second(
      [&](BitWriter& b) {
        sce(b), b.put(0, 4), b.put(1, 6), b.put(0, 1), b.put(1, 4), b.put(1, 5), b.put(0x7fff3, 19);
      },
      "a scalefactor outside 0-255");
  second([&](BitWriter& b) { sce(b), b.put(0, 4), b.put(0, 6), b.put(0, 1), b.put(0, 2), b.put(1, 1); },
         "it has gain control data (AAC SSR)");
  second([&](BitWriter& b) { sce(b), b.put(0, 1), b.put(2, 2), b.put(0, 1), b.put(0, 4), b.put(0, 7), b.put(1, 1); },
         "pulse data in a short window");
  second(
      [&](BitWriter& b) {
        sce(b), b.put(0, 4), b.put(0, 6), b.put(0, 1), b.put(0, 1), b.put(1, 1);  // TNS present
        b.put(1, 2), b.put(0, 1), b.put(10, 6), b.put(13, 5);
      },
      "a TNS filter of a higher order than AAC-LC allows");
  second(
      [](BitWriter& b) { b.put(1, 3), b.put(0, 4), b.put(1, 1), b.put(0, 4), b.put(0, 6), b.put(0, 1), b.put(3, 2); },
      "a reserved ms_mask_present value");
  second([](BitWriter& b) { b.put(0, 3), b.put(0, 4), b.put(100, 8); }, "its data ends in the middle of an element");
  // The stream around the frames.
  expect_error(adts(block(1), 4, 1, 1), "clip.aac: AAC object type 1 (duet's AAC decoder reads AAC-LC, type 2)");
  expect_error(adts(block(1), 12, 1), "clip.aac: a sample rate AAC-LC does not code");
  Bytes short_frame = good;
  short_frame[4] = 0, short_frame[5] &= 0x1F, short_frame[3] &= 0xFC;  // frame length 0
  expect_error(short_frame, "clip.aac: AAC frame 1 (byte 0): a frame length of 0 bytes, shorter than its header");
  Bytes junk = good;
  junk.insert(junk.end(), 20, 0x42);
  expect_error(junk, "clip.aac: AAC frame 2 (byte " + std::to_string(good.size()) + "): no ADTS header");
  Bytes other_rate = good;
  const Bytes at_48k = adts(block(1), 3, 1);
  other_rate.insert(other_rate.end(), at_48k.begin(), at_48k.end());
  expect_error(other_rate, "its rate or profile differs from the first frame's");
  const Bytes three = repeat(good, 3);
  EXPECT_EQ(decode_aac(Bytes(three.begin(), three.end() - 2), "x", &info).samples.size(), size_t(2 * 1024));
  EXPECT_EQ(info.note, "the file is cut short in AAC frame 3; the frames before it are read");
  EXPECT_EQ(error_of(repeat(adts(block(2), 4, 2, 2, true), 2)), "");  // CRC-protected frames
  // An ID3 tag before the stream (some tools write one): skipped, and the stream is not taken for MP3.
  Bytes tagged = {'I', 'D', '3', 4, 0, 0, 0, 0, 0, 20};
  tagged.resize(30, 'x');
  const Bytes two = repeat(good, 2);
  tagged.insert(tagged.end(), two.begin(), two.end());
  EXPECT_TRUE(is_aac(tagged));
  EXPECT_FALSE(is_mpeg_audio(tagged));
  EXPECT_EQ(decode_audio(tagged, "x.aac", &info).samples.size(), size_t(2 * 1024));
  EXPECT_EQ(info.encoding, "AAC-LC (ADTS)");
}

TEST(Aac, ReadsWhatTheReferenceEncoderWritesAsTheReferenceDecoderDoes) {
  DUET_REQUIRE_REFERENCE_FFMPEG();
  duet_test::ScratchFolder scratch("duet_aac_");
  const std::string dir = scratch.path().string();
  struct Case {
    int rate, channels;
    std::string bitrate, container, options;
  } cases[] = {
      {44100, 2, "128k", "m4a", ""},
      {48000, 2, "96k", "m4a", ""},
      {32000, 2, "64k", "aac", ""},
      {24000, 2, "48k", "m4a", ""},
      {22050, 1, "24k", "m4a", ""},
      {16000, 1, "32k", "aac", ""},
      {12000, 2, "24k", "m4a", ""},
      {11025, 1, "24k", "m4a", ""},
      {8000, 1, "16k", "m4a", ""},
      {8000, 2, "16k", "aac", ""},
      {96000, 1, "128k", "m4a", ""},
      {64000, 2, "96k", "m4a", ""},
      {44100, 2, "48k", "m4a", "-aac_ms 1"},
      {44100, 2, "64k", "m4a", "-aac_is 0 -aac_pns 0"},
      {44100, 1, "32k", "m4a", "-aac_tns 0"},
      {48000, 2, "160k", "m4a", "-movflags +faststart"},
  };
  int k = 0;
  for (const Case& c : cases) {
    const std::string what = "case " + std::to_string(k) + " (" + std::to_string(c.rate) + " Hz, " +
                             std::to_string(c.channels) + " ch, " + c.bitrate + " " + c.container + " " + c.options +
                             ")";
    const int n = c.rate * 3 / 2;
    const std::vector<int16_t> pcm = duet_test::codec_test_signal(c.rate, c.channels, n, uint32_t(k), 1.1);
    const std::string stem = dir + "/" + std::to_string(k), wav = stem + ".wav", coded = stem + "." + c.container,
                      ref = stem + ".f32";
    duet_test::write_pcm16_wav(wav, pcm, c.channels, c.rate);
    ASSERT_EQ(duet_test::ffmpeg("-i " + wav + " -c:a aac -b:a " + c.bitrate + " " + c.options + " " + coded), "")
        << what;
    ASSERT_EQ(duet_test::ffmpeg("-i " + coded + " -f f32le " + ref), "") << what;
    WavInfo info;
    const Audio a = read_audio(coded, &info);
    const std::vector<float> want = read_f32(ref, c.channels);
    EXPECT_EQ(a.sample_rate, c.rate) << what;
    EXPECT_EQ(info.channels, c.channels) << what;
    EXPECT_EQ(info.encoding, c.container == "m4a" ? "AAC-LC (M4A)" : "AAC-LC (ADTS)") << what;
    EXPECT_EQ(info.note, "") << what;
    if (c.container == "aac") {  // ADTS: every frame, as ffmpeg decodes them
      EXPECT_EQ(a.samples.size(), want.size()) << what;
    } else {  // M4A: the edit list keeps the encoder's input (its duration in ms, rounded up)
      EXPECT_GE(a.samples.size(), size_t(n)) << what;
      EXPECT_LE(a.samples.size(), size_t(n + c.rate / 1000 + 1)) << what;
      EXPECT_LE(a.samples.size(), want.size()) << what;
    }
    const size_t m = std::min(a.samples.size(), want.size());
    double worst = 0, peak = 0;
    for (size_t i = 0; i < m; ++i) {
      worst = std::max(worst, double(std::abs(a.samples[i] - want[i])));
      peak = std::max(peak, double(std::abs(want[i])));
    }
    EXPECT_LT(worst, 2e-6) << what;
    EXPECT_GT(peak, 0.1) << what;
    ++k;
  }
}

TEST(Aac, OtherMp4FilesAreRefusedWithWhatTheyHold) {
  DUET_REQUIRE_REFERENCE_FFMPEG();
  duet_test::ScratchFolder scratch("duet_aac_mp4_");
  const std::string dir = scratch.path().string();
  const std::string tone = "-f lavfi -i sine=frequency=440:sample_rate=16000:duration=0.5 ";
  auto expect_file_error = [](const std::string& path, const std::string& want) {
    try {
      read_audio(path);
      ADD_FAILURE() << path << " was read";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  ASSERT_EQ(duet_test::ffmpeg(tone + "-c:a alac " + dir + "/alac.m4a"), "");
  expect_file_error(dir + "/alac.m4a", "alac.m4a: an MP4 file whose audio is 'alac' (Apple Lossless), not AAC");
  ASSERT_EQ(duet_test::ffmpeg("-f lavfi -i testsrc=size=32x32:rate=5:duration=0.4 -c:v mpeg4 " + dir + "/video.mp4"),
            "");
  expect_file_error(dir + "/video.mp4", "video.mp4: an MP4 file with no audio track");
  // An AAC file whose decoder configuration says HE-AAC (object type 5), and one whose index
  // ('moov') is gone; with the index first (faststart), a file cut short keeps its whole frames.
  ASSERT_EQ(duet_test::ffmpeg(tone + "-c:a aac -movflags +faststart " + dir + "/tone.m4a"), "");
  Bytes b = read_file(dir + "/tone.m4a");
  ASSERT_NO_THROW(decode_aac(b, "tone.m4a"));
  // The AudioSpecificConfig: inside 'esds', past the ES (3) and decoder configuration (4)
  // descriptors, the decoder-specific information (5).
  size_t at = size_t(std::search(b.begin(), b.end(), std::begin("esds"), std::end("esds") - 1) - b.begin()) + 8;
  ASSERT_LT(at, b.size());
  auto skip_length = [&] {
    while (b[at++] & 0x80) {
    }
  };
  ASSERT_EQ(b[at++], 3);
  skip_length();
  at += 3;
  ASSERT_EQ(b[at++], 4);
  skip_length();
  at += 13;
  ASSERT_EQ(b[at++], 5);
  skip_length();
  ASSERT_EQ(b[at] >> 3, 2);  // AAC-LC
  Bytes he = b;
  he[at] = uint8_t((he[at] & 0x07) | (5 << 3));
  try {
    decode_aac(he, "he.m4a");
    ADD_FAILURE() << "HE-AAC was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("he.m4a: HE-AAC (SBR), which duet's AAC decoder does not read"),
              std::string::npos)
        << e.what();
  }
  Bytes no_index = b;
  const auto moov = std::search(no_index.begin(), no_index.end(), std::begin("moov"), std::end("moov") - 1);
  ASSERT_NE(moov, no_index.end());
  std::memcpy(&*moov, "free", 4);
  EXPECT_NE(error_of(no_index).find("an MP4 file with no 'moov' box"), std::string::npos) << error_of(no_index);
  WavInfo info;
  const Audio whole = decode_aac(b, "x");
  const Audio cut = decode_aac(Bytes(b.begin(), b.end() - 300), "x", &info);
  EXPECT_LT(cut.samples.size(), whole.samples.size());
  EXPECT_NE(info.note.find("the file is cut short in AAC frame"), std::string::npos) << info.note;
}

// The filterbank against the standard's formulas written out here: one spectral line of 1 in a
// long window with Kaiser-Bessel-derived shape, a start window with the sine shape, eight short
// windows (KBD, the first holding the line), a stop window (sine) and a long one, through the
// IMDCT's direct sum, the window halves each sequence and shape asks for, and the overlap-add.
TEST(Aac, WindowSequencesAndShapesFollowTheStandard) {
  const aac_tables::Codebook& cb = aac_tables::kCodebooks[1];
  struct F {
    int sequence, shape;
    bool line;
  } frames[] = {{0, 1, true}, {1, 0, false}, {2, 1, true}, {3, 0, false}, {0, 0, false}};
  Bytes stream;
  for (const F& f : frames) {
    BitWriter w;
    w.put(0, 3), w.put(0, 4), w.put(180, 8);  // SCE, global gain 180: a value of 1 dequantises to 2^20
    w.put(0, 1), w.put(uint64_t(f.sequence), 2), w.put(uint64_t(f.shape), 1);
    const bool shorts = f.sequence == 2;
    const int max_sfb = f.line ? 1 : 0;
    if (shorts)
      w.put(uint64_t(max_sfb), 4), w.put(0x7F, 7);  // one group of eight windows
    else
      w.put(uint64_t(max_sfb), 6), w.put(0, 1);
    if (f.line) {
      w.put(1, 4), w.put(1, shorts ? 3 : 5);  // band 0 in codebook 1
      w.put(0, 1);                            // scalefactor difference 0 (code "0")
    }
    w.put(0, 3);  // no pulse, TNS or gain control
    if (f.line)
      for (int win = 0; win < (shorts ? 8 : 1); ++win) {
        const int index = win == 0 ? 2 * 27 + 9 + 3 + 1 : 40;  // (1, 0, 0, 0) or (0, 0, 0, 0)
        w.put(cb.codes[index], cb.bits[index]);
      }
    w.put(7, 3);
    const Bytes frame = adts(w.bytes, 4, 1);
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  const std::vector<float> got = decode_aac(stream, "x").samples;
  ASSERT_EQ(got.size(), size_t(5 * 1024));

  // The reference, in double precision.
  const double pi = std::numbers::pi;
  auto imdct = [&](int n, int line) {  // (2 / n) X cos(2 pi / n (i + n0)(k + 1/2)), X[line] = 2^20
    std::vector<double> y(static_cast<size_t>(n), 0.0);
    const double n0 = (n / 2.0 + 1) / 2;
    for (int i = 0; i < n; ++i) y[size_t(i)] = 1048576 * 2.0 / n * std::cos(2 * pi / n * (i + n0) * (line + 0.5));
    return y;
  };
  auto window = [&](int n, int shape, int i) {  // the whole window of n points, i in [0, n)
    if (shape == 0) return std::sin(pi / n * (i + 0.5));
    const double alpha = n == 2048 ? 4 : 6;
    auto i0 = [](double x) {
      double s = 1, t = 1;
      for (int k = 1; k < 60; ++k) t *= (x / (2 * k)) * (x / (2 * k)), s += t;
      return s;
    };
    auto kernel = [&](int j) {
      const double r = (j - n / 4.0) / (n / 4.0);
      return i0(pi * alpha * std::sqrt(std::max(0.0, 1 - r * r)));
    };
    double total = 0, part = 0;
    for (int j = 0; j <= n / 2; ++j) total += kernel(j);
    const int upto = i < n / 2 ? i : n - 1 - i;
    for (int j = 0; j <= upto; ++j) part += kernel(j);
    return std::sqrt(part / total);
  };
  std::vector<double> overlap(1024, 0.0), want;
  int previous_shape = 0;
  for (const F& f : frames) {
    std::vector<double> z(2048, 0.0);
    if (f.sequence == 2) {
      for (int win = 0; win < 8; ++win) {
        if (!(f.line && win == 0)) continue;
        const std::vector<double> y = imdct(256, 0);
        for (int i = 0; i < 256; ++i)
          z[size_t(448 + 128 * win + i)] +=
              y[size_t(i)] * window(256, i < 128 && win == 0 ? previous_shape : f.shape, i);
      }
    } else {
      const std::vector<double> y = f.line ? imdct(2048, 0) : std::vector<double>(2048, 0.0);
      for (int i = 0; i < 2048; ++i) {
        double wv;
        if (i < 1024)
          wv = f.sequence == 3 ? (i < 448   ? 0
                                  : i < 576 ? window(256, previous_shape, i - 448)
                                            : 1)
                               : window(2048, previous_shape, i);
        else
          wv = f.sequence == 1 ? (i < 1472   ? 1
                                  : i < 1600 ? window(256, f.shape, i - 1472 + 128)
                                             : 0)
                               : window(2048, f.shape, i);
        z[size_t(i)] = y[size_t(i)] * wv;
      }
    }
    for (int i = 0; i < 1024; ++i) want.push_back((z[size_t(i)] + overlap[size_t(i)]) / 32768);
    for (int i = 0; i < 1024; ++i) overlap[size_t(i)] = z[size_t(1024 + i)];
    previous_shape = f.shape;
  }
  double worst = 0, peak = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, std::abs(double(got[i]) - want[i]));
    peak = std::max(peak, std::abs(want[i]));
  }
  EXPECT_GT(peak, 1e-6);
  EXPECT_LT(worst, 1e-4 * peak) << "peak " << peak;
}

// Perceptual noise substitution: a band coded with the noise codebook (13) is filled with
// noise whose energy is 2^(energy / 2), the standard's law, on the same scale as a quantised
// line: a noise band of energy 2^(n / 2) sounds as loud as one line of amplitude 2^(n / 4)
// (a value of 1 at scalefactor n + 100), over a stream of long sine windows (an orthogonal
// transform, so energies carry over). ffmpeg's encoder writes its noise bands near silent,
// so its files do not check the scale.
TEST(Aac, NoiseBandsCarryTheEnergyTheirScalefactorSays) {
  const aac_tables::Codebook& cb1 = aac_tables::kCodebooks[1];
  // 24 frames at 44.1 kHz of one SCE: bands 0-9 zero, band 10 (lines 40-47) noise of energy
  // `n` or a line of value 1 at scalefactor n + 100 (the global gain).
  auto stream = [&](int n, bool noise) {
    Bytes s;
    for (int f = 0; f < 24; ++f) {
      BitWriter w;
      const int gain = noise ? 180 : n + 100;
      w.put(0, 3), w.put(0, 4), w.put(uint64_t(gain), 8);
      w.put(0, 1), w.put(0, 2), w.put(0, 1);  // long window, sine shape
      w.put(11, 6), w.put(0, 1);              // max_sfb 11, no prediction
      w.put(0, 4), w.put(10, 5);              // bands 0-9: the zero codebook
      w.put(noise ? 13 : 1, 4), w.put(1, 5);  // band 10: noise, or codebook 1
      if (noise)
        w.put(uint64_t(n - (gain - 90) + 256), 9);  // the first noise energy: 9 bits, offset 256
      else
        w.put(0, 1);  // scalefactor difference 0
      w.put(0, 3);    // no pulse, TNS or gain control
      if (!noise) {
        w.put(cb1.codes[2 * 27 + 9 + 3 + 1], cb1.bits[2 * 27 + 9 + 3 + 1]);  // (1, 0, 0, 0)
        w.put(cb1.codes[27 + 9 + 3 + 1], cb1.bits[27 + 9 + 3 + 1]);          // (0, 0, 0, 0)
      }
      w.put(7, 3);
      const Bytes frame = adts(w.bytes, 4, 1);
      s.insert(s.end(), frame.begin(), frame.end());
    }
    return decode_aac(s, "x").samples;
  };
  auto energy = [](const std::vector<float>& x) {
    double e = 0;
    for (float v : x) e += double(v) * v;
    return e;
  };
  for (int n : {60, 80}) {
    const std::vector<float> noise = stream(n, true), line = stream(n, false);
    ASSERT_EQ(noise.size(), line.size());
    EXPECT_GT(energy(line), 0.0);
    EXPECT_NEAR(energy(noise) / energy(line), 1.0, 0.05) << "noise energy " << n;
  }
  // Four steps of the noise energy are a factor 4 in energy (2^(4 / 2)).
  EXPECT_NEAR(energy(stream(84, true)) / energy(stream(80, true)), 4.0, 0.2);
}
