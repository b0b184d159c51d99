#include "dsp/wav.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "dsp/aac.h"
#include "dsp/aiff.h"
#include "dsp/caf.h"
#include "dsp/flac.h"
#include "dsp/mp3.h"
#include "dsp/vorbis.h"
#include "engine/error.h"

namespace duet::dsp {
namespace {

uint32_t u32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }
uint16_t u16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }

constexpr uint16_t kPcm = 1, kFloat = 3, kALaw = 6, kMuLaw = 7, kExtensible = 0xFFFE;

}  // namespace

int mulaw_to_linear(uint8_t u) {
  u = uint8_t(~u);
  int t = ((u & 0x0F) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return (u & 0x80) ? 0x84 - t : t - 0x84;
}

int alaw_to_linear(uint8_t a) {
  a ^= 0x55;
  int t = (a & 0x0F) << 4;
  const int seg = (a & 0x70) >> 4;
  t += seg == 0 ? 8 : 0x108;
  if (seg > 1) t <<= seg - 1;
  return (a & 0x80) ? t : -t;
}

const char* const kConvertAdvice = " (convert it first, e.g. ffmpeg -i FILE -ac 1 FILE.wav)";
const char* const kAudioFormatsRead = "WAV, AIFF, CAF, FLAC, MP3, AAC (M4A) and Ogg Vorbis";

std::vector<float> pcm_to_mono(const uint8_t* data, uint64_t frames, int channels, const PcmCoding& c) {
  using Kind = PcmCoding::Kind;
  auto sample = [&](const uint8_t* p) -> float {
    switch (c.kind) {
      case Kind::kUnsigned8: return float(int(p[0]) - 128) / 128.0f;
      case Kind::kMuLaw: return float(mulaw_to_linear(p[0])) / 32768.0f;
      case Kind::kALaw: return float(alaw_to_linear(p[0])) / 32768.0f;
      default: break;
    }
    uint64_t u = 0;
    for (int i = 0; i < c.bytes; ++i) u = u << 8 | p[c.little_endian ? c.bytes - 1 - i : i];
    if (c.kind == Kind::kFloat && c.bytes == 4) {
      const uint32_t w = uint32_t(u);
      float f;
      std::memcpy(&f, &w, 4);
      return f;
    }
    if (c.kind == Kind::kFloat) {
      double d;
      std::memcpy(&d, &u, 8);
      return float(d);
    }
    return float(double(int32_t(uint32_t(u << (32 - 8 * c.bytes)))) / 2147483648.0);  // signed, left-justified
  };
  std::vector<float> mono(static_cast<size_t>(frames));
  const uint64_t frame_bytes = uint64_t(channels) * uint64_t(c.bytes);
  for (uint64_t i = 0; i < frames; ++i) {
    float acc = 0;
    for (int ch = 0; ch < channels; ++ch) acc += sample(data + i * frame_bytes + uint64_t(ch) * uint64_t(c.bytes));
    mono[size_t(i)] = acc / float(channels);
  }
  return mono;
}

namespace {

const char* encoding_name(uint16_t tag) {
  switch (tag) {
    case kFloat: return "float";
    case kALaw: return "a-law";
    case kMuLaw: return "mu-law";
    default: return "pcm";
  }
}

struct Format {
  uint16_t tag = 0;
  int channels = 0, rate = 0, bits = 0, block_align = 0;
};

Format parse_fmt(const uint8_t* p, uint32_t size, const std::string& name) {
  DUET_CHECK(size >= 16, name, ": fmt chunk is ", size, " bytes, expected at least 16");
  Format f;
  f.tag = u16(p);
  f.channels = u16(p + 2);
  f.rate = int(u32(p + 4));
  f.block_align = u16(p + 12);
  f.bits = u16(p + 14);
  if (f.tag == kExtensible) {
    DUET_CHECK(size >= 40, name, ": WAVE_FORMAT_EXTENSIBLE fmt chunk is ", size, " bytes, expected 40");
    f.tag = u16(p + 24);  // first two bytes of the sub-format GUID are the format code
  }
  DUET_CHECK(f.tag == kPcm || f.tag == kFloat || f.tag == kALaw || f.tag == kMuLaw, name,
             ": unsupported WAV encoding (format code ", f.tag,
             "); duet reads PCM integer, IEEE float and G.711 mu-law/A-law");
  DUET_CHECK(f.channels > 0, name, ": WAV has 0 channels");
  DUET_CHECK(f.channels <= 64, name, ": WAV claims ", f.channels, " channels");
  DUET_CHECK(f.rate >= kMinWavRate && f.rate <= kMaxWavRate, name, ": WAV sample rate ", f.rate,
             " Hz is out of range (duet reads ", kMinWavRate, " to ", kMaxWavRate, " Hz)");
  if (f.tag == kPcm)
    DUET_CHECK(f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32, name, ": unsupported PCM bit depth ",
               f.bits, " (expected 8, 16, 24 or 32)");
  else if (f.tag == kFloat)
    DUET_CHECK(f.bits == 32 || f.bits == 64, name, ": unsupported float bit depth ", f.bits, " (expected 32 or 64)");
  else
    DUET_CHECK(f.bits == 8, name, ": ", encoding_name(f.tag), " samples of ", f.bits, " bits (G.711 has 8)");
  DUET_CHECK(f.block_align == f.channels * f.bits / 8, name, ": block align ", f.block_align, " does not match ",
             f.channels, " channels of ", f.bits, " bits");
  return f;
}

float sample_at(const uint8_t* p, const Format& f) {
  if (f.tag == kMuLaw) return float(mulaw_to_linear(p[0])) / 32768.0f;
  if (f.tag == kALaw) return float(alaw_to_linear(p[0])) / 32768.0f;
  if (f.tag == kFloat) {
    if (f.bits == 32) {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
    double v;
    std::memcpy(&v, p, 8);
    return float(v);
  }
  switch (f.bits) {
    case 8: return (float(p[0]) - 128.0f) / 128.0f;
    case 16: return float(int16_t(u16(p))) / 32768.0f;
    case 24: {
      int32_t v = int32_t(p[0] | (p[1] << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[2] & 0x80 ? 0xFF : 0) << 24));
      return float(v) / 8388608.0f;
    }
    default: return float(int32_t(u32(p))) / 2147483648.0f;
  }
}

}  // namespace

size_t id3v2_size(const std::vector<uint8_t>& b, size_t at) {
  if (b.size() < 10 || at > b.size() - 10 || std::memcmp(b.data() + at, "ID3", 3) != 0) return 0;
  const uint8_t* s = b.data() + at + 6;
  if ((s[0] | s[1] | s[2] | s[3]) & 0x80) return 0;  // a size's bytes keep their top bit clear
  const size_t size = (size_t(s[0]) << 21) | (size_t(s[1]) << 14) | (size_t(s[2]) << 7) | s[3];
  return 10 + size + ((b[at + 5] & 0x10) ? 10 : 0);  // a footer, when flagged, repeats the header
}

size_t after_id3v2_tags(const std::vector<uint8_t>& b) {
  size_t at = 0;
  while (size_t tag = id3v2_size(b, at)) at += tag;
  return at;
}

Audio mono_from_channels(const std::vector<std::vector<float>>& channels, int sample_rate, size_t begin,
                         size_t length) {
  Audio a;
  a.sample_rate = sample_rate;
  a.samples.assign(length, 0.0f);
  const float count = float(channels.size());
  for (const std::vector<float>& c : channels)
    for (size_t i = 0; i < length; ++i) a.samples[i] += c[begin + i] / count;
  return a;
}

std::string audio_format_of(const std::vector<uint8_t>& b) {
  auto starts = [&](size_t at, const char* magic) {
    const size_t n = std::strlen(magic);
    return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
  };
  if (is_flac(b)) return "a FLAC file";  // before MP3: some taggers put an ID3 tag before a FLAC stream
  if (starts(0, "ID3") || (b.size() >= 2 && b[0] == 0xFF && (b[1] & 0xE6) == 0xE2)) return "an MP3 file";
  if (starts(0, "OggS")) return "an Ogg file (Vorbis or Opus)";
  if (starts(4, "ftyp")) return "an MP4 file (M4A, AAC, 3GP: a phone's or an app's recording)";
  if (starts(0, "FORM") && (starts(8, "AIFF") || starts(8, "AIFC"))) return "an AIFF file";
  if (starts(0, "\x1A\x45\xDF\xA3")) return "a WebM or Matroska file";
  if (starts(0, "#!AMR")) return "an AMR file (a phone's voice recording)";
  if (starts(0, "caff")) return "a Core Audio (CAF) file";
  if (starts(0, "\x30\x26\xB2\x75")) return "a WMA (ASF) file";
  if (starts(0, "RIFF") && b.size() >= 12 && !starts(8, "WAVE"))
    return "a RIFF file of type '" + printable(std::string(reinterpret_cast<const char*>(b.data() + 8), 4)) + "'";
  return "";
}

Audio decode_wav(const std::vector<uint8_t>& b, const std::string& name, WavInfo* info) {
  if (const std::string other = audio_format_of(b); !other.empty())
    fail(name, ": ", other, ", not a WAV file; duet reads ", kAudioFormatsRead, " recordings", kConvertAdvice);
  DUET_CHECK(b.size() >= 12, name, ": not a WAV file (", b.size(), " bytes, too short for a RIFF header)");
  // RF64 and BW64 are WAV for recordings past 4 GB: the 32-bit sizes are set to 0xFFFFFFFF and
  // the real ones are in a ds64 chunk, which comes first.
  const bool rf64 = std::memcmp(b.data(), "RF64", 4) == 0 || std::memcmp(b.data(), "BW64", 4) == 0;
  DUET_CHECK((std::memcmp(b.data(), "RIFF", 4) == 0 || rf64) && std::memcmp(b.data() + 8, "WAVE", 4) == 0, name,
             ": not a WAV file (no RIFF/WAVE header)");
  const uint32_t riff_size = u32(b.data() + 4);
  uint64_t ds64_data_size = 0;
  if (rf64) {
    DUET_CHECK(b.size() >= 12 + 8 + 24 && std::memcmp(b.data() + 12, "ds64", 4) == 0 && u32(b.data() + 16) >= 24,
               name, ": ", std::string(reinterpret_cast<const char*>(b.data()), 4),
               " file without a ds64 chunk (of at least 24 bytes) first");
    ds64_data_size = u32(b.data() + 28) | uint64_t(u32(b.data() + 32)) << 32;
  }
  Format fmt;
  bool have_fmt = false;
  const uint8_t* data = nullptr;
  uint64_t data_size = 0;
  std::string note;
  // Chunks are walked to the end of the file, not to the end the RIFF size gives: a recorder
  // writing to a pipe cannot go back to fill in its sizes and leaves 0 or 0xFFFFFFFF there.
  uint64_t pos = 12;
  while (pos + 8 <= b.size()) {
    const uint8_t* chunk = b.data() + pos;
    const bool sized_by_ds64 = rf64 && std::memcmp(chunk, "data", 4) == 0 && u32(chunk + 4) == 0xFFFFFFFFu;
    const uint64_t size = sized_by_ds64 ? ds64_data_size : u32(chunk + 4);
    const uint64_t there = b.size() - pos - 8;
    if (std::memcmp(chunk, "data", 4) == 0) {
      DUET_CHECK(have_fmt, name, ": WAV has no fmt chunk before its data");
      data = chunk + 8;
      data_size = size;
      // An unset size (streamed recording) or one past the end of the file (a file cut short):
      // the whole frames that are there are read, as libsndfile and ffmpeg do, and the caller
      // is told.
      const bool unset = size == 0 && there > 0 && (riff_size == 0 || riff_size == 0xFFFFFFFFu);
      if (size > there || unset) {
        data_size = there - there % uint64_t(fmt.block_align);
        note = "the data chunk's size field says " + std::to_string(size) + " bytes but " + std::to_string(there) +
               " follow it; read to the end of the file (a recording written to a pipe leaves the size unset; a "
               "file cut short looks the same)";
        if (there != data_size)
          note += "; the last " + std::to_string(there - data_size) + " bytes, part of a frame, left out";
      }
      break;
    }
    DUET_CHECK(size <= there, name, ": chunk '", printable(std::string(reinterpret_cast<const char*>(chunk), 4)),
               "' claims ", size, " bytes but the file ends after ", there, " (truncated?)");
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      fmt = parse_fmt(chunk + 8, uint32_t(size), name);
      have_fmt = true;
    }
    pos += 8 + size + (size & 1);  // chunks are padded to even sizes
  }
  DUET_CHECK(have_fmt, name, ": WAV has no fmt chunk");
  DUET_CHECK(data != nullptr, name, ": WAV has no data chunk");
  DUET_CHECK(data_size % fmt.block_align == 0, name, ": data chunk of ", data_size,
             " bytes is not a whole number of ", fmt.block_align, "-byte frames");
  const int64_t frames = int64_t(data_size / fmt.block_align);
  Audio a;
  a.sample_rate = fmt.rate;
  a.samples.resize(frames);
  const int bytes = fmt.bits / 8;
  for (int64_t i = 0; i < frames; ++i) {
    float acc = 0;
    for (int c = 0; c < fmt.channels; ++c) acc += sample_at(data + (i * fmt.channels + c) * bytes, fmt);
    a.samples[i] = acc / float(fmt.channels);
  }
  for (float v : a.samples) DUET_CHECK(std::isfinite(v), name, ": WAV holds a non-finite float sample");
  if (info) *info = {fmt.rate, fmt.channels, fmt.bits, encoding_name(fmt.tag), frames, note};
  return a;
}

