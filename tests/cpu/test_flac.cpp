// The FLAC decoder: streams built here bit by bit (every subframe type, residual coding, stereo
// decorrelation and header code, and the damaged variants it must refuse), and files written
// by the reference encoder (flac, which tools/setup.sh installs) in every mode it has.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dsp/flac.h"
#include "dsp/wav.h"
#include "engine/error.h"
#include "bit_writer.h"
#include "reference_flac.h"
#include "scratch.h"

using namespace duet;
using namespace duet::dsp;

namespace {

using duet_test::BitWriter;

// One channel's subframe as the test wants it written.
struct Sub {
  enum Kind { kConstant, kVerbatim, kFixed, kLpc } kind = kVerbatim;
  int order = 0;           // fixed and LPC
  std::vector<int> coefs;  // LPC, newest sample first
  int precision = 15, shift = 0;
  int wasted = 0;  // low bits known to be zero
  int method = 0;  // residual: 0 = 4-bit Rice parameters, 1 = 5-bit
  int partition_order = 0;
  int rice = -1;        // the Rice parameter (-1: the smallest that fits the mean)
  bool escape = false;  // write partitions as escaped fixed-width values instead
};

int64_t fixed_prediction(const std::vector<int64_t>& x, int i, int order) {
  switch (order) {
    case 0: return 0;
    case 1: return x[i - 1];
    case 2: return 2 * x[i - 1] - x[i - 2];
    case 3: return 3 * x[i - 1] - 3 * x[i - 2] + x[i - 3];
    default: return 4 * x[i - 1] - 6 * x[i - 2] + 4 * x[i - 3] - x[i - 4];
  }
}

void write_residual(BitWriter& w, const std::vector<int64_t>& res, int order, const Sub& s) {
  const int n = int(res.size()) + order;  // the block
  w.put(s.method, 2);
  w.put(s.partition_order, 4);
  const int parts = 1 << s.partition_order, param_bits = s.method == 0 ? 4 : 5;
  size_t k = 0;
  for (int p = 0; p < parts; ++p) {
    const int count = (n >> s.partition_order) - (p == 0 ? order : 0);
    if (count < 0) return;  // a partition order too large for the block: the decoder stops here
    if (s.escape) {
      // The fewest bits that hold every residual of the partition in two's complement (0: all zero).
      int width = 0;
      for (int i = 0; i < count; ++i) {
        if (res[k + i] != 0) width = std::max(width, 1);
        while (width && (res[k + i] < -(int64_t(1) << (width - 1)) || res[k + i] > (int64_t(1) << (width - 1)) - 1))
          ++width;
      }
      w.put((1u << param_bits) - 1, param_bits);
      w.put(width, 5);
      for (int i = 0; i < count; ++i, ++k)
        if (width) w.put_signed(res[k], width);
      continue;
    }
    int param = s.rice;
    if (param < 0) {
      double mean = 0;
      for (int i = 0; i < count; ++i) mean += std::abs(double(res[k + i]));
      mean /= std::max(count, 1);
      param = 0;
      while (param < (1 << param_bits) - 2 && double(1 << param) < mean) ++param;
    }
    w.put(param, param_bits);
    for (int i = 0; i < count; ++i, ++k) {
      const uint64_t u = res[k] >= 0 ? uint64_t(res[k]) << 1 : (uint64_t(-res[k]) << 1) - 1;
      w.unary(u >> param);
      w.put(u & ((1ull << param) - 1), param);
    }
  }
}

void write_subframe(BitWriter& w, std::vector<int64_t> x, int bits, const Sub& s) {
  w.put(0, 1);
  const int type = s.kind == Sub::kConstant   ? 0
                   : s.kind == Sub::kVerbatim ? 1
                   : s.kind == Sub::kFixed    ? 8 + s.order
                                              : 31 + s.order;
  w.put(type, 6);
  if (s.wasted) {
    w.put(1, 1);
    w.unary(s.wasted - 1);
    for (auto& v : x) v >>= s.wasted;
  } else {
    w.put(0, 1);
  }
  const int b = bits - s.wasted;
  if (s.kind == Sub::kConstant) {
    w.put_signed(x[0], b);
    return;
  }
  if (s.kind == Sub::kVerbatim) {
    for (int64_t v : x) w.put_signed(v, b);
    return;
  }
  for (int i = 0; i < s.order; ++i) w.put_signed(x[i], b);
  std::vector<int64_t> res;
  if (s.kind == Sub::kLpc) {
    w.put(s.precision - 1, 4);
    w.put_signed(s.shift, 5);
    for (int c : s.coefs) w.put_signed(c, s.precision);
    for (size_t i = s.order; i < x.size(); ++i) {
      int64_t sum = 0;
      for (int j = 0; j < s.order; ++j) sum += int64_t(s.coefs[j]) * x[i - 1 - j];
      res.push_back(x[i] - (sum >> std::max(s.shift, 0)));  // a negative shift is the decoder's to refuse
    }
  } else {
    for (size_t i = s.order; i < x.size(); ++i) res.push_back(x[i] - fixed_prediction(x, int(i), s.order));
  }
  write_residual(w, res, s.order, s);
}

// A frame's header fields; codes as RFC 9639 numbers them.
struct Frame {
  bool variable = false;
  int block_code = -1;  // -1: chosen from the block's size (6/7 for sizes without a code of their own)
  int rate_code = 0, rate_value = 0;
  int channel_code = 0;  // 0-7: independent channels; 8 left/side, 9 side/right, 10 mid/side
  int bits_code = 0;
  uint64_t number = 0;
  std::vector<std::vector<int64_t>> channels;  // as the encoder hands them to the subframes
  std::vector<Sub> subs;
};

void put_coded_number(BitWriter& w, uint64_t v) {
  if (v < 0x80) return w.put(v, 8);
  int extra = 1;
  while (v >= (uint64_t(1) << (6 * extra + 6 - extra))) ++extra;
  w.put(((0xFF00u >> (extra + 1)) & 0xFF) | (v >> (6 * extra)), 8);
  for (int i = extra - 1; i >= 0; --i) w.put(0x80 | ((v >> (6 * i)) & 0x3F), 8);
}

void write_frame(std::vector<uint8_t>& out, const Frame& f, int stream_bits) {
  BitWriter w;
  const int block = int(f.channels[0].size());
  int code = f.block_code;
  if (code < 0) code = block == 192 ? 1 : block == 4096 ? 12 : block <= 256 ? 6 : 7;
  w.put(0x7FFC, 15);
  w.put(f.variable, 1);
  w.put(code, 4);
  w.put(f.rate_code, 4);
  w.put(f.channel_code, 4);
  w.put(f.bits_code, 3);
  w.put(0, 1);
  put_coded_number(w, f.number);
  if (code == 6) w.put(block - 1, 8);
  if (code == 7) w.put(block - 1, 16);
  if (f.rate_code == 12) w.put(f.rate_value, 8);
  if (f.rate_code == 13 || f.rate_code == 14) w.put(f.rate_value, 16);
  w.put(flac_crc8(w.bytes.data(), w.bytes.size()), 8);
  for (size_t c = 0; c < f.channels.size(); ++c) {
    const bool side =
        (f.channel_code == 8 && c == 1) || (f.channel_code == 9 && c == 0) || (f.channel_code == 10 && c == 1);
    write_subframe(w, f.channels[c], stream_bits + side, f.subs[c]);
  }
  w.align();
  w.put(flac_crc16(w.bytes.data(), w.bytes.size()), 16);
  out.insert(out.end(), w.bytes.begin(), w.bytes.end());
}

std::vector<uint8_t> stream_header(int rate, int channels, int bits, uint64_t total, int min_block = 16,
                                   int max_block = 65535) {
  BitWriter w;
  for (char c : std::string("fLaC")) w.put(uint8_t(c), 8);
  w.put(0x80, 8);  // the last metadata block, type 0: STREAMINFO
  w.put(34, 24);
  w.put(min_block, 16);
  w.put(max_block, 16);
  w.put(0, 24);
  w.put(0, 24);
  w.put(rate, 20);
  w.put(channels - 1, 3);
  w.put(bits - 1, 5);
  w.put(total, 36);
  for (int i = 0; i < 16; ++i) w.put(0, 8);  // MD5, not checked
  return w.bytes;
}

std::vector<int64_t> tone(int n, int bits, double freq, double level, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<int64_t> x(n);
  const double full = double(int64_t(1) << (bits - 1)) - 1;
  for (int i = 0; i < n; ++i) {
    const double v = level * std::sin(2 * M_PI * freq * i * (1 + 0.2 * std::sin(i * 0.003))) + noise(rng) * level;
    x[i] = std::llround(std::clamp(v, -1.0, 1.0) * full);
  }
  return x;
}

// What decode_flac gives for these channels: their mean, scaled like torchaudio.load's.
std::vector<float> expected_mono(const std::vector<std::vector<int64_t>>& ch, int bits) {
  std::vector<float> out(ch[0].size());
  for (size_t i = 0; i < out.size(); ++i) {
    double sum = 0;
    for (const auto& c : ch) sum += double(c[i]);
    out[i] = float(sum / double(ch.size()) / double(int64_t(1) << (bits - 1)));
  }
  return out;
}

void expect_samples(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (std::abs(got[i] - want[i]) > 1e-6f * std::max(1e-3f, std::abs(want[i])) && bad++ < 3)
      ADD_FAILURE() << what << ": sample " << i << " is " << got[i] << ", expected " << want[i];
  EXPECT_EQ(bad, 0) << what;
}

void expect_flac_error(const std::vector<uint8_t>& bytes, const std::string& needle) {
  try {
    decode_flac(bytes, "test.flac");
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("test.flac"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << "expected '" << needle << "' in: " << msg;
  }
}

// A mono 16-bit stream of frames, one per subframe description, over one signal.
std::vector<uint8_t> mono_stream(const std::vector<Sub>& subs, int block, std::vector<float>* want,
                                 uint64_t total_override = ~0ull) {
  const int bits = 16;
  std::vector<int64_t> all;
  std::vector<uint8_t> frames;
  for (size_t k = 0; k < subs.size(); ++k) {
    std::vector<int64_t> x = tone(block, bits, 0.01 + 0.004 * double(k), 0.5, uint32_t(k));
    if (subs[k].kind == Sub::kConstant) x.assign(block, -123);
    if (subs[k].wasted)
      for (auto& v : x) v = v / (int64_t(1) << subs[k].wasted) * (int64_t(1) << subs[k].wasted);
    Frame f;
    f.number = k;
    f.rate_code = 4;  // 8 kHz
    f.bits_code = 4;  // 16 bits
    f.channels = {x};
    f.subs = {subs[k]};
    write_frame(frames, f, bits);
    all.insert(all.end(), x.begin(), x.end());
  }
  if (want) *want = expected_mono({all}, bits);
  std::vector<uint8_t> out = stream_header(8000, 1, bits, total_override != ~0ull ? total_override : all.size());
  out.insert(out.end(), frames.begin(), frames.end());
  return out;
}

Sub fixed(int order) {
  Sub s;
  s.kind = Sub::kFixed;
  s.order = order;
  return s;
}

Sub lpc(std::vector<int> coefs, int shift, int precision = 15) {
  Sub s;
  s.kind = Sub::kLpc;
  s.order = int(coefs.size());
  s.coefs = std::move(coefs);
  s.shift = shift;
  s.precision = precision;
  return s;
}

}  // namespace

TEST(Flac, CrcsAreFlacs) {
  // The check values of CRC-8 (poly 0x07) and CRC-16/UMTS (poly 0x8005, the one FLAC uses) over
  // "123456789", as catalogued for every CRC.
  const std::string s = "123456789";
  EXPECT_EQ(flac_crc8(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 0xF4);
  EXPECT_EQ(flac_crc16(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 0xFEE8);
}

TEST(Flac, EverySubframeTypeDecodes) {
  Sub constant, verbatim, wasted = fixed(2), escaped = fixed(1), five_bit = fixed(3), partitioned = fixed(4);
  constant.kind = Sub::kConstant;
  verbatim.kind = Sub::kVerbatim;
  wasted.wasted = 3;
  escaped.escape = true;
  escaped.partition_order = 2;
  five_bit.method = 1;
  five_bit.rice = 17;  // larger than a 4-bit parameter can say
  partitioned.partition_order = 4;
  const std::vector<Sub> subs = {constant,
                                 verbatim,
                                 fixed(0),
                                 fixed(1),
                                 fixed(2),
                                 fixed(3),
                                 fixed(4),
                                 wasted,
                                 escaped,
                                 five_bit,
                                 partitioned,
                                 lpc({2, -1}, 0),
                                 lpc({7000, -3500, 800}, 12, 15),
                                 lpc(std::vector<int>(32, 1), 5, 4)};
  std::vector<float> want;
  const std::vector<uint8_t> bytes = mono_stream(subs, 512, &want);
  ASSERT_TRUE(is_flac(bytes));
  WavInfo info;
  const Audio a = decode_flac(bytes, "test.flac", &info);
  EXPECT_EQ(a.sample_rate, 8000);
  EXPECT_EQ(info.encoding, "flac");
  EXPECT_EQ(info.bits_per_sample, 16);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.frames, int64_t(subs.size()) * 512);
  EXPECT_EQ(info.note, "");
  expect_samples(a.samples, want, "subframes");
  // decode_audio tells FLAC from WAV by its bytes.
  expect_samples(decode_audio(bytes, "test.flac").samples, want, "decode_audio");

  // An escaped partition of width 0 (every residual 0): a straight line under order 2.
  std::vector<int64_t> line(64);
  for (int i = 0; i < 64; ++i) line[i] = 5 * i - 100;
  Sub flat = fixed(2);
  flat.escape = true;
  Frame f;
  f.rate_code = 4;
  f.bits_code = 4;
  f.channels = {line};
  f.subs = {flat};
  std::vector<uint8_t> s = stream_header(8000, 1, 16, 64);
  write_frame(s, f, 16);
  expect_samples(decode_flac(s, "line.flac").samples, expected_mono({line}, 16), "width-0 escape");
}

TEST(Flac, StereoDecorrelationsAndHeaderCodes) {
  const int n = 300;
  const std::vector<int64_t> left = tone(n, 16, 0.02, 0.6, 1), right = tone(n, 16, 0.021, 0.4, 2);
  std::vector<int64_t> side(n), mid(n);
  for (int i = 0; i < n; ++i) {
    side[i] = left[i] - right[i];
    mid[i] = (left[i] + right[i]) >> 1;
  }
  const std::vector<float> want = expected_mono({left, right}, 16);
  struct Case {
    int code;
    std::vector<int64_t> a, b;
  } cases[] = {{1, left, right}, {8, left, side}, {9, side, right}, {10, mid, side}};
  for (const Case& c : cases) {
    Frame f;
    f.rate_code = 4;
    f.bits_code = 4;
    f.channel_code = c.code;
    f.channels = {c.a, c.b};
    f.subs = {fixed(2), lpc({3, -2}, 1)};
    std::vector<uint8_t> s = stream_header(8000, 2, 16, n);
    write_frame(s, f, 16);
    WavInfo info;
    expect_samples(decode_flac(s, "stereo.flac", &info).samples, want, "channel code " + std::to_string(c.code));
    EXPECT_EQ(info.channels, 2);
  }

  // Sample rates given in the header (8-bit kHz, 16-bit Hz, 16-bit tens of Hz), sample sizes
  // of 12 and 20 bits, block sizes in 8 and 16 bits, variable blocking with large sample numbers.
  struct Header {
    int rate, rate_code, rate_value, bits, bits_code, block;
    bool variable;
    uint64_t number;
  } headers[] = {{22000, 12, 22, 12, 2, 100, false, 0},
                 {12345, 13, 12345, 20, 5, 1000, true, 1000000},
                 {44100, 9, 0, 24, 6, 4096, true, 68719476735ull},
                 {11020, 14, 1102, 8, 1, 192, false, 3},
                 {96000, 11, 0, 16, 0, 7, true, 77}};
  for (const Header& h : headers) {
    Frame f;
    f.variable = h.variable;
    f.number = h.number;
    f.rate_code = h.rate_code;
    f.rate_value = h.rate_value;
    f.bits_code = h.bits_code;
    const std::vector<int64_t> x = tone(h.block, h.bits, 0.013, 0.7, 3);
    f.channels = {x};
    f.subs = {fixed(3)};
    std::vector<uint8_t> s = stream_header(h.rate, 1, h.bits, x.size(), 16);
    write_frame(s, f, h.bits);
    WavInfo info;
    const Audio a = decode_flac(s, "header.flac", &info);
    EXPECT_EQ(a.sample_rate, h.rate);
    EXPECT_EQ(info.bits_per_sample, h.bits);
    expect_samples(a.samples, expected_mono({x}, h.bits), "rate " + std::to_string(h.rate));
  }

  // Six channels, 32-bit samples (the side channel of 33 bits is stereo-only): averaged.
  std::vector<std::vector<int64_t>> six;
  for (int c = 0; c < 6; ++c) six.push_back(tone(256, 32, 0.01 * (c + 1), 0.9, uint32_t(c)));
  Frame f;
  f.rate_code = 10;
  f.bits_code = 7;
  f.channel_code = 5;
  f.channels = six;
  f.subs.assign(6, fixed(1));
  for (Sub& sub : f.subs) sub.method = 1;  // residuals of 30 bits need 5-bit Rice parameters
  f.subs[2].kind = Sub::kVerbatim;
  std::vector<uint8_t> s = stream_header(48000, 6, 32, 256);
  write_frame(s, f, 32);
  expect_samples(decode_flac(s, "six.flac").samples, expected_mono(six, 32), "six channels");
}

TEST(Flac, TagsAndOtherMetadataAreSkipped) {
  std::vector<float> want;
  const std::vector<uint8_t> plain = mono_stream({fixed(2), fixed(1)}, 256, &want);
  // A VORBIS_COMMENT and a PADDING block after STREAMINFO (whose last-block flag is then clear).
  std::vector<uint8_t> with_blocks(plain.begin(), plain.begin() + 4 + 4 + 34);
  with_blocks[4] = 0x00;
  const std::vector<uint8_t> comment = {4, 0, 0, 3, 'a', 'b', 'c'}, padding = {0x81, 0, 0, 5, 0, 0, 0, 0, 0};
  with_blocks.insert(with_blocks.end(), comment.begin(), comment.end());
  with_blocks.insert(with_blocks.end(), padding.begin(), padding.end());
  with_blocks.insert(with_blocks.end(), plain.begin() + 42, plain.end());
  expect_samples(decode_flac(with_blocks, "blocks.flac").samples, want, "metadata blocks");

  // An ID3v2 tag (with a footer) before the stream, an ID3v1 tag after it.
  std::vector<uint8_t> tagged = {'I', 'D', '3', 4,   0,   0x10, 0, 0,    0, 4, 'T', 'I',
                                 'T', '2', '3', 'D', 'I', 4,    0, 0x10, 0, 0, 0,   4};
  const size_t id3 = tagged.size();
  tagged.resize(id3 + plain.size());
  std::copy(plain.begin(), plain.end(), tagged.begin() + long(id3));
  std::vector<uint8_t> v1(128, ' ');
  v1[0] = 'T', v1[1] = 'A', v1[2] = 'G';
  tagged.insert(tagged.end(), v1.begin(), v1.end());
  ASSERT_TRUE(is_flac(tagged));
  EXPECT_EQ(audio_format_of(tagged), "a FLAC file");  // not taken for an MP3 by its ID3 tag
  WavInfo info;
  expect_samples(decode_audio(tagged, "tagged.flac", &info).samples, want, "ID3 tags");
  EXPECT_EQ(info.note, "");

  // A stream of unknown length (total 0) followed by a tag: the frames are read, the tag left
  // out with a note.
  std::vector<uint8_t> unknown = mono_stream({fixed(2), fixed(1)}, 256, nullptr, 0);
  unknown.insert(unknown.end(), v1.begin(), v1.end());
  expect_samples(decode_flac(unknown, "unknown.flac", &info).samples, want, "unknown length");
  EXPECT_NE(info.note.find("the 128 bytes after FLAC frame 1 are not a frame"), std::string::npos) << info.note;
}

TEST(Flac, CutShortKeepsTheWholeFrames) {
  std::vector<float> want;
  const std::vector<uint8_t> full = mono_stream({fixed(2), fixed(2), fixed(2)}, 256, &want);
  std::vector<uint8_t> cut(full.begin(), full.end() - 40);
  WavInfo info;
  const Audio a = decode_flac(cut, "cut.flac", &info);
  expect_samples(a.samples, std::vector<float>(want.begin(), want.begin() + 512), "cut");
  EXPECT_NE(info.note.find("ends in the middle of FLAC frame 2"), std::string::npos) << info.note;
  EXPECT_NE(info.note.find("512 samples before it are read of the 768 STREAMINFO gives"), std::string::npos)
      << info.note;
  // With the largest frame's size in STREAMINFO (bytes 15-17): a frame that runs past the end
  // though that many bytes remain is damage, not a cut.
  auto with_max_frame = [&](size_t bytes) {
    std::vector<uint8_t> b = cut;
    b[15] = uint8_t(bytes >> 16), b[16] = uint8_t(bytes >> 8), b[17] = uint8_t(bytes);
    return b;
  };
  EXPECT_EQ(decode_flac(with_max_frame(full.size()), "cut.flac").samples.size(), 512u);
  expect_flac_error(with_max_frame(20), "the frame runs past the end of the file");
  expect_flac_error(with_max_frame(20), "though the stream's largest frame is 20 bytes (damaged file)");
  // Cut at a frame's end: said too.
  size_t two_frames = 0;
  for (size_t len = cut.size(); len > 42; --len) {
    WavInfo i2;
    std::vector<uint8_t> b(full.begin(), full.begin() + long(len));
    if (decode_flac(b, "b", &i2).samples.size() == 512 && i2.note.find("at a frame's end") != std::string::npos) {
      two_frames = len;
      break;
    }
  }
  EXPECT_GT(two_frames, 0u) << "no cut at a frame's end found";
  // Cut inside the metadata or before any whole frame: an error.
  expect_flac_error(std::vector<uint8_t>(full.begin(), full.begin() + 30), "metadata block of type 0 claims 34 bytes");
  expect_flac_error(std::vector<uint8_t>(full.begin(), full.begin() + 60), "holds no whole frame");
}

TEST(Flac, DamagedStreamsAreErrorsNamingTheFileAndFrame) {
  std::vector<float> want;
  const std::vector<uint8_t> good = mono_stream({fixed(2), lpc({2, -1}, 0)}, 256, &want);
  ASSERT_NO_THROW(decode_flac(good, "good.flac"));
  auto flipped = [&](size_t at, uint8_t mask) {
    std::vector<uint8_t> b = good;
    b[at] ^= mask;
    return b;
  };
  const size_t frame0 = 42;
  expect_flac_error(flipped(frame0 + 2, 0x10), "FLAC frame 0 (byte 42): frame header fails its CRC-8 check");
  expect_flac_error(flipped(good.size() - 1, 0x04), "FLAC frame 1 (byte ");
  expect_flac_error(flipped(good.size() - 1, 0x04), "frame fails its CRC-16 check");
  expect_flac_error(flipped(frame0, 0x01), "no frame sync code");
  expect_flac_error(flipped(0, 0x20), "not a FLAC file");

  // Header fields the stream cannot hold (CRCs right, so only the field is wrong).
  auto one_frame = [](Frame f, int stream_rate = 8000, int stream_channels = 1, int stream_bits = 16) {
    if (f.channels.empty()) f.channels = {tone(64, 16, 0.02, 0.5, 9)};
    if (f.subs.empty()) f.subs.assign(f.channels.size(), fixed(1));
    std::vector<uint8_t> s = stream_header(stream_rate, stream_channels, stream_bits, f.channels[0].size());
    write_frame(s, f, stream_bits);
    return s;
  };
  Frame f;
  f.rate_code = 5;  // 16 kHz in an 8 kHz stream
  expect_flac_error(one_frame(f), "sample rate 16000 Hz in a stream of 8000 Hz");
  f = Frame{};
  f.rate_code = 15;
  expect_flac_error(one_frame(f), "invalid sample-rate code 15");
  f = Frame{};
  f.bits_code = 3;
  expect_flac_error(one_frame(f), "reserved sample-size code 3");
  f = Frame{};
  f.bits_code = 6;  // 24 bits in a 16-bit stream
  expect_flac_error(one_frame(f), "24-bit samples in a stream of 16-bit samples");
  f = Frame{};
  f.channel_code = 11;
  f.channels = {tone(64, 16, 0.02, 0.5, 9), tone(64, 16, 0.02, 0.5, 8)};
  expect_flac_error(one_frame(f, 8000, 2), "reserved channel assignment 11");
  f = Frame{};
  f.channel_code = 1;
  f.channels = {tone(64, 16, 0.02, 0.5, 9), tone(64, 16, 0.02, 0.5, 8)};
  expect_flac_error(one_frame(f), "2 channels in a stream of 1");
  f = Frame{};
  f.block_code = 0;
  expect_flac_error(one_frame(f), "reserved block-size code 0");
  f = Frame{};
  f.subs = {lpc({1}, -2)};
  expect_flac_error(one_frame(f), "negative LPC shift -2");
  f = Frame{};
  f.subs = {lpc({1}, 0, 16)};  // precision code 15
  expect_flac_error(one_frame(f), "LPC coefficient precision code 15 is reserved");
  f = Frame{};
  f.subs = {fixed(2)};
  f.subs[0].partition_order = 6;  // 64 partitions of 1 sample: the first cannot hold the 2 warm-up samples
  expect_flac_error(one_frame(f), "residual partition order 6 does not fit a block of 64 samples");
  f = Frame{};
  f.subs = {fixed(1)};
  f.subs[0].method = 2;
  expect_flac_error(one_frame(f), "reserved residual coding method 2");

  // A reserved subframe type and a set padding bit: bytes written by hand after a good header.
  auto with_subframe_byte = [&](uint8_t byte) {
    Frame g;
    g.channels = {std::vector<int64_t>(16, 0)};
    g.subs = {Sub{}};
    g.subs[0].kind = Sub::kConstant;
    std::vector<uint8_t> s = one_frame(g);
    // The subframe follows the 7-byte header (sync 2, codes 2, number 1, block size 1, CRC-8 1).
    s[frame0 + 7] = byte;
    return s;
  };
  expect_flac_error(with_subframe_byte(0x04), "reserved subframe type 2");
  expect_flac_error(with_subframe_byte(0x80), "a subframe's padding bit is set");

  // A sample past its bit depth (residuals adding up beyond 16 bits): refused, not wrapped.
  std::vector<int64_t> ramp(64);
  for (int i = 0; i < 64; ++i) ramp[i] = int64_t(i) * 1000 - 32000;
  f = Frame{};
  f.channels = {ramp};
  f.subs = {fixed(1)};
  std::vector<uint8_t> s = stream_header(8000, 1, 16, 64);
  write_frame(s, f, 16);
  ASSERT_NO_THROW(decode_flac(s, "ramp.flac"));
  f.channels[0][63] = 40000;  // its residual, 10000, fits; the sample does not
  s = stream_header(8000, 1, 16, 64);
  write_frame(s, f, 16);
  expect_flac_error(s, "sample 63 decodes to 40000, outside 16 bits");

  // Metadata: no STREAMINFO first, a bad STREAMINFO.
  std::vector<uint8_t> bad = good;
  bad[4] = 0x84;  // the block claims to be a VORBIS_COMMENT
  expect_flac_error(bad, "does not start with its STREAMINFO block");
  bad = good;
  bad[8 + 10] = 0;  // sample rate's high byte...
  bad[8 + 11] = 0;
  bad[8 + 12] &= 0x0F;  // ... and the next four bits: 0 Hz
  expect_flac_error(bad, "FLAC sample rate 0 Hz is out of range");
  bad = good;
  bad[8] = 0, bad[9] = 4;  // smallest block 4
  expect_flac_error(bad, "FLAC block sizes 4 to");
  bad = good;
  bad[7] = 33;
  expect_flac_error(bad, "STREAMINFO block of 33 bytes, expected 34");
}

TEST(Flac, OtherFormatsAndWavAreToldApart) {
  std::vector<float> want;
  const std::vector<uint8_t> flac = mono_stream({fixed(2)}, 64, &want);
  // The WAV reader alone still names FLAC and says how to convert; decode_audio reads it.
  try {
    decode_wav(flac, "x.flac");
    ADD_FAILURE() << "decode_wav read a FLAC stream";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.flac: a FLAC file, not a WAV file"), std::string::npos) << e.what();
  }
  const std::vector<float> wav_samples = {0.5f, -0.25f, 0.125f};
  const Audio w = decode_audio(encode_wav(wav_samples, 16000), "x.wav");
  EXPECT_EQ(w.sample_rate, 16000);
  EXPECT_EQ(w.samples, wav_samples);
  EXPECT_FALSE(is_flac(encode_wav(wav_samples, 16000)));
  EXPECT_FALSE(is_flac({'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0}));  // an MP3's tag
  try {  // an MP3's tag and two bytes of a frame go to the MP3 decoder (tests/cpu/test_mp3.cpp)
    decode_audio({'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0, 0xFF, 0xFB}, "song.mp3");
    ADD_FAILURE() << "two bytes of MP3 were read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("song.mp3: no MPEG audio frame found after its ID3 tag"), std::string::npos)
        << e.what();
  }
}

// Files from the reference encoder: every compression level, stereo modes, 8/16/24/32 bits,
// 1 to 8 channels, block sizes with and without codes of their own, rates with and without.
TEST(Flac, ReadsWhatTheReferenceEncoderWrites) {
  DUET_REQUIRE_REFERENCE_FLAC();
  duet_test::ScratchFolder scratch("duet_flac_");
  const std::string dir = scratch.path().string();
  struct Case {
    int channels, bits, rate, n;
    std::string options;
    int signal;  // 0 tones, 1 silence then tones, 2 loud noise, 3 tones in steps of 16 (wasted bits)
  } cases[] = {
      {1, 16, 8000, 9000, "-0", 0},
      {1, 16, 8000, 9000, "-5", 1},
      {1, 16, 8000, 9000, "-8", 0},
      {1, 16, 8000, 9000, "-8 --lax -l 32 -b 1000", 0},
      {1, 16, 8000, 9000, "-5 -b 192", 2},
      {1, 16, 8000, 9000, "-5 -b 576", 3},
      {2, 16, 44100, 20000, "-0", 0},
      {2, 16, 44100, 20000, "-5 -m", 1},
      {2, 16, 44100, 20000, "-8 -m -e", 0},
      {2, 16, 44100, 20000, "-5 -M", 2},
      {2, 16, 44100, 20000, "-5 --no-mid-side", 0},
      {1, 8, 11025, 5000, "-5", 0},
      {2, 24, 48000, 20000, "-8", 0},
      {1, 24, 96000, 20000, "-5", 2},
      {2, 32, 16000, 10000, "-5", 0},
      {3, 16, 22050, 6000, "-5", 0},
      {8, 16, 8000, 5000, "-5", 1},
      {1, 16, 12345, 4000, "-5", 0},
      {1, 16, 22000, 4000, "-5", 0},
  };
  int k = 0;
  for (const Case& c : cases) {
    const std::string what = "case " + std::to_string(k) + " (" + std::to_string(c.channels) + " ch, " +
                             std::to_string(c.bits) + " bits, " + std::to_string(c.rate) + " Hz, " + c.options + ")";
    std::vector<std::vector<int64_t>> ch(c.channels);
    std::mt19937 rng{uint32_t(k)};
    for (int j = 0; j < c.channels; ++j) {
      ch[j] = tone(c.n, c.bits, 0.005 + 0.002 * j, 0.3 + 0.05 * j, uint32_t(k * 10 + j));
      if (c.signal == 1)
        for (int i = 0; i < c.n / 3; ++i) ch[j][i] = 0;
      if (c.signal == 2) {
        std::uniform_int_distribution<int64_t> u(-(int64_t(1) << (c.bits - 1)), (int64_t(1) << (c.bits - 1)) - 1);
        for (auto& v : ch[j]) v = u(rng);
      }
      if (c.signal == 3)
        for (auto& v : ch[j]) v = v / 16 * 16;
    }
    // Raw little-endian signed PCM, channels interleaved.
    const std::string raw = dir + "/" + std::to_string(k) + ".raw", out = dir + "/" + std::to_string(k) + ".flac";
    {
      std::ofstream f(raw, std::ios::binary);
      for (int i = 0; i < c.n; ++i)
        for (int j = 0; j < c.channels; ++j) {
          const uint64_t v = uint64_t(ch[j][i]);
          for (int b = 0; b < c.bits / 8; ++b) f.put(char(v >> (8 * b)));
        }
    }
    const std::string failed = duet_test::encode_raw_flac(raw, out, c.channels, c.bits, c.rate, c.options);
    ASSERT_EQ(failed, "") << what << ": flac failed";
    WavInfo info;
    const Audio a = read_audio(out, &info);
    EXPECT_EQ(a.sample_rate, c.rate) << what;
    EXPECT_EQ(info.channels, c.channels) << what;
    EXPECT_EQ(info.bits_per_sample, c.bits) << what;
    EXPECT_EQ(info.note, "") << what;
    expect_samples(a.samples, expected_mono(ch, c.bits), what);
    ++k;
  }
}
