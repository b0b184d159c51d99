// Every reader of bytes from outside (WAV, AIFF, CAF, FLAC, MP3, AAC and Ogg Vorbis recordings,
// safetensors checkpoints, MNIST's IDX files plain and gzipped, PNG (grey, RGB and RGBA with transparency),
// JPEG, BMP, TGA, PGM and GIF pictures) on hundreds of damaged copies of a good file: cut short,
// bits flipped, 32-bit fields overwritten with boundary values, header bytes scrambled, junk
// after a cut. Each copy must be read or refused with a one-line duet::Error that names the
// file; none may crash, throw anything else or hang. The sanitizer build (tools/sanitize.sh)
// runs the same copies under AddressSanitizer and UndefinedBehaviorSanitizer, which also catch
// a read past a buffer that happens not to crash.
#include <gtest/gtest.h>
#include <stb_image_write.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "dsp/aac.h"
#include "dsp/aiff.h"
#include "dsp/caf.h"
#include "dsp/flac.h"
#include "dsp/mp3.h"
#include "dsp/vorbis.h"
#include "dsp/wav.h"
#include "engine/checkpoint.h"
#include "engine/error.h"
#include "models/datasets.h"
#include "models/image_data.h"
#include "tests/cpu/bit_writer.h"
#include "tests/cpu/codec_signals.h"
#include "tests/cpu/reference_aac.h"
#include "tests/cpu/reference_flac.h"
#include "tests/cpu/reference_mp3.h"
#include "tests/cpu/scratch.h"

using namespace duet;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

const duet_test::ScratchFolder kScratch("duet_damaged_");

