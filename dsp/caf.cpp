#include "dsp/caf.h"

#include <cmath>
#include <cstring>

#include "engine/error.h"

namespace duet::dsp {
namespace {

uint64_t be(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
  return v;
}

std::string four(const uint8_t* p) { return printable(std::string(reinterpret_cast<const char*>(p), 4)); }

// What a desc chunk's format ID names, for the refusal of compressed audio.
std::string format_name(const std::string& id) {
  if (id == "aac ") return " (AAC)";
  if (id == "alac") return " (Apple Lossless)";
  if (id == "ima4") return " (Apple IMA ADPCM)";
  if (id == "opus") return " (Opus)";
  if (id == ".mp3") return " (MP3)";
  if (id == "samr") return " (AMR)";
  if (id == "flac") return " (FLAC)";
  return "";
}

constexpr uint32_t kFloatFlag = 1, kLittleEndianFlag = 2;

}  // namespace

bool is_caf(const std::vector<uint8_t>& b) { return b.size() >= 4 && std::memcmp(b.data(), "caff", 4) == 0; }

Audio decode_caf(const std::vector<uint8_t>& b, const std::string& name, WavInfo* info) {
  DUET_CHECK(b.size() >= 8 && is_caf(b), name, ": not a CAF file (no caff header)");
  DUET_CHECK(be(b.data() + 4, 2) == 1, name, ": CAF version ", be(b.data() + 4, 2), " (1 expected)");
  const uint8_t* desc = nullptr;
  const uint8_t* data = nullptr;
  uint64_t data_size = 0;
  std::string note;
  uint64_t pos = 8;
  while (pos + 12 <= b.size()) {
    const uint8_t* chunk = b.data() + pos;
    const uint64_t size = be(chunk + 4, 8), there = b.size() - pos - 12;
    if (std::memcmp(chunk, "data", 4) == 0) {
      DUET_CHECK(there >= 4, name, ": CAF data chunk without its edit count");
      data = chunk + 16;
      if (size == ~uint64_t(0)) {  // -1: the data runs to the end of the file
        data_size = there - 4;
        break;
      }
      DUET_CHECK(size >= 4, name, ": CAF data chunk of ", size, " bytes (4 expected at least)");
      data_size = size - 4;
      if (size > there) {
        data_size = there - 4;
        note = "the data chunk's size says " + std::to_string(size) + " bytes but " + std::to_string(there) +
               " follow it; read to the end of the file (cut short?)";
        break;
      }
    } else {
      DUET_CHECK(size <= there, name, ": chunk '", four(chunk), "' claims ", size, " bytes but the file ends after ",
                 there, " (truncated?)");
      if (std::memcmp(chunk, "desc", 4) == 0) {
        DUET_CHECK(size >= 32, name, ": CAF desc chunk of ", size, " bytes (32 expected)");
        desc = chunk + 12;
      }
    }
    pos += 12 + size;
  }
  DUET_CHECK(desc != nullptr, name, ": CAF file without a desc chunk");
  const uint64_t rate_bits = be(desc, 8);
  double rate;
  std::memcpy(&rate, &rate_bits, 8);
  const std::string id = four(desc + 8);
  const uint32_t flags = uint32_t(be(desc + 12, 4)), bytes_per_packet = uint32_t(be(desc + 16, 4));
  const uint32_t frames_per_packet = uint32_t(be(desc + 20, 4)), channels = uint32_t(be(desc + 24, 4));
  const uint32_t bits = uint32_t(be(desc + 28, 4));
  const bool lpcm = id == "lpcm", mulaw = id == "ulaw", alaw = id == "alaw";
  if (!lpcm && !mulaw && !alaw)
    fail(name, ": a CAF file of '", id, "' audio", format_name(id),
         "; duet reads linear PCM, float and G.711 CAF", kConvertAdvice);
  DUET_CHECK(channels >= 1 && channels <= 1024, name, ": CAF with ", channels, " channels");
  DUET_CHECK(std::isfinite(rate) && std::lround(rate) >= kMinWavRate && std::lround(rate) <= kMaxWavRate, name,
             ": CAF sample rate ", rate, " Hz (", kMinWavRate, "-", kMaxWavRate, " expected)");
  const bool is_float = lpcm && (flags & kFloatFlag), little = flags & kLittleEndianFlag;
  const uint32_t bytes = lpcm ? bits / 8 : 1;
  const bool integer_bits = bits == 8 || bits == 16 || bits == 24 || bits == 32;
  DUET_CHECK(is_float ? bits == 32 || bits == 64 : lpcm ? integer_bits : bits == 8,
             name, ": CAF ", is_float ? "float" : lpcm ? "integer" : "G.711", " samples of ", bits, " bits (",
             is_float ? "32 or 64" : lpcm ? "8, 16, 24 or 32" : "8", " expected)");
  DUET_CHECK(frames_per_packet == 1 && bytes_per_packet == channels * bytes, name, ": CAF packets of ",
             bytes_per_packet, " bytes and ", frames_per_packet, " frames (1 frame of ", channels * bytes,
             " bytes expected)");
  DUET_CHECK(data != nullptr, name, ": CAF file without a data chunk");
  const uint64_t frames = data_size / bytes_per_packet;
  if (note.empty() && data_size % bytes_per_packet != 0)
    note = "the data chunk ends " + std::to_string(data_size % bytes_per_packet) + " bytes into a frame; left out";
  Audio a;
  a.sample_rate = int(std::lround(rate));
  using Kind = PcmCoding::Kind;
  const Kind kind = is_float ? Kind::kFloat : mulaw ? Kind::kMuLaw : alaw ? Kind::kALaw : Kind::kSigned;
  a.samples = pcm_to_mono(data, frames, int(channels), PcmCoding{kind, int(bytes), little});
  for (float v : a.samples) DUET_CHECK(std::isfinite(v), name, ": CAF holds a non-finite float sample");
  const std::string word = is_float                 ? "float"
                           : mulaw                  ? "mu-law"
                           : alaw                   ? "a-law"
                           : little || bytes == 1   ? "pcm"
                                                    : "pcm big-endian";
  if (info) *info = {a.sample_rate, int(channels), int(bits), word + " (CAF)", int64_t(frames), note};
  return a;
}

}  // namespace duet::dsp
