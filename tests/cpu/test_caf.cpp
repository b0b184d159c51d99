// The CAF reader: files built here chunk by chunk (every sample coding, a data chunk of unknown
// size, one cut short, chunks in another order, and what must be refused), and files ffmpeg
// writes in every PCM, float and G.711 coding its CAF muxer has, read as ffmpeg reads them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "dsp/caf.h"
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

struct Caf {
  std::string format = "lpcm";
  uint32_t flags = 2, channels = 1, bits = 16, bytes_per_packet = 0, frames_per_packet = 1;  // 0: channels x bytes
  double rate = 8000;
  uint16_t version = 1;
  Bytes samples;
  bool unknown_size = false, data_first = false, free_chunk = false;
};

Bytes chunk(const char* id, const Bytes& body, bool unknown_size = false) {
  Bytes b(id, id + 4);
  put_be(b, unknown_size ? ~uint64_t(0) : body.size(), 8);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

Bytes file(const Caf& c) {
  Bytes desc;
  uint64_t rate;
  std::memcpy(&rate, &c.rate, 8);
  put_be(desc, rate, 8);
  desc.insert(desc.end(), c.format.begin(), c.format.end());
  const uint32_t bytes = c.format == "lpcm" ? c.bits / 8 : 1;
  put_be(desc, c.flags, 4), put_be(desc, c.bytes_per_packet ? c.bytes_per_packet : c.channels * bytes, 4);
  put_be(desc, c.frames_per_packet, 4), put_be(desc, c.channels, 4), put_be(desc, c.bits, 4);
  Bytes data = {0, 0, 0, 0};  // edit count
  data.insert(data.end(), c.samples.begin(), c.samples.end());
  Bytes b = {'c', 'a', 'f', 'f'};
  put_be(b, c.version, 2), put_be(b, 0, 2);
  const Bytes d = chunk("desc", desc), s = chunk("data", data, c.unknown_size);
  const Bytes f = c.free_chunk ? chunk("free", Bytes(7, 0)) : Bytes{};
  for (const Bytes* part : c.data_first ? std::vector<const Bytes*>{&f, &s, &d} : std::vector<const Bytes*>{&d, &f, &s})
    b.insert(b.end(), part->begin(), part->end());
  return b;
}

std::string error_of(const Bytes& b) {
  try {
    decode_caf(b, "x.caf");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(Caf, EveryCodingReadsAsTheWavReaderScalesIt) {
  struct Case {
    std::string format;
    uint32_t flags, bits, channels;
    Bytes samples;
    std::vector<float> want;
    std::string encoding;
  } cases[] = {
      {"lpcm", 2, 16, 2, {0x00, 0x40, 0x00, 0xE0}, {0.125f}, "pcm (CAF)"},
      {"lpcm", 0, 16, 1, {0x40, 0x00, 0x80, 0x00}, {0.5f, -1.0f}, "pcm big-endian (CAF)"},
      {"lpcm", 0, 8, 1, {0x80, 0x40}, {-1.0f, 0.5f}, "pcm (CAF)"},
      {"lpcm", 2, 24, 1, {0x00, 0x00, 0x20}, {0.25f}, "pcm (CAF)"},
      {"lpcm", 0, 32, 1, {0xC0, 0, 0, 0}, {-0.5f}, "pcm big-endian (CAF)"},
      {"lpcm", 3, 32, 1, {0x00, 0x00, 0xC0, 0x3F}, {1.5f}, "float (CAF)"},
      {"lpcm", 1, 32, 1, {0xBE, 0x80, 0, 0}, {bits_float(0xBE800000)}, "float (CAF)"},
      {"lpcm", 1, 64, 1, {0x3F, 0xD0, 0, 0, 0, 0, 0, 0}, {0.25f}, "float (CAF)"},
      {"ulaw", 0, 8, 1, {0x00, 0xFF}, {-32124 / 32768.0f, 0.0f}, "mu-law (CAF)"},
      {"alaw", 0, 8, 1, {0xAA}, {32256 / 32768.0f}, "a-law (CAF)"},
  };
  for (const Case& k : cases) {
    Caf c;
    c.format = k.format, c.flags = k.flags, c.bits = k.bits, c.channels = k.channels, c.rate = 44100;
    c.samples = k.samples;
    const std::string what = k.format + " " + std::to_string(k.bits) + " flags " + std::to_string(k.flags);
    WavInfo info;
    const Audio a = decode_audio(file(c), "x.caf", &info);
    ASSERT_EQ(a.samples.size(), k.want.size()) << what;
    for (size_t i = 0; i < k.want.size(); ++i) EXPECT_FLOAT_EQ(a.samples[i], k.want[i]) << what << " sample " << i;
    EXPECT_EQ(a.sample_rate, 44100) << what;
    EXPECT_EQ(info.encoding, k.encoding) << what;
    EXPECT_EQ(info.bits_per_sample, int(k.bits)) << what;
    EXPECT_EQ(info.channels, int(k.channels)) << what;
    EXPECT_EQ(info.note, "") << what;
  }
}

TEST(Caf, DataOfUnknownSizeChunksInAnyOrderAndFilesCutShort) {
  Caf c;
  c.samples = {0x00, 0x40, 0x00, 0x20, 0x00, 0x10};
  c.unknown_size = true;  // a recorder stopped before it could write the size: to the end of the file
  WavInfo info;
  EXPECT_EQ(decode_caf(file(c), "x.caf", &info).samples, (std::vector<float>{0.5f, 0.25f, 0.125f}));
  EXPECT_EQ(info.note, "");  // as the format allows: not a file cut short
  c.unknown_size = false, c.data_first = true, c.free_chunk = true;
  EXPECT_EQ(decode_caf(file(c), "x.caf").samples, (std::vector<float>{0.5f, 0.25f, 0.125f}));
  EXPECT_TRUE(is_caf(file(c)));
  EXPECT_FALSE(is_caf(Bytes{'R', 'I', 'F', 'F'}));
  // Cut inside its data: the whole frames before the cut, with a note.
  c.data_first = false, c.free_chunk = false;
  Bytes cut = file(c);
  cut.resize(cut.size() - 3);
  EXPECT_EQ(decode_caf(cut, "x.caf", &info).samples, (std::vector<float>{0.5f}));
  EXPECT_EQ(info.note, "the data chunk's size says 10 bytes but 7 follow it; read to the end of the file (cut short?)");
  // What the WAV reader says of a CAF file, for a caller that asks for WAV.
  EXPECT_EQ(audio_format_of(file(c)), "a Core Audio (CAF) file");
}

TEST(Caf, WhatBreaksTheFormatIsRefused) {
  const auto with = [](auto change) {
    Caf c;
    c.samples = {0, 1, 0, 2};
    change(c);
    return error_of(file(c));
  };
  EXPECT_EQ(with([](Caf&) {}), "");
  EXPECT_EQ(with([](Caf& c) { c.version = 2; }), "x.caf: CAF version 2 (1 expected)");
  EXPECT_EQ(with([](Caf& c) { c.format = "aac "; }),
            "x.caf: a CAF file of 'aac ' audio (AAC); duet reads linear PCM, float and G.711 CAF (convert it first, "
            "e.g. ffmpeg -i FILE -ac 1 FILE.wav)");
  EXPECT_EQ(with([](Caf& c) { c.format = "ima4"; }).rfind("x.caf: a CAF file of 'ima4' audio (Apple IMA ADPCM)", 0),
            size_t(0));
  EXPECT_EQ(with([](Caf& c) { c.channels = 0; }), "x.caf: CAF with 0 channels");
  EXPECT_EQ(with([](Caf& c) { c.rate = 0; }), "x.caf: CAF sample rate 0 Hz (1000-1000000 expected)");
  EXPECT_EQ(with([](Caf& c) { c.rate = std::nan(""); }), "x.caf: CAF sample rate nan Hz (1000-1000000 expected)");
  EXPECT_EQ(with([](Caf& c) { c.bits = 12; }), "x.caf: CAF integer samples of 12 bits (8, 16, 24 or 32 expected)");
  EXPECT_EQ(with([](Caf& c) { c.flags = 1, c.bits = 16; }), "x.caf: CAF float samples of 16 bits (32 or 64 expected)");
  EXPECT_EQ(with([](Caf& c) { c.format = "ulaw", c.bits = 16; }), "x.caf: CAF G.711 samples of 16 bits (8 expected)");
  EXPECT_EQ(with([](Caf& c) { c.frames_per_packet = 2; }),
            "x.caf: CAF packets of 2 bytes and 2 frames (1 frame of 2 bytes expected)");
  EXPECT_EQ(with([](Caf& c) { c.flags = 1, c.bits = 32, c.samples = {0x7F, 0xC0, 0, 0}; }),
            "x.caf: CAF holds a non-finite float sample");
  // Files without their chunks, or with a chunk that runs past the end.
  Caf c;
  c.samples = {0, 1};
  const Bytes good = file(c);
  Bytes no_desc = good;
  std::memcpy(no_desc.data() + 8, "xxxx", 4);
  EXPECT_EQ(error_of(no_desc), "x.caf: CAF file without a desc chunk");
  Bytes no_data = good;
  std::memcpy(no_data.data() + 8 + 12 + 32, "xxxx", 4);
  EXPECT_EQ(error_of(no_data), "x.caf: CAF file without a data chunk");
  Bytes long_desc = good;
  long_desc[8 + 11] = 200;
  EXPECT_EQ(error_of(long_desc), "x.caf: chunk 'desc' claims 200 bytes but the file ends after 50 (truncated?)");
  Bytes short_desc = good;
  short_desc[8 + 11] = 20;
  EXPECT_EQ(error_of(short_desc), "x.caf: CAF desc chunk of 20 bytes (32 expected)");
}

TEST(Caf, ReadsWhatFfmpegWritesAsFfmpegReadsIt) {
  DUET_REQUIRE_REFERENCE_FFMPEG();
  duet_test::ScratchFolder scratch("duet_caf_");
  duet_test::expect_reads_as_ffmpeg(scratch.path().string(), "caf",
                                    {"pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s32be", "pcm_s8", "pcm_f32le",
                                     "pcm_f64be", "pcm_alaw", "pcm_mulaw"},
                                    7);
}

}  // namespace