void write_file(const fs::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

Bytes gzip(const Bytes& b) {
  Bytes out(compressBound(uLong(b.size())) + 32);
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);  // 15 + 16: a gzip wrapper
  z.next_in = const_cast<Bytes::value_type*>(b.data());
  z.avail_in = uInt(b.size());
  z.next_out = out.data();
  z.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// One damaged copy of `good`; the kind of damage cycles with the trial number, so each kind
// is tried as often as the others.
Bytes damage(const Bytes& good, std::mt19937_64& rng, int trial) {
  Bytes b = good;
  auto pick = [&](size_t n) { return size_t(rng() % std::max<size_t>(n, 1)); };
  switch (trial % 5) {
    case 0:  // cut short anywhere
      b.resize(pick(good.size()));
      break;
    case 1: {  // one to four bits flipped
      const int flips = 1 + int(rng() % 4);
      for (int i = 0; i < flips; ++i) b[pick(b.size())] ^= uint8_t(1u << (rng() % 8));
      break;
    }
    case 2: {  // a 32-bit field in the first 128 bytes, little- or big-endian, set to a boundary value
      static const uint32_t kValues[] = {0u, 1u, 0xffffffffu, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0x10000u, 3u};
      if (b.size() < 4) break;
      const uint32_t v = kValues[rng() % 8];
      const size_t at = pick(std::min<size_t>(b.size(), 128) - 4);
      const bool big = rng() % 2;
      for (int i = 0; i < 4; ++i) b[at + i] = uint8_t(v >> (8 * (big ? 3 - i : i)));
      break;
    }
    case 3: {  // six header bytes (of the first 64) set at random
      const size_t n = std::min<size_t>(b.size(), 64);
      for (int i = 0; i < 6; ++i) b[pick(n)] = uint8_t(rng());
      break;
    }
    default: {  // cut anywhere, then up to 64 random bytes appended
      b.resize(pick(b.size()));
      const size_t junk = 1 + rng() % 64;
      for (size_t i = 0; i < junk; ++i) b.push_back(uint8_t(rng()));
      break;
    }
  }
  return b;
}

struct Tally {
  int read = 0, refused = 0;
};

// Reads `trials` damaged copies of `good` through `read_path` (which reads the file at the path
// it is given); every outcome must be a clean read or a one-line duet::Error naming the file.
Tally read_damaged_copies(const std::string& what, const Bytes& good, int trials,
                          const std::function<void(const std::string&)>& read_path) {
  Tally t;
  std::mt19937_64 rng(std::hash<std::string>{}(what));
  const fs::path dir = kScratch.path() / what;
  fs::create_directories(dir);
  for (int trial = 0; trial < trials; ++trial) {
    const fs::path p = dir / ("copy" + std::to_string(trial % 4));
    write_file(p, damage(good, rng, trial));
    try {
      read_path(p.string());
      ++t.read;
    } catch (const Error& e) {
      ++t.refused;
      const std::string msg = e.what();
      EXPECT_NE(msg.find(p.string()), std::string::npos) << what << " trial " << trial << ": " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << what << " trial " << trial << ": not one line: " << msg;
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << " trial " << trial << ": threw " << e.what() << " instead of a duet::Error";
    }
  }
  EXPECT_EQ(t.read + t.refused, trials) << what;
  return t;
}

// Damage that changes nothing the reader relies on (a flipped sample bit) reads; most cuts and
// header damage must be refused: a reader that refused nothing would not be checking.
void expect_both_outcomes(const std::string& what, const Tally& t, int trials) {
  EXPECT_GT(t.refused, trials / 5) << what << ": too few damaged copies refused";
  EXPECT_GT(t.read, 0) << what << ": every damaged copy refused, even those that only change a value";
}

Bytes a_wav() {
  std::vector<float> s(800);
  for (size_t i = 0; i < s.size(); ++i) s[i] = 0.5f * std::sin(0.07f * float(i));
  return dsp::encode_wav(s, 8000);
}

// A FLAC stream from the reference encoder (empty when flac is not installed): 16-bit, in
// frames of 192 samples, one channel (a_wav's samples) or two (mid/side and the other stereo
// decorrelations, the side channel a bit wider).
Bytes a_flac(int channels) {
  const fs::path dir = kScratch.path() / "flac_source";
  fs::create_directories(dir);
  const fs::path raw = dir / (std::to_string(channels) + ".raw"), out = dir / (std::to_string(channels) + ".flac");
  Bytes pcm;
  for (int i = 0; i < 2000; ++i)
    for (int c = 0; c < channels; ++c) {
      const auto v = int16_t(std::lround(12000 * std::sin(0.07 * i) + 3000 * c * std::sin(0.013 * i)));
      pcm.push_back(uint8_t(v & 0xFF)), pcm.push_back(uint8_t((v >> 8) & 0xFF));
    }
  write_file(raw, pcm);
  if (!duet_test::encode_raw_flac(raw.string(), out.string(), channels, 16, 8000, "-b 192 -m").empty()) return {};
  return read_file(out);
}

// An MP3 from the reference encoder (empty when lame is not installed): 8 kHz mono (MPEG-2.5),
// or 44.1 kHz joint stereo with every frame CRC-protected (MPEG-1, a LAME tag in its first frame).
Bytes an_mp3(int channels) {
  const fs::path dir = kScratch.path() / "mp3_source";
  fs::create_directories(dir);
  const fs::path wav = dir / (std::to_string(channels) + ".wav"), out = dir / (std::to_string(channels) + ".mp3");
  const int rate = channels == 1 ? 8000 : 44100;
  std::vector<int16_t> pcm;
  for (int i = 0; i < rate / 2; ++i)
    for (int c = 0; c < channels; ++c)
      pcm.push_back(int16_t(std::lround(12000 * std::sin(0.07 * i) + 3000 * c * std::sin(0.013 * i))));
  duet_test::write_pcm16_wav(wav.string(), pcm, channels, rate);
  if (!duet_test::encode_mp3(wav.string(), out.string(), channels == 1 ? "-b 16" : "-m j -p").empty()) return {};
  return read_file(out);
}

// An AAC file from ffmpeg's encoder (empty when ffmpeg is not installed): 16 kHz stereo in an
// M4A file with its index first, or 8 kHz mono as ADTS.
Bytes an_aac(const std::string& container) {
  const fs::path dir = kScratch.path() / "aac_source";
  fs::create_directories(dir);
  const int channels = container == "m4a" ? 2 : 1, rate = container == "m4a" ? 16000 : 8000;
  const fs::path wav = dir / (container + ".wav"), out = dir / ("clip." + container);
  std::vector<int16_t> pcm;
  for (int i = 0; i < rate / 2; ++i)
    for (int c = 0; c < channels; ++c)
      pcm.push_back(int16_t(std::lround(12000 * std::sin(0.07 * i) + 3000 * c * std::sin(0.013 * i))));
  duet_test::write_pcm16_wav(wav.string(), pcm, channels, rate);
  if (!duet_test::ffmpeg("-i " + wav.string() + " -c:a aac -b:a 32k -movflags +faststart " + out.string()).empty())
    return {};
  return read_file(out);
}

// An AIFF-C file of two channels in 16-bit little-endian PCM ('sowt') at 11025 Hz, with a NAME
// chunk of odd size before COMM and an SSND offset: every field the AIFF reader walks.
Bytes an_aiff() {
  auto be = [](Bytes& b, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) b.push_back(uint8_t(v >> (8 * i)));
  };
  Bytes comm, ssnd;
  be(comm, 2, 2), be(comm, 400, 4), be(comm, 16, 2);
  be(comm, 16383 + 13, 2), be(comm, uint64_t(11025) << (63 - 13), 8);  // 11025 as an 80-bit float
  comm.insert(comm.end(), {'s', 'o', 'w', 't', 0, 0});
  be(ssnd, 2, 4), be(ssnd, 0, 4), ssnd.push_back(0), ssnd.push_back(0);
  for (int i = 0; i < 400; ++i)
    for (int c = 0; c < 2; ++c) {
      const auto v = uint16_t(int16_t(std::lround(12000 * std::sin(0.07 * i + c))));
      ssnd.push_back(uint8_t(v)), ssnd.push_back(uint8_t(v >> 8));
    }
  Bytes body = {'A', 'I', 'F', 'C', 'N', 'A', 'M', 'E', 0, 0, 0, 3, 'a', 'b', 'c', 0};
  for (const auto& [id, chunk] : {std::pair<const char*, const Bytes*>{"COMM", &comm}, {"SSND", &ssnd}}) {
    body.insert(body.end(), id, id + 4);
    be(body, chunk->size(), 4);
    body.insert(body.end(), chunk->begin(), chunk->end());
  }
  Bytes b = {'F', 'O', 'R', 'M'};
  be(b, body.size(), 4);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

// A CAF file of two channels of little-endian 32-bit float at 16 kHz, with a free chunk between
// desc and data.
Bytes a_caf() {
  auto be = [](Bytes& b, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) b.push_back(uint8_t(v >> (8 * i)));
  };
  Bytes b = {'c', 'a', 'f', 'f', 0, 1, 0, 0, 'd', 'e', 's', 'c'};
  be(b, 32, 8);
  const double rate = 16000;
  uint64_t rate_bits;
  std::memcpy(&rate_bits, &rate, 8);
  be(b, rate_bits, 8);
  b.insert(b.end(), {'l', 'p', 'c', 'm'});
  be(b, 3, 4), be(b, 8, 4), be(b, 1, 4), be(b, 2, 4), be(b, 32, 4);  // float, little-endian; 8 bytes a frame
  b.insert(b.end(), {'f', 'r', 'e', 'e'});
  be(b, 3, 8), b.insert(b.end(), 3, 0);
  b.insert(b.end(), {'d', 'a', 't', 'a'});
  be(b, 4 + 400 * 8, 8), be(b, 0, 4);
  for (int i = 0; i < 400; ++i)
    for (int c = 0; c < 2; ++c) {
      const float v = 0.4f * std::sin(0.05f * float(i) + float(c));
      uint32_t u;
      std::memcpy(&u, &v, 4);
      for (int k = 0; k < 4; ++k) b.push_back(uint8_t(u >> (8 * k)));
    }
  return b;
}

