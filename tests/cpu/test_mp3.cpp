// The MP3 decoder: streams built here frame by frame (every MPEG version, tags, a VBR header and
// its encoder delay, damaged stretches, a file cut short, and what it must refuse), and files the
// reference encoder (lame) writes in every mode, decoded as the reference decoder (mpg123)
// decodes them. Both tools are installed by tools/setup.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
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
#include "dsp/flac.h"
#include "dsp/mp3.h"
#include "dsp/wav.h"
#include "engine/error.h"
#include "reference_mp3.h"
#include "scratch.h"

using namespace duet;
using namespace duet::dsp;

namespace {

using Bytes = std::vector<uint8_t>;

using duet_test::BitWriter;

// The CRC-16 (0x8005, from 0xFFFF) of a frame's header's last two bytes and its side information.
uint16_t frame_crc(const Bytes& frame, int side_bytes) {
  Bytes covered = {frame[2], frame[3]};
  covered.insert(covered.end(), frame.begin() + 6, frame.begin() + 6 + side_bytes);
  uint16_t c = 0xFFFF;
  for (uint8_t byte : covered) {
    c ^= uint16_t(byte << 8);
    for (int k = 0; k < 8; ++k) c = uint16_t(c & 0x8000 ? (c << 1) ^ 0x8005 : c << 1);
  }
  return c;
}

// One granule and channel of the side information; the defaults code silence.
struct GranuleSide {
  int part2_3_length = 0, big_values = 0, global_gain = 0, scalefac_compress = 0;
  int window_switching = 0, block_type = 0, mixed = 0, table_select[3] = {0, 0, 0};
  int count1_table = 0;  // 0: table A, 1: table B
};

// A layer III frame (or layer I/II header) with the given fields; its side information codes
// silence unless `side` says otherwise, and its main data is `main` followed by zeros.
struct Frame {
  int version = 0;  // 0 MPEG-1, 1 MPEG-2, 2 MPEG-2.5
  int layer = 3, bitrate_index = 9, rate_index = 0, padding = 0, mode = 3, mode_ext = 0;
  bool crc = false;
  int main_data_begin = 0;
  GranuleSide side;  // for every granule and channel
  Bytes main;

