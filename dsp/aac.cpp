#include "dsp/aac.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <numbers>

#include "dsp/aac_tables.h"
#include "dsp/bit_reader.h"
#include "dsp/fft.h"
#include "engine/error.h"

namespace duet::dsp {
namespace {

using aac_tables::Bands;
using aac_tables::Codebook;

constexpr double kPi = std::numbers::pi;

// An error inside a frame; the caller adds the file and frame.
struct Damaged {
  std::string what;
};

// ---------------------------------------------------------------------------------------------
// Bits and Huffman codes

using Bits = BitReader;

struct Tables {
  PrefixCode scalefactor;
  std::array<PrefixCode, 12> spectral;
  float pow43[8192];
  float sine_long[1024], kbd_long[1024], sine_short[128], kbd_short[128];  // rising halves

  Tables() {
    scalefactor = PrefixCode(aac_tables::kScalefactorCodes, aac_tables::kScalefactorBits, 121);
    for (int i = 1; i < 12; ++i) {
      const Codebook& c = aac_tables::kCodebooks[i];
      spectral[size_t(i)] = PrefixCode(c.codes, c.bits, c.size);
    }
    for (int i = 0; i < 8192; ++i) pow43[i] = float(std::pow(double(i), 4.0 / 3.0));
    sine(sine_long, 2048);
    sine(sine_short, 256);
    kaiser_bessel_derived(kbd_long, 2048, 4.0);
    kaiser_bessel_derived(kbd_short, 256, 6.0);
  }
  static void sine(float* w, int n) {
    for (int i = 0; i < n / 2; ++i) w[i] = float(std::sin(kPi / n * (i + 0.5)));
  }
  // The Kaiser-Bessel-derived window's rising half: sqrt of the running sum of a Kaiser
  // kernel (alpha) over n/2 + 1 points, normalised by the whole sum.
  static void kaiser_bessel_derived(float* w, int n, double alpha) {
    auto bessel_i0 = [](double x) {
      double sum = 1, term = 1;
      for (int k = 1; k < 50; ++k) {
        term *= (x / (2 * k)) * (x / (2 * k));
        sum += term;
      }
      return sum;
    };
    std::vector<double> kernel(size_t(n / 2 + 1));
    for (int i = 0; i <= n / 2; ++i) {
      const double r = (i - n / 4.0) / (n / 4.0);
      kernel[size_t(i)] = bessel_i0(kPi * alpha * std::sqrt(std::max(0.0, 1 - r * r)));
    }
    double total = 0;
    for (double k : kernel) total += k;
    double running = 0;
    for (int i = 0; i < n / 2; ++i) {
      running += kernel[size_t(i)];
      w[i] = float(std::sqrt(running / total));
    }
  }
  const float* long_window(int shape) const { return shape ? kbd_long : sine_long; }
  const float* short_window(int shape) const { return shape ? kbd_short : sine_short; }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// ---------------------------------------------------------------------------------------------
// One channel's stream (ISO/IEC 14496-3, individual_channel_stream)

enum WindowSequence { kOnlyLong = 0, kLongStart = 1, kEightShort = 2, kLongStop = 3 };
constexpr int kZero = 0, kNoise = 13, kIntensity2 = 14, kIntensity = 15;

struct IcsInfo {
  int window_sequence = kOnlyLong, window_shape = 0, max_sfb = 0;
  int groups = 1;
  int group_length[8] = {1};
  bool eight_short() const { return window_sequence == kEightShort; }
  int windows() const { return eight_short() ? 8 : 1; }
};

struct Tns {
  int filters[8] = {};
  struct Filter {
    int length = 0, order = 0, direction = 0;
    float lpc[13] = {};  // lpc[1..order]
  } filter[8][4];
};

struct Stream {
  IcsInfo info;
  int global_gain = 0;
  int band_type[8][64] = {};  // [group][band]
  int scalefactor[8][64] = {};
  bool tns_present = false;
  Tns tns;
  float spec[1024] = {};  // windows of 128 one after the other when eight_short
};

struct Decoder {
  int rate_index = 0;
  const Bands& longs() const { return aac_tables::kLongBands[rate_index]; }
  const Bands& shorts() const { return aac_tables::kShortBands[rate_index]; }
  const Bands& bands(const IcsInfo& info) const { return info.eight_short() ? shorts() : longs(); }
  uint32_t noise_state = 0x1f2e3d4c;

  void read_ics_info(Bits& in, IcsInfo& info) const {
    if (in.bit()) throw Damaged{"a reserved bit of its ics_info is set"};
    info.window_sequence = int(in.bits(2));
    info.window_shape = int(in.bit());
    if (info.eight_short()) {
      info.max_sfb = int(in.bits(4));
      const uint32_t grouping = in.bits(7);
      info.groups = 1;
      std::fill(info.group_length, info.group_length + 8, 0);
      info.group_length[0] = 1;
      for (int w = 1; w < 8; ++w) {
        if ((grouping >> (6 - (w - 1))) & 1)
          ++info.group_length[info.groups - 1];
        else
          info.group_length[info.groups++] = 1;
      }
    } else {
      info.max_sfb = int(in.bits(6));
      info.groups = 1;
      info.group_length[0] = 1;
      if (in.bit()) throw Damaged{"it uses prediction (AAC Main), which duet's AAC decoder does not read"};
    }
    if (info.max_sfb > bands(info).count) throw Damaged{"its max_sfb exceeds the bands of its window"};
  }

