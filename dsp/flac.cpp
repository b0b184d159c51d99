#include "dsp/flac.h"

#include <array>
#include <cstring>

#include "engine/error.h"

namespace duet::dsp {
namespace {

// Where a frame ran past the end of the bytes: the caller decides whether that is a file cut
// short (the last frame) or damage (metadata).
struct Truncated {};

// A bit reader over bytes, most significant bit first (FLAC is big-endian throughout).
class BitReader {
 public:
  BitReader(const uint8_t* p, size_t n, size_t byte) : p_(p), n_(n), pos_(uint64_t(byte) * 8) {}

  // n in 0..32 bits, unsigned.
  uint32_t bits(int n) {
    if (n == 0) return 0;
    if (pos_ + uint64_t(n) > uint64_t(n_) * 8) throw Truncated{};
    const size_t byte = size_t(pos_ >> 3);
    uint64_t w = 0;
    if (byte + 8 <= n_) {  // the next 8 bytes, most significant first
      std::memcpy(&w, p_ + byte, 8);
      w = __builtin_bswap64(w);
    } else {
      for (size_t i = 0; i < 8; ++i) w = (w << 8) | (byte + i < n_ ? p_[byte + i] : 0);
    }
    pos_ += uint64_t(n);
    return uint32_t((w << (pos_ - uint64_t(n) - uint64_t(byte) * 8)) >> (64 - n));
  }
  // n in 0..40 bits, unsigned.
  uint64_t long_bits(int n) {
    if (n <= 32) return bits(n);
    const uint64_t high = bits(n - 32);
    return (high << 32) | bits(32);
  }
  // n in 1..40 bits, two's complement.
  int64_t signed_bits(int n) {
    const uint64_t v = long_bits(n);
    return (v >> (n - 1)) & 1 ? int64_t(v) - (int64_t(1) << n) : int64_t(v);
  }
  // Zeros before the next 1 (the 1 is read too).
  uint64_t unary() {
    uint64_t zeros = 0;
    for (;;) {
      if (pos_ >= uint64_t(n_) * 8) throw Truncated{};
      const int used = int(pos_ & 7);
      const uint32_t rest = uint8_t(p_[pos_ >> 3] << used);  // the byte's unread bits, at the top
      if (rest == 0) {
        zeros += uint64_t(8 - used);
        pos_ += uint64_t(8 - used);
        continue;
      }
      const int lead = __builtin_clz(rest) - 24;
      zeros += uint64_t(lead);
      pos_ += uint64_t(lead) + 1;
      return zeros;
    }
  }
  void align() { pos_ = (pos_ + 7) & ~uint64_t(7); }
  size_t byte() const { return size_t(pos_ >> 3); }

