// The Ogg Vorbis decoder: streams built here header by header (silent ones, whose lengths only
// the block sizes and granule positions fix; ones with sound, bit by bit, against the
// specification's formulas; headers that break the specification; damaged, missing and foreign
// Ogg pages), and files that the encoders write (libvorbis through ffmpeg and oggenc, and
// ffmpeg's own encoder), decoded as libvorbis (oggdec) and ffmpeg decode them; and those files'
// packets damaged and paged again with valid CRCs, which must read or be refused with one line.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "codec_signals.h"
#include "dsp/vorbis.h"
#include "dsp/wav.h"
#include "engine/error.h"
#include "reference_aac.h"
#include "reference_vorbis.h"
#include "scratch.h"

using namespace duet;
using namespace duet::dsp;

namespace {

using Bytes = std::vector<uint8_t>;

// Bits least significant first, as Vorbis packs them.
struct LsbWriter {
  Bytes bytes;
  int used = 8;
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
      if (used == 8) bytes.push_back(0), used = 0;
      if ((v >> i) & 1) bytes.back() |= uint8_t(1 << used);
      ++used;
    }
  }
  void text(const char* s) {
    for (; *s; ++s) put(uint8_t(*s), 8);
  }
};

// The Ogg CRC (polynomial 0x04C11DB7, no reflection, initial value 0) bit by bit; the decoder's
// is table-driven.
uint32_t ogg_crc(const Bytes& page) {
  uint32_t crc = 0;
  for (uint8_t byte : page) {
    crc ^= uint32_t(byte) << 24;
    for (int k = 0; k < 8; ++k) crc = crc & 0x80000000u ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
  }
  return crc;
}