  int scalefactor_delta(Bits& in) const { return tables().scalefactor.decode(in) - 60; }

  void read_stream(Bits& in, Stream& s, bool common_window) {
    s.global_gain = int(in.bits(8));
    if (!common_window) read_ics_info(in, s.info);
    const IcsInfo& info = s.info;
    const Bands& b = bands(info);
    // Section data: a codebook for each run of bands.
    const int sect_bits = info.eight_short() ? 3 : 5, sect_esc = (1 << sect_bits) - 1;
    for (int g = 0; g < info.groups; ++g) {
      int k = 0;
      while (k < info.max_sfb) {
        const int cb = int(in.bits(4));
        if (cb == 12) throw Damaged{"it uses the reserved codebook 12"};
        int length = 0, step;
        while ((step = int(in.bits(sect_bits))) == sect_esc) length += sect_esc;
        length += step;
        if (k + length > info.max_sfb) throw Damaged{"a section runs past its max_sfb"};
        for (int i = 0; i < length; ++i) s.band_type[g][k + i] = cb;
        k += length;
      }
      for (int i = info.max_sfb; i < 64; ++i) s.band_type[g][i] = kZero;
    }
    // Scalefactors, intensity positions and noise energies, each coded as differences.
    int sf = s.global_gain, is_position = 0, noise = s.global_gain - 90;
    bool first_noise = true;
    for (int g = 0; g < info.groups; ++g)
      for (int k = 0; k < info.max_sfb; ++k) {
        const int cb = s.band_type[g][k];
        if (cb == kZero) {
          s.scalefactor[g][k] = 0;
        } else if (cb == kIntensity || cb == kIntensity2) {
          is_position += scalefactor_delta(in);
          if (is_position < -255 || is_position > 255) throw Damaged{"an intensity position outside -255-255"};
          s.scalefactor[g][k] = is_position;
        } else if (cb == kNoise) {
          noise += first_noise ? int(in.bits(9)) - 256 : scalefactor_delta(in);
          first_noise = false;
          if (noise < -255 || noise > 255) throw Damaged{"a noise energy outside -255-255"};
          s.scalefactor[g][k] = noise;
        } else {
          sf += scalefactor_delta(in);
          if (sf < 0 || sf > 255) throw Damaged{"a scalefactor outside 0-255"};
          s.scalefactor[g][k] = sf;
        }
      }
    // Pulse data (long windows): amplitudes added to a few quantised values.
    int pulses = 0, pulse_start = 0, pulse_offset[4] = {}, pulse_amp[4] = {};
    if (in.bit()) {
      if (info.eight_short()) throw Damaged{"pulse data in a short window"};
      pulses = int(in.bits(2)) + 1;
      pulse_start = int(in.bits(6));
      if (pulse_start >= b.count) throw Damaged{"pulse data starts past the last band"};
      for (int i = 0; i < pulses; ++i) pulse_offset[i] = int(in.bits(5)), pulse_amp[i] = int(in.bits(4));
    }
    // Temporal noise shaping: filters over the spectrum, each window its own.
    s.tns_present = in.bit();
    if (s.tns_present) read_tns(in, info, s.tns);
    if (in.bit()) throw Damaged{"it has gain control data (AAC SSR), which duet's AAC decoder does not read"};

    // Spectral data, dequantised and scaled band by band.
    const Tables& t = tables();
    std::fill(s.spec, s.spec + 1024, 0.0f);
    int quantised[1024] = {};
    int window = 0;
    for (int g = 0; g < info.groups; ++g) {
      for (int k = 0; k < info.max_sfb; ++k) {
        const int cb = s.band_type[g][k];
        const int start = b.offsets[k], end = b.offsets[k + 1];
        if (cb == kZero || cb >= kNoise) continue;
        const Codebook& c = aac_tables::kCodebooks[cb];
        for (int w = 0; w < info.group_length[g]; ++w) {
          int* q = quantised + (window + w) * 128;
          for (int i = start; i < end; i += c.dimension) {
            int v[4];
            int index = t.spectral[size_t(cb)].decode(in);
            const int base = c.is_signed ? 2 * c.largest + 1 : c.largest + 1;
            for (int d = c.dimension - 1; d >= 0; --d) {
              v[d] = index % base - (c.is_signed ? c.largest : 0);
              index /= base;
            }
            if (!c.is_signed)
              for (int d = 0; d < c.dimension; ++d)
                if (v[d] && in.bit()) v[d] = -v[d];
            if (cb == 11)
              for (int d = 0; d < 2; ++d)
                if (std::abs(v[d]) == 16) {
                  int n = 4;
                  while (in.bit()) {
                    if (++n > 12) throw Damaged{"an escape longer than the syntax allows"};
                  }
                  const int magnitude = (1 << n) + int(in.bits(n));
                  v[d] = v[d] < 0 ? -magnitude : magnitude;
                }
            for (int d = 0; d < c.dimension; ++d) q[i + d] = v[d];
          }
        }
      }
      window += info.group_length[g];
    }
    if (pulses) {
      int k = b.offsets[pulse_start];
      for (int i = 0; i < pulses; ++i) {
        k += pulse_offset[i];
        if (k >= 1024) throw Damaged{"a pulse past the last line"};
        quantised[k] += quantised[k] > 0 ? pulse_amp[i] : -pulse_amp[i];
      }
    }
    window = 0;
    for (int g = 0; g < info.groups; ++g) {
      for (int k = 0; k < info.max_sfb; ++k) {
        const int cb = s.band_type[g][k];
        const int start = b.offsets[k], end = b.offsets[k + 1];
        for (int w = 0; w < info.group_length[g]; ++w) {
          float* x = s.spec + (window + w) * 128;
          const int* q = quantised + (window + w) * 128;
          if (cb == kNoise) {  // perceptual noise substitution: noise of the band's energy
            float energy = 0;
            for (int i = start; i < end; ++i) {
              noise_state = noise_state * 1664525u + 1013904223u;
              x[i] = float(int32_t(noise_state)) / 2147483648.0f;
              energy += x[i] * x[i];
            }
            const float scale = float(std::exp2(0.25 * s.scalefactor[g][k])) / std::sqrt(std::max(energy, 1e-30f));
            for (int i = start; i < end; ++i) x[i] *= scale;
          } else if (cb != kZero && cb < kNoise) {
            const float scale = float(std::exp2(0.25 * (s.scalefactor[g][k] - 100)));
            for (int i = start; i < end; ++i) {
              const int v = q[i];
              const int a = std::min(std::abs(v), 8191);
              x[i] = (v < 0 ? -1.0f : 1.0f) * t.pow43[a] * scale;
            }
          }
        }
      }
      window += info.group_length[g];
    }
  }