static std::vector<uint8_t> read_bytes(const std::string& path) {
  DUET_CHECK(!std::filesystem::is_directory(path), path,
             ": is a folder, not a recording (WAV, AIFF, CAF, FLAC, MP3, M4A or Ogg Vorbis)");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  DUET_CHECK(in, path, ": cannot open");
  const auto size = in.tellg();
  DUET_CHECK(size >= 0 && size < (std::streamoff(1) << 32), path, ": file of 4 GB or more, too large for a recording duet reads");
  std::vector<uint8_t> b(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(b.data()), size);
  DUET_CHECK(in.good() || b.empty(), path, ": read failed");
  return b;
}

Audio read_wav(const std::string& path, WavInfo* info) { return decode_wav(read_bytes(path), path, info); }

Audio decode_audio(const std::vector<uint8_t>& bytes, const std::string& name, WavInfo* info) {
  if (is_flac(bytes)) return decode_flac(bytes, name, info);
  if (is_mpeg_audio(bytes)) return decode_mp3(bytes, name, info);
  if (is_aac(bytes)) return decode_aac(bytes, name, info);
  if (is_ogg(bytes)) return decode_vorbis(bytes, name, info);
  if (is_aiff(bytes)) return decode_aiff(bytes, name, info);
  if (is_caf(bytes)) return decode_caf(bytes, name, info);
  return decode_wav(bytes, name, info);
}