void put_le(Bytes& b, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

constexpr uint8_t kFirst = 2, kLast = 4;

// One Ogg page holding whole packets.
Bytes page(const std::vector<Bytes>& packets, int64_t granule, uint32_t sequence, uint8_t flags, uint32_t serial = 7) {
  Bytes lacing, body;
  for (const Bytes& p : packets) {
    size_t n = p.size();
    for (; n >= 255; n -= 255) lacing.push_back(255);
    lacing.push_back(uint8_t(n));
    body.insert(body.end(), p.begin(), p.end());
  }
  Bytes b = {'O', 'g', 'g', 'S', 0, flags};
  put_le(b, uint64_t(granule), 8);
  put_le(b, serial, 4);
  put_le(b, sequence, 4);
  put_le(b, 0, 4);
  b.push_back(uint8_t(lacing.size()));
  b.insert(b.end(), lacing.begin(), lacing.end());
  b.insert(b.end(), body.begin(), body.end());
  const uint32_t crc = ogg_crc(b);
  for (int i = 0; i < 4; ++i) b[size_t(22 + i)] = uint8_t(crc >> (8 * i));
  return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes b;
  for (const Bytes& p : parts) b.insert(b.end(), p.begin(), p.end());
  return b;
}

// A stream whose every block is silent: one codebook, floor type 1 with its two end points,
// a residue that codes nothing, one mapping (with a coupled pair for two channels) and two
// modes, short (0) and long (1). The fields below break it where a test asks.
struct Stream {
  int channels = 1, rate = 8000, short_exp = 6, long_exp = 8;
  uint32_t version = 0, sync = 0x564342, nominal_bitrate = 0;
  int floor_type = 1, residue_type = 1, mode_mapping = 0;
  bool framing = true;
};

Bytes identification(const Stream& s) {
  LsbWriter w;
  w.put(1, 8), w.text("vorbis");
  w.put(s.version, 32), w.put(uint64_t(s.channels), 8), w.put(uint64_t(s.rate), 32);
  w.put(0, 32), w.put(uint64_t(s.nominal_bitrate), 32), w.put(0, 32);
  w.put(uint64_t(s.short_exp), 4), w.put(uint64_t(s.long_exp), 4), w.put(1, 1);
  return w.bytes;
}

Bytes comment() {
  LsbWriter w;
  w.put(3, 8), w.text("vorbis");
  w.put(4, 32), w.text("duet");  // vendor
  w.put(0, 32), w.put(1, 1);      // no comments, framing bit
  return w.bytes;
}

Bytes setup(const Stream& s) {
  LsbWriter w;
  w.put(5, 8), w.text("vorbis");
  w.put(0, 8);  // one codebook: 1 dimension, 2 entries of length 1, no lookup
  w.put(s.sync, 24), w.put(1, 16), w.put(2, 24), w.put(0, 1), w.put(0, 1), w.put(0, 5), w.put(0, 5), w.put(0, 4);
  w.put(0, 6), w.put(0, 16);                        // one time-domain transform, type 0
  w.put(0, 6), w.put(uint64_t(s.floor_type), 16);  // one floor
  w.put(0, 5), w.put(1, 2), w.put(6, 4);           // floor 1: no partitions, multiplier 2, 6 range bits
  w.put(0, 6), w.put(uint64_t(s.residue_type), 16);
  w.put(0, 24), w.put(0, 24), w.put(0, 24), w.put(0, 6), w.put(0, 8), w.put(0, 3), w.put(0, 1);
  w.put(0, 6), w.put(0, 16), w.put(0, 1);  // one mapping, type 0, one submap
  if (s.channels == 2)
    w.put(1, 1), w.put(0, 8), w.put(0, 1), w.put(1, 1);  // channels 0 and 1 coupled
  else
    w.put(0, 1);
  w.put(0, 2), w.put(0, 8), w.put(0, 8), w.put(0, 8);  // reserved; the submap: floor 0, residue 0
  w.put(1, 6);                                          // two modes
  w.put(0, 1), w.put(0, 16), w.put(0, 16), w.put(uint64_t(s.mode_mapping), 8);
  w.put(1, 1), w.put(0, 16), w.put(0, 16), w.put(0, 8);
  w.put(s.framing ? 1 : 0, 1);
  return w.bytes;
}

// An audio packet of a silent block: short or long, every channel's floor unused.
Bytes silent(bool long_block, int channels) {
  LsbWriter w;
  w.put(0, 1), w.put(long_block ? 1 : 0, 1);
  if (long_block) w.put(1, 1), w.put(1, 1);
  for (int c = 0; c < channels; ++c) w.put(0, 1);
  return w.bytes;
}

// Silent blocks, short (S) or long (L): "SLL".
std::vector<Bytes> packets(const std::string& shape, int channels) {
  std::vector<Bytes> v;
  for (char c : shape) v.push_back(silent(c == 'L', channels));
  return v;
}

// The three header pages, then the audio pages (each {packets, granule}), the last marked so.
Bytes file(const Stream& s, const std::vector<std::pair<std::vector<Bytes>, int64_t>>& audio, uint32_t serial = 7) {
  Bytes b = cat({page({identification(s)}, 0, 0, kFirst, serial), page({comment(), setup(s)}, 0, 1, 0, serial)});
  for (size_t i = 0; i < audio.size(); ++i) {
    const Bytes p = page(audio[i].first, audio[i].second, uint32_t(2 + i), i + 1 == audio.size() ? kLast : 0, serial);
    b.insert(b.end(), p.begin(), p.end());
  }
  return b;
}

::testing::AssertionResult holds(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not hold '" << part << "'";
}

std::string error_of(const Bytes& b) {
  try {
    decode_vorbis(b, "x.ogg");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

// Short blocks of 64 samples and long ones of 256: S L L S S L gives 80 + 128 + 80 + 32 + 80.
const std::string kShape = "SLLSSL";
constexpr int64_t kShapeSamples = 400;

TEST(Vorbis, SilentStreamsTakeTheirLengthFromBlocksAndGranules) {
  const Stream mono;
  WavInfo info;
  Audio a = decode_vorbis(file(mono, {{packets(kShape, 1), kShapeSamples}}), "x.ogg", &info);
  EXPECT_EQ(a.samples.size(), size_t(kShapeSamples));
  EXPECT_TRUE(std::all_of(a.samples.begin(), a.samples.end(), [](float v) { return v == 0.0f; }));
  EXPECT_EQ(a.sample_rate, 8000);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.frames, kShapeSamples);
  EXPECT_EQ(info.encoding, "Vorbis (Ogg)");
  EXPECT_EQ(info.bits_per_sample, 0);
  EXPECT_EQ(info.note, "");
  // The last page's granule position ends the stream where the encoder's input ended; one past
  // what the blocks give adds nothing.
  EXPECT_EQ(decode_vorbis(file(mono, {{packets(kShape, 1), 390}}), "x").samples.size(), size_t(390));
  EXPECT_EQ(decode_vorbis(file(mono, {{packets(kShape, 1), 1000}}), "x").samples.size(), size_t(kShapeSamples));
  // A damaged granule position near 2^63 is no position: the last page's ends the stream.
  EXPECT_EQ(decode_vorbis(file(mono, {{packets("SLL", 1), int64_t(0x7FFFFFFFFFFFFFF0)}, {packets("SSL", 1), 390}}),
                          "x").samples.size(),
            size_t(390));
  EXPECT_EQ(decode_vorbis(file(mono, {{packets("SLL", 1), 0}, {packets("SSL", 1), int64_t(0x7FFFFFFFFFFFFFF0)}}),
                          "x").samples.size(),
            size_t(kShapeSamples - 208));
  // Two audio pages: the first's granule position (150 after 208 samples) says the stream
  // starts part-way: the first 58 samples are dropped, and the last page's (332) still ends it
  // 10 samples before the blocks do.
  EXPECT_EQ(decode_vorbis(file(mono, {{packets("SLL", 1), 150}, {packets("SSL", 1), 332}}), "x").samples.size(),
            size_t(332));
  // The same with the granule positions that a stream from its start has: all 400 samples.
  EXPECT_EQ(decode_vorbis(file(mono, {{packets("SLL", 1), 208}, {packets("SSL", 1), 400}}), "x").samples.size(),
            size_t(400));
  // Two coupled channels at 44.1 kHz with blocks of 256 and 2048: L S L gives 576 + 576.
  Stream stereo;
  stereo.channels = 2, stereo.rate = 44100, stereo.short_exp = 8, stereo.long_exp = 11;
  a = decode_vorbis(file(stereo, {{packets("LSL", 2), 1152}}), "x", &info);
  EXPECT_EQ(a.samples.size(), size_t(1152));
  EXPECT_EQ(info.channels, 2);
  EXPECT_EQ(a.sample_rate, 44100);
  // A nominal bitrate in the identification header is named (-1, as some encoders write, is
  // none).
  Stream rated;
  rated.nominal_bitrate = 22500;
  decode_vorbis(file(rated, {{packets(kShape, 1), 400}}), "x", &info);
  EXPECT_EQ(info.encoding, "Vorbis (Ogg), 23 kbit/s nominal");
  rated.nominal_bitrate = 0xFFFFFFFFu;
  decode_vorbis(file(rated, {{packets(kShape, 1), 400}}), "x", &info);
  EXPECT_EQ(info.encoding, "Vorbis (Ogg)");
  // Both block sizes 2048 (ffmpeg's encoder writes such streams).
  Stream equal;
  equal.short_exp = equal.long_exp = 11;
  EXPECT_EQ(decode_vorbis(file(equal, {{packets("SLS", 1), 2048}}), "x").samples.size(), size_t(2048));
  // decode_audio tells an Ogg file by its bytes.
  EXPECT_EQ(decode_audio(file(mono, {{packets(kShape, 1), 390}}), "x.bin", &info).samples.size(), size_t(390));
  EXPECT_EQ(info.encoding, "Vorbis (Ogg)");
}

// A stream with sound, built bit by bit and decoded here by the specification's formulas as
// they read, to check what the encoders never write (residue format 0, residue vectors that
// start past bin 0, lookup type 1 with sequence_p, an ordered codebook, coupled channels coded
// in format 1 when one of them is silent, a stream that starts part-way) and the IMDCT, windows
// and overlap on their own. Blocks of 128 (both sizes); the floor a constant line at step
// 2 * 127; residue partitions of 4 bins, classification 1 coded with one book in pass 0.
struct ToneStream {
  int channels = 1, residue_type = 1, book = 1;  // book 1: lookup type 2; book 2: lookup type 1, sequence_p
  int begin = 8, partitions = 3;
  bool coupled = false;
  std::vector<bool> used = {true, true};  // each channel's floor
};

constexpr int kToneN = 128, kToneHalf = 64, kToneY = 127;

// A packed codebook float: mantissa * 2^(exponent - 788).
uint32_t float32_pack(int mantissa, int exponent) { return uint32_t(exponent) << 21 | uint32_t(mantissa); }

Bytes tone_identification(int channels) {
  Stream s;
  s.channels = channels, s.short_exp = s.long_exp = 7;
  return identification(s);
}

Bytes tone_setup(const ToneStream& t) {
  LsbWriter w;
  w.put(5, 8), w.text("vorbis");
  w.put(2, 8);  // three codebooks
  // 0: the classbook, 1 dimension, 2 entries of length 1.
  w.put(0x564342, 24), w.put(1, 16), w.put(2, 24), w.put(0, 1), w.put(0, 1), w.put(0, 5), w.put(0, 5), w.put(0, 4);
  // 1: 2 dimensions, 4 entries, lengths ordered: one of 1, one of 2, two of 3 (codes 0, 10, 110,
  // 111); lookup type 2, minimum 0, delta 1, 2-bit values: (0, 0), (1, 0), (0, 1), (2, 3).
  w.put(0x564342, 24), w.put(2, 16), w.put(4, 24), w.put(1, 1), w.put(0, 5), w.put(1, 3), w.put(1, 2), w.put(2, 2);
  w.put(2, 4), w.put(float32_pack(0, 0), 32), w.put(float32_pack(1, 788), 32), w.put(1, 4), w.put(0, 1);
  for (int v : {0, 0, 1, 0, 0, 1, 2, 3}) w.put(uint64_t(v), 2);
  // 2: 2 dimensions, 4 entries, sparse lengths (all 2); lookup type 1 (2 values a dimension: 1
  // and 3), minimum -1, delta 1, sequence_p: entry e is (m[e % 2] - 1, m[e / 2] - 1 + the first).
  w.put(0x564342, 24), w.put(2, 16), w.put(4, 24), w.put(0, 1), w.put(1, 1);
  for (int e = 0; e < 4; ++e) w.put(1, 1), w.put(1, 5);
  w.put(1, 4), w.put(float32_pack(1, 788) | 0x80000000u, 32), w.put(float32_pack(1, 788), 32), w.put(1, 4), w.put(1, 1);
  w.put(1, 2), w.put(3, 2);
  w.put(0, 6), w.put(0, 16);                   // one time-domain transform
  w.put(0, 6), w.put(1, 16);                   // one floor, type 1:
  w.put(0, 5), w.put(1, 2), w.put(6, 4);       // no partitions, multiplier 2, 6 range bits
  w.put(0, 6), w.put(uint64_t(t.residue_type), 16);
  w.put(uint64_t(t.begin), 24), w.put(uint64_t(t.begin + 4 * t.partitions), 24), w.put(3, 24);
  w.put(1, 6), w.put(0, 8);                    // 2 classifications, classbook 0
  w.put(0, 3), w.put(0, 1), w.put(1, 3), w.put(0, 1);  // class 0: no books; class 1: pass 0
  w.put(uint64_t(t.book), 8);
  w.put(0, 6), w.put(0, 16), w.put(0, 1);
  if (t.coupled)
    w.put(1, 1), w.put(0, 8), w.put(0, 1), w.put(1, 1);
  else
    w.put(0, 1);
  w.put(0, 2), w.put(0, 8), w.put(0, 8), w.put(0, 8);
  w.put(0, 6), w.put(0, 1), w.put(0, 16), w.put(0, 16), w.put(0, 8);  // one mode: short, mapping 0
  w.put(1, 1);
  return w.bytes;
}

// The value vectors of books 1 and 2, as the setup above defines them.
std::array<float, 2> tone_vector(int book, int e) {
  static const float kBook1[4][2] = {{0, 0}, {1, 0}, {0, 1}, {2, 3}};
  if (book == 1) return {kBook1[e][0], kBook1[e][1]};
  const float m[2] = {1, 3};
  const float first = m[e % 2] - 1;
  return {first, m[e / 2] - 1 + first};
}

// One audio packet with random classifications and entries, and the residue vectors (before
// coupling) that the specification says it codes.
Bytes tone_packet(const ToneStream& t, std::mt19937& rng, std::vector<std::vector<double>>& residue) {
  LsbWriter w;
  w.put(0, 1);
  for (int c = 0; c < t.channels; ++c) {
    if (t.used[size_t(c)])
      w.put(1, 1), w.put(kToneY, 7), w.put(kToneY, 7);
    else
      w.put(0, 1);
  }
  residue.assign(size_t(t.channels), std::vector<double>(kToneHalf, 0.0));
  // Which vectors are coded: a channel whose floor is used, and both of a coupled pair when
  // either is; format 2 codes one vector of the channels interleaved.
  std::vector<bool> coded(t.used.begin(), t.used.begin() + t.channels);
  if (t.coupled && (coded[0] || coded[1])) coded[0] = coded[1] = true;
  const int vectors = t.residue_type == 2 ? 1 : t.channels;
  const size_t length = size_t(kToneHalf * (t.residue_type == 2 ? t.channels : 1));
  std::vector<std::vector<double>> v(size_t(vectors), std::vector<double>(length, 0.0));
  std::vector<bool> decode(size_t(vectors), true);
  if (t.residue_type != 2)
    for (int c = 0; c < vectors; ++c) decode[size_t(c)] = coded[size_t(c)];
  for (int p = 0; p < t.partitions; ++p) {
    std::vector<int> classes(size_t(vectors), 0);
    for (int c = 0; c < vectors; ++c)
      if (decode[size_t(c)]) w.put(uint64_t(classes[size_t(c)] = int(rng() % 2)), 1);
    for (int c = 0; c < vectors; ++c) {
      if (!decode[size_t(c)] || classes[size_t(c)] == 0) continue;
      const int at = t.begin + 4 * p;
      for (int i = 0; i < 2; ++i) {
        const int e = int(rng() % 4);
        // The codeword, its first bit first: book 1's 0, 10, 110, 111; book 2's 00, 01, 10, 11.
        static const int kCodes[2][4][2] = {{{0, 1}, {2, 2}, {6, 3}, {7, 3}}, {{0, 2}, {1, 2}, {2, 2}, {3, 2}}};
        const auto [code, bits] = kCodes[t.book - 1][e];
        for (int b = bits - 1; b >= 0; --b) w.put(uint64_t((code >> b) & 1), 1);
        const std::array<float, 2> x = tone_vector(t.book, e);
        for (int j = 0; j < 2; ++j)
          v[size_t(c)][size_t(at + (t.residue_type == 0 ? i + 2 * j : 2 * i + j))] += x[size_t(j)];
      }
    }
  }
  for (int c = 0; c < t.channels; ++c)
    for (int k = 0; k < kToneHalf; ++k)
      residue[size_t(c)][size_t(k)] =
          t.residue_type == 2 ? v[0][size_t(k * t.channels + c)] : v[size_t(c)][size_t(k)];
  return w.bytes;
}

// What the blocks of tone_packet decode to, by the specification's formulas: inverse coupling,
// the floor, the IMDCT as a direct sum, the window, and the overlap of block halves; channels
// averaged.
std::vector<double> tone_reference(const ToneStream& t, std::vector<std::vector<std::vector<double>>> blocks) {
  const double floor = std::pow(10.0, (2 * kToneY - 255) * (140.0 / 256.0) / 20.0);
  std::vector<double> out, previous(kToneHalf, 0.0);
  for (size_t b = 0; b < blocks.size(); ++b) {
    std::vector<std::vector<double>>& r = blocks[b];
    if (t.coupled)
      for (int k = 0; k < kToneHalf; ++k) {
        const double m = r[0][size_t(k)], a = r[1][size_t(k)];
        double new_m, new_a;
        if (m > 0) {
          if (a > 0) new_m = m, new_a = m - a;
          else new_a = m, new_m = m + a;
        } else {
          if (a > 0) new_m = m, new_a = m + a;
          else new_a = m, new_m = m - a;
        }
        r[0][size_t(k)] = new_m, r[1][size_t(k)] = new_a;
      }
    std::vector<double> block(kToneN, 0.0);
    for (int c = 0; c < t.channels; ++c) {
      if (!t.used[size_t(c)]) continue;
      for (int i = 0; i < kToneN; ++i) {
        double y = 0;
        for (int k = 0; k < kToneHalf; ++k)
          y += r[size_t(c)][size_t(k)] * floor *
               std::cos(2 * std::numbers::pi / kToneN * (i + 0.5 + kToneN / 4.0) * (k + 0.5));
        const double rise = std::sin(std::numbers::pi / 2 * (i % kToneHalf + 0.5) / kToneHalf +
                                     (i < kToneHalf ? 0 : std::numbers::pi / 2));
        block[size_t(i)] += y * std::sin(std::numbers::pi / 2 * rise * rise) / t.channels;
      }
    }
    if (b > 0)
      for (int i = 0; i < kToneHalf; ++i) out.push_back(previous[size_t(i)] + block[size_t(i)]);
    previous.assign(block.begin() + kToneHalf, block.end());
  }
  return out;
}

TEST(Vorbis, BlocksWithSoundDecodeAsTheSpecificationSays) {
  const auto check = [](const ToneStream& t, const std::string& what) {
    std::mt19937 rng{uint32_t(what.size())};
    std::vector<Bytes> audio;
    std::vector<std::vector<std::vector<double>>> residues;
    for (int b = 0; b < 6; ++b) {
      residues.emplace_back();
      audio.push_back(tone_packet(t, rng, residues.back()));
    }
    const std::vector<double> want = tone_reference(t, residues);
    ASSERT_EQ(want.size(), size_t(5 * kToneHalf)) << what;
    const Bytes headers = cat({page({tone_identification(t.channels)}, 0, 0, kFirst),
                               page({comment(), tone_setup(t)}, 0, 1, 0)});
    // All six blocks on one page; then on two pages whose granule positions say the stream
    // starts 24 samples into the first block's output (a stream cut from a longer one).
    for (bool cut : {false, true}) {
      const Bytes b =
          cut ? cat({headers, page({audio.begin(), audio.begin() + 3}, 2 * kToneHalf - 24, 2, 0),
                     page({audio.begin() + 3, audio.end()}, 5 * kToneHalf - 24, 3, kLast)})
              : cat({headers, page(audio, 5 * kToneHalf, 2, kLast)});
      WavInfo info;
      const Audio a = decode_vorbis(b, "x.ogg", &info);
      const size_t skip = cut ? 24 : 0;
      ASSERT_EQ(a.samples.size(), want.size() - skip) << what << (cut ? ", cut" : "");
      double worst = 0, peak = 0;
      for (size_t i = 0; i < a.samples.size(); ++i) {
        worst = std::max(worst, std::abs(a.samples[i] - want[i + skip]));
        peak = std::max(peak, std::abs(want[i + skip]));
      }
      EXPECT_GT(peak, 1.0) << what;
      EXPECT_LT(worst, 1e-5 * peak) << what << (cut ? ", cut" : "");
      EXPECT_EQ(info.channels, t.channels) << what;
    }
  };
  ToneStream t;
  for (int type : {0, 1}) {
    t.residue_type = type;
    for (int book : {1, 2}) {
      t.book = book;
      check(t, "mono, residue " + std::to_string(type) + ", book " + std::to_string(book));
    }
  }
  t.channels = 2, t.coupled = true, t.book = 2;
  t.residue_type = 1;
  check(t, "coupled, residue 1");
  t.used = {true, false};
  check(t, "coupled, residue 1, second channel silent");
  t.used = {false, true};
  check(t, "coupled, residue 1, first channel silent");
  t.residue_type = 2, t.partitions = 20, t.used = {true, true};
  check(t, "coupled, residue 2");
  t.used = {true, false};
  check(t, "coupled, residue 2, second channel silent");
  t.coupled = false, t.residue_type = 0, t.partitions = 3;
  check(t, "two channels apart, residue 0, second silent");
}

TEST(Vorbis, HeadersThatBreakTheSpecificationAreRefused) {
  const auto with = [](auto change) {
    Stream s;
    change(s);
    return error_of(file(s, {{packets(kShape, s.channels), kShapeSamples}}));
  };
  EXPECT_EQ(with([](Stream&) {}), "");
  EXPECT_TRUE(holds(with([](Stream& s) { s.version = 1; }),
                    "x.ogg: Vorbis identification header: Vorbis version 1 (0 expected)"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.channels = 0; }), "identification header: 0 channels"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.rate = 500; }), "a sample rate of 500 Hz"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.short_exp = 5; }), "block sizes 2^5 and 2^8"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.short_exp = 9; }), "block sizes 2^9 and 2^8"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.long_exp = 14; }), "block sizes 2^6 and 2^14"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.sync = 0x564343; }),
                    "x.ogg: Vorbis setup header: a codebook without its sync pattern"));
  const std::string floor0 = with([](Stream& s) { s.floor_type = 0; });
  EXPECT_TRUE(holds(floor0, "setup header: floor type 0"));
  EXPECT_TRUE(holds(floor0, "ffmpeg -i FILE -ac 1 FILE.wav"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.floor_type = 2; }), "floor type 2 (1 expected)"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.residue_type = 3; }), "residue type 3 (0, 1 or 2 expected)"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.mode_mapping = 1; }), "a mode names mapping 1"));
  EXPECT_TRUE(holds(with([](Stream& s) { s.framing = false; }), "no framing bit"));
  // A comment header of the wrong type, and a stream of two header packets only.
  const Stream s;
  Bytes bad_comment = comment();
  bad_comment[0] = 4;
  EXPECT_EQ(error_of(cat({page({identification(s)}, 0, 0, kFirst), page({bad_comment, setup(s)}, 0, 1, 0),
                          page(packets(kShape, 1), kShapeSamples, 2, kLast)})),
            "x.ogg: Vorbis comment header: not the comment header where it should be");
  EXPECT_EQ(error_of(cat({page({identification(s)}, 0, 0, kFirst), page({comment()}, 0, 1, kLast)})),
            "x.ogg: an Ogg Vorbis file without its three headers (2 packets; cut short?)");
}