  void read_tns(Bits& in, const IcsInfo& info, Tns& tns) const {
    const bool shorts = info.eight_short();
    for (int w = 0; w < info.windows(); ++w) {
      tns.filters[w] = int(in.bits(shorts ? 1 : 2));
      if (!tns.filters[w]) continue;
      const int coef_res = int(in.bit()) + 3;
      for (int f = 0; f < tns.filters[w]; ++f) {
        Tns::Filter& filt = tns.filter[w][f];
        filt.length = int(in.bits(shorts ? 4 : 6));
        filt.order = int(in.bits(shorts ? 3 : 5));
        if (filt.order > (shorts ? 7 : 12)) throw Damaged{"a TNS filter of a higher order than AAC-LC allows"};
        if (!filt.order) continue;
        filt.direction = int(in.bit());
        const int compress = int(in.bit());
        const int bits = coef_res - compress;
        // Reflection coefficients from their quantised arcsines, then the LPC coefficients.
        const double iqfac = ((1 << (coef_res - 1)) - 0.5) / (kPi / 2),
                     iqfac_m = ((1 << (coef_res - 1)) + 0.5) / (kPi / 2);
        double reflection[12];
        for (int i = 0; i < filt.order; ++i) {
          int c = int(in.bits(bits));
          if (c >= 1 << (bits - 1)) c -= 1 << bits;
          reflection[i] = std::sin(c / (c >= 0 ? iqfac : iqfac_m));
        }
        double a[13] = {1}, b[13];
        for (int m = 1; m <= filt.order; ++m) {
          for (int i = 1; i < m; ++i) b[i] = a[i] + reflection[m - 1] * a[m - i];
          for (int i = 1; i < m; ++i) a[i] = b[i];
          a[m] = reflection[m - 1];
        }
        for (int i = 1; i <= filt.order; ++i) filt.lpc[i] = float(a[i]);
      }
    }
  }

