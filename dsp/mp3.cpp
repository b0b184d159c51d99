#include "dsp/mp3.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numbers>

#include "dsp/aac.h"
#include "dsp/bit_reader.h"
#include "dsp/flac.h"
#include "dsp/mp3_tables.h"
#include "engine/error.h"

namespace duet::dsp {
namespace {

using mp3_tables::Huffman;

// ---------------------------------------------------------------------------------------------
// Frame headers

constexpr int kBitrates[2][16] = {
    {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},  // MPEG-1 layer III
    {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},      // MPEG-2 and 2.5 layer III
};
constexpr int kRates[3][3] = {{44100, 48000, 32000}, {22050, 24000, 16000}, {11025, 12000, 8000}};

struct Header {
  int version = 0;     // 0: MPEG-1, 1: MPEG-2, 2: MPEG-2.5
  int layer = 0;       // 1, 2 or 3
  bool crc = false;    // a CRC-16 follows the header
  int bitrate = 0;     // kbit/s; 0: free format
  int rate_index = 0;  // into kRates[version]
  int padding = 0;
  int mode = 0;  // 0 stereo, 1 joint stereo, 2 dual channel, 3 mono
  int mode_ext = 0;

  int rate() const { return kRates[version][rate_index]; }
  int channels() const { return mode == 3 ? 1 : 2; }
  bool lsf() const { return version != 0; }  // MPEG-2 and 2.5: one granule per frame
  int granules() const { return lsf() ? 1 : 2; }
  int frame_bytes() const { return (lsf() ? 72 : 144) * bitrate * 1000 / rate() + padding; }
  int side_bytes() const { return lsf() ? (channels() == 1 ? 9 : 17) : (channels() == 1 ? 17 : 32); }
  const char* version_name() const { return version == 0 ? "MPEG-1" : version == 1 ? "MPEG-2" : "MPEG-2.5"; }
  // Frames of one stream share these; a "header" that differs is a false sync.
  bool same_stream(const Header& o) const {
    return version == o.version && layer == o.layer && rate_index == o.rate_index && channels() == o.channels();
  }
};

// The header at p (4 bytes), or false when the bytes are not an MPEG audio frame header of any
// layer. Free-format frames (bitrate 0) are headers too; the caller refuses them.
bool parse_header(const uint8_t* p, Header* h) {
  if (p[0] != 0xFF || (p[1] & 0xE0) != 0xE0) return false;
  const int version_bits = (p[1] >> 3) & 3, layer_bits = (p[1] >> 1) & 3;
  const int bitrate_index = p[2] >> 4, rate_index = (p[2] >> 2) & 3;
  if (version_bits == 1 || layer_bits == 0 || bitrate_index == 15 || rate_index == 3) return false;
  h->version = version_bits == 3 ? 0 : version_bits == 2 ? 1 : 2;
  h->layer = 4 - layer_bits;
  h->crc = (p[1] & 1) == 0;
  h->bitrate = kBitrates[h->version == 0 ? 0 : 1][bitrate_index];
  h->rate_index = rate_index;
  h->padding = (p[2] >> 1) & 1;
  h->mode = p[3] >> 6;
  h->mode_ext = (p[3] >> 4) & 3;
  return true;
}

// Tags that follow the last frame: ID3v1 ("TAG", 128 bytes), APEv2, Lyrics3, another ID3v2.
bool tag_at(const std::vector<uint8_t>& b, size_t at) {
  auto starts = [&](const char* s) {
    const size_t n = std::strlen(s);
    return b.size() >= at + n && std::memcmp(b.data() + at, s, n) == 0;
  };
  return starts("TAG") || starts("APETAGEX") || starts("LYRICSBEGIN") || starts("ID3");
}

// ---------------------------------------------------------------------------------------------
// Bits

struct Damaged {
  std::string what;
};

using Bits = BitReader;

struct Trees {
  std::array<PrefixCode, 32> big;  // by the table numbers of the side information
  std::array<PrefixCode, 2> count1;
  Trees() {
    for (int i = 0; i < 32; ++i) {
      const Huffman& h = mp3_tables::kBigValues[i];
      if (h.size) big[size_t(i)] = PrefixCode(h.codes, h.lengths, h.size * h.size);
    }
    for (int i = 0; i < 2; ++i)
      count1[size_t(i)] = PrefixCode(mp3_tables::kCount1[i].codes, mp3_tables::kCount1[i].lengths, 16);
  }
};

const Trees& trees() {
  static const Trees t;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Scalefactor bands (tables B.8 and B.2), by version * 3 + rate index.

constexpr int kSfbLong[9][23] = {
    {0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 52, 62, 74, 90, 110, 134, 162, 196, 238, 288, 342, 418, 576},     // 44.1
    {0, 4, 8, 12, 16, 20, 24, 30, 36, 42, 50, 60, 72, 88, 106, 128, 156, 190, 230, 276, 330, 384, 576},     // 48
    {0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 54, 66, 82, 102, 126, 156, 194, 240, 296, 364, 448, 550, 576},    // 32
    {0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576},  // 22.05
    {0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 114, 136, 162, 194, 232, 278, 332, 394, 464, 540, 576},  // 24
    {0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576},  // 16
    {0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576},  // 11.025
    {0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576},  // 12
    {0, 12, 24, 36, 48, 60, 72, 88, 108, 132, 160, 192, 232, 280, 336, 400, 476, 566, 568, 570, 572, 574, 576},  // 8
};
constexpr int kSfbShort[9][14] = {
    {0, 4, 8, 12, 16, 22, 30, 40, 52, 66, 84, 106, 136, 192},
    {0, 4, 8, 12, 16, 22, 28, 38, 50, 64, 80, 100, 126, 192},
    {0, 4, 8, 12, 16, 22, 30, 42, 58, 78, 104, 138, 180, 192},
    {0, 4, 8, 12, 18, 24, 32, 42, 56, 74, 100, 132, 174, 192},
    {0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 136, 180, 192},
    {0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 134, 174, 192},
    {0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 134, 174, 192},
    {0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 134, 174, 192},
    {0, 8, 16, 24, 36, 52, 72, 96, 124, 160, 162, 164, 166, 192},
};
constexpr int kPretab[22] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 2, 0};
// MPEG-1 scalefac_compress -> (slen1, slen2).
constexpr int kSlen[2][16] = {{0, 0, 0, 0, 3, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4},
                              {0, 1, 2, 3, 0, 1, 2, 3, 1, 2, 3, 1, 2, 3, 2, 3}};
// MPEG-2 scalefactors: how many bands each of the four slen partitions covers, by the
// scalefac_compress range (three; the other three are intensity stereo's) and long / short blocks.
constexpr int kPartitions[3][2][4] = {
    {{6, 5, 5, 5}, {9, 9, 9, 9}}, {{6, 5, 7, 3}, {9, 9, 12, 6}}, {{11, 10, 0, 0}, {18, 18, 0, 0}}};

// ---------------------------------------------------------------------------------------------
// Side information

struct Channel {
  int part2_3_length = 0, big_values = 0, global_gain = 0, scalefac_compress = 0;
  bool window_switching = false, mixed = false;
  int block_type = 0;  // 0 normal, 1 start, 2 short, 3 stop
  int table_select[3] = {0, 0, 0};
  int subblock_gain[3] = {0, 0, 0};
  int region0_count = 0, region1_count = 0;
  int preflag = 0, scalefac_scale = 0, count1_table = 0;
};

struct SideInfo {
  int main_data_begin = 0;
  int scfsi[2][4] = {};
  Channel ch[2][2];  // [granule][channel]
};

SideInfo read_side_info(const Header& h, const uint8_t* p, int* bad_reason) {
  Bits in(p, size_t(h.side_bytes()));
  SideInfo s;
  const int nch = h.channels();
  s.main_data_begin = int(in.bits(h.lsf() ? 8 : 9));
  in.bits(h.lsf() ? (nch == 1 ? 1 : 2) : (nch == 1 ? 5 : 3));  // private bits
  if (!h.lsf())
    for (int c = 0; c < nch; ++c)
      for (int band = 0; band < 4; ++band) s.scfsi[c][band] = int(in.bit());
  *bad_reason = 0;
  for (int g = 0; g < h.granules(); ++g)
    for (int c = 0; c < nch; ++c) {
      Channel& ch = s.ch[g][c];
      ch.part2_3_length = int(in.bits(12));
      ch.big_values = int(in.bits(9));
      ch.global_gain = int(in.bits(8));
      ch.scalefac_compress = int(in.bits(h.lsf() ? 9 : 4));
      ch.window_switching = in.bit();
      if (ch.window_switching) {
        ch.block_type = int(in.bits(2));
        ch.mixed = in.bit();
        for (int r = 0; r < 2; ++r) ch.table_select[r] = int(in.bits(5));
        for (int w = 0; w < 3; ++w) ch.subblock_gain[w] = int(in.bits(3));
        if (ch.block_type == 0) *bad_reason = 1;
      } else {
        for (int r = 0; r < 3; ++r) ch.table_select[r] = int(in.bits(5));
        ch.region0_count = int(in.bits(4));
        ch.region1_count = int(in.bits(3));
      }
      if (!h.lsf()) ch.preflag = int(in.bit());
      ch.scalefac_scale = int(in.bit());
      ch.count1_table = int(in.bit());
      if (ch.big_values > 288) *bad_reason = 2;
      for (int r = 0; r < 3; ++r)
        if (ch.table_select[r] == 4 || ch.table_select[r] == 14) *bad_reason = 3;
    }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Transforms

constexpr double kPi = std::numbers::pi;

struct Transforms {
  float pow43[8207];         // |value|^(4/3) for every value the Huffman codes reach (15 + 2^13 - 1)
  float cs[8], ca[8];        // alias-reduction butterflies
  float imdct_long[36][18];  // cos(pi / 72 * (2i + 1 + 18) * (2k + 1))
  float imdct_short[12][6];  // cos(pi / 24 * (2i + 1 + 6) * (2k + 1))
  float window[4][36];       // long windows by block type (2: the short window in its first 12)
  float synth[64][32];       // N[i][k] = cos((16 + i) * (2k + 1) * pi / 64)
  float d[512];              // the synthesis window

  Transforms() {
    for (int i = 0; i < 8207; ++i) pow43[i] = float(std::pow(double(i), 4.0 / 3.0));
    const double c[8] = {-0.6, -0.535, -0.33, -0.185, -0.095, -0.041, -0.0142, -0.0037};
    for (int i = 0; i < 8; ++i) {
      cs[i] = float(1 / std::sqrt(1 + c[i] * c[i]));
      ca[i] = float(c[i] / std::sqrt(1 + c[i] * c[i]));
    }
    for (int i = 0; i < 36; ++i)
      for (int k = 0; k < 18; ++k) imdct_long[i][k] = float(std::cos(kPi / 72 * (2 * i + 1 + 18) * (2 * k + 1)));
    for (int i = 0; i < 12; ++i)
      for (int k = 0; k < 6; ++k) imdct_short[i][k] = float(std::cos(kPi / 24 * (2 * i + 1 + 6) * (2 * k + 1)));
    for (int i = 0; i < 36; ++i) {
      const float sine = float(std::sin(kPi / 36 * (i + 0.5)));
      window[0][i] = sine;
      window[1][i] = i < 18 ? sine : i < 24 ? 1.0f : i < 30 ? float(std::sin(kPi / 12 * (i - 18 + 0.5))) : 0.0f;
      window[3][i] = i < 6 ? 0.0f : i < 12 ? float(std::sin(kPi / 12 * (i - 6 + 0.5))) : i < 18 ? 1.0f : sine;
      window[2][i] = i < 12 ? float(std::sin(kPi / 12 * (i + 0.5))) : 0.0f;
    }
    for (int i = 0; i < 64; ++i)
      for (int k = 0; k < 32; ++k) synth[i][k] = float(std::cos((16 + i) * (2 * k + 1) * kPi / 64));
    for (int i = 0; i < 512; ++i) {
      const int j = i <= 256 ? i : 512 - i;
      const double v = mp3_tables::kSynthesisWindow[j] / 65536.0;
      d[i] = float(i <= 256 || j % 64 == 0 ? v : -v);
    }
  }
};

const Transforms& transforms() {
  static const Transforms t;
  return t;
}

// One channel's state between granules: the IMDCT's overlap and the synthesis filter's FIFO.
struct ChannelState {
  float overlap[32][18] = {};
  float v[1024] = {};
  int v_offset = 0;
  int sf_long[22] = {};  // the last granule's long-block scalefactors (MPEG-1 scfsi reuses them)
};

// The granule's spectrum of one channel, xr[576], from its scalefactors and Huffman data.
void decode_spectrum(const Header& h, const Channel& ch, const int* scfsi, int granule, Bits& in, ChannelState& st,
                     float* xr) {
  const int table = h.version * 3 + h.rate_index;
  const int* sfb_l = kSfbLong[table];
  const int* sfb_s = kSfbShort[table];
  const bool is_short = ch.window_switching && ch.block_type == 2;
  const uint64_t end = in.pos() + uint64_t(ch.part2_3_length);
  if (end > in.size()) throw Damaged{"its part2_3_length runs past the end of the frames it may use"};

  // Scalefactors (part 2).
  int sf_l[22] = {};
  int sf_s[13][3] = {};
  int preflag = ch.preflag;
  if (!h.lsf()) {
    const int slen1 = kSlen[0][ch.scalefac_compress], slen2 = kSlen[1][ch.scalefac_compress];
    if (is_short) {
      for (int sfb = 0; sfb < 12; ++sfb)
        for (int w = 0; w < 3; ++w) sf_s[sfb][w] = int(in.bits(sfb < 6 ? slen1 : slen2));
    } else {
      const int groups[5] = {0, 6, 11, 16, 21};
      for (int g = 0; g < 4; ++g)
        for (int sfb = groups[g]; sfb < groups[g + 1]; ++sfb)
          sf_l[sfb] = granule == 1 && scfsi[g] ? st.sf_long[sfb] : int(in.bits(g < 2 ? slen1 : slen2));
      std::copy(sf_l, sf_l + 22, st.sf_long);
    }
  } else {
    int sfc = ch.scalefac_compress, slen[4], range;
    if (sfc < 400) {
      slen[0] = (sfc >> 4) / 5, slen[1] = (sfc >> 4) % 5, slen[2] = (sfc % 16) >> 2, slen[3] = sfc % 4, range = 0;
    } else if (sfc < 500) {
      sfc -= 400;
      slen[0] = (sfc >> 2) / 5, slen[1] = (sfc >> 2) % 5, slen[2] = sfc % 4, slen[3] = 0, range = 1;
    } else {
      sfc -= 500;
      slen[0] = sfc / 3, slen[1] = sfc % 3, slen[2] = 0, slen[3] = 0, range = 2;
      preflag = 1;
    }
    int k = 0;
    for (int part = 0; part < 4; ++part)
      for (int n = 0; n < kPartitions[range][is_short ? 1 : 0][part]; ++n, ++k) {
        const int v = int(in.bits(slen[part]));
        if (is_short)
          sf_s[k / 3][k % 3] = v;
        else
          sf_l[k] = v;
      }
  }
  if (in.pos() > end) throw Damaged{"its scalefactors run past its part2_3_length"};

  // Huffman data (part 3).
  int values[576] = {};
  const int big_end = std::min(576, ch.big_values * 2);
  int region1 = 576, region2 = 576;
  if (ch.window_switching) {
    region1 = is_short ? 3 * sfb_s[3] : sfb_l[8];
  } else {
    region1 = sfb_l[std::min(ch.region0_count + 1, 22)];
    region2 = sfb_l[std::min(ch.region0_count + ch.region1_count + 2, 22)];
  }
  const Trees& tr = trees();
  int line = 0;
  for (; line < big_end; line += 2) {
    const int t = ch.table_select[line < region1 ? 0 : line < region2 ? 1 : 2];
    const Huffman& hf = mp3_tables::kBigValues[t];
    if (hf.size == 0) continue;  // table 0: every value 0
    const int v = tr.big[t].decode(in);
    int x = v / hf.size, y = v % hf.size;
    const int linbits = mp3_tables::kLinbits[t];
    if (linbits && x == 15) x += int(in.bits(linbits));
    if (x && in.bit()) x = -x;
    if (linbits && y == 15) y += int(in.bits(linbits));
    if (y && in.bit()) y = -y;
    values[line] = x;
    values[line + 1] = y;
  }
  if (in.pos() > end) throw Damaged{"its Huffman data runs past its part2_3_length"};
  while (line + 4 <= 576 && in.pos() < end) {
    const int v = tr.count1[ch.count1_table].decode(in);
    int q[4] = {(v >> 3) & 1, (v >> 2) & 1, (v >> 1) & 1, v & 1};
    for (int& x : q)
      if (x && in.bit()) x = -x;
    if (in.pos() > end) break;  // the last quadruple ran past the end: stuffing, not data
    std::copy(q, q + 4, values + line);
    line += 4;
  }
  in.seek(end);  // ancillary bits

  // Requantisation.
  const Transforms& tf = transforms();
  const double base = 0.25 * (ch.global_gain - 210);
  const double multiplier = ch.scalefac_scale ? 1.0 : 0.5;
  auto scale = [&](int i, double exponent) {
    const int v = values[i];
    xr[i] = v == 0 ? 0.0f : float((v < 0 ? -1.0 : 1.0) * tf.pow43[v < 0 ? -v : v] * std::exp2(exponent));
  };
  if (!is_short) {
    for (int sfb = 0; sfb < 22; ++sfb) {
      const double e = base - multiplier * (sf_l[sfb] + preflag * kPretab[sfb]);
      for (int i = sfb_l[sfb]; i < sfb_l[sfb + 1]; ++i) scale(i, e);
    }
  } else {
    for (int sfb = 0; sfb < 13; ++sfb) {
      const int width = sfb_s[sfb + 1] - sfb_s[sfb];
      for (int w = 0; w < 3; ++w) {
        const double e = base - 2.0 * ch.subblock_gain[w] - multiplier * sf_s[sfb][w];
        const int start = 3 * sfb_s[sfb] + w * width;
        for (int i = start; i < start + width; ++i) scale(i, e);
      }
    }
  }
}

// Short blocks: from [band][window][line] order to [line][window] within each band, so that a
// subband's 18 values hold its three windows' six lines interleaved.
void reorder_short(const Header& h, float* xr) {
  const int* sfb_s = kSfbShort[h.version * 3 + h.rate_index];
  float out[576];
  for (int sfb = 0; sfb < 13; ++sfb) {
    const int width = sfb_s[sfb + 1] - sfb_s[sfb], start = 3 * sfb_s[sfb];
    for (int w = 0; w < 3; ++w)
      for (int f = 0; f < width; ++f) out[start + 3 * f + w] = xr[start + w * width + f];
  }
  std::copy(out, out + 576, xr);
}

void antialias(float* xr) {
  const Transforms& tf = transforms();
  for (int sb = 1; sb < 32; ++sb)
    for (int i = 0; i < 8; ++i) {
      float& lo = xr[sb * 18 - 1 - i];
      float& hi = xr[sb * 18 + i];
      const float a = lo, b = hi;
      lo = a * tf.cs[i] - b * tf.ca[i];
      hi = b * tf.cs[i] + a * tf.ca[i];
    }
}

// IMDCT, windowing and overlap-add of every subband, then the frequency inversion: 18 samples
// of each of the 32 subbands, out[sb][t].
void imdct(const Channel& ch, const float* xr, ChannelState& st, float out[32][18]) {
  const Transforms& tf = transforms();
  const int type = ch.window_switching ? ch.block_type : 0;
  for (int sb = 0; sb < 32; ++sb) {
    const float* x = xr + sb * 18;
    float y[36] = {};
    if (type == 2) {
      for (int w = 0; w < 3; ++w)
        for (int i = 0; i < 12; ++i) {
          float s = 0;
          for (int k = 0; k < 6; ++k) s += x[w + 3 * k] * tf.imdct_short[i][k];
          y[6 + 6 * w + i] += s * tf.window[2][i];
        }
    } else {
      bool any = false;
      for (int k = 0; k < 18 && !any; ++k) any = x[k] != 0;
      if (any)
        for (int i = 0; i < 36; ++i) {
          float s = 0;
          for (int k = 0; k < 18; ++k) s += x[k] * tf.imdct_long[i][k];
          y[i] = s * tf.window[type][i];
        }
    }
    for (int i = 0; i < 18; ++i) {
      out[sb][i] = y[i] + st.overlap[sb][i];
      st.overlap[sb][i] = y[18 + i];
    }
    if (sb & 1)
      for (int i = 1; i < 18; i += 2) out[sb][i] = -out[sb][i];
  }
}

// The polyphase synthesis filterbank: 32 subband samples in, 32 PCM samples out, 18 times.
void synthesize(const float sub[32][18], ChannelState& st, float* pcm) {
  const Transforms& tf = transforms();
  for (int t = 0; t < 18; ++t) {
    st.v_offset = (st.v_offset + 1024 - 64) & 1023;
    float* v = st.v;
    for (int i = 0; i < 64; ++i) {
      float s = 0;
      for (int k = 0; k < 32; ++k) s += tf.synth[i][k] * sub[k][t];
      v[(st.v_offset + i) & 1023] = s;
    }
    for (int j = 0; j < 32; ++j) {
      float s = 0;
      for (int i = 0; i < 8; ++i) {
        s += v[(st.v_offset + i * 128 + j) & 1023] * tf.d[i * 64 + j];
        s += v[(st.v_offset + i * 128 + 96 + j) & 1023] * tf.d[i * 64 + 32 + j];
      }
      pcm[t * 32 + j] = s;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The stream

// Where a frame of the stream starts at or after `from`: a header whose next frame is a header
// of the same stream too (or the end of the file, or a tag), so that two bytes of sync inside a
// damaged stretch are not taken for a frame. npos when there is none.
size_t find_frame(const std::vector<uint8_t>& b, size_t from, const Header* like) {
  for (size_t p = from; p + 4 <= b.size(); ++p) {
    Header h;
    if (!parse_header(b.data() + p, &h) || (like && !h.same_stream(*like))) continue;
    // Free format (the frame's length is not in its header): a stream that starts with such a
    // frame is refused by the caller; anywhere else it is a sync word in damaged bytes.
    if (h.bitrate == 0) {
      if (!like && p == from) return p;
      continue;
    }
    const size_t next = p + size_t(h.frame_bytes());
    if (next >= b.size() || tag_at(b, next)) return p;
    Header n;
    if (next + 4 <= b.size() && parse_header(b.data() + next, &n) && n.same_stream(h)) return p;
  }
  return std::string::npos;
}

uint16_t crc16(uint16_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    crc ^= uint16_t(p[i] << 8);
    for (int k = 0; k < 8; ++k) crc = uint16_t(crc & 0x8000 ? (crc << 1) ^ 0x8005 : crc << 1);
  }
  return crc;
}

// Whether the frame f (the stream's first, `bytes` long) is a Xing/Info or VBRI frame, which
// describes a VBR stream rather than holding audio; a LAME tag's encoder delay and padding go to
// *delay and *padding. The Xing tag follows the side information; LAME puts it there without
// counting a CRC's 2 bytes.
bool is_vbr_header(const Header& h, const uint8_t* f, size_t bytes, int* delay, int* padding) {
  const size_t side_end = size_t(h.side_bytes()) + 4;
  for (const size_t xing : {side_end + (h.crc ? 2 : 0), side_end}) {
    if (xing + 8 > bytes || (std::memcmp(f + xing, "Xing", 4) != 0 && std::memcmp(f + xing, "Info", 4) != 0)) continue;
    const uint32_t flags = (uint32_t(f[xing + 4]) << 24) | (f[xing + 5] << 16) | (f[xing + 6] << 8) | f[xing + 7];
    const size_t at =
        xing + 8 + (flags & 1 ? 4 : 0) + (flags & 2 ? 4 : 0) + (flags & 4 ? 100 : 0) + (flags & 8 ? 4 : 0);
    if (at + 24 <= bytes && (std::memcmp(f + at, "LAME", 4) == 0 || std::memcmp(f + at, "Lavc", 4) == 0 ||
                             std::memcmp(f + at, "Lavf", 4) == 0)) {
      *delay = (f[at + 21] << 4) | (f[at + 22] >> 4);
      *padding = ((f[at + 22] & 0x0F) << 8) | f[at + 23];
    }
    return true;
  }
  return bytes >= 4 + 32 + 4 && std::memcmp(f + 36, "VBRI", 4) == 0;
}

std::string layer_name(int layer) {
  return layer == 1 ? "layer I (MP1)" : layer == 2 ? "layer II (MP2)" : "layer III (MP3)";
}

}  // namespace

bool is_mpeg_audio(const std::vector<uint8_t>& b) {
  // A tag can stand before FLAC and ADTS (AAC) streams too; after a tag, anything else is for the
  // MP3 decoder to read or refuse.
  if (is_flac(b) || is_aac(b)) return false;
  if (after_id3v2_tags(b) > 0) return true;
  Header h;
  return b.size() >= 4 && parse_header(b.data(), &h);
}

Audio decode_mp3(const std::vector<uint8_t>& b, const std::string& name, WavInfo* info) {
  const size_t pos = after_id3v2_tags(b);
  DUET_CHECK(pos < b.size(), name, ": an ID3 tag and no audio after it (", b.size(), " bytes)");
  const size_t first = find_frame(b, pos, nullptr);
  DUET_CHECK(first != std::string::npos, name, ": no MPEG audio frame found", pos ? " after its ID3 tag" : "",
             " (not an MP3 file, or a damaged one)");
  Header stream;
  parse_header(b.data() + first, &stream);
  auto where = [&](int frame, size_t at) {
    return name + ": frame " + std::to_string(frame) + " (byte " + std::to_string(at) + ")";
  };
  DUET_CHECK(stream.layer == 3, name, ": MPEG audio ", layer_name(stream.layer),
             ", not layer III (MP3); duet reads MP3", kConvertAdvice);

  const int nch = stream.channels(), ngr = stream.granules();
  std::vector<std::vector<float>> pcm(static_cast<size_t>(nch));
  std::vector<ChannelState> state(static_cast<size_t>(nch));
  std::vector<uint8_t> reservoir;
  int delay = -1, padding = 0;  // from a LAME tag
  int frames = 0, audio_frames = 0, silent_frames = 0, min_rate = 1 << 30, max_rate = 0;
  size_t skipped = first - pos;  // bytes before the first frame that are not one
  bool cut = false;
  std::vector<float> xr(static_cast<size_t>(nch) * 576);
  float sub[32][18];

  for (size_t p = first; p + 4 <= b.size();) {
    Header h;
    if (!parse_header(b.data() + p, &h) || !h.same_stream(stream)) {
      if (tag_at(b, p)) break;
      const size_t next = find_frame(b, p + 1, &stream);
      skipped += (next == std::string::npos ? b.size() : next) - p;
      if (next == std::string::npos) break;
      p = next;
      continue;
    }
    ++frames;
    DUET_CHECK(h.bitrate != 0, where(frames, p), ": a free-format bitrate, which duet's MP3 decoder does not read");
    const size_t bytes = size_t(h.frame_bytes());
    if (p + bytes > b.size()) {
      cut = true;
      break;
    }
    const uint8_t* f = b.data() + p;
    const size_t side_at = 4 + (h.crc ? 2 : 0);
    DUET_CHECK(side_at + size_t(h.side_bytes()) <= bytes, where(frames, p), ": a frame of ", bytes,
               " bytes, too short for its side information");
    if (h.crc) {
      const uint16_t want = uint16_t((f[4] << 8) | f[5]);
      const uint16_t got = crc16(crc16(0xFFFF, f + 2, 2), f + side_at, size_t(h.side_bytes()));
      DUET_CHECK(got == want, where(frames, p), ": CRC mismatch (the frame is damaged)");
    }
    if (frames == 1 && is_vbr_header(h, f, bytes, &delay, &padding)) {
      p += bytes;
      continue;
    }
    ++audio_frames;
    min_rate = std::min(min_rate, h.bitrate);
    max_rate = std::max(max_rate, h.bitrate);
    DUET_CHECK(
        !(h.mode == 1 && (h.mode_ext & 1)), where(frames, p),
        ": intensity stereo, which duet's MP3 decoder does not read (convert the file first, e.g. ffmpeg -i FILE "
        "-ac 1 FILE.wav)");
    int bad = 0;
    const SideInfo side = read_side_info(h, f + side_at, &bad);
    DUET_CHECK(bad != 1, where(frames, p), ": damaged side information (block type 0 with window switching)");
    DUET_CHECK(bad != 2, where(frames, p), ": damaged side information (more than 288 big values)");
    DUET_CHECK(bad != 3, where(frames, p), ": damaged side information (Huffman table 4 or 14, which do not exist)");
    for (int g = 0; g < ngr; ++g)
      for (int c = 0; c < nch; ++c)
        DUET_CHECK(!(side.ch[g][c].window_switching && side.ch[g][c].mixed), where(frames, p),
                   ": mixed blocks, which duet's MP3 decoder does not read (convert the file first, e.g. ffmpeg -i "
                   "FILE -ac 1 FILE.wav)");

    // The main data: main_data_begin bytes back into the reservoir, then this frame's.
    const size_t main_at = side_at + size_t(h.side_bytes());
    const bool have = size_t(side.main_data_begin) <= reservoir.size();
    const size_t start = reservoir.size() - (have ? size_t(side.main_data_begin) : 0);
    reservoir.insert(reservoir.end(), f + main_at, f + bytes);
    if (!have) {  // its data began in frames before the file's first (a stream cut from a longer one)
      ++silent_frames;
      for (int c = 0; c < nch; ++c) pcm[size_t(c)].resize(pcm[size_t(c)].size() + size_t(576 * ngr), 0.0f);
    } else {
      Bits in(reservoir.data() + start, reservoir.size() - start);
      try {
        for (int g = 0; g < ngr; ++g) {
          for (int c = 0; c < nch; ++c)
            decode_spectrum(h, side.ch[g][c], side.scfsi[c], g, in, state[size_t(c)], xr.data() + 576 * c);
          if (h.mode == 1 && (h.mode_ext & 2)) {  // mid/side stereo
            const float r = float(1 / std::numbers::sqrt2);
            for (int i = 0; i < 576; ++i) {
              const float m = xr[size_t(i)], s = xr[size_t(576 + i)];
              xr[size_t(i)] = (m + s) * r;
              xr[size_t(576 + i)] = (m - s) * r;
            }
          }
          for (int c = 0; c < nch; ++c) {
            const Channel& ch = side.ch[g][c];
            float* x = xr.data() + 576 * c;
            if (ch.window_switching && ch.block_type == 2)
              reorder_short(h, x);
            else
              antialias(x);
            imdct(ch, x, state[size_t(c)], sub);
            std::vector<float>& out = pcm[size_t(c)];
            out.resize(out.size() + 576);
            synthesize(sub, state[size_t(c)], out.data() + out.size() - 576);
          }
        }
      } catch (const Damaged& d) {
        throw Error(where(frames, p) + ": damaged (" + d.what + ")");
      } catch (const BitsRanOut&) {
        throw Error(where(frames, p) + ": damaged (its data runs past the end of the frames it may use)");
      }
    }
    if (reservoir.size() > 8192) reservoir.erase(reservoir.begin(), reservoir.end() - 4096);
    p += bytes;
  }
  DUET_CHECK(audio_frames > 0, name, ": no audio frames", cut ? " (the file is cut short in its first frame)" : "");

  // Gapless: the LAME tag's encoder delay (plus the decoder's 529 samples) and padding.
  size_t begin = 0, total = pcm[0].size();
  if (delay >= 0) {
    begin = std::min(total, size_t(delay) + 529);
    total = pcm[0].size() >= size_t(delay + padding) ? pcm[0].size() - size_t(delay + padding) : 0;
    total = std::min(total, pcm[0].size() - begin);
  }
  Audio a = mono_from_channels(pcm, stream.rate(), begin, total);

  if (info) {
    std::string note;
    auto add = [&](const std::string& s) { note += (note.empty() ? "" : "; ") + s; };
    if (cut) add("the file is cut short in frame " + std::to_string(frames) + "; the frames before it are read");
    if (skipped) add(std::to_string(skipped) + " bytes that are not MPEG audio frames were skipped (a damaged file?)");
    if (silent_frames)
      add(silent_frames == 1 ? "1 frame refers to data before the file's start (a stream cut from a longer one) and is "
                               "read as silence"
                             : std::to_string(silent_frames) +
                                   " frames refer to data before the file's start (a stream cut from a longer one) "
                                   "and are read as silence");
    std::string encoding = std::string(stream.version_name()) + " layer III (MP3), ";
    encoding += min_rate == max_rate ? std::to_string(min_rate) + " kbit/s"
                                     : std::to_string(min_rate) + "-" + std::to_string(max_rate) + " kbit/s (variable)";
    *info = {stream.rate(), nch, 0, encoding, int64_t(total), note};
  }
  return a;
}

}  // namespace duet::dsp
