#include "dsp/aiff.h"

#include <cmath>
#include <cstring>

#include "engine/error.h"

namespace duet::dsp {
namespace {

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// The 80-bit IEEE extended float of the COMM chunk's sample rate: sign, 15-bit exponent
// (bias 16383), 64-bit mantissa with its integer bit. NaN for infinities and NaNs.
double extended80(const uint8_t* p) {
  const int exponent = (p[0] & 0x7F) << 8 | p[1];
  uint64_t mantissa = 0;
  for (int i = 0; i < 8; ++i) mantissa = mantissa << 8 | p[2 + i];
  if (exponent == 0x7FFF) return std::nan("");
  const double v = std::ldexp(double(mantissa), exponent - 16383 - 63);
  return p[0] & 0x80 ? -v : v;
}

// A sample coding and the word WavInfo::encoding gives it.
struct Coding {
  PcmCoding pcm;
  const char* word = "pcm";
};

std::string printable_type(const uint8_t* p) { return printable(std::string(reinterpret_cast<const char*>(p), 4)); }

// What an AIFF-C compression type holds, for `bits` from the COMM chunk.
Coding coding_of(const uint8_t* type, int bits, const std::string& name) {
  using Kind = PcmCoding::Kind;
  const auto is = [&](const char* t) { return std::memcmp(type, t, 4) == 0; };
  const int pcm_bytes = (bits + 7) / 8;
  if (is("NONE") || is("twos")) return {{Kind::kSigned, pcm_bytes, false}, "pcm"};
  if (is("in24")) return {{Kind::kSigned, 3, false}, "pcm"};
  if (is("in32")) return {{Kind::kSigned, 4, false}, "pcm"};
  if (is("sowt")) return {{Kind::kSigned, pcm_bytes, true}, "pcm little-endian"};
  if (is("raw ")) return {{Kind::kUnsigned8, 1, false}, "pcm unsigned"};
  if (is("fl32") || is("FL32")) return {{Kind::kFloat, 4, false}, "float"};
  if (is("fl64") || is("FL64")) return {{Kind::kFloat, 8, false}, "float"};
  if (is("ulaw") || is("ULAW")) return {{Kind::kMuLaw, 1, false}, "mu-law"};
  if (is("alaw") || is("ALAW")) return {{Kind::kALaw, 1, false}, "a-law"};
  const std::string what = is("ima4")                         ? " (Apple IMA ADPCM)"
                           : is("MAC3") || is("MAC6")         ? " (MACE)"
                           : is("QDM2") || is("QDMC")         ? " (QDesign)"
                           : is("GSM ")                       ? " (GSM)"
                                                              : "";
  fail(name, ": an AIFF-C file compressed as '", printable_type(type), "'", what,
       "; duet reads uncompressed, float and G.711 AIFF", kConvertAdvice);
}

}  // namespace

bool is_aiff(const std::vector<uint8_t>& b) {
  return b.size() >= 12 && std::memcmp(b.data(), "FORM", 4) == 0 &&
         (std::memcmp(b.data() + 8, "AIFF", 4) == 0 || std::memcmp(b.data() + 8, "AIFC", 4) == 0);
}

Audio decode_aiff(const std::vector<uint8_t>& b, const std::string& name, WavInfo* info) {
  DUET_CHECK(is_aiff(b), name, ": not an AIFF file (no FORM/AIFF header)");
  const bool aifc = std::memcmp(b.data() + 8, "AIFC", 4) == 0;
  const uint8_t* comm = nullptr;
  const uint8_t* ssnd = nullptr;
  uint64_t ssnd_size = 0;
  bool ssnd_cut = false;
  // Chunks are walked to the end of the file (the FORM size is not trusted, as the WAV reader
  // does not trust RIFF's); COMM may come after SSND.
  uint64_t pos = 12;
  while (pos + 8 <= b.size()) {
    const uint8_t* chunk = b.data() + pos;
    const uint64_t size = be32(chunk + 4), there = b.size() - pos - 8;
    if (std::memcmp(chunk, "SSND", 4) == 0) {
      ssnd = chunk + 8;
      ssnd_size = std::min(size, there);
      ssnd_cut = size > there;
      if (ssnd_cut) break;
    } else {
      DUET_CHECK(size <= there, name, ": chunk '", printable_type(chunk), "' claims ", size,
                 " bytes but the file ends after ", there, " (truncated?)");
      if (std::memcmp(chunk, "COMM", 4) == 0) {
        DUET_CHECK(size >= (aifc ? 22u : 18u), name, ": COMM chunk of ", size, " bytes (", aifc ? 22 : 18,
                   " expected at least)");
        comm = chunk + 8;
      }
    }
    pos += 8 + size + (size & 1);  // chunks are padded to even sizes
  }
  DUET_CHECK(comm != nullptr, name, ": AIFF has no COMM chunk");
  const int channels = int16_t(be16(comm)), bits = int16_t(be16(comm + 6));
  const uint32_t frames = be32(comm + 2);
  const double rate = extended80(comm + 8);
  DUET_CHECK(channels >= 1, name, ": AIFF with ", channels, " channels");
  const Coding coding =
      aifc ? coding_of(comm + 18, bits, name) : Coding{{PcmCoding::Kind::kSigned, (bits + 7) / 8, false}, "pcm"};
  const bool pcm = coding.pcm.kind == PcmCoding::Kind::kSigned;
  DUET_CHECK(bits >= 1 && bits <= (pcm ? 32 : 64), name, ": AIFF samples of ", bits, " bits (1-32 expected)");
  DUET_CHECK(std::isfinite(rate) && std::lround(rate) >= kMinWavRate && std::lround(rate) <= kMaxWavRate, name,
             ": AIFF sample rate ", rate, " Hz (", kMinWavRate, "-", kMaxWavRate, " expected)");
  const uint64_t frame_bytes = uint64_t(channels) * uint64_t(coding.pcm.bytes);
  uint64_t readable = 0;
  const uint8_t* data = nullptr;
  if (frames > 0) {
    DUET_CHECK(ssnd != nullptr, name, ": AIFF has no SSND chunk for its ", frames, " frames");
    DUET_CHECK(ssnd_size >= 8, name, ": SSND chunk of ", ssnd_size, " bytes (8 expected at least)");
    const uint64_t offset = be32(ssnd);
    DUET_CHECK(offset <= ssnd_size - 8, name, ": SSND offset ", offset, " past its chunk");
    data = ssnd + 8 + offset;
    readable = (ssnd_size - 8 - offset) / frame_bytes;
  }
  std::string note;
  uint64_t n = frames;
  if (readable < frames) {
    DUET_CHECK(ssnd_cut, name, ": the SSND chunk holds ", readable, " of the COMM chunk's ", frames, " frames");
    n = readable;
    note = "the COMM chunk says " + std::to_string(frames) + " frames but the file ends after " +
           std::to_string(readable) + "; read to the end of the file (cut short?)";
  }
  Audio a;
  a.sample_rate = int(std::lround(rate));
  a.samples = pcm_to_mono(data, n, channels, coding.pcm);
  for (float v : a.samples) DUET_CHECK(std::isfinite(v), name, ": AIFF holds a non-finite float sample");
  if (info)
    *info = {a.sample_rate, channels, bits, std::string(coding.word) + (aifc ? " (AIFF-C)" : " (AIFF)"), int64_t(n),
             note};
  return a;
}

}  // namespace duet::dsp