  void apply_tns(Stream& s) const {
    const IcsInfo& info = s.info;
    const Bands& b = bands(info);
    const int most =
        info.eight_short() ? aac_tables::kTnsMaxBandsShort[rate_index] : aac_tables::kTnsMaxBandsLong[rate_index];
    for (int w = 0; w < info.windows(); ++w) {
      float* x = s.spec + w * 128;
      int bottom = b.count;
      for (int f = 0; f < s.tns.filters[w]; ++f) {
        const Tns::Filter& filt = s.tns.filter[w][f];
        const int top = bottom;
        bottom = std::max(top - filt.length, 0);
        if (!filt.order) continue;
        const int start = b.offsets[std::min({bottom, most, info.max_sfb})];
        const int end = b.offsets[std::min({top, most, info.max_sfb})];
        const int size = end - start;
        if (size <= 0) continue;
        const int inc = filt.direction ? -1 : 1;
        int at = filt.direction ? end - 1 : start;
        for (int m = 0; m < size; ++m, at += inc)
          for (int i = 1; i <= std::min(m, filt.order); ++i) x[at] -= filt.lpc[i] * x[at - i * inc];
      }
    }
  }
};

// Mid/side and intensity stereo of a channel pair.
void joint_stereo(const Decoder& d, Stream& l, Stream& r, int ms_present, const bool ms_used[8][64]) {
  const IcsInfo& info = l.info;
  const Bands& b = d.bands(info);
  int window = 0;
  for (int g = 0; g < info.groups; ++g) {
    for (int k = 0; k < info.max_sfb; ++k) {
      const bool ms = ms_present == 2 || (ms_present == 1 && ms_used[g][k]);
      const int cb_r = r.band_type[g][k];
      for (int w = 0; w < info.group_length[g]; ++w) {
        float* x = l.spec + (window + w) * 128;
        float* y = r.spec + (window + w) * 128;
        if (cb_r == kIntensity || cb_r == kIntensity2) {
          float c = cb_r == kIntensity ? 1.0f : -1.0f;
          if (ms) c = -c;
          const float scale = c * float(std::exp2(-0.25 * r.scalefactor[g][k]));
          for (int i = b.offsets[k]; i < b.offsets[k + 1]; ++i) y[i] = x[i] * scale;
        } else if (ms && l.band_type[g][k] < kNoise && cb_r < kNoise) {
          for (int i = b.offsets[k]; i < b.offsets[k + 1]; ++i) {
            const float m = x[i], s = y[i];
            x[i] = m + s;
            y[i] = m - s;
          }
        }
      }
    }
    window += info.group_length[g];
  }
}

// ---------------------------------------------------------------------------------------------
// The filterbank

// IMDCT of n/2 lines to n samples, (2 / n) sum_k X[k] cos(2 pi / n (i + n0)(k + 1/2)) with
// n0 = (n / 2 + 1) / 2 (dsp::imdct_frame).
void imdct(const float* x, int n, double* out) {
  double in[1024];
  for (int k = 0; k < n / 2; ++k) in[k] = x[k];
  imdct_frame(in, n / 2, out);
}

struct ChannelState {
  float overlap[1024] = {};
  int previous_shape = 0;
};

// One frame of one channel: 1024 samples into pcm, scaled to [-1, 1].
void filterbank(const Stream& s, ChannelState& st, float* pcm) {
  const Tables& t = tables();
  const IcsInfo& info = s.info;
  const float* long_prev = t.long_window(st.previous_shape);
  const float* long_now = t.long_window(info.window_shape);
  const float* short_prev = t.short_window(st.previous_shape);
  const float* short_now = t.short_window(info.window_shape);
  double buf[2048] = {};
  if (info.eight_short()) {
    double b[256];
    for (int w = 0; w < 8; ++w) {
      imdct(s.spec + w * 128, 256, b);
      const float* rise = w == 0 ? short_prev : short_now;
      for (int i = 0; i < 128; ++i) {
        buf[448 + 128 * w + i] += b[i] * rise[i];
        buf[448 + 128 * w + 128 + i] += b[128 + i] * short_now[127 - i];
      }
    }
  } else {
    imdct(s.spec, 2048, buf);
    for (int i = 0; i < 1024; ++i) {
      double w;
      if (info.window_sequence == kLongStop)
        w = i < 448 ? 0.0 : i < 576 ? short_prev[i - 448] : 1.0;
      else
        w = long_prev[i];
      buf[i] *= w;
    }
    for (int i = 0; i < 1024; ++i) {
      double w;
      if (info.window_sequence == kLongStart)
        w = i < 448 ? 1.0 : i < 576 ? short_now[127 - (i - 448)] : 0.0;
      else
        w = long_now[1023 - i];
      buf[1024 + i] *= w;
    }
  }
  for (int i = 0; i < 1024; ++i) {
    pcm[i] = float((buf[i] + st.overlap[i]) / 32768.0);
    st.overlap[i] = float(buf[1024 + i]);
  }
  st.previous_shape = info.window_shape;
}

// ---------------------------------------------------------------------------------------------
// Frames: a raw_data_block's elements

struct Frames {
  Decoder decoder;
  std::vector<ChannelState> channels;
  std::vector<std::vector<float>> pcm;  // per channel
  size_t decoded = 0;                   // frames (raw data blocks) decoded