TEST(Vorbis, OggPagesAreCheckedAndForeignStreamsNamed) {
  const Stream s;
  const Bytes good = file(s, {{packets("SLL", 1), 208}, {packets("SSL", 1), 390}});
  const size_t page2 = page({identification(s)}, 0, 0, kFirst).size();
  // A changed byte in the setup header's page: its CRC no longer matches.
  Bytes damaged = good;
  damaged[page2 + 40] ^= 0x10;
  EXPECT_EQ(error_of(damaged),
            "x.ogg: Ogg page 2 (byte " + std::to_string(page2) + "): its CRC does not match its bytes (damaged)");
  // The first audio page left out: the next page's sequence number says so.
  const Bytes headers = cat({page({identification(s)}, 0, 0, kFirst), page({comment(), setup(s)}, 0, 1, 0)});
  const Bytes last = page(packets("SSL", 1), 390, 3, kLast);
  EXPECT_EQ(error_of(cat({headers, last})), "x.ogg: Ogg page 3 (byte " + std::to_string(headers.size()) +
                                                "): its sequence number is 3 where 2 was expected (pages missing)");
  // Cut inside the last page: the packets before it read, with a note.
  WavInfo info;
  Audio a = decode_vorbis(Bytes(good.begin(), good.end() - 2), "x.ogg", &info);
  EXPECT_EQ(a.samples.size(), size_t(208));
  EXPECT_TRUE(holds(info.note, "the file ends inside Ogg page 4"));
  // Bytes after the last page (a tag, padding) are not read; a second stream chained after the
  // first is named.
  Bytes padded = good;
  padded.insert(padded.end(), 100, 0);
  EXPECT_EQ(decode_vorbis(padded, "x.ogg", &info).samples.size(), size_t(390));
  EXPECT_EQ(info.note, "");
  EXPECT_EQ(decode_vorbis(cat({good, file(s, {{packets(kShape, 1), 400}}, 8)}), "x.ogg", &info).samples.size(),
            size_t(390));
  EXPECT_TRUE(holds(info.note, "another stream is chained after the first"));
  // Junk between pages is refused.
  Bytes junk = headers;
  junk.insert(junk.end(), {'j', 'u', 'n', 'k'});
  const Bytes audio = page(packets(kShape, 1), 400, 2, kLast);
  junk.insert(junk.end(), audio.begin(), audio.end());
  EXPECT_TRUE(holds(error_of(junk), "x.ogg: Ogg page 3 (byte " + std::to_string(headers.size()) +
                                        "): no page header (OggS)"));
  // Other codecs in Ogg: named, with how to convert the file; a Vorbis stream multiplexed after
  // another stream's first page is read.
  const auto foreign = [](const std::string& first_packet) {
    return page({Bytes(first_packet.begin(), first_packet.end())}, 0, 0, kFirst, 9);
  };
  const Bytes opus = foreign(std::string("OpusHead\x01\x01", 10));
  EXPECT_EQ(ogg_codec(opus), "Opus");
  EXPECT_EQ(ogg_codec(good), "Vorbis");
  EXPECT_EQ(ogg_codec(Bytes{'O', 'g', 'g'}), "");
  EXPECT_TRUE(is_ogg(opus));
  EXPECT_FALSE(is_ogg(Bytes{'R', 'I', 'F', 'F'}));
  EXPECT_EQ(error_of(cat({opus, page({Bytes(20, 1)}, 960, 1, kLast, 9)})),
            "x.ogg: an Ogg Opus recording; duet reads WAV, AIFF, CAF, FLAC, MP3, AAC (M4A) and Ogg Vorbis recordings "
            "(convert it first, e.g. ffmpeg -i FILE -ac 1 FILE.wav)");
  EXPECT_TRUE(holds(error_of(foreign("\x7F" "FLAC\x01\x00")), "x.ogg: an Ogg FLAC recording; duet reads"));
  EXPECT_TRUE(holds(error_of(foreign("Speex   1.2")), "x.ogg: an Ogg Speex recording"));
  EXPECT_TRUE(holds(error_of(foreign("\x80theora...")), "x.ogg: an Ogg Theora video"));
  EXPECT_TRUE(holds(error_of(foreign("hello")), "x.ogg: an Ogg file of a codec duet does not know"));
  EXPECT_TRUE(holds(error_of(Bytes{'O', 'g', 'g', 'S', 0}), "x.ogg: an Ogg file without a stream's first page"));
  Bytes multiplexed = cat({opus, good});
  EXPECT_EQ(decode_vorbis(multiplexed, "x.ogg", &info).samples.size(), size_t(390));
  // What the WAV reader says of an Ogg file it is given.
  EXPECT_EQ(audio_format_of(good), "an Ogg file (Vorbis or Opus)");
}