// An Ogg Vorbis file from libvorbis (through ffmpeg; empty when ffmpeg is not installed): half a
// second at 8 kHz, one channel or two, in pages of 0.1 s so that a cut leaves whole pages.
Bytes an_ogg_vorbis(int channels) {
  const fs::path dir = kScratch.path() / "vorbis_source";
  fs::create_directories(dir);
  const fs::path wav = dir / (std::to_string(channels) + ".wav"), out = dir / (std::to_string(channels) + ".ogg");
  std::vector<int16_t> pcm;
  for (int i = 0; i < 4000; ++i)
    for (int c = 0; c < channels; ++c)
      pcm.push_back(int16_t(std::lround(12000 * std::sin(0.07 * i) + 3000 * c * std::sin(0.013 * i))));
  duet_test::write_pcm16_wav(wav.string(), pcm, channels, 8000);
  if (!duet_test::ffmpeg("-i " + wav.string() + " -c:a libvorbis -q:a 1 -page_duration 100000 " + out.string())
           .empty())
    return {};
  return read_file(out);
}

// A WAV with more of what the reader handles: a LIST chunk before fmt, a fact chunk between
// fmt and data, WAVE_FORMAT_EXTENSIBLE around IEEE float, two channels at 16 kHz.
Bytes an_extensible_float_wav() {
  Bytes b;
  auto put = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(uint8_t(v >> (8 * i)));
  };
  auto id = [&](const char* s) { b.insert(b.end(), s, s + 4); };
  const int frames = 200, channels = 2;
  id("RIFF");
  put(0, 4);  // the RIFF size, set below
  id("WAVE");
  id("LIST");
  put(4, 4);
  id("INFO");
  id("fmt ");
  put(40, 4);
  put(0xFFFE, 2), put(channels, 2), put(16000, 4), put(16000 * channels * 4, 4), put(channels * 4, 2), put(32, 2);
  put(22, 2), put(32, 2), put(3, 4);  // cbSize, valid bits, channel mask
  put(3, 2);                          // the sub-format GUID: IEEE float, then its other 14 bytes
  for (int i = 0; i < 14; ++i) b.push_back(0);
  id("fact");
  put(4, 4), put(frames, 4);
  id("data");
  put(frames * channels * 4, 4);
  for (int i = 0; i < frames * channels; ++i) {
    const float v = 0.25f * std::sin(0.1f * float(i));
    uint32_t u;
    std::memcpy(&u, &v, 4);
    put(u, 4);
  }
  const uint32_t riff = uint32_t(b.size() - 8);
  for (int i = 0; i < 4; ++i) b[4 + i] = uint8_t(riff >> (8 * i));
  return b;
}