  // Decodes one raw_data_block (an ADTS frame's or an MP4 sample's) from `in`, up to its END
  // element and the next byte boundary.
  void decode(Bits& in) {
    size_t channel = 0;
    std::vector<float> out(1024);
    auto emit = [&](const Stream& s) {
      if (channel >= 64) throw Damaged{"more than 64 channels"};
      if (channel >= channels.size()) {  // a channel the frames before did not have: silent until now
        channels.emplace_back();
        pcm.emplace_back(decoded * 1024, 0.0f);
      }
      filterbank(s, channels[channel], out.data());
      pcm[channel].insert(pcm[channel].end(), out.begin(), out.end());
      ++channel;
    };
    for (;;) {
      const int id = int(in.bits(3));
      if (id == 7) break;  // END
      switch (id) {
        case 0:    // single channel element
        case 3: {  // low-frequency effects channel
          in.bits(4);
          auto s = std::make_unique<Stream>();
          decoder.read_stream(in, *s, false);
          if (s->tns_present) decoder.apply_tns(*s);
          emit(*s);
          break;
        }
        case 1: {  // channel pair element
          in.bits(4);
          auto l = std::make_unique<Stream>(), r = std::make_unique<Stream>();
          const bool common = in.bit();
          int ms_present = 0;
          bool ms_used[8][64] = {};
          if (common) {
            decoder.read_ics_info(in, l->info);
            r->info = l->info;
            ms_present = int(in.bits(2));
            if (ms_present == 3) throw Damaged{"a reserved ms_mask_present value"};
            if (ms_present == 1)
              for (int g = 0; g < l->info.groups; ++g)
                for (int k = 0; k < l->info.max_sfb; ++k) ms_used[g][k] = in.bit();
          }
          decoder.read_stream(in, *l, common);
          decoder.read_stream(in, *r, common);
          if (common) joint_stereo(decoder, *l, *r, ms_present, ms_used);
          if (l->tns_present) decoder.apply_tns(*l);
          if (r->tns_present) decoder.apply_tns(*r);
          emit(*l);
          emit(*r);
          break;
        }
        case 2: throw Damaged{"a coupling channel element, which duet's AAC decoder does not read"};
        case 4: {  // data stream element: skipped
          in.bits(4);
          const bool align = in.bit();
          int count = int(in.bits(8));
          if (count == 255) count += int(in.bits(8));
          if (align) in.align();
          in.skip(uint64_t(count) * 8);
          break;
        }
        case 5: throw Damaged{"a program configuration element, which duet's AAC decoder does not read"};
        case 6: {  // fill element (and SBR data, which is skipped: the LC core is decoded)
          int count = int(in.bits(4));
          if (count == 15) count += int(in.bits(8)) - 1;
          in.skip(uint64_t(count) * 8);
          break;
        }
      }
    }
    if (channel == 0) throw Damaged{"a frame with no audio channel"};
    in.align();
    ++decoded;
    for (auto& c : pcm) c.resize(decoded * 1024, 0.0f);  // a channel missing from this frame: silence
  }
};

// ---------------------------------------------------------------------------------------------
// Containers

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
uint64_t be64(const uint8_t* p) { return (uint64_t(be32(p)) << 32) | be32(p + 4); }

bool adts_at(const std::vector<uint8_t>& b, size_t at) {
  return at + 7 <= b.size() && b[at] == 0xFF && (b[at + 1] & 0xF6) == 0xF0;
}

// The AudioSpecificConfig of an MP4 track (or an ADTS header's fields): AAC-LC only.
struct Config {
  int object_type = 0, rate_index = 0, channels = 0;
};

Config read_audio_specific_config(const uint8_t* p, size_t n, const std::string& where) {
  Bits in(p, n);
  Config c;
  try {
    c.object_type = int(in.bits(5));
    if (c.object_type == 31) c.object_type = 32 + int(in.bits(6));
    c.rate_index = int(in.bits(4));
    if (c.rate_index == 15) in.bits(24);
    c.channels = int(in.bits(4));
    if (c.object_type == 5 || c.object_type == 29)
      throw Error(where + ": HE-AAC (SBR), which duet's AAC decoder does not read" + kConvertAdvice);
    if (c.object_type != 2)
      throw Error(where + ": AAC object type " + std::to_string(c.object_type) +
                  " (duet's AAC decoder reads AAC-LC, type 2)" + kConvertAdvice);
    if (c.rate_index > 11) throw Error(where + ": a sample rate AAC-LC does not code with its scalefactor bands");
    if (in.bit()) throw Error(where + ": 960-sample frames, which duet's AAC decoder does not read" + kConvertAdvice);
    if (in.bit()) in.bits(14);  // depends on core coder
    in.bit();                   // extension flag
    if (c.channels == 0)
      throw Error(where +
                  ": channels given by a program configuration element, which duet's AAC decoder does not read" +
                  kConvertAdvice);
  } catch (const BitsRanOut&) {
    throw Error(where + ": its AudioSpecificConfig is cut short");
  }
  return c;
}

struct Box {
  size_t start = 0, body = 0, end = 0;  // header start, body start, end
  char type[5] = {};
};

// The boxes inside [from, to): each box's extent, checked against its parent. At the file's top
// level (`cut_ok`) the last box may run past the end: a file cut short (its frames are checked
// one by one).
std::vector<Box> boxes(const std::vector<uint8_t>& b, size_t from, size_t to, const std::string& name,
                       bool cut_ok = false) {
  std::vector<Box> v;
  for (size_t at = from; at + 8 <= to;) {
    Box x;
    x.start = at;
    uint64_t size = be32(&b[at]);
    std::memcpy(x.type, &b[at + 4], 4);
    x.body = at + 8;
    if (size == 1) {
      DUET_CHECK(at + 16 <= to, name, ": MP4 box '", x.type, "' at byte ", at, " is cut short");
      size = be64(&b[at + 8]);
      x.body = at + 16;
    } else if (size == 0) {
      size = to - at;
    }
    if (cut_ok && size > to - at) size = to - at;
    DUET_CHECK(size >= x.body - at && size <= to - at, name, ": MP4 box '", x.type, "' at byte ", at, " claims ", size,
               " bytes, past its end (a damaged or cut file)");
    x.end = at + size_t(size);
    v.push_back(x);
    at = x.end;
  }
  return v;
}

const Box* find(const std::vector<Box>& v, const char* type) {
  for (const Box& x : v)
    if (std::memcmp(x.type, type, 4) == 0) return &x;
  return nullptr;
}

// An MP4 descriptor's length: 1-4 bytes of 7 bits.
size_t descriptor_length(const std::vector<uint8_t>& b, size_t& at, size_t end) {
  size_t n = 0;
  for (int i = 0; i < 4 && at < end; ++i) {
    const uint8_t c = b[at++];
    n = (n << 7) | (c & 0x7F);
    if (!(c & 0x80)) break;
  }
  return n;
}

struct Track {
  Config config;
  std::vector<std::pair<size_t, size_t>> samples;  // offset, size
  int64_t skip = 0, keep = -1;                     // from the edit list, in samples
};

Track read_mp4(const std::vector<uint8_t>& b, const std::string& name) {
  const std::vector<Box> top = boxes(b, 0, b.size(), name, true);
  const Box* moov = find(top, "moov");
  DUET_CHECK(moov, name, ": an MP4 file with no 'moov' box (its index; a file cut short while recording?)");
  const std::vector<Box> movie = boxes(b, moov->body, moov->end, name);
  uint32_t movie_scale = 0;
  if (const Box* mvhd = find(movie, "mvhd"); mvhd && mvhd->body + 24 <= mvhd->end)
    movie_scale = be32(&b[mvhd->body + (b[mvhd->body] == 1 ? 20 : 12)]);
  std::string other;  // what the tracks hold when none is AAC
  for (const Box& trak : movie) {
    if (std::memcmp(trak.type, "trak", 4) != 0) continue;
    const std::vector<Box> tk = boxes(b, trak.body, trak.end, name);
    const Box* mdia = find(tk, "mdia");
    if (!mdia) continue;
    const std::vector<Box> md = boxes(b, mdia->body, mdia->end, name);
    const Box* hdlr = find(md, "hdlr");
    if (!hdlr || hdlr->body + 12 > hdlr->end || std::memcmp(&b[hdlr->body + 8], "soun", 4) != 0) continue;
    uint32_t media_scale = 0;
    if (const Box* mdhd = find(md, "mdhd"); mdhd && mdhd->body + 24 <= mdhd->end)
      media_scale = be32(&b[mdhd->body + (b[mdhd->body] == 1 ? 20 : 12)]);
    const Box* minf = find(md, "minf");
    DUET_CHECK(minf, name, ": an audio track with no 'minf' box");
    const std::vector<Box> mi = boxes(b, minf->body, minf->end, name);
    const Box* stbl = find(mi, "stbl");
    DUET_CHECK(stbl, name, ": an audio track with no sample table ('stbl')");
    const std::vector<Box> st = boxes(b, stbl->body, stbl->end, name);
    const Box* stsd = find(st, "stsd");
    DUET_CHECK(stsd && stsd->body + 8 + 36 <= stsd->end, name, ": an audio track with no sample description");
    const std::vector<Box> entries = boxes(b, stsd->body + 8, stsd->end, name);
    DUET_CHECK(!entries.empty(), name, ": an audio track with no sample description");
    const Box& entry = entries[0];
    if (std::memcmp(entry.type, "mp4a", 4) != 0) {
      other = std::string(entry.type);
      continue;
    }
    // AudioSampleEntry: 8 bytes of SampleEntry, 20 of audio fields (36 more in version 1 of
    // QuickTime's layout, 56 in version 2), then child boxes.
    DUET_CHECK(entry.body + 28 <= entry.end, name, ": its 'mp4a' sample description is cut short");
    const int qt_version = (b[entry.body + 8] << 8) | b[entry.body + 9];
    const size_t children = entry.body + 28 + (qt_version == 1 ? 16 : qt_version == 2 ? 36 : 0);
    DUET_CHECK(children <= entry.end, name, ": its 'mp4a' sample description is cut short");
    const std::vector<Box> inside = boxes(b, children, entry.end, name);
    const Box* esds = find(inside, "esds");
    DUET_CHECK(esds, name, ": its 'mp4a' track has no decoder configuration ('esds')");
    // ES_Descriptor (3) > DecoderConfigDescriptor (4) > DecoderSpecificInfo (5).
    size_t at = esds->body + 4;
    const size_t end = esds->end;
    Track t;
    bool found = false;
    while (at + 2 <= end && !found) {
      const uint8_t tag = b[at++];
      const size_t length = descriptor_length(b, at, end);
      DUET_CHECK(at + length <= end, name, ": a damaged decoder configuration ('esds')");
      if (tag == 3) {
        DUET_CHECK(length >= 3, name, ": a damaged decoder configuration ('esds')");
        const uint8_t flags = b[at + 2];
        at += 3 + ((flags & 0x80) ? 2 : 0) + ((flags & 0x20) ? 2 : 0);
        if (flags & 0x40) at += 1 + (at < end ? b[at] : 0);
      } else if (tag == 4) {
        DUET_CHECK(length >= 13, name, ": a damaged decoder configuration ('esds')");
        const uint8_t object = b[at];
        if (object == 0x69 || object == 0x6B)
          throw Error(name + ": MP3 audio in an MP4 file, which duet does not unpack" + kConvertAdvice);
        DUET_CHECK(object == 0x40 || object == 0x66 || object == 0x67, name, ": MP4 audio of object type ", int(object),
                   ", not AAC", kConvertAdvice);
        at += 13;
      } else if (tag == 5) {
        t.config = read_audio_specific_config(&b[at], length, name);
        found = true;
      } else {
        at += length;
      }
    }
    DUET_CHECK(found, name, ": its decoder configuration ('esds') has no AudioSpecificConfig");
    // Sample sizes, chunks and chunk offsets.
    const Box* stsz = find(st, "stsz");
    const Box* stsc = find(st, "stsc");
    const Box* stco = find(st, "stco");
    const Box* co64 = find(st, "co64");
    DUET_CHECK(stsz && stsc && (stco || co64), name, ": an audio track whose sample table lacks sizes or offsets");
    DUET_CHECK(stsz->body + 12 <= stsz->end && stsc->body + 8 <= stsc->end, name, ": a damaged sample table");
    const uint32_t fixed = be32(&b[stsz->body + 4]), count = be32(&b[stsz->body + 8]);
    DUET_CHECK(count <= b.size(), name, ": a sample table of ", count, " frames in a file of ", b.size(), " bytes");
    DUET_CHECK(fixed || stsz->body + 12 + size_t(count) * 4 <= stsz->end, name, ": a damaged sample size table");
    const Box* co = stco ? stco : co64;
    const size_t width = stco ? 4 : 8;
    DUET_CHECK(co->body + 8 <= co->end, name, ": a damaged chunk offset table");
    const uint32_t chunks = be32(&b[co->body + 4]);
    DUET_CHECK(co->body + 8 + size_t(chunks) * width <= co->end, name, ": a damaged chunk offset table");
    const uint32_t runs = be32(&b[stsc->body + 4]);
    DUET_CHECK(stsc->body + 8 + size_t(runs) * 12 <= stsc->end, name, ": a damaged sample-to-chunk table");
    uint32_t sample = 0;
    for (uint32_t r = 0; r < runs && sample < count; ++r) {
      const uint8_t* e = &b[stsc->body + 8 + size_t(r) * 12];
      const uint32_t first = be32(e), per_chunk = be32(e + 4);
      const uint32_t last = r + 1 < runs ? be32(e + 12) : chunks + 1;
      DUET_CHECK(first >= 1 && last >= first && last <= chunks + 1, name, ": a damaged sample-to-chunk table");
      for (uint32_t chunk = first; chunk < last && sample < count; ++chunk) {
        const uint8_t* o = &b[co->body + 8 + size_t(chunk - 1) * width];
        uint64_t offset = width == 4 ? be32(o) : be64(o);
        for (uint32_t i = 0; i < per_chunk && sample < count; ++i, ++sample) {
          const uint32_t size = fixed ? fixed : be32(&b[stsz->body + 12 + size_t(sample) * 4]);
          t.samples.emplace_back(size_t(offset), size_t(size));
          offset += size;
        }
      }
    }
    // The edit list: the encoder's priming samples to skip and the length to keep.
    const Box* edts = find(tk, "edts");
    if (edts && media_scale) {
      const std::vector<Box> edits = boxes(b, edts->body, edts->end, name);
      const Box* elst = find(edits, "elst");
      if (elst && elst->body + 8 <= elst->end) {
        const bool v1 = b[elst->body] == 1;
        const uint32_t n = be32(&b[elst->body + 4]);
        const size_t one = v1 ? 20 : 12;
        for (uint32_t i = 0; i < n && elst->body + 8 + (i + 1) * one <= elst->end; ++i) {
          const uint8_t* e = &b[elst->body + 8 + i * one];
          const int64_t duration = v1 ? int64_t(be64(e)) : int64_t(be32(e));
          const int64_t media_time = v1 ? int64_t(be64(e + 8)) : int64_t(int32_t(be32(e + 4)));
          if (media_time < 0) continue;  // an empty edit
          const int rate = aac_tables::kRates[t.config.rate_index];
          t.skip = media_time * rate / media_scale;
          if (movie_scale) t.keep = duration * rate / movie_scale;
          break;
        }
      }
    }
    return t;
  }
  if (!other.empty()) {
    const char* codec = other == "alac"                      ? "Apple Lossless"
                        : other == "samr" || other == "sawb" ? "AMR, a phone's voice codec"
                        : other == "Opus"                    ? "Opus"
                        : other == ".mp3"                    ? "MP3 in an MP4 file"
                                                             : "a codec duet does not read";
    throw Error(name + ": an MP4 file whose audio is '" + other + "' (" + codec + "), not AAC" + kConvertAdvice);
  }
  throw Error(name + ": an MP4 file with no audio track (a video or another kind of MP4?)");
}

}  // namespace

bool is_aac(const std::vector<uint8_t>& b) {
  // Some tools put an ID3 tag before an ADTS stream.
  return (b.size() >= 8 && std::memcmp(&b[4], "ftyp", 4) == 0) || adts_at(b, after_id3v2_tags(b));
}

Audio decode_aac(const std::vector<uint8_t>& b, const std::string& name, WavInfo* info) {
  Frames frames;
  std::string container, note;
  int rate = 0;
  int64_t skip = 0, keep = -1;
  size_t frame = 0;
  auto where = [&](size_t at) {
    return name + ": AAC frame " + std::to_string(frame) + " (byte " + std::to_string(at) + ")";
  };
  auto decode_blocks = [&](const uint8_t* p, size_t n, size_t at, int blocks) {
    try {
      Bits in(p, n);
      for (int i = 0; i < blocks; ++i) frames.decode(in);
    } catch (const Damaged& d) {
      throw Error(where(at) + ": " + d.what);
    } catch (const BitsRanOut&) {
      throw Error(where(at) + ": its data ends in the middle of an element");
    }
  };
  if (b.size() >= 8 && std::memcmp(&b[4], "ftyp", 4) == 0) {
    container = "M4A";
    const Track t = read_mp4(b, name);
    frames.decoder.rate_index = t.config.rate_index;
    rate = aac_tables::kRates[t.config.rate_index];
    skip = t.skip;
    keep = t.keep;
    for (const auto& [offset, size] : t.samples) {
      ++frame;
      if (offset > b.size() || size > b.size() - offset) {
        note = "the file is cut short in AAC frame " + std::to_string(frame) + "; the frames before it are read";
        break;
      }
      decode_blocks(&b[offset], size, offset, 1);
    }
  } else {
    container = "ADTS";
    Config first;
    for (size_t at = after_id3v2_tags(b); at < b.size();) {
      if (!adts_at(b, at)) {
        DUET_CHECK(frame > 0, name, ": not an ADTS stream (no frame header at its start)");
        throw Error(name + ": AAC frame " + std::to_string(frame + 1) + " (byte " + std::to_string(at) +
                    "): no ADTS header where the frame should start (a damaged file)");
      }
      ++frame;
      const uint8_t* h = &b[at];
      const bool crc = !(h[1] & 1);
      Config c;
      c.object_type = (h[2] >> 6) + 1;
      c.rate_index = (h[2] >> 2) & 0xF;
      c.channels = ((h[2] & 1) << 2) | (h[3] >> 6);
      const size_t length = (size_t(h[3] & 3) << 11) | (size_t(h[4]) << 3) | (h[5] >> 5);
      const int blocks = (h[6] & 3) + 1;
      if (frame == 1) {
        DUET_CHECK(c.object_type == 2, name, ": AAC object type ", c.object_type,
                   " (duet's AAC decoder reads AAC-LC, type 2)", kConvertAdvice);
        DUET_CHECK(c.rate_index <= 11, name, ": a sample rate AAC-LC does not code with its scalefactor bands");
        first = c;
        frames.decoder.rate_index = c.rate_index;
        rate = aac_tables::kRates[c.rate_index];
      }
      DUET_CHECK(c.rate_index == first.rate_index && c.object_type == first.object_type, where(at),
                 ": its rate or profile differs from the first frame's");
      const size_t header = crc ? 9 : 7;
      DUET_CHECK(length >= header, where(at), ": a frame length of ", length, " bytes, shorter than its header");
      if (at + length > b.size()) {
        note = "the file is cut short in AAC frame " + std::to_string(frame) + "; the frames before it are read";
        break;
      }
      DUET_CHECK(blocks == 1 || !crc, where(at),
                 ": several raw data blocks with CRCs in one ADTS frame, which duet's AAC "
                 "decoder does not read");
      decode_blocks(h + header, length - header, at, blocks);
      at += length;
    }
  }
  DUET_CHECK(!frames.pcm.empty(), name, ": no AAC frames", note.empty() ? "" : " (the file is cut short in its first)");
  // Every channel holds every frame (Frames::decode pads one missing from a frame with silence).
  const size_t total = frames.pcm[0].size();
  const size_t begin = std::min(total, size_t(std::max<int64_t>(skip, 0)));
  size_t length = total - begin;
  if (keep >= 0) length = std::min(length, size_t(keep));
  Audio a = mono_from_channels(frames.pcm, rate, begin, length);
  if (info) *info = {rate, int(frames.pcm.size()), 0, "AAC-LC (" + container + ")", int64_t(length), note};
  return a;
}

}  // namespace duet::dsp