// The packets of a file's one stream and the granule position of its last page, as a test
// reads them to damage and page them again.
std::vector<Bytes> packets_of(const Bytes& b, int64_t* last_granule) {
  std::vector<Bytes> out;
  Bytes partial;
  for (size_t at = 0; at + 27 <= b.size();) {
    const size_t segments = b[at + 26];
    size_t body = at + 27 + segments;
    for (size_t i = 0; i < segments; ++i) {
      const uint8_t l = b[at + 27 + i];
      partial.insert(partial.end(), b.begin() + std::ptrdiff_t(body), b.begin() + std::ptrdiff_t(body + l));
      body += l;
      if (l < 255) out.push_back(partial), partial.clear();
    }
    uint64_t g = 0;
    for (int i = 7; i >= 0; --i) g = g << 8 | b[at + 6 + size_t(i)];
    *last_granule = int64_t(g);
    at = body;
  }
  return out;
}

// Packets paged again one to a page: the headers at granule 0, the audio without granule
// positions but the last, which keeps the stream's.
Bytes paged(const std::vector<Bytes>& packets, int64_t last_granule) {
  Bytes b;
  for (size_t i = 0; i < packets.size(); ++i) {
    const bool last = i + 1 == packets.size();
    const Bytes p = page({packets[i]}, i < 3 ? 0 : last ? last_granule : -1, uint32_t(i),
                         uint8_t((i == 0 ? kFirst : 0) | (last ? kLast : 0)));
    b.insert(b.end(), p.begin(), p.end());
  }
  return b;
}

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// oggdec's 16-bit output, channels averaged, and whether each frame is unclipped.
std::vector<double> read_s16_mean(const std::string& path, int channels, std::vector<bool>* unclipped) {
  const Bytes b = read_file(path);
  const size_t frames = b.size() / 2 / size_t(channels);
  std::vector<double> v(frames, 0.0);
  unclipped->assign(frames, true);
  for (size_t i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c) {
      const size_t at = 2 * (i * size_t(channels) + size_t(c));
      const int16_t s = int16_t(uint16_t(b[at] | b[at + 1] << 8));
      if (s == 32767 || s == -32768) (*unclipped)[i] = false;
      v[i] += s / 32768.0 / channels;
    }
  return v;
}