Bytes idx_images(int n) {
  Bytes b;
  duet_test::put_be(b, 2051, 4);
  duet_test::put_be(b, uint32_t(n), 4);
  duet_test::put_be(b, 28, 4);
  duet_test::put_be(b, 28, 4);
  for (int i = 0; i < n * 784; ++i) b.push_back(uint8_t((i * 37) % 251));
  return b;
}

Bytes idx_labels(int n) {
  Bytes b;
  duet_test::put_be(b, 2049, 4);
  duet_test::put_be(b, uint32_t(n), 4);
  for (int i = 0; i < n; ++i) b.push_back(uint8_t(i % 10));
  return b;
}

void collect(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// A w x h GIF of 4 palette colours whose pixels are `index` (0-3), LZW-coded with a clear code
// before every second pixel, so the codes stay 3 bits wide (an "uncompressed" GIF).
Bytes a_gif(int w, int h, const std::vector<uint8_t>& index) {
  Bytes b = {'G', 'I', 'F', '8', '9', 'a', uint8_t(w), uint8_t(w >> 8), uint8_t(h), uint8_t(h >> 8), 0x81, 0, 0};
  for (uint8_t grey : {235, 160, 90, 20}) b.insert(b.end(), {grey, grey, grey});  // global palette
  b.insert(b.end(), {',', 0, 0, 0, 0, uint8_t(w), uint8_t(w >> 8), uint8_t(h), uint8_t(h >> 8), 0, 2});
  Bytes codes;
  uint32_t acc = 0;
  int bits = 0;
  auto emit = [&](uint32_t code) {
    acc |= code << bits, bits += 3;
    while (bits >= 8) codes.push_back(uint8_t(acc)), acc >>= 8, bits -= 8;
  };
  for (size_t i = 0; i < index.size(); ++i) {
    if (i % 2 == 0) emit(4);  // clear
    emit(index[i]);
  }
  emit(5);  // end of information
  if (bits > 0) codes.push_back(uint8_t(acc));
  for (size_t i = 0; i < codes.size(); i += 255) {
    const size_t n = std::min<size_t>(255, codes.size() - i);
    b.push_back(uint8_t(n));
    b.insert(b.end(), codes.begin() + i, codes.begin() + i + n);
  }
  b.push_back(0);    // no more sub-blocks
  b.push_back(';');  // trailer
  return b;
}

// A dark 7 on light paper, 40x48, as grey or RGB PNG, JPEG, BMP, TGA, PGM or GIF; as an RGBA
// PNG of the 7's strokes on a transparent canvas (stored as transparent black); or as a JPEG
// stored mirrored, with the EXIF orientation that mirrors it back.
Bytes a_picture(const std::string& kind) {
  const int w = 40, h = 48, comp = kind == "png-gray" || kind == "pgm" ? 1 : kind == "png-rgba" ? 4 : 3;
  std::vector<uint8_t> px(size_t(w) * h * comp, comp == 4 ? 0 : 235);
  for (int y = 8; y < 40; ++y)
    for (int x = 0; x < w; ++x) {
      const bool bar = y < 12 && x >= 10 && x < 32;
      const bool stem = x >= 30 - (y - 8) / 3 - 2 && x < 30 - (y - 8) / 3 + 2;
      if (bar || stem)
        for (int c = 0; c < comp; ++c) px[(size_t(y) * w + x) * comp + c] = c == 3 ? 255 : 20;
    }
  Bytes out;
  if (kind == "gif") {
    std::vector<uint8_t> index(px.size() / comp);
    for (size_t i = 0; i < index.size(); ++i) index[i] = px[i * comp] < 128 ? 3 : 0;
    return a_gif(w, h, index);
  }
  if (kind == "jpeg" || kind == "jpeg-exif") {
    EXPECT_NE(stbi_write_jpg_to_func(collect, &out, w, h, comp, px.data(), 90), 0);
    if (kind == "jpeg-exif") {  // an APP1 segment after the start of image: EXIF orientation 2 (mirrored)
      const Bytes app1 = {
          0xFF, 0xE1, 0,    34,   'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,   // TIFF header
          1,    0,    0x12, 0x01, 3,   0,   1,   0,   0, 0, 2,   0,   0,  0, 0, 0, 0, 0};  // one entry, no next
      Bytes with(out.size() + app1.size());
      std::copy(out.begin(), out.begin() + 2, with.begin());
      std::copy(app1.begin(), app1.end(), with.begin() + 2);
      std::copy(out.begin() + 2, out.end(), with.begin() + 2 + long(app1.size()));
      out = with;
    }
  } else if (kind == "bmp") {
    EXPECT_NE(stbi_write_bmp_to_func(collect, &out, w, h, comp, px.data()), 0);
  } else if (kind == "tga") {
    EXPECT_NE(stbi_write_tga_to_func(collect, &out, w, h, comp, px.data()), 0);
  } else if (kind == "pgm") {
    const std::string header = "P5\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
    out.assign(header.begin(), header.end());
    out.insert(out.end(), px.begin(), px.end());
  } else {
    EXPECT_NE(stbi_write_png_to_func(collect, &out, w, h, comp, px.data(), w * comp), 0);
  }
  return out;
}

constexpr int kTrials = 400;

// load_gray_image refuses the picture at `path` with an error that starts with the path and
// then `message`.
void expect_picture_refused(const fs::path& path, const std::string& message) {
  int w = 0, h = 0;
  try {
    models::load_gray_image(path.string(), &w, &h);
    ADD_FAILURE() << path << " was read (" << w << "x" << h << ")";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path.string() + message, 0), 0u) << e.what();
  }
}

}  // namespace

