// The WAV reader on every encoding it claims, every malformed file it must refuse, the
// resampler's band-limiting and the high-pass filter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "dsp/filter.h"
#include "dsp/resample.h"
#include "dsp/wav.h"
#include "engine/error.h"

using namespace duet;
using namespace duet::dsp;

namespace {

// Builds a WAV file byte by byte so tests can make any (broken) variant.
struct WavBuilder {
  uint16_t tag = 1, channels = 1, bits = 16;
  uint32_t rate = 8000;
  int block_align = -1;
  bool extensible = false;
  std::vector<uint8_t> data;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> extra_before_fmt, extra_before_data;
  int64_t data_size_override = -1, riff_size_override = -1;

  static void put(std::vector<uint8_t>& b, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(uint8_t(v >> (8 * i)));
  }
  static void chunk(std::vector<uint8_t>& b, const std::string& id, const std::vector<uint8_t>& body,
                    int64_t size = -1) {
    b.insert(b.end(), id.begin(), id.end());
    put(b, size >= 0 ? uint64_t(size) : body.size(), 4);
    b.insert(b.end(), body.begin(), body.end());
    if (body.size() & 1) b.push_back(0);
  }
  std::vector<uint8_t> build() const {
    std::vector<uint8_t> fmt;
    put(fmt, extensible ? 0xFFFE : tag, 2);
    put(fmt, channels, 2);
    put(fmt, rate, 4);
    put(fmt, rate * channels * bits / 8, 4);
    put(fmt, block_align >= 0 ? block_align : channels * bits / 8, 2);
    put(fmt, bits, 2);
    if (extensible) {
      put(fmt, 22, 2);        // cbSize
      put(fmt, bits, 2);      // valid bits
      put(fmt, 0, 4);         // channel mask
      put(fmt, tag, 2);       // sub-format GUID starts with the format code
      for (int i = 0; i < 14; ++i) fmt.push_back(0);
    }
    std::vector<uint8_t> body = {'W', 'A', 'V', 'E'};
    for (auto& [id, c] : extra_before_fmt) chunk(body, id, c);
    chunk(body, "fmt ", fmt);
    for (auto& [id, c] : extra_before_data) chunk(body, id, c);
    chunk(body, "data", data, data_size_override);
    std::vector<uint8_t> out = {'R', 'I', 'F', 'F'};
    put(out, riff_size_override >= 0 ? uint64_t(riff_size_override) : body.size(), 4);
    out.insert(out.end(), body.begin(), body.end());
    return out;
  }
};

void expect_wav_error(const std::vector<uint8_t>& bytes, const std::string& needle) {
  try {
    decode_wav(bytes, "test.wav");
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("test.wav"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

}  // namespace

TEST(Wav, Pcm16MonoScalesLikeTorchaudio) {
  WavBuilder w;
  for (int16_t v : {int16_t(0), int16_t(16384), int16_t(-32768), int16_t(32767)}) WavBuilder::put(w.data, uint16_t(v), 2);
  WavInfo info;
  Audio a = decode_wav(w.build(), "x", &info);
  EXPECT_EQ(info.sample_rate, 8000);
  EXPECT_EQ(info.frames, 4);
  EXPECT_EQ(info.encoding, "pcm");
  EXPECT_EQ(a.samples, (std::vector<float>{0.0f, 0.5f, -1.0f, 32767.0f / 32768.0f}));
}

TEST(Wav, EightTwentyFourThirtyTwoBitAndFloat) {
  WavBuilder w8;
  w8.bits = 8;
  w8.data = {128, 192, 0};
  EXPECT_EQ(decode_wav(w8.build(), "x").samples, (std::vector<float>{0.0f, 0.5f, -1.0f}));
  WavBuilder w24;
  w24.bits = 24;
  WavBuilder::put(w24.data, 0x400000, 3);  // +0.5
  WavBuilder::put(w24.data, 0xC00000, 3);  // -0.5 (sign-extended)
  EXPECT_EQ(decode_wav(w24.build(), "x").samples, (std::vector<float>{0.5f, -0.5f}));
  WavBuilder w32;
  w32.bits = 32;
  WavBuilder::put(w32.data, 0x40000000u, 4);
  EXPECT_EQ(decode_wav(w32.build(), "x").samples, (std::vector<float>{0.5f}));
  WavBuilder wf;
  wf.tag = 3;
  wf.bits = 32;
  float f = -0.25f;
  uint32_t u;
  std::memcpy(&u, &f, 4);
  WavBuilder::put(wf.data, u, 4);
  EXPECT_EQ(decode_wav(wf.build(), "x").samples, (std::vector<float>{-0.25f}));
  WavBuilder wd;
  wd.tag = 3;
  wd.bits = 64;
  double d = 0.125;
  uint64_t u64;
  std::memcpy(&u64, &d, 8);
  WavBuilder::put(wd.data, u64, 8);
  EXPECT_EQ(decode_wav(wd.build(), "x").samples, (std::vector<float>{0.125f}));
}

TEST(Wav, ExtensibleStereoAveragedAndUnknownChunksSkipped) {
  WavBuilder w;
  w.extensible = true;
  w.channels = 2;
  w.rate = 44100;
  w.extra_before_fmt = {{"JUNK", {1, 2, 3}}};          // odd size: padded
  w.extra_before_data = {{"LIST", {'a', 'b', 'c', 'd'}}};
  for (int16_t v : {int16_t(16384), int16_t(0), int16_t(-16384), int16_t(-16384)}) WavBuilder::put(w.data, uint16_t(v), 2);
  WavInfo info;
  Audio a = decode_wav(w.build(), "x", &info);
  EXPECT_EQ(info.channels, 2);
  EXPECT_EQ(info.sample_rate, 44100);
  EXPECT_EQ(a.samples, (std::vector<float>{0.25f, -0.5f}));
}

// G.711 values from the ITU-T expansion (as in libsndfile's and Python's audioop tables).
TEST(Wav, MuLawAndALawExpandLikeG711) {
  WavBuilder mu;
  mu.tag = 7;
  mu.bits = 8;
  mu.data = {0x00, 0x80, 0x7F, 0xFF, 0x0F, 0x8F};
  WavInfo info;
  const std::vector<float> m = decode_wav(mu.build(), "x", &info).samples;
  EXPECT_EQ(info.encoding, "mu-law");
  EXPECT_EQ(m, (std::vector<float>{-32124 / 32768.0f, 32124 / 32768.0f, 0.0f, 0.0f, -16764 / 32768.0f,
                                   16764 / 32768.0f}));
  WavBuilder a;
  a.tag = 6;
  a.bits = 8;
  a.extensible = true;
  a.data = {0xD5, 0x55, 0xAA, 0x2A, 0x80};
  const std::vector<float> al = decode_wav(a.build(), "x", &info).samples;
  EXPECT_EQ(info.encoding, "a-law");
  EXPECT_EQ(al, (std::vector<float>{8 / 32768.0f, -8 / 32768.0f, 32256 / 32768.0f, -32256 / 32768.0f,
                                    5504 / 32768.0f}));
  // Every code: odd symmetry about the sign bit, and the values ordered by the code (mu-law's
  // codes are inverted, A-law's inverted on alternate bits: undone here by the ^ 0x55).
  mu.data.clear();
  a.data.clear();
  for (int c = 0; c < 256; ++c) mu.data.push_back(uint8_t(c)), a.data.push_back(uint8_t(c ^ 0x55));
  const std::vector<float> mv = decode_wav(mu.build(), "x").samples, av = decode_wav(a.build(), "x").samples;
  for (int c = 0; c < 128; ++c) {
    EXPECT_EQ(mv[c], -mv[c | 0x80]) << c;
    EXPECT_EQ(av[c], -av[c | 0x80]) << c;
    if (c > 0) {
      EXPECT_GT(mv[c], mv[c - 1]) << c;  // mu-law 0x00 is the most negative value, 0x7F is 0
      EXPECT_LT(av[c], av[c - 1]) << c;  // A-law -8 down to -32256
    }
  }
}

// Recorders that stream to a pipe (arecord, sox, ffmpeg writing to stdout) cannot fill in the
// sizes afterwards; a file cut short has a size past its end. Both are read to the end of the
// file, and the note says what the header claimed.
TEST(Wav, UnsetOrWrongDataSizesAreReadToTheEndWithANote) {
  WavBuilder w;
  for (int16_t v : {int16_t(16384), int16_t(-16384), int16_t(8192)}) WavBuilder::put(w.data, uint16_t(v), 2);
  const std::vector<float> want = {0.5f, -0.5f, 0.25f};
  WavInfo info;
  EXPECT_EQ(decode_wav(w.build(), "x", &info).samples, want);
  EXPECT_EQ(info.note, "");
  for (auto [riff, data] : {std::pair<int64_t, int64_t>{0xFFFFFFFF, 0xFFFFFFFF},  // ffmpeg to a pipe
                            {0x7FFFFFFF, 0x7FFFFFFF - 36},                       // arecord-style maximum
                            {0, 0}}) {                                           // both left at zero
    w.riff_size_override = riff;
    w.data_size_override = data;
    EXPECT_EQ(decode_wav(w.build(), "x", &info).samples, want) << riff;
    EXPECT_EQ(info.frames, 3);
    EXPECT_NE(info.note.find("says " + std::to_string(data) + " bytes but 6 follow it"), std::string::npos)
        << info.note;
  }
  // The RIFF size alone wrong (too small to reach the data): chunks are walked to the end of
  // the file and the data chunk's own size is right, so nothing to say.
  w.riff_size_override = 4;
  w.data_size_override = -1;
  EXPECT_EQ(decode_wav(w.build(), "x", &info).samples, want);
  EXPECT_EQ(info.note, "");
  // A truly empty data chunk stays empty (the RIFF size is right).
  WavBuilder empty;
  EXPECT_TRUE(decode_wav(empty.build(), "x", &info).samples.empty());
  EXPECT_EQ(info.note, "");
  // Cut short in the middle of a frame: the whole frames are read, the rest is named.
  w.riff_size_override = -1;
  auto bytes = w.build();
  bytes.pop_back();
  EXPECT_EQ(decode_wav(bytes, "x", &info).samples, (std::vector<float>{0.5f, -0.5f}));
  EXPECT_NE(info.note.find("says 6 bytes but 5 follow it"), std::string::npos) << info.note;
  EXPECT_NE(info.note.find("the last 1 bytes, part of a frame, left out"), std::string::npos) << info.note;
}

// measure_level: peak, DC offset and the samples near the peak, which tell a clipped
// recording (runs at full scale, either sign) from a clean or a quiet one.
TEST(Wav, LevelTellsAClippedRecording) {
  std::vector<float> tone(8000);
  for (int i = 0; i < 8000; ++i) tone[i] = 0.1f + 0.4f * float(std::sin(2 * M_PI * 101.3 * i / 8000));
  Level l = measure_level(tone, 8000);
  EXPECT_NEAR(l.peak, 0.5, 1e-4);
  EXPECT_NEAR(l.mean, 0.1, 1e-3);
  EXPECT_FALSE(l.clipped());
  std::vector<float> loud(tone.size());
  for (size_t i = 0; i < tone.size(); ++i) loud[i] = std::clamp(4 * (tone[i] - 0.1f), -1.0f, 32767 / 32768.0f);
  l = measure_level(loud, 8000);
  EXPECT_EQ(l.peak, 1.0);
  EXPECT_TRUE(l.clipped());
  int64_t positive = 0, negative = 0;  // the runs at +32767/32768 and at -1
  for (float v : loud) positive += v == 32767 / 32768.0f, negative += v == -1.0f;
  ASSERT_GT(positive, 1000);
  ASSERT_GT(negative, 1000);
  EXPECT_GE(l.near_peak, positive + negative) << "both signs' runs count";
  EXPECT_LE(l.near_peak, (positive + negative) * 11 / 10) << "and the few samples on the way up";
  // A clean loud clip reaches its peak in a few samples; a quiet one repeats its peak's value
  // (few 16-bit steps), but lies far below full scale.
  std::vector<float> once(tone.size(), 0.0f);
  for (size_t i = 0; i < once.size(); ++i) once[i] = 0.3f * float(std::sin(0.01 * double(i) * double(i) / 800));
  once[4000] = 0.99f;
  EXPECT_FALSE(measure_level(once, 8000).clipped());
  std::vector<float> quiet(8000);
  for (int i = 0; i < 8000; ++i) quiet[i] = float(std::lround(3 * std::sin(0.2 * i))) / 32768;
  EXPECT_GT(measure_level(quiet, 8000).near_peak, 100);
  EXPECT_FALSE(measure_level(quiet, 8000).clipped());
  EXPECT_EQ(measure_level({}, 8000).near_peak, 0);
  EXPECT_FALSE(measure_level({}, 8000).clipped());
}

// Clipping is judged by how long the samples near the peak last, not by how many there are: five
// samples at one crest of a clean recording at 22050 Hz (0.23 ms) are not clipping, four at
// 8 kHz (0.5 ms) are.
TEST(Wav, ClippingIsJudgedInTimeNotSamples) {
  std::vector<float> x(8000, 0.2f);
  for (int i = 0; i < 5; ++i) x[4000 + i] = 1.0f - 0.002f * float(i);
  const Level fast = measure_level(x, 22050);
  EXPECT_EQ(fast.near_peak, 5);
  EXPECT_NEAR(fast.near_peak_seconds(), 5.0 / 22050, 1e-12);
  EXPECT_FALSE(fast.clipped());
  x[4004] = 0.2f;
  const Level slow = measure_level(x, 8000);
  EXPECT_EQ(slow.near_peak, 4);
  EXPECT_TRUE(slow.clipped());
  x[4003] = 0.2f;
  EXPECT_FALSE(measure_level(x, 8000).clipped()) << "three samples at 8 kHz: FSDD's loudest clips";
  EXPECT_EQ(peak_level(x), 1.0);
  EXPECT_EQ(peak_level({}), 0.0);
  EXPECT_THROW(measure_level(x, 0), Error);
}

TEST(Wav, WriteThenReadRoundTrips) {
  std::vector<float> x = {0.0f, 0.25f, -0.5f, 0.999f};
  Audio a = decode_wav(encode_wav(x, 16000), "x");
  EXPECT_EQ(a.sample_rate, 16000);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(a.samples[i], x[i], 1.0 / 32768);
}

TEST(Wav, MalformedFilesAreRefusedWithTheReason) {
  expect_wav_error({}, "too short");
  expect_wav_error({'R', 'I', 'F', 'X', 0, 0, 0, 0, 'W', 'A', 'V', 'E'}, "no RIFF/WAVE header");
  WavBuilder cut_list;  // a chunk before the data that runs past the end of the file
  cut_list.extra_before_data = {{"LIST", {1, 2, 3, 4}}};
  auto cut = cut_list.build();
  const uint32_t list_at = 12 + 8 + 16;  // RIFF header, then the 16-byte fmt chunk
  ASSERT_EQ(std::memcmp(&cut[list_at], "LIST", 4), 0);
  cut.resize(list_at + 8 + 2);
  expect_wav_error(cut, "truncated");
  WavBuilder zero_ch;
  zero_ch.channels = 0;
  zero_ch.block_align = 0;
  expect_wav_error(zero_ch.build(), "0 channels");
  WavBuilder zero_rate;
  zero_rate.rate = 0;
  expect_wav_error(zero_rate.build(), "sample rate 0");
  WavBuilder low_rate;  // below 1 kHz: a damaged header, which would resample to millions of samples
  low_rate.rate = 999;
  low_rate.data.assign(200, 0);
  expect_wav_error(low_rate.build(), "sample rate 999 Hz is out of range (duet reads 1000 to 1000000 Hz)");
  low_rate.rate = 1000;
  EXPECT_EQ(decode_wav(low_rate.build(), "1k.wav").sample_rate, 1000);
  WavBuilder adpcm;
  adpcm.tag = 2;
  expect_wav_error(adpcm.build(), "unsupported WAV encoding");
  WavBuilder bits12;
  bits12.bits = 12;
  bits12.block_align = 2;
  expect_wav_error(bits12.build(), "bit depth 12");
  WavBuilder float16;
  float16.tag = 3;
  expect_wav_error(float16.build(), "float bit depth 16");
  WavBuilder align;
  align.block_align = 3;
  expect_wav_error(align.build(), "block align");
  WavBuilder ragged;
  ragged.data = {0, 0, 0};
  expect_wav_error(ragged.build(), "not a whole number");
  // A file that is only a header, with no data chunk.
  std::vector<uint8_t> no_data = {'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'A', 'V', 'E'};
  expect_wav_error(no_data, "no fmt chunk");
  WavBuilder ulaw16;
  ulaw16.tag = 7;
  expect_wav_error(ulaw16.build(), "G.711 has 8");
  EXPECT_THROW(read_wav("/nonexistent/x.wav"), Error);
}

// A recording in another format (a phone's M4A, an MP3, a FLAC) is named, with how to convert
// it, rather than called a damaged WAV.
TEST(Wav, OtherAudioFormatsAreNamed) {
  const std::vector<std::pair<std::vector<uint8_t>, std::string>> files = {
      {{'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0}, "an MP3 file"},
      {{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0}, "an MP3 file"},  // an MP3 frame without ID3 tags
      {{'f', 'L', 'a', 'C', 0, 0, 0, 34}, "a FLAC file"},
      {{'O', 'g', 'g', 'S', 0, 2}, "an Ogg file (Vorbis or Opus)"},
      {{0, 0, 0, 32, 'f', 't', 'y', 'p', 'M', '4', 'A', ' '}, "an MP4 file (M4A, AAC, 3GP"},
      {{'F', 'O', 'R', 'M', 0, 0, 0, 4, 'A', 'I', 'F', 'F'}, "an AIFF file"},
      {{0x1A, 0x45, 0xDF, 0xA3, 0x9F}, "a WebM or Matroska file"},
      {{'#', '!', 'A', 'M', 'R', '\n'}, "an AMR file"},
      {{'c', 'a', 'f', 'f', 0, 1}, "a Core Audio (CAF) file"},
      {{0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66}, "a WMA (ASF) file"},
      {{'R', 'I', 'F', 'F', 4, 0, 0, 0, 'A', 'V', 'I', ' '}, "a RIFF file of type 'AVI '"},
  };
  for (const auto& [bytes, kind] : files) {
    EXPECT_NE(audio_format_of(bytes).find(kind), std::string::npos) << kind;
    expect_wav_error(bytes, kind);
    expect_wav_error(bytes, "not a WAV file; duet reads WAV, AIFF, CAF, FLAC, MP3, AAC (M4A) and Ogg Vorbis recordings (convert it first, e.g. ffmpeg");
  }
  EXPECT_EQ(audio_format_of(encode_wav({0.1f, -0.1f}, 8000)), "");
  EXPECT_EQ(audio_format_of({}), "");
}

// RF64 and BW64 (WAV for recordings past 4 GB) give their sizes in a ds64 chunk: read as the
// same recording in a RIFF file, with no note.
TEST(Wav, Rf64AndBw64AreReadByTheirDs64Sizes) {
  WavBuilder plain;
  plain.data = {1, 0, 2, 0, 0xFF, 0x7F, 0, 0x80, 7, 0};
  const Audio expected = decode_wav(plain.build(), "plain.wav");
  for (const char* magic : {"RF64", "BW64"}) {
    SCOPED_TRACE(magic);
    WavBuilder big = plain;
    std::vector<uint8_t> ds64;
    WavBuilder::put(ds64, 0xFFFFFFFFu, 8);        // the RIFF size (not read)
    WavBuilder::put(ds64, plain.data.size(), 8);  // the data size
    WavBuilder::put(ds64, 5, 8);                  // the sample count
    WavBuilder::put(ds64, 0, 4);                  // no table
    big.extra_before_fmt = {{"ds64", ds64}};
    big.data_size_override = big.riff_size_override = 0xFFFFFFFFu;
    std::vector<uint8_t> bytes = big.build();
    std::memcpy(bytes.data(), magic, 4);
    WavInfo info;
    const Audio a = decode_wav(bytes, "big.wav", &info);
    EXPECT_EQ(a.samples, expected.samples);
    EXPECT_EQ(a.sample_rate, 8000);
    EXPECT_EQ(info.note, "");
    // Without its ds64 chunk first: refused.
    WavBuilder bare = plain;
    std::vector<uint8_t> no_ds64 = bare.build();
    std::memcpy(no_ds64.data(), magic, 4);
    expect_wav_error(no_ds64, std::string(magic) + " file without a ds64 chunk (of at least 24 bytes) first");
  }
}

namespace {
std::vector<float> sine(double hz, int rate, int n) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = float(std::sin(2 * M_PI * hz * i / rate));
  return x;
}
double rms(const std::vector<float>& x, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += double(x[i]) * x[i];
  return std::sqrt(s / double(to - from));
}
}  // namespace

TEST(Resample, UpAndDownKeepAnInBandSine) {
  for (auto [from, to] : {std::pair{8000, 16000}, {44100, 8000}, {48000, 8000}, {16000, 8000}}) {
    auto x = sine(440.0, from, from);  // one second
    auto y = resample(x, from, to);
    ASSERT_EQ(y.size(), size_t(to));
    auto ref = sine(440.0, to, to);
    double err = 0;
    for (int i = to / 10; i < to * 9 / 10; ++i) err = std::max(err, double(std::abs(y[i] - ref[i])));
    EXPECT_LT(err, 0.01) << from << " -> " << to;
  }
}

TEST(Resample, DownsamplingRemovesWhatCannotBeRepresented) {
  // 5 kHz is above the 4 kHz Nyquist rate of 8 kHz audio: it must be filtered, not aliased to 3 kHz.
  auto y = resample(sine(5000.0, 16000, 16000), 16000, 8000);
  EXPECT_LT(rms(y, 800, 7200), 0.01);
  auto keep = resample(sine(3000.0, 16000, 16000), 16000, 8000);
  EXPECT_GT(rms(keep, 800, 7200), 0.65);  // a unit sine has rms 0.707
}

// resample() steps its taps' sines and cosines by recurrence; here every tap is evaluated
// directly (windowed sinc, Hann window of half-width 6/cutoff), on noise and rate pairs that
// are not simple ratios (speed perturbation resamples by arbitrary factors).
TEST(Resample, MatchesTheDirectlyEvaluatedWindowedSinc) {
  std::vector<float> x(3000);
  uint32_t state = 12345;
  for (float& v : x) v = float((state = state * 1664525u + 1013904223u) >> 8) / float(1 << 24) - 0.5f;
  const double pi = 3.14159265358979323846;
  for (auto [from, to] : {std::pair{8000, 7411}, {8000, 9377}, {44100, 8000}}) {
    const std::vector<float> y = resample(x, from, to);
    const double cutoff = 0.99 * std::min(1.0, double(to) / from), width = 6.0 / cutoff;
    ASSERT_EQ(y.size(), size_t(std::ceil(double(x.size()) * to / from)));
    double worst = 0;
    for (size_t j = 0; j < y.size(); ++j) {
      const double t = double(j) * from / to;
      double acc = 0;
      for (int64_t k = std::max<int64_t>(0, int64_t(std::ceil(t - width)));
           k <= std::min<int64_t>(int64_t(x.size()) - 1, int64_t(std::floor(t + width))); ++k) {
        const double u = t - double(k), a = pi * cutoff * u;
        const double sinc = std::abs(a) < 1e-12 ? 1.0 : std::sin(a) / a;
        acc += x[k] * cutoff * sinc * 0.5 * (1.0 + std::cos(pi * u / width));
      }
      worst = std::max(worst, std::abs(double(y[j]) - acc));
    }
    EXPECT_LT(worst, 1e-6) << from << " -> " << to;
  }
}

TEST(Resample, FixLengthPadsAndCrops) {
  EXPECT_EQ(fix_length({1, 2, 3}, 5), (std::vector<float>{1, 2, 3, 0, 0}));
  EXPECT_EQ(fix_length({1, 2, 3}, 2), (std::vector<float>{1, 2}));
  EXPECT_THROW(fix_length({1}, 0), Error);
  EXPECT_THROW(resample({1, 2}, 0, 8000), Error);
}

// The high-pass (dsp/filter.h): zero phase, the magnitude response 1 / (1 + (fc/f)^4) at
// every frequency tried, a DC offset removed exactly, bad cut-offs refused.
TEST(Highpass, MagnitudeIsTheSquaredButterworthResponseWithZeroPhase) {
  const int rate = 8000, n = 4 * rate;
  const size_t from = n / 4, to = 3 * n / 4;  // away from the ends
  for (double hz : {40.0, 50.0, 100.0, 200.0, 300.0, 1000.0, 3000.0}) {
    const std::vector<float> x = sine(hz, rate, n);
    const std::vector<float> y = highpass(x, rate, 100.0);
    ASSERT_EQ(y.size(), x.size());
    const double want = 1 / (1 + std::pow(100.0 / hz, 4));
    EXPECT_NEAR(rms(y, from, to) / rms(x, from, to), want, 0.01 * want + 1e-4) << hz << " Hz";
    // Zero phase: the output is the input scaled, sample by sample.
    double worst = 0;
    for (size_t i = from; i < to; ++i) worst = std::max(worst, std::abs(double(y[i]) - want * x[i]));
    EXPECT_LT(worst, 0.01) << hz << " Hz";
  }
}

TEST(Highpass, RemovesADcOffsetAndLeavesSpeechBandsAlone) {
  const int rate = 8000, n = rate;
  std::vector<float> x = sine(440.0, rate, n);
  for (float& v : x) v += 0.3f;
  const std::vector<float> y = highpass(x, rate, 100.0);
  double mean = 0;
  for (float v : y) mean += v;
  EXPECT_NEAR(mean / n, 0.0, 1e-3);  // of an offset of 0.3
  // No ringing at the ends: the first and last samples stay within the sine's range.
  EXPECT_LT(std::abs(y.front()), 0.05);
  EXPECT_LT(std::abs(y.back()), 1.05);
  EXPECT_NEAR(rms(y, n / 10, 9 * n / 10), std::sqrt(0.5), 0.01);
  EXPECT_TRUE(highpass({}, rate, 100.0).empty());
  EXPECT_THROW(highpass(x, rate, 0.0), Error);
  EXPECT_THROW(highpass(x, rate, -50.0), Error);
  EXPECT_THROW(highpass(x, rate, 2001.0), Error);  // above a quarter of the rate
  EXPECT_THROW(highpass(x, 0, 100.0), Error);
}