Audio read_audio(const std::string& path, WavInfo* info) { return decode_audio(read_bytes(path), path, info); }

WavInfo read_wav_info(const std::string& path) {
  WavInfo info;
  read_wav(path, &info);
  return info;
}

double peak_level(const std::vector<float>& samples) {
  double peak = 0;
  for (float v : samples) peak = std::max(peak, double(std::abs(v)));
  return peak;
}

Level measure_level(const std::vector<float>& samples, int sample_rate) {
  DUET_CHECK(sample_rate > 0, "measure_level: sample rate must be positive, got ", sample_rate);
  Level l;
  l.sample_rate = sample_rate;
  l.peak = peak_level(samples);
  for (float v : samples) l.mean += v;
  if (samples.empty()) return l;
  l.mean /= double(samples.size());
  for (float v : samples) l.near_peak += double(std::abs(v)) >= 0.99 * l.peak;
  return l;
}

std::vector<uint8_t> encode_wav(const std::vector<float>& samples, int rate) {
  DUET_CHECK(rate > 0, "write_wav: sample rate must be positive, got ", rate);
  const uint32_t data = uint32_t(samples.size() * 2);
  std::vector<uint8_t> b(44 + data);
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = uint8_t(v >> (8 * i));
  };
  auto put16 = [&](size_t at, uint16_t v) {
    b[at] = uint8_t(v);
    b[at + 1] = uint8_t(v >> 8);
  };
  std::memcpy(&b[0], "RIFF", 4);
  put32(4, 36 + data);
  std::memcpy(&b[8], "WAVEfmt ", 8);
  put32(16, 16);
  put16(20, kPcm);
  put16(22, 1);
  put32(24, uint32_t(rate));
  put32(28, uint32_t(rate) * 2);
  put16(32, 2);
  put16(34, 16);
  std::memcpy(&b[36], "data", 4);
  put32(40, data);
  for (size_t i = 0; i < samples.size(); ++i) {
    const float v = std::clamp(samples[i], -1.0f, 32767.0f / 32768.0f);
    put16(44 + 2 * i, uint16_t(int16_t(std::lround(v * 32768.0f))));
  }
  return b;
}

void write_wav(const std::string& path, const std::vector<float>& samples, int rate) {
  auto b = encode_wav(samples, rate);
  std::ofstream out(path, std::ios::binary);
  DUET_CHECK(out, path, ": cannot open for writing");
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  DUET_CHECK(out.good(), path, ": write failed");
}

}  // namespace duet::dsp