TEST(DamagedFiles, WavRecordingsAreReadOrRefused) {
  for (const auto& [what, good] : {std::pair<std::string, Bytes>{"wav-pcm16", a_wav()},
                                   std::pair<std::string, Bytes>{"wav-extensible-float", an_extensible_float_wav()}}) {
    ASSERT_NO_THROW(dsp::decode_wav(good, what)) << what << ": the undamaged file must read";
    const Tally t = read_damaged_copies(what, good, kTrials, [](const std::string& p) {
      dsp::WavInfo info;
      const dsp::Audio a = dsp::read_wav(p, &info);
      // What a damaged file yields must still be audio: a rate and finite samples, within
      // [-1, 1] for integer encodings (a float file keeps its values, which may exceed 1, as
      // torchaudio.load keeps them). A breach throws an Error without the file's name, which
      // the caller reports as a failure.
      DUET_CHECK(a.sample_rate > 0, "no rate");
      for (float v : a.samples)
        DUET_CHECK(std::isfinite(v) && (info.encoding == "float" || std::abs(v) <= 1.0f), "sample ", v, " from ",
                   info.encoding);
    });
    expect_both_outcomes(what, t, kTrials);
  }
}

TEST(DamagedFiles, FlacRecordingsAreReadOrRefused) {
  DUET_REQUIRE_REFERENCE_FLAC();
  for (const auto& [what, good] : {std::pair<std::string, Bytes>{"flac-mono", a_flac(1)},
                                   std::pair<std::string, Bytes>{"flac-stereo", a_flac(2)}}) {
    ASSERT_FALSE(good.empty()) << what << ": flac wrote nothing";
    ASSERT_NO_THROW(dsp::decode_flac(good, what)) << what << ": the undamaged file must read";
    const Tally t = read_damaged_copies(what, good, kTrials, [](const std::string& p) {
      dsp::WavInfo info;
      const dsp::Audio a = dsp::read_audio(p, &info);  // a copy whose marker is damaged goes to the WAV reader
      DUET_CHECK(a.sample_rate > 0, "no rate");
      for (float v : a.samples) DUET_CHECK(std::isfinite(v) && std::abs(v) <= 1.0f, "sample ", v);
    });
    expect_both_outcomes(what, t, kTrials);
  }
}