std::vector<float> read_f32_mean(const std::string& path, int channels) {
  const Bytes b = read_file(path);
  const size_t frames = b.size() / 4 / size_t(channels);
  std::vector<float> v(frames, 0.0f);
  for (size_t i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c) {
      float x;
      std::memcpy(&x, &b[4 * (i * size_t(channels) + size_t(c))], 4);
      v[i] += x / float(channels);
    }
  return v;
}

TEST(Vorbis, ReadsWhatTheEncodersWriteAsTheReferenceDecodersDo) {
  DUET_REQUIRE_REFERENCE_FFMPEG();
  DUET_REQUIRE_REFERENCE_VORBIS_TOOLS();
  duet_test::ScratchFolder scratch("duet_vorbis_");
  const std::string dir = scratch.path().string();
  struct Case {
    int rate, channels;
    std::string encoder, options;  // "libvorbis" and "vorbis" through ffmpeg; "oggenc"
  } cases[] = {
      {44100, 2, "libvorbis", "-q:a 5"},  {48000, 2, "libvorbis", "-q:a 0"},  {22050, 1, "libvorbis", "-q:a 3"},
      {16000, 1, "libvorbis", "-q:a 1"}, {8000, 1, "libvorbis", "-q:a 10"},  {11025, 2, "libvorbis", "-q:a 2"},
      {32000, 6, "libvorbis", "-q:a 4"},  {96000, 2, "libvorbis", "-q:a 6"},  {48000, 3, "libvorbis", "-q:a 3"},
      {44100, 1, "libvorbis", "-b:a 32k"}, {44100, 2, "vorbis", "-strict -2"}, {8000, 2, "vorbis", "-strict -2"},
      {8000, 1, "oggenc", "-q 3"},        {16000, 2, "oggenc", "--managed -b 48"}, {24000, 4, "oggenc", "-q -1"},
  };
  int k = 0;
  for (const Case& c : cases) {
    const std::string what = "case " + std::to_string(k) + " (" + std::to_string(c.rate) + " Hz, " +
                             std::to_string(c.channels) + " ch, " + c.encoder + " " + c.options + ")";
    const int n = c.rate * 3 / 2;
    const std::vector<int16_t> pcm = duet_test::codec_test_signal(c.rate, c.channels, n, uint32_t(k), 1.1);
    const std::string stem = dir + "/" + std::to_string(k), wav = stem + ".wav", ogg = stem + ".ogg";
    duet_test::write_pcm16_wav(wav, pcm, c.channels, c.rate);
    if (c.encoder == "oggenc")
      ASSERT_EQ(duet_test::oggenc(c.options + " -o " + ogg + " " + wav), "") << what;
    else
      ASSERT_EQ(duet_test::ffmpeg("-i " + wav + " -c:a " + c.encoder + " " + c.options + " " + ogg), "") << what;
    ASSERT_EQ(duet_test::oggdec("-R -o " + stem + ".s16 " + ogg), "") << what;
    WavInfo info;
    const Audio a = read_audio(ogg, &info);
    EXPECT_EQ(a.sample_rate, c.rate) << what;
    EXPECT_EQ(info.channels, c.channels) << what;
    EXPECT_EQ(info.encoding.rfind("Vorbis (Ogg)", 0), size_t(0)) << what << ": " << info.encoding;
    EXPECT_EQ(info.note, "") << what;
    // libvorbis: every sample within half a step of its 16-bit rounding, and as many samples.
    std::vector<bool> unclipped;
    const std::vector<double> want = read_s16_mean(stem + ".s16", c.channels, &unclipped);
    ASSERT_EQ(a.samples.size(), want.size()) << what;
    if (c.encoder != "vorbis") EXPECT_EQ(a.samples.size(), size_t(n)) << what;  // libvorbis: the encoder's input
    double worst = 0, peak = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      if (unclipped[i]) worst = std::max(worst, std::abs(a.samples[i] - want[i]));
      peak = std::max(peak, std::abs(want[i]));
    }
    EXPECT_LT(worst, 0.5 / 32768 + 1e-6) << what;
    EXPECT_GT(peak, 0.1) << what;
    // ffmpeg's float decoder, on what libvorbis writes (on its own encoder's streams it differs
    // from libvorbis by up to 0.6).
    if (c.encoder != "vorbis") {
      ASSERT_EQ(duet_test::ffmpeg("-i " + ogg + " -f f32le " + stem + ".f32"), "") << what;
      const std::vector<float> f = read_f32_mean(stem + ".f32", c.channels);
      const size_t m = std::min(f.size(), a.samples.size());
      EXPECT_GE(m, size_t(n)) << what;
      double far = 0;
      for (size_t i = 0; i < m; ++i) far = std::max(far, double(std::abs(a.samples[i] - f[i])));
      EXPECT_LT(far, 2e-6) << what;
    }
    ++k;
  }
}

