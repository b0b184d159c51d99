// The AIFF reader: files built here chunk by chunk (every sample coding, chunks in another
// order, an SSND offset, a file cut short, and what must be refused), and files ffmpeg writes
// in every coding its AIFF muxer has, read as ffmpeg reads them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "dsp/aiff.h"
#include "dsp/wav.h"
#include "engine/error.h"
#include "bit_writer.h"
#include "ffmpeg_pcm.h"
#include "reference_aac.h"
#include "scratch.h"

using namespace duet;
using namespace duet::dsp;

namespace {

using Bytes = std::vector<uint8_t>;

using duet_test::put_be;

// A positive integer rate as an 80-bit extended float.
Bytes extended(uint32_t rate) {
  Bytes b;
  if (rate == 0) return Bytes(10, 0);
  const int top = 31 - __builtin_clz(rate);
  put_be(b, uint64_t(16383 + top), 2);
  put_be(b, uint64_t(rate) << (63 - top), 8);
  return b;
}

Bytes chunk(const char* id, const Bytes& body) {
  Bytes b(id, id + 4);
  put_be(b, body.size(), 4);
  b.insert(b.end(), body.begin(), body.end());
  if (body.size() & 1) b.push_back(0);
  return b;
}

struct Aiff {
  std::string type;  // "" for AIFF, else AIFF-C's compression type
  int channels = 1, bits = 16;
  uint32_t frames = 0, rate = 8000, offset = 0;
  Bytes samples;     // the sound data after the offset
  Bytes rate_bytes;  // in place of extended(rate) when set
  bool comm_after_ssnd = false, name_chunk = false;
};

Bytes comm(const Aiff& a) {
  Bytes c;
  put_be(c, uint64_t(a.channels), 2), put_be(c, a.frames, 4), put_be(c, uint64_t(a.bits), 2);
  const Bytes r = a.rate_bytes.empty() ? extended(a.rate) : a.rate_bytes;
  c.insert(c.end(), r.begin(), r.end());
  if (!a.type.empty()) {
    c.insert(c.end(), a.type.begin(), a.type.end());
    c.push_back(0);  // an empty compression name (a Pascal string, padded to even)
    c.push_back(0);
  }
  return c;
}

Bytes file(const Aiff& a) {
  Bytes ssnd;
  put_be(ssnd, a.offset, 4), put_be(ssnd, 0, 4);
  ssnd.insert(ssnd.end(), a.offset, 0xAB);
  ssnd.insert(ssnd.end(), a.samples.begin(), a.samples.end());
  Bytes body = {'A', 'I', 'F', a.type.empty() ? uint8_t('F') : uint8_t('C')};
  const Bytes c = chunk("COMM", comm(a)), s = chunk("SSND", ssnd);
  if (a.name_chunk) {
    const Bytes n = chunk("NAME", Bytes{'d', 'i', 'g', 'i', 't'});  // odd: padded
    body.insert(body.end(), n.begin(), n.end());
  }
  for (const Bytes* part : a.comm_after_ssnd ? std::vector<const Bytes*>{&s, &c} : std::vector<const Bytes*>{&c, &s})
    body.insert(body.end(), part->begin(), part->end());
  Bytes b = {'F', 'O', 'R', 'M'};
  put_be(b, body.size(), 4);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

std::string error_of(const Bytes& b) {
  try {
    decode_aiff(b, "x.aiff");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(Aiff, EveryCodingReadsAsTheWavReaderScalesIt) {
  struct Case {
    std::string type;
    int bits, channels;
    Bytes samples;
    std::vector<float> want;  // mono
    std::string encoding;
  } cases[] = {
      {"", 16, 2, {0x40, 0x00, 0xE0, 0x00, 0x80, 0x00, 0x7F, 0xFF}, {0.125f, -1 / 65536.0f}, "pcm (AIFF)"},
      {"", 8, 1, {0x80, 0x40, 0x00}, {-1.0f, 0.5f, 0.0f}, "pcm (AIFF)"},
      {"", 24, 1, {0x40, 0x00, 0x01}, {float((0x400001 << 8) / 2147483648.0)}, "pcm (AIFF)"},
      // 12 bits, left-justified in two bytes: 2047 is 0x7FF0.
      {"", 12, 1, {0x7F, 0xF0, 0x80, 0x00}, {2047 * 16 / 32768.0f, -1.0f}, "pcm (AIFF)"},
      {"", 32, 1, {0xC0, 0, 0, 0}, {-0.5f}, "pcm (AIFF)"},
      {"NONE", 16, 1, {0x20, 0x00}, {0.25f}, "pcm (AIFF-C)"},
      {"twos", 16, 1, {0x20, 0x00}, {0.25f}, "pcm (AIFF-C)"},
      {"sowt", 16, 1, {0x00, 0x20}, {0.25f}, "pcm little-endian (AIFF-C)"},
      {"in24", 24, 1, {0x20, 0x00, 0x00}, {0.25f}, "pcm (AIFF-C)"},
      {"raw ", 8, 1, {0x80, 0xFF, 0x00}, {0.0f, 127 / 128.0f, -1.0f}, "pcm unsigned (AIFF-C)"},
      {"fl32", 32, 1, {0x3F, 0xC0, 0, 0, 0xBF, 0x00, 0, 0}, {1.5f, -0.5f}, "float (AIFF-C)"},
      {"FL32", 32, 1, {0x3E, 0x80, 0, 0}, {0.25f}, "float (AIFF-C)"},
      {"fl64", 64, 1, {0x3F, 0xD0, 0, 0, 0, 0, 0, 0}, {0.25f}, "float (AIFF-C)"},
      // G.711 as the WAV reader expands it: mu-law 0x00 is -32124, A-law 0xAA 32256.
      {"ulaw", 16, 1, {0x00, 0xFF}, {-32124 / 32768.0f, 0.0f}, "mu-law (AIFF-C)"},
      {"alaw", 16, 1, {0xAA}, {32256 / 32768.0f}, "a-law (AIFF-C)"},
  };
  for (const Case& c : cases) {
    Aiff a;
    a.type = c.type, a.bits = c.bits, a.channels = c.channels, a.rate = 44100;
    a.samples = c.samples;
    a.frames = uint32_t(c.want.size());
    WavInfo info;
    const std::string what = c.type.empty() ? "AIFF " + std::to_string(c.bits) : "'" + c.type + "'";
    const Audio got = decode_audio(file(a), "x.aiff", &info);
    ASSERT_EQ(got.samples.size(), c.want.size()) << what;
    for (size_t i = 0; i < c.want.size(); ++i) EXPECT_FLOAT_EQ(got.samples[i], c.want[i]) << what << " sample " << i;
    EXPECT_EQ(got.sample_rate, 44100) << what;
    EXPECT_EQ(info.encoding, c.encoding) << what;
    EXPECT_EQ(info.bits_per_sample, c.bits) << what;
    EXPECT_EQ(info.channels, c.channels) << what;
    EXPECT_EQ(info.frames, int64_t(c.want.size())) << what;
    EXPECT_EQ(info.note, "") << what;
  }
}

TEST(Aiff, ChunksInAnyOrderAndFilesCutShort) {
  Aiff a;
  a.frames = 4, a.rate = 22050, a.offset = 4, a.comm_after_ssnd = true, a.name_chunk = true;
  a.samples = {0x40, 0, 0x20, 0, 0x10, 0, 0x08, 0};
  const Audio got = decode_aiff(file(a), "x.aiff");
  EXPECT_EQ(got.samples, (std::vector<float>{0.5f, 0.25f, 0.125f, 0.0625f}));
  EXPECT_EQ(got.sample_rate, 22050);
  EXPECT_TRUE(is_aiff(file(a)));
  EXPECT_FALSE(is_aiff(Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'}));
  // Cut inside its sound data: the whole frames before the cut read, with a note.
  a.comm_after_ssnd = false;
  Bytes b = file(a);
  b.resize(b.size() - 3);
  WavInfo info;
  EXPECT_EQ(decode_aiff(b, "x.aiff", &info).samples.size(), size_t(2));
  EXPECT_EQ(info.note,
            "the COMM chunk says 4 frames but the file ends after 2; read to the end of the file (cut short?)");
  // No frames: no sound data needed.
  Aiff empty;
  EXPECT_EQ(decode_aiff(file(empty), "x.aiff").samples.size(), size_t(0));
  // What the WAV reader says of an AIFF file, for a caller that asks for WAV.
  EXPECT_EQ(audio_format_of(file(a)), "an AIFF file");
}

TEST(Aiff, WhatBreaksTheFormatIsRefused) {
  const auto with = [](auto change) {
    Aiff a;
    a.frames = 2, a.samples = {0, 1, 0, 2};
    change(a);
    return error_of(file(a));
  };
  EXPECT_EQ(with([](Aiff&) {}), "");
  EXPECT_EQ(with([](Aiff& a) { a.channels = 0; }), "x.aiff: AIFF with 0 channels");
  EXPECT_EQ(with([](Aiff& a) { a.bits = 0; }), "x.aiff: AIFF samples of 0 bits (1-32 expected)");
  EXPECT_EQ(with([](Aiff& a) { a.bits = 33; }), "x.aiff: AIFF samples of 33 bits (1-32 expected)");
  EXPECT_EQ(with([](Aiff& a) { a.rate = 0; }), "x.aiff: AIFF sample rate 0 Hz (1000-1000000 expected)");
  EXPECT_EQ(with([](Aiff& a) { a.rate_bytes = Bytes{0x7F, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}; }),
            "x.aiff: AIFF sample rate nan Hz (1000-1000000 expected)");
  EXPECT_EQ(with([](Aiff& a) { a.type = "ima4"; }),
            "x.aiff: an AIFF-C file compressed as 'ima4' (Apple IMA ADPCM); duet reads uncompressed, float and G.711 "
            "AIFF (convert it first, e.g. ffmpeg -i FILE -ac 1 FILE.wav)");
  EXPECT_EQ(with([](Aiff& a) { a.type = "fl32", a.bits = 32, a.samples = {0x7F, 0xC0, 0, 0, 0, 0, 0, 0}; }),
            "x.aiff: AIFF holds a non-finite float sample");
  EXPECT_EQ(with([](Aiff& a) { a.frames = 3; }),
            "x.aiff: the SSND chunk holds 2 of the COMM chunk's 3 frames");
  EXPECT_EQ(with([](Aiff& a) { a.offset = 2, a.samples.resize(2); }),
            "x.aiff: the SSND chunk holds 1 of the COMM chunk's 2 frames");
  // Files without their chunks, or with a chunk that runs past the end.
  Aiff a;
  a.frames = 2, a.samples = {0, 1, 0, 2};
  const Bytes good = file(a);
  Bytes no_comm = good;
  std::memcpy(no_comm.data() + 12, "XXXX", 4);
  EXPECT_EQ(error_of(no_comm), "x.aiff: AIFF has no COMM chunk");
  Bytes no_ssnd = good;
  std::memcpy(no_ssnd.data() + 12 + 8 + 18, "XXXX", 4);
  EXPECT_EQ(error_of(no_ssnd), "x.aiff: AIFF has no SSND chunk for its 2 frames");
  Bytes long_comm = good;
  long_comm[12 + 7] = 200;
  EXPECT_EQ(error_of(long_comm), "x.aiff: chunk 'COMM' claims 200 bytes but the file ends after 38 (truncated?)");
  Bytes short_comm = good;
  short_comm[12 + 7] = 10;
  EXPECT_EQ(error_of(short_comm).rfind("x.aiff: COMM chunk of 10 bytes (18 expected at least)", 0), size_t(0));
}

TEST(Aiff, ReadsWhatFfmpegWritesAsFfmpegReadsIt) {
  DUET_REQUIRE_REFERENCE_FFMPEG();
  duet_test::ScratchFolder scratch("duet_aiff_");
  duet_test::expect_reads_as_ffmpeg(scratch.path().string(), "aiff",
                                    {"pcm_s16be", "pcm_s24be", "pcm_s32be", "pcm_s8", "pcm_f32be", "pcm_f64be",
                                     "pcm_alaw", "pcm_mulaw", "pcm_s16le"},
                                    5);
}

}  // namespace