// MP3 frames carry no check of their audio data (only an optional CRC of the header and side
// information), so most damage to it reads, as in every MP3 decoder: what must hold is that a
// damaged copy reads to finite samples or is refused with one line naming the file.
TEST(DamagedFiles, Mp3RecordingsAreReadOrRefused) {
  DUET_REQUIRE_REFERENCE_MP3();
  for (const auto& [what, good] : {std::pair<std::string, Bytes>{"mp3-mono", an_mp3(1)},
                                   std::pair<std::string, Bytes>{"mp3-stereo-crc", an_mp3(2)}}) {
    ASSERT_FALSE(good.empty()) << what << ": lame wrote nothing";
    ASSERT_NO_THROW(dsp::decode_mp3(good, what)) << what << ": the undamaged file must read";
    const Tally t = read_damaged_copies(what, good, kTrials, [](const std::string& p) {
      dsp::WavInfo info;
      const dsp::Audio a = dsp::read_audio(p, &info);  // a copy whose first bytes are damaged may go to the WAV reader
      DUET_CHECK(a.sample_rate > 0, "no rate");
      for (float v : a.samples) DUET_CHECK(std::isfinite(v), "sample ", v);
    });
    EXPECT_GT(t.refused, kTrials / 10) << what;
    EXPECT_GT(t.read, kTrials / 10) << what;
  }
}

// AAC frames carry no check of their data either (ADTS's optional CRC is not checked): a
// damaged copy must read to finite samples or be refused with one line naming the file.
TEST(DamagedFiles, AacRecordingsAreReadOrRefused) {
  DUET_REQUIRE_REFERENCE_FFMPEG();
  for (const std::string container : {"m4a", "aac"}) {
    const Bytes good = an_aac(container);
    ASSERT_FALSE(good.empty()) << container << ": ffmpeg wrote nothing";
    ASSERT_NO_THROW(dsp::decode_aac(good, container)) << container << ": the undamaged file must read";
    const Tally t = read_damaged_copies("aac-" + container, good, kTrials, [](const std::string& p) {
      dsp::WavInfo info;
      const dsp::Audio a = dsp::read_audio(p, &info);
      DUET_CHECK(a.sample_rate > 0, "no rate");
      for (float v : a.samples) DUET_CHECK(std::isfinite(v), "sample ", v);
    });
    EXPECT_GT(t.refused, kTrials / 10) << container;
    EXPECT_GT(t.read, kTrials / 10) << container;
  }
}

TEST(DamagedFiles, AiffRecordingsAreReadOrRefused) {
  const Bytes good = an_aiff();
  ASSERT_EQ(dsp::decode_aiff(good, "aiff").samples.size(), size_t(400));
  const Tally t = read_damaged_copies("aiff", good, kTrials, [](const std::string& p) {
    const dsp::Audio a = dsp::read_audio(p);  // a copy whose first bytes are damaged goes to the WAV reader
    DUET_CHECK(a.sample_rate > 0, "no rate");
    for (float v : a.samples) DUET_CHECK(std::isfinite(v) && std::abs(v) <= 1.0f, "sample ", v);
  });
  expect_both_outcomes("aiff", t, kTrials);
}