 private:
  const uint8_t* p_;
  size_t n_;
  uint64_t pos_;
};

struct StreamInfo {
  int min_block = 0, max_block = 0, rate = 0, channels = 0, bits = 0;
  size_t max_frame = 0;  // bytes of the largest frame; 0 = not known
  uint64_t total = 0;    // samples per channel; 0 = not known
};

// The frame header's coded number (a UTF-8-like sequence of up to 7 bytes, 36 bits).
uint64_t coded_number(BitReader& r, const std::string& where) {
  const uint32_t first = r.bits(8);
  int extra = 0;
  uint64_t v = first;
  if (first >= 0x80) {
    int ones = 0;
    while (ones < 8 && (first & (0x80u >> ones))) ++ones;
    DUET_CHECK(ones >= 2 && ones <= 7, where, ": its frame number's first byte 0x", std::hex, first,
               " is not a valid coded number (damaged file)");
    extra = ones - 1;
    v = first & (0x7Fu >> ones);
  }
  for (int i = 0; i < extra; ++i) {
    const uint32_t b = r.bits(8);
    DUET_CHECK((b & 0xC0) == 0x80, where, ": its frame number is cut by byte 0x", std::hex, b, " (damaged file)");
    v = (v << 6) | (b & 0x3F);
  }
  return v;
}

// Residual of a subframe (RFC 9639 9.2.7): Rice-coded partitions, or escaped ones of fixed width.
void read_residual(BitReader& r, int block, int order, int64_t* out, const std::string& where) {
  const uint32_t method = r.bits(2);
  DUET_CHECK(method <= 1, where, ": reserved residual coding method ", method, " (damaged file)");
  const int param_bits = method == 0 ? 4 : 5;
  const uint32_t escape = (1u << param_bits) - 1;
  const int partition_order = int(r.bits(4));
  const int partitions = 1 << partition_order;
  DUET_CHECK(block % partitions == 0 && (block >> partition_order) >= order, where, ": residual partition order ",
             partition_order, " does not fit a block of ", block, " samples with predictor order ", order,
             " (damaged file)");
  int i = order;
  for (int p = 0; p < partitions; ++p) {
    const int count = (block >> partition_order) - (p == 0 ? order : 0);
    const uint32_t param = r.bits(param_bits);
    if (param == escape) {
      const int width = int(r.bits(5));
      for (int k = 0; k < count; ++k) out[i++] = width == 0 ? 0 : r.signed_bits(width);
      continue;
    }
    for (int k = 0; k < count; ++k) {
      const uint64_t q = r.unary();
      DUET_CHECK(q < (uint64_t(1) << 32), where, ": a residual's quotient of ", q, " (damaged file)");
      const uint64_t v = (q << param) | r.bits(int(param));
      out[i++] = int64_t(v >> 1) ^ -int64_t(v & 1);  // zig-zag: 0, -1, 1, -2, ...
    }
  }
}

// One subframe of `block` samples at `bits` bits per sample into out[0..block).
void read_subframe(BitReader& r, int block, int bits, int64_t* out, const std::string& where) {
  DUET_CHECK(r.bits(1) == 0, where, ": a subframe's padding bit is set (damaged file)");
  const uint32_t type = r.bits(6);
  int wasted = 0;
  if (r.bits(1)) {
    const uint64_t zeros = r.unary();
    DUET_CHECK(zeros + 1 < uint64_t(bits), where, ": ", zeros + 1, " wasted bits of a ", bits,
               "-bit subframe (damaged file)");
    wasted = int(zeros) + 1;
  }
  const int b = bits - wasted;
  const int64_t lo = -(int64_t(1) << (b - 1)), hi = (int64_t(1) << (b - 1)) - 1;
  auto predicted = [&](int order, auto&& predict) {
    for (int i = 0; i < order; ++i) out[i] = r.signed_bits(b);
    read_residual(r, block, order, out, where);
    for (int i = order; i < block; ++i) {
      const int64_t v = out[i] + predict(out + i);
      DUET_CHECK(v >= lo && v <= hi, where, ": sample ", i, " decodes to ", v, ", outside ", b, " bits (damaged file)");
      out[i] = v;
    }
  };
  if (type == 0) {  // CONSTANT
    const int64_t v = r.signed_bits(b);
    for (int i = 0; i < block; ++i) out[i] = v;
  } else if (type == 1) {  // VERBATIM
    for (int i = 0; i < block; ++i) out[i] = r.signed_bits(b);
  } else if (type >= 8 && type <= 12) {  // FIXED, order 0-4
    const int order = int(type - 8);
    DUET_CHECK(order <= block, where, ": fixed predictor of order ", order, " in a block of ", block,
               " samples (damaged file)");
    switch (order) {
      case 0: predicted(0, [](const int64_t*) { return int64_t(0); }); break;
      case 1: predicted(1, [](const int64_t* s) { return s[-1]; }); break;
      case 2: predicted(2, [](const int64_t* s) { return 2 * s[-1] - s[-2]; }); break;
      case 3: predicted(3, [](const int64_t* s) { return 3 * s[-1] - 3 * s[-2] + s[-3]; }); break;
      default: predicted(4, [](const int64_t* s) { return 4 * s[-1] - 6 * s[-2] + 4 * s[-3] - s[-4]; });
    }
  } else if (type >= 32) {  // LPC, order 1-32
    const int order = int(type - 31);
    DUET_CHECK(order <= block, where, ": LPC of order ", order, " in a block of ", block, " samples (damaged file)");
    // The warm-up samples come before the coefficients in the stream.
    for (int i = 0; i < order; ++i) out[i] = r.signed_bits(b);
    const int precision = int(r.bits(4)) + 1;
    DUET_CHECK(precision < 16, where, ": LPC coefficient precision code 15 is reserved (damaged file)");
    const int64_t shift = r.signed_bits(5);
    DUET_CHECK(shift >= 0, where, ": negative LPC shift ", shift, " (damaged file)");
    int64_t coef[32];
    for (int j = 0; j < order; ++j) coef[j] = r.signed_bits(precision);
    read_residual(r, block, order, out, where);
    for (int i = order; i < block; ++i) {
      int64_t sum = 0;
      for (int j = 0; j < order; ++j) sum += coef[j] * out[i - 1 - j];
      const int64_t v = out[i] + (sum >> shift);
      DUET_CHECK(v >= lo && v <= hi, where, ": sample ", i, " decodes to ", v, ", outside ", b, " bits (damaged file)");
      out[i] = v;
    }
  } else {
    fail(where, ": reserved subframe type ", type, " (damaged file)");
  }
  if (wasted)
    for (int i = 0; i < block; ++i) out[i] *= int64_t(1) << wasted;
}

constexpr int kBlockSizes[16] = {0,   192, 576,  1152, 2304, 4608, -8,    -16,
                                 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
constexpr int kRates[12] = {0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000};
constexpr int kSampleBits[8] = {0, 8, 12, -1, 16, 20, 24, 32};

}  // namespace

uint8_t flac_crc8(const uint8_t* p, size_t n) {
  uint8_t crc = 0;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = uint8_t(crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return crc;
}

uint16_t flac_crc16(const uint8_t* p, size_t n) {
  // A byte at a time through a table (the CRC-16 covers every byte of the file's frames).
  static const auto table = [] {
    std::array<uint16_t, 256> t{};
    for (int b = 0; b < 256; ++b) {
      uint16_t crc = uint16_t(b << 8);
      for (int k = 0; k < 8; ++k) crc = uint16_t(crc & 0x8000 ? (crc << 1) ^ 0x8005 : crc << 1);
      t[size_t(b)] = crc;
    }
    return t;
  }();
  uint16_t crc = 0;
  for (size_t i = 0; i < n; ++i) crc = uint16_t((crc << 8) ^ table[(crc >> 8) ^ p[i]]);
  return crc;
}

bool is_flac(const std::vector<uint8_t>& b) {
  const size_t at = id3v2_size(b);
  return b.size() >= at + 4 && std::memcmp(b.data() + at, "fLaC", 4) == 0;
}

Audio decode_flac(const std::vector<uint8_t>& b, const std::string& name, WavInfo* info) {
  DUET_CHECK(is_flac(b), name, ": not a FLAC file (no fLaC marker)");
  const uint8_t* p = b.data();
  const size_t n = b.size();
  size_t pos = id3v2_size(b) + 4;
  // Metadata: STREAMINFO first, then any others (seek table, tags, pictures), skipped.
  StreamInfo si;
  bool have_info = false, last = false;
  while (!last) {
    DUET_CHECK(pos + 4 <= n, name, ": FLAC metadata ends at byte ", n, " before its last block (truncated?)");
    last = p[pos] & 0x80;
    const int type = p[pos] & 0x7F;
    const size_t length = (size_t(p[pos + 1]) << 16) | (size_t(p[pos + 2]) << 8) | p[pos + 3];
    pos += 4;
    DUET_CHECK(length <= n - pos, name, ": FLAC metadata block of type ", type, " claims ", length,
               " bytes but the file ends after ", n - pos, " (truncated?)");
    DUET_CHECK(type != 127, name, ": FLAC metadata block of the invalid type 127 (damaged file)");
    DUET_CHECK(have_info || type == 0, name, ": FLAC stream does not start with its STREAMINFO block");
    if (type == 0) {
      DUET_CHECK(!have_info, name, ": FLAC stream with two STREAMINFO blocks (damaged file)");
      DUET_CHECK(length == 34, name, ": FLAC STREAMINFO block of ", length, " bytes, expected 34");
      BitReader r(p, pos + length, pos);
      si.min_block = int(r.bits(16));
      si.max_block = int(r.bits(16));
      r.bits(24);  // the smallest frame's size: not needed
      si.max_frame = r.bits(24);
      si.rate = int(r.bits(20));
      si.channels = int(r.bits(3)) + 1;
      si.bits = int(r.bits(5)) + 1;
      si.total = r.long_bits(36);
      have_info = true;
      DUET_CHECK(si.min_block >= 16 && si.max_block >= si.min_block, name, ": FLAC block sizes ", si.min_block, " to ",
                 si.max_block, " in STREAMINFO (expected 16 or more, smallest first)");
      DUET_CHECK(si.rate >= kMinWavRate && si.rate <= kMaxWavRate, name, ": FLAC sample rate ", si.rate,
                 " Hz is out of range (duet reads ", kMinWavRate, " to ", kMaxWavRate, " Hz)");
      DUET_CHECK(si.bits >= 4, name, ": FLAC samples of ", si.bits, " bits (expected 4 to 32)");
    }
    pos += length;
  }
  // Frames, one after another to the end of the file.
  Audio a;
  a.sample_rate = si.rate;
  if (si.total > 0 && si.total < (uint64_t(1) << 31)) a.samples.reserve(size_t(si.total));
  std::vector<int64_t> channel[8];  // one frame's samples per channel, grown to the largest block
  const float scale = 1.0f / float(int64_t(1) << (si.bits - 1)) / float(si.channels);
  std::string note;
  int64_t frames = 0;
  while (pos < n) {
    if (si.total > 0 && a.samples.size() >= si.total) break;  // a tag after the audio (ID3v1 "TAG", APE)
    const std::string where = name + ": FLAC frame " + std::to_string(frames) + " (byte " + std::to_string(pos) + ")";
    const size_t start = pos;
    const bool sync_here = n - pos >= 2 && p[pos] == 0xFF && (p[pos + 1] & 0xFE) == 0xF8;
    if (!sync_here && frames > 0 && si.total == 0) {  // a stream of unknown length, then a tag (ID3v1, APE)
      note = "the " + std::to_string(n - pos) + " bytes after FLAC frame " + std::to_string(frames - 1) +
             " are not a frame (a tag?); left out";
      break;
    }
    try {
      BitReader r(p, n, pos);
      const uint32_t sync = r.bits(15);
      DUET_CHECK(sync == 0x7FFC, where, ": no frame sync code where a frame should start (damaged file)");
      r.bits(1);  // blocking strategy, fixed or variable: each frame gives its own size either way
      const uint32_t block_code = r.bits(4), rate_code = r.bits(4), channel_code = r.bits(4), bits_code = r.bits(3);
      DUET_CHECK(r.bits(1) == 0, where, ": reserved bit set in the frame header (damaged file)");
      // The frame's number (fixed blocks) or its first sample's (variable blocks): frames are
      // decoded in order, so it is read past.
      coded_number(r, where);
      DUET_CHECK(block_code != 0, where, ": reserved block-size code 0 (damaged file)");
      int block = kBlockSizes[block_code];
      if (block == -8) block = int(r.bits(8)) + 1;
      if (block == -16) block = int(r.bits(16)) + 1;
      int rate = si.rate;
      if (rate_code >= 1 && rate_code <= 11) rate = kRates[rate_code];
      if (rate_code == 12) rate = int(r.bits(8)) * 1000;
      if (rate_code == 13) rate = int(r.bits(16));
      if (rate_code == 14) rate = int(r.bits(16)) * 10;
      DUET_CHECK(rate_code != 15, where, ": invalid sample-rate code 15 (damaged file)");
      const uint8_t crc8 = flac_crc8(p + start, r.byte() - start);
      DUET_CHECK(r.bits(8) == crc8, where, ": frame header fails its CRC-8 check (damaged file)");
      DUET_CHECK(rate == si.rate, where, ": sample rate ", rate, " Hz in a stream of ", si.rate,
                 " Hz (duet reads one rate per file)");
      DUET_CHECK(channel_code <= 10, where, ": reserved channel assignment ", channel_code, " (damaged file)");
      const int channels = channel_code <= 7 ? int(channel_code) + 1 : 2;
      DUET_CHECK(channels == si.channels, where, ": ", channels, " channels in a stream of ", si.channels);
      DUET_CHECK(bits_code != 3, where, ": reserved sample-size code 3 (damaged file)");
      const int bits = bits_code == 0 ? si.bits : kSampleBits[bits_code];
      DUET_CHECK(bits == si.bits, where, ": ", bits, "-bit samples in a stream of ", si.bits, "-bit samples");
      for (int c = 0; c < channels; ++c) {
        if (channel[c].size() < size_t(block)) channel[c].resize(size_t(block));
        // The side channel (difference of two) needs one bit more.
        const bool side =
            (channel_code == 8 && c == 1) || (channel_code == 9 && c == 0) || (channel_code == 10 && c == 1);
        read_subframe(r, block, bits + (side ? 1 : 0), channel[c].data(), where);
      }
      r.align();
      const uint16_t crc16 = flac_crc16(p + start, r.byte() - start);
      DUET_CHECK(r.bits(16) == crc16, where, ": frame fails its CRC-16 check (damaged file)");
      pos = r.byte();
      int64_t *c0 = channel[0].data(), *c1 = channel[1].data();
      for (int i = 0; i < block; ++i) {
        if (channel_code == 8) {  // left, side = left - right
          c1[i] = c0[i] - c1[i];
        } else if (channel_code == 9) {  // side, right
          c0[i] = c0[i] + c1[i];
        } else if (channel_code == 10) {  // mid = (left + right) >> 1, side = left - right
          const int64_t mid = c0[i] * 2 | (c1[i] & 1), side = c1[i];
          c0[i] = (mid + side) >> 1;
          c1[i] = (mid - side) >> 1;
        }
        int64_t sum = 0;
        for (int c = 0; c < channels; ++c) sum += channel[c][i];
        a.samples.push_back(float(sum) * scale);
      }
      ++frames;
    } catch (const Truncated&) {
      // A frame that runs past the end of the file although the largest frame would have fit
      // is damaged, not cut short.
      DUET_CHECK(si.max_frame == 0 || n - start < si.max_frame, where, ": the frame runs past the end of the file, ",
                 n - start, " bytes on, though the stream's largest frame is ", si.max_frame, " bytes (damaged file)");
      // The last frame cut short: the frames before it are kept, as for a WAV file cut short.
      note = "the file ends in the middle of FLAC frame " + std::to_string(frames) + " (byte " + std::to_string(start) +
             "); the " + std::to_string(a.samples.size()) + " samples before it are read";
      if (si.total > 0) note += " of the " + std::to_string(si.total) + " STREAMINFO gives";
      note += " (a file cut short)";
      break;
    }
  }
  DUET_CHECK(!a.samples.empty() || si.total == 0, name, ": FLAC stream of ", si.total,
             " samples holds no whole frame (truncated?)");
  if (note.empty() && si.total > 0 && a.samples.size() < si.total)
    note = "the FLAC stream ends after " + std::to_string(a.samples.size()) + " of the " + std::to_string(si.total) +
           " samples STREAMINFO gives (a file cut short at a frame's end)";
  if (si.total > 0 && a.samples.size() > si.total) a.samples.resize(size_t(si.total));
  if (info) *info = {si.rate, si.channels, si.bits, "flac", int64_t(a.samples.size()), note};
  return a;
}

}  // namespace duet::dsp