  bool lsf() const { return version != 0; }
  int channels() const { return mode == 3 ? 1 : 2; }
  int side_bytes() const { return lsf() ? (channels() == 1 ? 9 : 17) : (channels() == 1 ? 17 : 32); }
  int bytes() const {
    static const int kbps[2][16] = {{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
                                    {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}};
    static const int rates[3][3] = {{44100, 48000, 32000}, {22050, 24000, 16000}, {11025, 12000, 8000}};
    return (lsf() ? 72 : 144) * kbps[lsf() ? 1 : 0][bitrate_index] * 1000 / rates[version][rate_index] + padding;
  }
  Bytes build() const {
    BitWriter w;
    w.put(0x7FF, 11);
    w.put(version == 0 ? 3 : version == 1 ? 2 : 0, 2);
    w.put(uint32_t(4 - layer), 2);
    w.put(crc ? 0 : 1, 1);
    w.put(uint32_t(bitrate_index), 4), w.put(uint32_t(rate_index), 2), w.put(uint32_t(padding), 1), w.put(0, 1);
    w.put(uint32_t(mode), 2), w.put(uint32_t(mode_ext), 2), w.put(0, 4);
    if (crc) w.put(0, 16);  // filled in below
    BitWriter s;
    s.put(uint32_t(main_data_begin), lsf() ? 8 : 9);
    s.put(0, lsf() ? (channels() == 1 ? 1 : 2) : (channels() == 1 ? 5 : 3));
    if (!lsf()) s.put(0, 4 * channels());  // scfsi
    for (int g = 0; g < (lsf() ? 1 : 2); ++g)
      for (int c = 0; c < channels(); ++c) {
        s.put(uint32_t(side.part2_3_length), 12), s.put(uint32_t(side.big_values), 9);
        s.put(uint32_t(side.global_gain), 8), s.put(uint32_t(side.scalefac_compress), lsf() ? 9 : 4);
        s.put(uint32_t(side.window_switching), 1);
        if (side.window_switching) {
          s.put(uint32_t(side.block_type), 2), s.put(uint32_t(side.mixed), 1);
          s.put(uint32_t(side.table_select[0]), 5), s.put(uint32_t(side.table_select[1]), 5), s.put(0, 9);
        } else {
          for (int r = 0; r < 3; ++r) s.put(uint32_t(side.table_select[r]), 5);
          s.put(0, 7);
        }
        s.put(0, lsf() ? 1 : 2);  // preflag, scalefac_scale
        s.put(uint32_t(side.count1_table), 1);
      }
    Bytes b = w.bytes;
    Bytes si = s.bytes;
    si.resize(size_t(side_bytes()), 0);
    b.insert(b.end(), si.begin(), si.end());
    b.insert(b.end(), main.begin(), main.end());
    b.resize(size_t(bytes()), 0);
    if (crc) {
      const uint16_t c = frame_crc(b, side_bytes());
      b[4] = uint8_t(c >> 8), b[5] = uint8_t(c);
    }
    return b;
  }
};

Bytes repeat(const Frame& f, int n) {
  Bytes b;
  for (int i = 0; i < n; ++i) {
    const Bytes one = f.build();
    b.insert(b.end(), one.begin(), one.end());
  }
  return b;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// An ID3v2 tag of `size` bytes after its header (with a footer when asked).
Bytes id3v2(size_t size, bool footer = false) {
  Bytes b = text("ID3");
  b.push_back(4), b.push_back(0), b.push_back(footer ? 0x10 : 0);
  for (int i = 3; i >= 0; --i) b.push_back(uint8_t((size >> (7 * i)) & 0x7F));
  b.resize(b.size() + size, 'x');
  if (footer) b = cat(b, cat(text("3DI"), Bytes(7, 0)));
  return b;
}

// A Xing/Info frame (the first of a VBR file), with a LAME tag's encoder delay and padding
// when delay >= 0, or a VBRI frame.
Bytes info_frame(Frame f, int delay, int padding, bool vbri = false) {
  Bytes b = f.build();
  if (vbri) {
    std::memcpy(b.data() + 36, "VBRI", 4);
    return b;
  }
  size_t at = 4 + size_t(f.side_bytes());  // where LAME puts it, CRC or not
  std::memcpy(b.data() + at, "Info", 4);
  b[at + 7] = 0;  // no frame count, byte count, TOC or quality
  if (delay >= 0) {
    at += 8;
    std::memcpy(b.data() + at, "LAME3.100", 9);
    b[at + 21] = uint8_t(delay >> 4);
    b[at + 22] = uint8_t(((delay & 0xF) << 4) | (padding >> 8));
    b[at + 23] = uint8_t(padding);
  }
  if (f.crc) {  // the tag overlaps the side information's last bytes: the CRC covers it
    const uint16_t c = frame_crc(b, f.side_bytes());
    b[4] = uint8_t(c >> 8), b[5] = uint8_t(c);
  }
  return b;
}

std::string error_of(const Bytes& b, const std::string& name = "x.mp3") {
  try {
    decode_mp3(b, name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The samples of a 32-bit float WAV (mpg123's output), channels averaged.
std::vector<float> read_float_wav(const std::string& path) {
  WavInfo info;
  return read_wav(path, &info).samples;
}

}  // namespace

TEST(Mp3, SilentFramesOfEveryVersion) {
  struct Case {
    int version, rate_index, mode, bitrate_index, rate, per_frame;
    const char* encoding;
  } cases[] = {
      {0, 0, 3, 9, 44100, 1152, "MPEG-1 layer III (MP3), 128 kbit/s"},
      {0, 1, 1, 14, 48000, 1152, "MPEG-1 layer III (MP3), 320 kbit/s"},
      {0, 2, 0, 1, 32000, 1152, "MPEG-1 layer III (MP3), 32 kbit/s"},
      {1, 0, 3, 9, 22050, 576, "MPEG-2 layer III (MP3), 80 kbit/s"},
      {1, 1, 2, 4, 24000, 576, "MPEG-2 layer III (MP3), 32 kbit/s"},
      {1, 2, 3, 1, 16000, 576, "MPEG-2 layer III (MP3), 8 kbit/s"},
      {2, 0, 3, 2, 11025, 576, "MPEG-2.5 layer III (MP3), 16 kbit/s"},
      {2, 1, 1, 5, 12000, 576, "MPEG-2.5 layer III (MP3), 40 kbit/s"},
      {2, 2, 3, 1, 8000, 576, "MPEG-2.5 layer III (MP3), 8 kbit/s"},
  };
  for (const Case& c : cases) {
    Frame f;
    f.version = c.version, f.rate_index = c.rate_index, f.mode = c.mode, f.bitrate_index = c.bitrate_index;
    const Bytes b = repeat(f, 7);
    EXPECT_TRUE(is_mpeg_audio(b)) << c.encoding;
    WavInfo info;
    const Audio a = decode_audio(b, "x.mp3", &info);
    EXPECT_EQ(a.sample_rate, c.rate) << c.encoding;
    EXPECT_EQ(a.samples.size(), size_t(7 * c.per_frame)) << c.encoding;
    for (float v : a.samples) ASSERT_EQ(v, 0.0f) << c.encoding;
    EXPECT_EQ(info.encoding, c.encoding);
    EXPECT_EQ(info.channels, c.mode == 3 ? 1 : 2) << c.encoding;
    EXPECT_EQ(info.bits_per_sample, 0) << c.encoding;
    EXPECT_EQ(info.note, "") << c.encoding;
  }
  // Bitrates that change from frame to frame (VBR), padded frames and CRC-protected ones.
  Frame f;
  Bytes b = repeat(f, 2);
  f.bitrate_index = 5, f.padding = 1;
  b = cat(b, repeat(f, 2));
  f.bitrate_index = 12, f.crc = true;
  b = cat(b, repeat(f, 2));
  WavInfo info;
  EXPECT_EQ(decode_mp3(b, "x.mp3", &info).samples.size(), size_t(6 * 1152));
  EXPECT_EQ(info.encoding, "MPEG-1 layer III (MP3), 64-224 kbit/s (variable)");
}

TEST(Mp3, VbrHeaderFramesAreSkippedAndTheEncoderDelayTrimmed) {
  Frame f;
  const Bytes audio = repeat(f, 10);
  // An Info frame with a LAME tag: delay + 529 samples from the start, padding - 529 from the end.
  EXPECT_EQ(decode_mp3(cat(info_frame(f, 576, 1000), audio), "x").samples.size(), size_t(10 * 1152 - 576 - 1000));
  // With a CRC (LAME puts the tag where it would be without one).
  Frame protected_frame = f;
  protected_frame.crc = true;
  EXPECT_EQ(decode_mp3(cat(info_frame(protected_frame, 100, 600), repeat(protected_frame, 10)), "x").samples.size(),
            size_t(10 * 1152 - 100 - 600));
  // Without a LAME tag, or a VBRI header: the frame is skipped and nothing trimmed.
  EXPECT_EQ(decode_mp3(cat(info_frame(f, -1, 0), audio), "x").samples.size(), size_t(10 * 1152));
  EXPECT_EQ(decode_mp3(cat(info_frame(f, -1, 0, true), audio), "x").samples.size(), size_t(10 * 1152));
  // A delay and padding longer than the stream leave nothing, and do not fail.
  EXPECT_EQ(decode_mp3(cat(info_frame(f, 4000, 4000), repeat(f, 2)), "x").samples.size(), size_t(0));
}

TEST(Mp3, TagsDamagedStretchesAndFilesCutShort) {
  Frame f;
  f.mode = 1;
  const Bytes audio = repeat(f, 6);
  auto decode = [](const Bytes& b, WavInfo* info) { return decode_audio(b, "x.mp3", info).samples.size(); };
  WavInfo info;
  // Tags before (with and without a footer) and after the stream: not audio, and no note.
  Bytes v1 = text("TAG");
  v1.resize(128, ' ');
  Bytes ape = text("APETAGEX");
  ape.resize(64, 0);
  for (const Bytes& b : {cat(id3v2(300), audio), cat(cat(id3v2(20, true), id3v2(40)), audio), cat(audio, v1),
                         cat(cat(audio, ape), v1), cat(cat(id3v2(1000), audio), cat(id3v2(50), v1))}) {
    EXPECT_EQ(decode(b, &info), size_t(6 * 1152));
    EXPECT_EQ(info.note, "");
  }
  // Bytes that are not frames, between frames or before the first: skipped up to the next two
  // frames in a row, and said so. A stray sync word among them is not taken for a frame.
  Bytes junk(100, 0x55);
  junk[40] = 0xFF, junk[41] = 0xFB, junk[42] = 0x90;
  const Bytes first3(audio.begin(), audio.begin() + 3 * f.bytes()), last3(audio.begin() + 3 * f.bytes(), audio.end());
  EXPECT_EQ(decode(cat(cat(first3, junk), last3), &info), size_t(6 * 1152));
  EXPECT_EQ(info.note, "100 bytes that are not MPEG audio frames were skipped (a damaged file?)");
  EXPECT_EQ(decode(cat(cat(id3v2(10), junk), audio), &info), size_t(6 * 1152));
  EXPECT_EQ(info.note, "100 bytes that are not MPEG audio frames were skipped (a damaged file?)");
  EXPECT_EQ(decode(cat(audio, Bytes(100, 0x55)), &info), size_t(6 * 1152));
  EXPECT_EQ(info.note, "100 bytes that are not MPEG audio frames were skipped (a damaged file?)");
  // Cut short: the whole frames are read.
  const Bytes cut(audio.begin(), audio.end() - 50);
  EXPECT_EQ(decode(cut, &info), size_t(5 * 1152));
  EXPECT_EQ(info.note, "the file is cut short in frame 6; the frames before it are read");
  // A first frame whose data lies in frames before the file's start (cut from a longer stream).
  Frame late = f;
  late.main_data_begin = 200;
  EXPECT_EQ(decode(cat(late.build(), audio), &info), size_t(7 * 1152));
  EXPECT_EQ(info.note,
            "1 frame refers to data before the file's start (a stream cut from a longer one) and is read as silence");
}

// The count1 region ends where the granule's part2_3_length does; a quadruple whose code and
// sign bits run past that end is stuffing, not data.
TEST(Mp3, Count1QuadrupleRunningPastTheGranuleIsDropped) {
  Frame f;
  f.side.global_gain = 210, f.side.count1_table = 1;  // table B: every quadruple's code is 4 bits
  f.main = {0x00, 0x00};                              // "0000": v = w = x = y = 1, then four sign bits
  auto peak = [](const Frame& g) {
    float m = 0;
    for (float v : decode_mp3(repeat(g, 2), "x").samples) m = std::max(m, std::abs(v));
    return m;
  };
  f.side.part2_3_length = 8;  // code and signs inside the granule: four lines of 1
  EXPECT_GT(peak(f), 0.01f);
  f.side.part2_3_length = 6;  // the signs run past its end: dropped, silence
  EXPECT_EQ(peak(f), 0.0f);
}

TEST(Mp3, RefusedStreamsNameTheFileAndFrame) {
  Frame f;
  const Bytes good = repeat(f, 3);
  auto with = [&](const std::function<void(Frame&)>& change, int at = 1) {
    Frame g = f;
    change(g);
    Bytes b;
    for (int i = 0; i < 3; ++i) b = cat(b, i == at ? g.build() : f.build());
    return b;
  };
  auto expect_error = [](const Bytes& b, const std::string& want) {
    const std::string got = error_of(b, "clip.mp3");
    EXPECT_NE(got.find(want), std::string::npos) << "expected \"" << want << "\" in \"" << got << "\"";
    EXPECT_EQ(got.rfind("clip.mp3", 0), 0u) << got;
  };
  // Other layers, free format.
  Frame l2 = f;
  l2.layer = 2;
  expect_error(repeat(l2, 3), "clip.mp3: MPEG audio layer II (MP2), not layer III (MP3)");
  l2.layer = 1;
  expect_error(repeat(l2, 3), "layer I (MP1), not layer III");
  Bytes free_format = good;  // bitrate index 0: the frame's length is not in its header
  free_format[2] &= 0x0F;
  expect_error(free_format, "clip.mp3: frame 1 (byte 0): a free-format bitrate");
  // What the decoder does not read.
  Frame intensity = f;
  intensity.mode = 1, intensity.mode_ext = 1;
  expect_error(repeat(intensity, 3), "clip.mp3: frame 1 (byte 0): intensity stereo");
  intensity.mode_ext = 2;  // mid/side alone is read
  EXPECT_EQ(error_of(repeat(intensity, 3)), "");
  expect_error(with([](Frame& g) { g.side.window_switching = 1, g.side.block_type = 2, g.side.mixed = 1; }),
               "frame 2 (byte 417): mixed blocks");
  // Damaged side information and data.
  expect_error(with([](Frame& g) { g.side.window_switching = 1, g.side.block_type = 0; }),
               "frame 2 (byte 417): damaged side information (block type 0 with window switching)");
  expect_error(with([](Frame& g) { g.side.big_values = 289; }), "more than 288 big values");
  expect_error(with([](Frame& g) { g.side.table_select[1] = 4; }), "Huffman table 4 or 14");
  expect_error(with([](Frame& g) { g.side.table_select[2] = 14; }), "Huffman table 4 or 14");
  expect_error(with([](Frame& g) { g.side.part2_3_length = 4000; }),
               "frame 2 (byte 417): damaged (its part2_3_length runs past the end of the frames it may use)");
  expect_error(with([](Frame& g) { g.side.part2_3_length = 8, g.side.scalefac_compress = 15; }),
               "damaged (its scalefactors run past its part2_3_length)");
  Frame protected_frame = f;
  protected_frame.crc = true;
  Bytes damaged = repeat(protected_frame, 3);
  EXPECT_EQ(error_of(damaged), "");
  damaged[417 + 8] ^= 0x10;  // a bit of frame 2's side information
  expect_error(damaged, "clip.mp3: frame 2 (byte 417): CRC mismatch (the frame is damaged)");
  // No frames.
  expect_error(id3v2(100), "clip.mp3: an ID3 tag and no audio after it");
  expect_error(cat(id3v2(100), Bytes(500, 0x42)), "clip.mp3: no MPEG audio frame found after its ID3 tag");
  expect_error(Bytes(good.begin(), good.begin() + 200),
               "clip.mp3: no audio frames (the file is cut short in its first frame)");
  EXPECT_EQ(error_of(good), "");
}

TEST(Mp3, ToldApartFromWavAndFlac) {
  Frame f;
  const Bytes mp3 = repeat(f, 2);
  EXPECT_TRUE(is_mpeg_audio(mp3));
  EXPECT_TRUE(is_mpeg_audio(cat(id3v2(10), mp3)));
  EXPECT_FALSE(is_mpeg_audio(encode_wav(std::vector<float>(100, 0.1f), 8000)));
  EXPECT_FALSE(is_mpeg_audio(cat(text("fLaC"), Bytes(40, 0))));
  EXPECT_FALSE(is_mpeg_audio(cat(id3v2(10), cat(text("fLaC"), Bytes(40, 0)))));  // an ID3 tag before FLAC
  EXPECT_FALSE(is_mpeg_audio(text("OggS....")));
  // Read by its bytes whatever its name says; a WAV named .mp3 is read as WAV.
  EXPECT_EQ(decode_audio(mp3, "clip.wav").samples.size(), size_t(2 * 1152));
  EXPECT_EQ(decode_audio(encode_wav(std::vector<float>(100, 0.1f), 8000), "clip.mp3").samples.size(), size_t(100));
  // The WAV reader itself names an MP3 it is given, with how to convert it.
  try {
    decode_wav(mp3, "clip.wav");
    ADD_FAILURE() << "decode_wav read an MP3";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("an MP3 file, not a WAV file; duet reads WAV, AIFF, CAF, FLAC, MP3, AAC (M4A)"),
        std::string::npos)
        << e.what();
  }
}

TEST(Mp3, ReadsWhatTheReferenceEncoderWritesAsTheReferenceDecoderDoes) {
  DUET_REQUIRE_REFERENCE_MP3();
  duet_test::ScratchFolder scratch("duet_mp3_");
  const std::string dir = scratch.path().string();
  struct Case {
    int rate, channels;
    std::string options;
  } cases[] = {
      {44100, 2, ""},   {48000, 2, "-m s"}, {32000, 2, "-m d"},      {44100, 2, "-m f"},
      {44100, 2, "-p"}, {44100, 2, "-V 0"}, {44100, 2, "-b 320"},    {44100, 1, "-b 32"},
      {24000, 2, ""},   {22050, 2, "-V 9"}, {16000, 1, "-p"},        {12000, 2, ""},
      {11025, 1, ""},   {8000, 1, "-b 8"},  {8000, 2, "-m j -b 24"}, {44100, 1, "-m m --resample 16"},
  };
  int k = 0;
  for (const Case& c : cases) {
    const std::string what = "case " + std::to_string(k) + " (" + std::to_string(c.rate) + " Hz, " +
                             std::to_string(c.channels) + " ch, lame " + c.options + ")";
    const int n = c.rate * 3 / 2;
    const std::vector<int16_t> pcm = duet_test::codec_test_signal(c.rate, c.channels, n, uint32_t(k));
    const std::string wav = dir + "/" + std::to_string(k) + ".wav", mp3 = dir + "/" + std::to_string(k) + ".mp3",
                      ref = dir + "/" + std::to_string(k) + ".ref.wav";
    duet_test::write_pcm16_wav(wav, pcm, c.channels, c.rate);
    ASSERT_EQ(duet_test::encode_mp3(wav, mp3, c.options), "") << what;
    ASSERT_EQ(duet_test::decode_reference_mp3(mp3, ref), "") << what;
    WavInfo info;
    const Audio a = read_audio(mp3, &info);
    const std::vector<float> want = read_float_wav(ref);
    EXPECT_EQ(info.note, "") << what;
    ASSERT_EQ(a.samples.size(), want.size()) << what;
    double worst = 0, peak = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      worst = std::max(worst, double(std::abs(a.samples[i] - want[i])));
      peak = std::max(peak, double(std::abs(want[i])));
    }
    EXPECT_LT(worst, 2e-6) << what;
    EXPECT_GT(peak, 0.1) << what;  // not two silences agreeing
    ++k;
  }
}