TEST(DamagedFiles, CafRecordingsAreReadOrRefused) {
  const Bytes good = a_caf();
  ASSERT_EQ(dsp::decode_caf(good, "caf").samples.size(), size_t(400));
  const Tally t = read_damaged_copies("caf", good, kTrials, [](const std::string& p) {
    const dsp::Audio a = dsp::read_audio(p);  // float samples: finite, whatever their size
    DUET_CHECK(a.sample_rate > 0, "no rate");
    for (float v : a.samples) DUET_CHECK(std::isfinite(v), "sample ", v);
  });
  expect_both_outcomes("caf", t, kTrials);
}

// Ogg pages carry a CRC: a changed byte is refused at its page, a file cut short keeps the
// packets of its whole pages (Vorbis.DamagedPacketsAreReadOrRefused damages the packets under
// valid CRCs).
TEST(DamagedFiles, VorbisRecordingsAreReadOrRefused) {
  DUET_REQUIRE_REFERENCE_FFMPEG();
  for (int channels : {1, 2}) {
    const std::string what = "vorbis-" + std::to_string(channels);
    const Bytes good = an_ogg_vorbis(channels);
    ASSERT_FALSE(good.empty()) << what << ": ffmpeg wrote nothing";
    ASSERT_NO_THROW(dsp::decode_vorbis(good, what)) << what << ": the undamaged file must read";
    const Tally t = read_damaged_copies(what, good, kTrials, [](const std::string& p) {
      dsp::WavInfo info;
      const dsp::Audio a = dsp::read_audio(p, &info);  // a copy whose first bytes are damaged goes to the WAV reader
      DUET_CHECK(a.sample_rate > 0, "no rate");
      for (float v : a.samples) DUET_CHECK(std::isfinite(v), "sample ", v);
    });
    expect_both_outcomes(what, t, kTrials);
  }
}

TEST(DamagedFiles, CheckpointsAreReadOrRefused) {
  const fs::path good_path = kScratch.path() / "good.safetensors";
  TensorMap m;
  m["conv.weight"] = Tensor::from_vector<float>(std::vector<float>(2 * 1 * 3 * 3, 0.5f), {2, 1, 3, 3});
  m["conv.bias"] = Tensor::from_vector<float>({0.1f, -0.1f}, {2});
  m["steps"] = Tensor::from_vector<int32_t>({7}, {1});
  save_safetensors(good_path.string(), m, {{"format", "duet-model-1"}, {"arch", "image:duet"}});
  const Tally t = read_damaged_copies("safetensors", read_file(good_path), kTrials, [](const std::string& p) {
    Metadata meta;
    load_safetensors(p, &meta);
    load_safetensors_metadata(p);
  });
  expect_both_outcomes("safetensors", t, kTrials);
}

TEST(DamagedFiles, MnistFilesAreReadOrRefused) {
  const fs::path dir = kScratch.path() / "mnist";
  fs::create_directories(dir);
  // A damaged copy that still reads must hold a label, a digit, for every picture.
  auto check = [](const data::Mnist& m) {
    DUET_CHECK(int64_t(m.labels.size()) == m.count && int64_t(m.pixels.size()) == m.count * m.rows * m.cols, "sizes");
    for (auto l : m.labels) DUET_CHECK(l < 10, "label ", int(l));
  };
  for (bool gz : {false, true}) {
    const std::string tag = gz ? "-gz" : "";
    const Bytes images = gz ? gzip(idx_images(3)) : idx_images(3), labels = gz ? gzip(idx_labels(3)) : idx_labels(3);
    const std::string good_images = (dir / ("images" + tag)).string(), good_labels = (dir / ("labels" + tag)).string();
    write_file(good_images, images);
    write_file(good_labels, labels);
    ASSERT_NO_THROW(check(data::load_mnist_files(good_images, good_labels))) << tag;
    // The images damaged beside good labels, then the labels beside good images.
    const Tally ti = read_damaged_copies("idx-images" + tag, images, kTrials,
                                         [&](const std::string& p) { check(data::load_mnist_files(p, good_labels)); });
    const Tally tl = read_damaged_copies("idx-labels" + tag, labels, kTrials,
                                         [&](const std::string& p) { check(data::load_mnist_files(good_images, p)); });
    EXPECT_GT(ti.refused, kTrials / 5) << "images" << tag;
    EXPECT_GT(tl.refused, kTrials / 5) << "labels" << tag;
  }
}