// Pages carry CRCs, so damage to a file is mostly refused at the page (DamagedFiles tests
// that); here the packets themselves are damaged and paged again with valid CRCs, as a buggy
// encoder or muxer would write them: each copy must read to finite samples or be refused with
// one line naming the file.
TEST(Vorbis, DamagedPacketsAreReadOrRefused) {
  DUET_REQUIRE_REFERENCE_FFMPEG();
  duet_test::ScratchFolder scratch("duet_vorbis_damaged_");
  const std::string dir = scratch.path().string();
  for (int channels : {1, 2}) {
    const std::string wav = dir + "/in.wav", ogg = dir + "/in.ogg";
    duet_test::write_pcm16_wav(wav, duet_test::codec_test_signal(16000, channels, 8000, 3, 0.3), channels, 16000);
    ASSERT_EQ(duet_test::ffmpeg("-i " + wav + " -c:a libvorbis -q:a 2 " + ogg), "");
    const Bytes good = read_file(ogg);
    int64_t last_granule = 0;
    const std::vector<Bytes> original = packets_of(good, &last_granule);
    ASSERT_GT(original.size(), size_t(5));
    // Paged again undamaged, the stream decodes as it did.
    ASSERT_EQ(decode_vorbis(paged(original, last_granule), "x").samples, decode_vorbis(good, "x").samples);
    std::mt19937 rng{uint32_t(channels)};
    int read = 0, refused = 0;
    for (int trial = 0; trial < 300; ++trial) {
      std::vector<Bytes> p = original;
      // A third of the trials damage the setup header (codebooks, floors, residues, mappings),
      // the rest an audio packet: flipped bits, a cut, or random bytes in a stretch.
      const size_t which = trial % 3 == 0 ? 2 : 3 + rng() % (p.size() - 3);
      Bytes& packet = p[which];
      switch (trial % 4) {
        case 0:
        case 1:
          for (int i = 0; i < 1 + trial % 3; ++i) packet[rng() % packet.size()] ^= uint8_t(1 << (rng() % 8));
          break;
        case 2:
          packet.resize(rng() % packet.size());
          break;
        default: {
          const size_t from = rng() % packet.size(), to = std::min(packet.size(), from + 1 + rng() % 16);
          for (size_t i = from; i < to; ++i) packet[i] = uint8_t(rng());
        }
      }
      const std::string name = dir + "/copy.ogg";
      try {
        // Every seventh copy also ends on a granule position of any 64 bits.
        const int64_t granule = trial % 7 == 6 ? int64_t(uint64_t(rng()) << 32 | rng()) : last_granule;
        const Audio a = decode_vorbis(paged(p, granule), name);
        for (float v : a.samples) ASSERT_TRUE(std::isfinite(v)) << "trial " << trial;
        ++read;
      } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_EQ(msg.rfind(name + ": ", 0), size_t(0)) << "trial " << trial << ": " << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << "trial " << trial << ": " << msg;
        ++refused;
      }
    }
    EXPECT_GT(read, 30) << channels << " channels";
    EXPECT_GT(refused, 30) << channels << " channels";
  }
}

}  // namespace