TEST(DamagedFiles, PicturesAreReadOrRefused) {
  for (const std::string kind : {"png-gray", "png-rgb", "png-rgba", "jpeg", "jpeg-exif", "bmp", "tga", "pgm", "gif"}) {
    const Bytes good = a_picture(kind);
    const fs::path good_path = kScratch.path() / (kind + ".good");
    write_file(good_path, good);
    int w = 0, h = 0;
    std::vector<uint8_t> gray;
    ASSERT_NO_THROW(gray = models::load_gray_image(good_path.string(), &w, &h)) << kind;
    ASSERT_EQ(w, 40);
    ASSERT_EQ(h, 48);
    EXPECT_LT(gray[10 * w + 20], 60) << kind << ": the 7's bar";
    EXPECT_GT(gray[2 * w + 2], 200) << kind << ": the paper";
    const bool mirrored = kind == "jpeg-exif";  // the stem lies at x 21-24 in row 30, at 15-18 mirrored
    EXPECT_LT(gray[30 * w + (mirrored ? 16 : 22)], 60) << kind << ": the stem";
    EXPECT_GT(gray[30 * w + (mirrored ? 22 : 16)], 200) << kind << ": beside the stem";
    const Tally t = read_damaged_copies(kind, good, kTrials, [](const std::string& p) {
      int pw = 0, ph = 0;
      const std::vector<uint8_t> gray = models::load_gray_image(p, &pw, &ph);
      // What reads goes on to become an MNIST digit, as duet predict takes it; a picture it
      // cannot use (blank) is refused there, and predict names the file.
      try {
        models::to_mnist_form(gray, pw, ph);
      } catch (const Error& e) {
        fail(p, ": ", e.what());
      }
    });
    // The decoder is stb_image's: a flipped bit in a compressed stream often still decodes to
    // some picture, so only both outcomes are required.
    EXPECT_GT(t.refused, 0) << kind;
    EXPECT_GT(t.read, 0) << kind;
  }
}

// The JPEG decoder (stb_image 2.27) would write past a Huffman table that declares more than
// 256 codes; such a file is refused before it reaches the decoder.
TEST(DamagedFiles, JpegWithAnOversizedHuffmanTableIsRefused) {
  Bytes jpeg = a_picture("jpeg");
  size_t dht = 0;
  for (size_t i = 2; i + 1 < jpeg.size() && !dht; ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC4) dht = i;
  ASSERT_GT(dht, 0u) << "stb_image_write's JPEG has Huffman tables";
  const fs::path good = kScratch.path() / "tables-good.jpg", bad = kScratch.path() / "tables-bad.jpg";
  write_file(good, jpeg);
  int w = 0, h = 0;
  EXPECT_NO_THROW(models::load_gray_image(good.string(), &w, &h));
  for (int i = 0; i < 16; ++i) jpeg[dht + 5 + i] = 40;  // 640 codes in the first table
  write_file(bad, jpeg);
  expect_picture_refused(bad, ": corrupt JPEG (a Huffman table of 640 codes");
}

// A header that claims a huge picture in a small file is refused before the decoder allocates
// it; a large picture within the limit still reads.
TEST(DamagedFiles, PictureBeyondTheSizeLimitIsRefusedBeforeDecoding) {
  const fs::path huge = kScratch.path() / "huge.pgm", wide = kScratch.path() / "wide.pgm";
  const std::string header = "P5\n20000 20000\n255\n";  // 400 megapixels, in a file of 1 KB
  Bytes b(header.begin(), header.end());
  b.resize(b.size() + 1000, 200);
  write_file(huge, b);
  expect_picture_refused(huge, ": the picture is 20000x20000 pixels (400 megapixels)");
  int w = 0, h = 0;
  const std::string ok = "P5\n4000 30\n255\n";
  Bytes c(ok.begin(), ok.end());
  c.resize(c.size() + 4000 * 30, 220);
  for (int y = 5; y < 25; ++y) c[ok.size() + size_t(y) * 4000 + 2000] = 10;
  write_file(wide, c);
  EXPECT_NO_THROW(models::load_gray_image(wide.string(), &w, &h));
  EXPECT_EQ(w, 4000);
}
