#include "dsp/vorbis.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numbers>

#include "dsp/fft.h"
#include "engine/error.h"

namespace duet::dsp {
namespace {

// What breaks the specification; the caller names the file and the header or packet.
struct Damaged {
  std::string what;
};

// Vorbis packs its fields least significant bit first. A read past the end of the packet gives
// 0 and sets end(): headers treat that as damage, an audio packet as its end (the specification
// has the rest of such a packet decode as zero).
class Bits {
 public:
  Bits(const uint8_t* p, size_t n) : p_(p), n_bits_(uint64_t(n) * 8) {}
  uint32_t read(int n) {  // n in 0..32
    if (pos_ + 64 <= n_bits_) {  // the eight bytes from the current one are there
      const uint32_t v = uint32_t(word() & ((uint64_t(1) << n) - 1));
      pos_ += uint64_t(n);
      return v;
    }
    uint32_t v = 0;
    for (int i = 0; i < n; ++i, ++pos_) {
      if (pos_ >= n_bits_) {
        end_ = true;
        return 0;
      }
      v |= uint32_t((p_[pos_ >> 3] >> (pos_ & 7)) & 1) << i;
    }
    return v;
  }
  bool end() const { return end_; }
  uint64_t left() const { return pos_ < n_bits_ ? n_bits_ - pos_ : 0; }
  // The next 56 bits or more, the next bit lowest, without reading them; only with left() >= 64.
  uint64_t word() const {
    uint64_t w;
    std::memcpy(&w, p_ + (pos_ >> 3), 8);
    return w >> (pos_ & 7);
  }
  void skip(int n) { pos_ += uint64_t(n); }

 private:
  const uint8_t* p_;
  uint64_t n_bits_, pos_ = 0;
  bool end_ = false;
};

// The number of bits needed to write v (ilog in the specification): 0 for 0, 1 for 1, 2 for 2-3.
int ilog(uint32_t v) { return v == 0 ? 0 : 32 - __builtin_clz(v); }

// A 32-bit packed float of the codebook header: 21-bit mantissa, sign, 10-bit biased exponent.
float float32_unpack(uint32_t x) {
  const double mantissa = double(x & 0x1FFFFF);
  const int exponent = int((x & 0x7FE00000u) >> 21);
  return float(std::ldexp(x & 0x80000000u ? -mantissa : mantissa, exponent - 788));
}

struct Codebook {
  int dims = 0;
  // The prefix code as a binary tree: node k's children are tree[2k] and tree[2k + 1]; a child > 0
  // is another node, ~entry (< 0) a leaf, 0 no code (the root is never a child).
  std::vector<int32_t> tree;
  int single = -1;             // the entry of a book with one used entry (its code is one bit)
  std::vector<float> vectors;  // entries x dims values, for books with a lookup table
  // The tree walked kFast bits at a time: for each kFast-bit string (the first bit lowest),
  // the entry and code length when a code ends within it (length > 0), no code (length < 0),
  // or the node reached after it (length 0).
  static constexpr int kFast = 8;
  struct Step {
    int32_t value = 0;
    int8_t length = 0;
  };
  std::vector<Step> fast;

  void build_fast() {
    fast.assign(size_t(1) << kFast, Step{});
    for (uint32_t bits = 0; bits < fast.size(); ++bits) {
      int32_t node = 0;
      Step& step = fast[bits];
      for (int i = 0; i < kFast; ++i) {
        const int32_t next = tree[size_t(2 * node) + ((bits >> i) & 1)];
        if (next <= 0) {
          step = next < 0 ? Step{~next, int8_t(i + 1)} : Step{0, -1};
          break;
        }
        step = Step{next, 0};
        node = next;
      }
    }
  }

  // The next entry, or -1 at the end of the packet or on a code the book does not hold.
  int decode(Bits& in) const {
    if (single >= 0) {
      in.read(1);
      return in.end() ? -1 : single;
    }
    if (tree.empty()) return -1;  // a book with no used entries holds no code
    int32_t node = 0;
    if (in.left() >= 64) {
      const Step& step = fast[in.word() & ((1u << kFast) - 1)];
      if (step.length < 0) return -1;
      in.skip(step.length > 0 ? step.length : kFast);
      if (step.length > 0) return step.value;
      node = step.value;
    }
    for (;;) {
      const uint32_t b = in.read(1);
      if (in.end()) return -1;
      const int32_t next = tree[size_t(2 * node) + b];
      if (next < 0) return ~next;
      if (next == 0) return -1;
      node = next;
    }
  }
};

// The largest r with r^dims <= entries (lookup type 1's values per dimension).
int lookup1_values(int entries, int dims) {
  auto pow_le = [&](int64_t r) {  // whether r^dims <= entries
    int64_t p = 1;
    for (int i = 0; i < dims; ++i)
      if ((p *= r) > entries) return false;
    return true;
  };
  int64_t r = int64_t(std::floor(std::pow(double(entries), 1.0 / dims)));
  while (r > 0 && !pow_le(r)) --r;
  while (pow_le(r + 1)) ++r;
  return int(r);
}

Codebook read_codebook(Bits& in) {
  Codebook c;
  if (in.read(24) != 0x564342) throw Damaged{"a codebook without its sync pattern"};
  c.dims = int(in.read(16));
  const int entries = int(in.read(24));
  if (c.dims == 0 || entries == 0) throw Damaged{"a codebook of 0 dimensions or entries"};
  const bool ordered = in.read(1);
  if (!ordered && uint64_t(entries) > in.left()) throw Damaged{"a codebook larger than its header"};
  std::vector<uint8_t> lengths(size_t(entries), 0);  // per entry; 0 = unused
  if (ordered) {  // ordered: runs of entries of lengths 1, 2, 3, ...
    int entry = 0, length = int(in.read(5)) + 1;
    while (entry < entries && !in.end()) {
      const int run = int(in.read(ilog(uint32_t(entries - entry))));
      if (length > 32 || run > entries - entry) throw Damaged{"an ordered codebook's lengths run past its entries"};
      std::fill_n(lengths.begin() + entry, run, uint8_t(length));
      entry += run;
      ++length;
    }
  } else {
    const bool sparse = in.read(1);
    for (uint8_t& l : lengths)
      if (!sparse || in.read(1)) l = uint8_t(in.read(5) + 1);
  }
  // Codes in entry order, each the first free code of its length (the specification's rule):
  // free[l] is the next free code of length l, its bits at the top of the word.
  std::array<uint32_t, 33> free{};
  std::vector<uint32_t> codes(size_t(entries), 0);
  int used = 0;
  for (int e = 0; e < entries; ++e) {
    const int length = lengths[size_t(e)];
    if (length == 0) continue;
    if (used++ == 0) {
      for (int l = 1; l <= length; ++l) free[size_t(l)] = uint32_t(1) << (32 - l);
      codes[size_t(e)] = 0;
      continue;
    }
    int l = length;
    while (l > 0 && free[size_t(l)] == 0) --l;
    if (l == 0) throw Damaged{"a codebook with more codes than its lengths allow"};
    const uint32_t code = free[size_t(l)];
    free[size_t(l)] = 0;
    for (int y = length; y > l; --y) free[size_t(y)] = code + (uint32_t(1) << (32 - y));
    codes[size_t(e)] = code;
  }
  if (used == 1) {
    c.single = int(std::find_if(lengths.begin(), lengths.end(), [](uint8_t l) { return l > 0; }) -
                   lengths.begin());
  } else if (used > 1) {
    for (int l = 1; l <= 32; ++l)
      if (free[size_t(l)] != 0) throw Damaged{"a codebook whose codes leave some bit strings without an entry"};
    c.tree.assign(2, 0);
    for (int e = 0; e < entries; ++e) {
      const int length = lengths[size_t(e)];
      int32_t node = 0;
      for (int i = 0; i < length; ++i) {
        const size_t slot = size_t(2 * node) + ((codes[size_t(e)] >> (31 - i)) & 1);
        // The rule above gives a prefix code; should a code ever be another's prefix, the book
        // is refused rather than a leaf taken for a node.
        if (c.tree[slot] < 0 || (i == length - 1 && c.tree[slot] != 0))
          throw Damaged{"a codebook whose codes are not a prefix code"};
        if (i == length - 1) {
          c.tree[slot] = ~e;
        } else {
          if (c.tree[slot] == 0) {
            c.tree[slot] = int32_t(c.tree.size() / 2);
            c.tree.resize(c.tree.size() + 2, 0);
          }
          node = c.tree[slot];
        }
      }
    }
    c.build_fast();
  }
  const uint32_t lookup = in.read(4);
  if (lookup > 2) throw Damaged{"codebook lookup type " + std::to_string(lookup) + " (0, 1 or 2 expected)"};
  if (lookup != 0) {
    const float minimum = float32_unpack(in.read(32)), delta = float32_unpack(in.read(32));
    const int value_bits = int(in.read(4)) + 1;
    const bool sequence = in.read(1);
    const uint64_t values = lookup == 1 ? uint64_t(lookup1_values(entries, c.dims)) : uint64_t(entries) * c.dims;
    if (values * uint64_t(value_bits) > in.left() || uint64_t(entries) * c.dims > (uint64_t(1) << 24))
      throw Damaged{"a codebook's lookup table larger than its header"};
    std::vector<uint32_t> multiplicands(values);
    for (uint32_t& m : multiplicands) m = in.read(value_bits);
    c.vectors.resize(size_t(entries) * size_t(c.dims));
    for (int e = 0; e < entries; ++e) {
      float last = 0;
      uint64_t divisor = 1;
      for (int d = 0; d < c.dims; ++d) {
        const uint64_t at = lookup == 1 ? (uint64_t(e) / divisor) % values : uint64_t(e) * c.dims + d;
        const float v = float(multiplicands[at]) * delta + minimum + last;
        c.vectors[size_t(e) * size_t(c.dims) + size_t(d)] = v;
        if (sequence) last = v;
        divisor *= values;
      }
    }
  }
  if (in.end()) throw Damaged{"the setup header ends inside a codebook"};
  return c;
}

struct Floor1 {
  std::vector<int> partition_class;
  std::vector<int> class_dims, class_subclasses, class_master;
  std::vector<std::array<int, 8>> subclass_books;  // -1: none
  int multiplier = 1;
  std::vector<int> x;              // the points' positions, in the order they are coded
  std::vector<int> low, high;      // each point's neighbours among the points before it
  std::vector<int> order;          // the points sorted by position
};

Floor1 read_floor1(Bits& in, int books) {
  Floor1 f;
  f.partition_class.resize(in.read(5));
  int max_class = -1;
  for (int& c : f.partition_class) max_class = std::max(max_class, c = int(in.read(4)));
  const size_t classes = size_t(max_class + 1);
  f.class_dims.resize(classes), f.class_subclasses.resize(classes), f.class_master.resize(classes, -1);
  f.subclass_books.resize(classes);
  for (size_t i = 0; i < classes; ++i) {
    f.class_dims[i] = int(in.read(3)) + 1;
    f.class_subclasses[i] = int(in.read(2));
    if (f.class_subclasses[i]) f.class_master[i] = int(in.read(8));
    if (f.class_master[i] >= books) throw Damaged{"a floor names codebook " + std::to_string(f.class_master[i])};
    f.subclass_books[i].fill(-1);
    for (int j = 0; j < (1 << f.class_subclasses[i]); ++j) {
      f.subclass_books[i][size_t(j)] = int(in.read(8)) - 1;
      if (f.subclass_books[i][size_t(j)] >= books)
        throw Damaged{"a floor names codebook " + std::to_string(f.subclass_books[i][size_t(j)])};
    }
  }
  f.multiplier = int(in.read(2)) + 1;
  const int range_bits = int(in.read(4));
  f.x = {0, 1 << range_bits};
  for (int c : f.partition_class)
    for (int j = 0; j < f.class_dims[size_t(c)]; ++j) f.x.push_back(int(in.read(range_bits)));
  if (f.x.size() > 65) throw Damaged{"a floor of more than 65 points"};
  f.order.resize(f.x.size());
  for (size_t i = 0; i < f.order.size(); ++i) f.order[i] = int(i);
  std::sort(f.order.begin(), f.order.end(), [&](int a, int b) { return f.x[size_t(a)] < f.x[size_t(b)]; });
  for (size_t i = 1; i < f.order.size(); ++i)
    if (f.x[size_t(f.order[i])] == f.x[size_t(f.order[i - 1])]) throw Damaged{"a floor with two points at one place"};
  f.low.assign(f.x.size(), 0), f.high.assign(f.x.size(), 1);
  for (size_t i = 2; i < f.x.size(); ++i) {
    int lo = -1, hi = -1;
    for (size_t j = 0; j < i; ++j) {
      if (f.x[j] < f.x[i] && (lo < 0 || f.x[j] > f.x[size_t(lo)])) lo = int(j);
      if (f.x[j] > f.x[i] && (hi < 0 || f.x[j] < f.x[size_t(hi)])) hi = int(j);
    }
    f.low[i] = lo, f.high[i] = hi;  // points 0 and 1 bound every other, so both are found
  }
  return f;
}

struct Residue {
  int type = 0, begin = 0, end = 0, partition_size = 1, classifications = 1, classbook = 0;
  std::vector<std::array<int, 8>> books;  // per classification and pass; -1: none
};

Residue read_residue(Bits& in, int type, const std::vector<Codebook>& books) {
  Residue r;
  r.type = type;
  r.begin = int(in.read(24)), r.end = int(in.read(24));
  r.partition_size = int(in.read(24)) + 1;
  r.classifications = int(in.read(6)) + 1;
  r.classbook = int(in.read(8));
  if (r.classbook >= int(books.size())) throw Damaged{"a residue names codebook " + std::to_string(r.classbook)};
  std::vector<int> cascade(size_t(r.classifications));
  for (int& c : cascade) {
    const int low = int(in.read(3));
    c = (in.read(1) ? int(in.read(5)) << 3 : 0) | low;
  }
  r.books.resize(size_t(r.classifications));
  for (int i = 0; i < r.classifications; ++i)
    for (int pass = 0; pass < 8; ++pass) {
      int& b = r.books[size_t(i)][size_t(pass)];
      b = cascade[size_t(i)] >> pass & 1 ? int(in.read(8)) : -1;
      if (b >= int(books.size())) throw Damaged{"a residue names codebook " + std::to_string(b)};
      if (b >= 0 && books[size_t(b)].vectors.empty()) throw Damaged{"a residue names a codebook without values"};
    }
  return r;
}

struct Mapping {
  std::vector<std::pair<int, int>> coupling;  // magnitude and angle channels
  std::vector<int> mux;                       // each channel's submap
  std::vector<int> submap_floor, submap_residue;
};

struct Mode {
  bool long_block = false;
  int mapping = 0;
};

struct Setup {
  int channels = 0, rate = 0;
  int32_t nominal_bitrate = 0;  // bit/s; 0 or less: not given
  std::array<int, 2> blocksize{};
  std::vector<Codebook> books;
  std::vector<Floor1> floors;
  std::vector<Residue> residues;
  std::vector<Mapping> mappings;
  std::vector<Mode> modes;
};

// A header packet's type byte and "vorbis".
void expect_header(Bits& in, uint32_t type, const char* what) {
  bool ok = in.read(8) == type;
  for (const char* c = "vorbis"; *c; ++c) ok = in.read(8) == uint32_t(uint8_t(*c)) && ok;
  if (!ok) throw Damaged{std::string("not the ") + what + " header where it should be"};
}

void read_identification(const std::vector<uint8_t>& p, Setup& s) {
  Bits in(p.data(), p.size());
  expect_header(in, 1, "identification");
  if (const uint32_t version = in.read(32); version != 0)
    throw Damaged{"Vorbis version " + std::to_string(version) + " (0 expected)"};
  s.channels = int(in.read(8));
  s.rate = int(in.read(32));
  in.read(32);  // maximum bitrate
  s.nominal_bitrate = int32_t(in.read(32));
  in.read(32);  // minimum bitrate
  const int b0 = int(in.read(4)), b1 = int(in.read(4));
  if (!in.read(1) || in.end()) throw Damaged{"an identification header cut short"};
  if (s.channels == 0) throw Damaged{"0 channels"};
  if (s.rate < kMinWavRate || s.rate > kMaxWavRate)
    throw Damaged{"a sample rate of " + std::to_string(s.rate) + " Hz (" + std::to_string(kMinWavRate) + "-" +
                  std::to_string(kMaxWavRate) + " expected)"};
  if (b0 < 6 || b1 > 13 || b0 > b1)
    throw Damaged{"block sizes 2^" + std::to_string(b0) + " and 2^" + std::to_string(b1) +
                  " (64 <= short <= long <= 8192 expected)"};
  s.blocksize = {1 << b0, 1 << b1};
}

void read_setup(const std::vector<uint8_t>& p, Setup& s) {
  Bits in(p.data(), p.size());
  expect_header(in, 5, "setup");
  s.books.resize(in.read(8) + 1);
  for (Codebook& c : s.books) c = read_codebook(in);
  const int transforms = int(in.read(6)) + 1;
  for (int i = 0; i < transforms; ++i)
    if (in.read(16) != 0) throw Damaged{"a time-domain transform other than 0"};
  const int floors = int(in.read(6)) + 1;
  for (int i = 0; i < floors; ++i) {
    const uint32_t type = in.read(16);
    if (type == 0)
      throw Damaged{"floor type 0, which only Vorbis's 2000 beta encoders wrote; duet decodes floor type 1 "
                    "(convert the file with a current encoder, e.g. ffmpeg -i FILE -ac 1 FILE.wav)"};
    if (type != 1) throw Damaged{"floor type " + std::to_string(type) + " (1 expected)"};
    s.floors.push_back(read_floor1(in, int(s.books.size())));
  }
  const int residues = int(in.read(6)) + 1;
  for (int i = 0; i < residues; ++i) {
    const uint32_t type = in.read(16);
    if (type > 2) throw Damaged{"residue type " + std::to_string(type) + " (0, 1 or 2 expected)"};
    s.residues.push_back(read_residue(in, int(type), s.books));
  }
  s.mappings.resize(in.read(6) + 1);
  for (Mapping& m : s.mappings) {
    if (in.read(16) != 0) throw Damaged{"a mapping type other than 0"};
    const int submaps = in.read(1) ? int(in.read(4)) + 1 : 1;
    if (in.read(1)) {
      m.coupling.resize(in.read(8) + 1);
      const int bits = ilog(uint32_t(s.channels - 1));
      for (auto& [magnitude, angle] : m.coupling) {
        magnitude = int(in.read(bits)), angle = int(in.read(bits));
        if (magnitude == angle || magnitude >= s.channels || angle >= s.channels)
          throw Damaged{"a channel coupling of channels " + std::to_string(magnitude) + " and " +
                        std::to_string(angle)};
      }
    }
    if (in.read(2) != 0) throw Damaged{"a mapping's reserved bits set"};
    m.mux.assign(size_t(s.channels), 0);
    if (submaps > 1)
      for (int& x : m.mux)
        if ((x = int(in.read(4))) >= submaps) throw Damaged{"a channel in submap " + std::to_string(x)};
    for (int j = 0; j < submaps; ++j) {
      in.read(8);  // unused time configuration
      m.submap_floor.push_back(int(in.read(8)));
      m.submap_residue.push_back(int(in.read(8)));
      if (m.submap_floor.back() >= floors || m.submap_residue.back() >= residues)
        throw Damaged{"a submap names a floor or residue that does not exist"};
    }
  }
  s.modes.resize(in.read(6) + 1);
  for (Mode& m : s.modes) {
    m.long_block = in.read(1);
    if (in.read(16) != 0 || in.read(16) != 0) throw Damaged{"a mode's window or transform type other than 0"};
    m.mapping = int(in.read(8));
    if (m.mapping >= int(s.mappings.size())) throw Damaged{"a mode names mapping " + std::to_string(m.mapping)};
  }
  if (!in.read(1) || in.end()) throw Damaged{"the setup header cut short (no framing bit)"};
}

// The floor's amplitudes in dB steps of 140/256 (floor1_inverse_dB_table), 0 = -139.5 dB, 255 = 1.
const std::array<float, 256>& inverse_db() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[size_t(i)] = float(std::pow(10.0, (i - 255) * (140.0 / 256.0) / 20.0));
    return t;
  }();
  return table;
}

// Draws the floor's line from (x0, y0) to (x1, y1) into v (x1 itself left to the next line), in
// the specification's integer steps.
void render_line(int x0, int y0, int x1, int y1, std::vector<int>& v) {
  const int dy = y1 - y0, adx = x1 - x0, base = dy / adx, sy = dy < 0 ? base - 1 : base + 1;
  const int ady = std::abs(dy) - std::abs(base) * adx;
  int y = y0, err = 0;
  if (x0 < int(v.size())) v[size_t(x0)] = y;
  for (int x = x0 + 1; x < std::min(x1, int(v.size())); ++x) {
    err += ady;
    if (err >= adx) {
      err -= adx;
      y += sy;
    } else {
      y += base;
    }
    v[size_t(x)] = y;
  }
}

// One channel's floor: false when the packet marks it unused (the channel is silent), else the
// curve of n values.
bool decode_floor1(Bits& in, const Floor1& f, const std::vector<Codebook>& books, std::vector<float>& curve) {
  if (!in.read(1) || in.end()) return false;
  static constexpr int kRanges[] = {256, 128, 86, 64};
  const int range = kRanges[f.multiplier - 1], bits = ilog(uint32_t(range - 1));
  std::vector<int> y(f.x.size(), 0);
  y[0] = int(in.read(bits)), y[1] = int(in.read(bits));
  size_t at = 2;
  for (int c : f.partition_class) {
    const int dims = f.class_dims[size_t(c)], sub_bits = f.class_subclasses[size_t(c)];
    int cval = 0;
    if (sub_bits > 0) cval = books[size_t(f.class_master[size_t(c)])].decode(in);
    if (cval < 0) return false;  // the packet ends: the floor is unused
    for (int j = 0; j < dims; ++j, ++at) {
      const int book = f.subclass_books[size_t(c)][size_t(cval & ((1 << sub_bits) - 1))];
      cval >>= sub_bits;
      if (book >= 0 && (y[at] = books[size_t(book)].decode(in)) < 0) return false;
    }
  }
  if (in.end()) return false;
  // Amplitudes: each point's value predicted from its neighbours and corrected by what was read.
  std::vector<int> final_y(y.size());
  std::vector<bool> drawn(y.size(), false);
  final_y[0] = y[0], final_y[1] = y[1];
  drawn[0] = drawn[1] = true;
  for (size_t i = 2; i < y.size(); ++i) {
    const int lo = f.low[i], hi = f.high[i];
    const int x0 = f.x[size_t(lo)], y0 = final_y[size_t(lo)], x1 = f.x[size_t(hi)], y1 = final_y[size_t(hi)];
    const int dy = y1 - y0, off = std::abs(dy) * (f.x[i] - x0) / (x1 - x0);
    const int predicted = dy < 0 ? y0 - off : y0 + off;
    const int val = y[i], high_room = range - predicted, low_room = predicted;
    const int room = std::min(high_room, low_room) * 2;
    if (val == 0) {
      final_y[i] = predicted;
      continue;
    }
    drawn[size_t(lo)] = drawn[size_t(hi)] = drawn[i] = true;
    if (val >= room)
      final_y[i] = high_room > low_room ? val - low_room + predicted : predicted - val + high_room - 1;
    else
      final_y[i] = val & 1 ? predicted - (val + 1) / 2 : predicted + val / 2;
  }
  // The curve: lines between the drawn points in order of position, in steps of the table.
  const int n = int(curve.size());
  std::vector<int> steps(size_t(n), 0);
  int lx = 0, ly = final_y[size_t(f.order[0])] * f.multiplier, hx = 0, hy = ly;
  for (size_t k = 1; k < f.order.size(); ++k) {
    const size_t i = size_t(f.order[k]);
    if (!drawn[i]) continue;
    hx = f.x[i], hy = final_y[i] * f.multiplier;
    render_line(lx, ly, hx, hy, steps);
    lx = hx, ly = hy;
  }
  if (hx < n) render_line(hx, hy, n, hy, steps);
  const std::array<float, 256>& db = inverse_db();
  for (int i = 0; i < n; ++i) curve[size_t(i)] = db[size_t(std::clamp(steps[size_t(i)], 0, 255))];
  return true;
}

// Adds one partition's values from `book` to v[at, at + size): format 0 interleaves a vector's
// values a step apart, formats 1 and 2 write them in order. False at the end of the packet.
bool decode_partition(Bits& in, const Codebook& book, int format, float* v, int size) {
  const int dims = book.dims;
  if (format == 0) {
    const int step = size / dims;
    for (int i = 0; i < step; ++i) {
      const int e = book.decode(in);
      if (e < 0) return false;
      const float* values = &book.vectors[size_t(e) * size_t(dims)];
      for (int j = 0; j < dims; ++j) v[i + j * step] += values[j];
    }
    return true;
  }
  for (int i = 0; i < size;) {
    const int e = book.decode(in);
    if (e < 0) return false;
    const float* values = &book.vectors[size_t(e) * size_t(dims)];
    for (int j = 0; j < dims && i < size; ++j) v[i++] += values[j];
  }
  return true;
}

// Residue formats 0 and 1 on the given vectors (each n long); vectors whose flag is set in
// `skip` are not coded.
void decode_residue_vectors(Bits& in, const Residue& r, const std::vector<Codebook>& books, int format,
                            std::vector<float*>& v, const std::vector<bool>& skip, int n) {
  const int begin = std::min(r.begin, n), end = std::min(r.end, n);
  if (end <= begin) return;
  const int partitions = (end - begin) / r.partition_size;
  const Codebook& classbook = books[size_t(r.classbook)];
  const int per_word = classbook.dims;
  std::vector<std::vector<int>> classes(v.size(), std::vector<int>(size_t(partitions + per_word), 0));
  for (int pass = 0; pass < 8; ++pass) {
    for (int p = 0; p < partitions;) {
      if (pass == 0)
        for (size_t j = 0; j < v.size(); ++j) {
          if (skip[j]) continue;
          int word = classbook.decode(in);
          if (word < 0) return;
          for (int i = per_word - 1; i >= 0; --i) {
            classes[j][size_t(p + i)] = word % r.classifications;
            word /= r.classifications;
          }
        }
      for (int i = 0; i < per_word && p < partitions; ++i, ++p)
        for (size_t j = 0; j < v.size(); ++j) {
          if (skip[j]) continue;
          const int book = r.books[size_t(classes[j][size_t(p)])][size_t(pass)];
          if (book >= 0 && !decode_partition(in, books[size_t(book)], format, v[j] + begin + p * r.partition_size,
                                             r.partition_size))
            return;
        }
    }
  }
}

void decode_residue(Bits& in, const Residue& r, const std::vector<Codebook>& books, std::vector<float*>& v,
                    const std::vector<bool>& skip, int n) {
  if (r.type < 2) return decode_residue_vectors(in, r, books, r.type, v, skip, n);
  // Format 2: the channels interleaved into one vector, coded as format 1.
  if (std::all_of(skip.begin(), skip.end(), [](bool s) { return s; })) return;
  const int ch = int(v.size());
  std::vector<float> one(size_t(n) * size_t(ch), 0.0f);
  std::vector<float*> single{one.data()};
  decode_residue_vectors(in, r, books, 1, single, {false}, n * ch);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < ch; ++j) v[size_t(j)][i] = one[size_t(i) * size_t(ch) + size_t(j)];
}

// Vorbis's window slope: sin(pi/2 sin^2(pi/2 (i + 1/2) / size)) rising over `size` samples.
double slope(int i, int size) {
  const double s = std::sin((i + 0.5) / size * std::numbers::pi / 2);
  return std::sin(std::numbers::pi / 2 * s * s);
}

struct Decoder {
  const Setup& s;
  std::vector<std::vector<float>> out;  // per channel, from the centre of the first block
  int64_t centre = 0;                   // the current block's centre, where the output ends
  int previous_n = 0;                   // 0 before the first block
  std::vector<std::vector<float>> tail;  // the previous block's second half, windowed, per channel
  std::array<std::vector<double>, 8> windows;  // by block size and the neighbours' (made on first use)

  explicit Decoder(const Setup& setup) : s(setup), out(size_t(setup.channels)), tail(size_t(setup.channels)) {}

  // One audio packet: its block's second half kept, its first half overlapped with the previous
  // block's and the samples between their centres appended.
  void packet(const std::vector<uint8_t>& p) {
    Bits in(p.data(), p.size());
    if (p.empty() || in.read(1) != 0) return;  // an empty packet, or not audio: ignored, as the specification says
    const int mode_bits = ilog(uint32_t(s.modes.size() - 1));
    const uint32_t mode_number = in.read(mode_bits);
    if (in.end()) return;
    if (mode_number >= s.modes.size()) throw Damaged{"mode " + std::to_string(mode_number) + " does not exist"};
    const Mode& mode = s.modes[mode_number];
    const Mapping& map = s.mappings[size_t(mode.mapping)];
    const int n = s.blocksize[mode.long_block], half = n / 2;
    bool previous_long = true, next_long = true;
    if (mode.long_block) previous_long = in.read(1), next_long = in.read(1);
    const int ch = s.channels;
    const size_t channels = size_t(ch), halves = size_t(half);
    std::vector<std::vector<float>> floor(channels, std::vector<float>(halves));
    std::vector<std::vector<float>> residue(channels, std::vector<float>(halves, 0.0f));
    std::vector<bool> used(channels);
    for (int c = 0; c < ch; ++c)
      used[size_t(c)] =
          decode_floor1(in, s.floors[size_t(map.submap_floor[size_t(map.mux[size_t(c)])])], s.books, floor[size_t(c)]);
    std::vector<bool> coded = used;  // a coupled pair is coded when either channel is used
    for (const auto& [m, a] : map.coupling)
      if (coded[size_t(m)] || coded[size_t(a)]) coded[size_t(m)] = coded[size_t(a)] = true;
    for (size_t sub = 0; sub < map.submap_residue.size(); ++sub) {
      std::vector<float*> v;
      std::vector<bool> skip;
      for (int c = 0; c < ch; ++c)
        if (map.mux[size_t(c)] == int(sub)) v.push_back(residue[size_t(c)].data()), skip.push_back(!coded[size_t(c)]);
      if (!v.empty() && !in.end())
        decode_residue(in, s.residues[size_t(map.submap_residue[sub])], s.books, v, skip, half);
    }
    for (size_t k = map.coupling.size(); k-- > 0;) {
      float* mag = residue[size_t(map.coupling[k].first)].data();
      float* ang = residue[size_t(map.coupling[k].second)].data();
      for (int i = 0; i < half; ++i) {
        const float m = mag[i], a = ang[i];
        if (a > 0) {
          ang[i] = m > 0 ? m - a : m + a;
        } else {
          mag[i] = m > 0 ? m + a : m - a;
          ang[i] = m;
        }
      }
    }
    // The window: slopes as long as the shorter of this block and its neighbour, centred on the
    // quarter points; flat between them, zero outside.
    const int short_n = s.blocksize[0];
    const int left_n = mode.long_block && !previous_long ? short_n / 2 : half;
    const int right_n = mode.long_block && !next_long ? short_n / 2 : half;
    const int left_start = n / 4 - left_n / 2, right_start = n * 3 / 4 - right_n / 2;
    std::vector<double>& window = windows[size_t(4 * mode.long_block + 2 * previous_long + next_long)];
    if (window.empty()) {
      window.assign(size_t(n), 0.0);
      for (int i = 0; i < left_n; ++i) window[size_t(left_start + i)] = slope(i, left_n);
      for (int i = left_start + left_n; i < right_start; ++i) window[size_t(i)] = 1;
      for (int i = 0; i < right_n; ++i) window[size_t(right_start + i)] = slope(right_n - 1 - i, right_n);
    }
    // The samples this block gives: from the previous centre to this one (none for the first).
    const int64_t step = previous_n ? previous_n / 4 + n / 4 : 0;
    std::vector<double> x(halves), y(2 * halves);
    for (int c = 0; c < ch; ++c) {
      for (size_t i = 0; i < halves; ++i)
        x[i] = used[size_t(c)] ? double(residue[size_t(c)][i]) * floor[size_t(c)][i] : 0.0;
      imdct_frame(x.data(), half, y.data());
      std::vector<float>& o = out[size_t(c)];
      // The previous block's second half ends at its centre + previous_n / 2, this block's first
      // half starts at its centre - n / 2: they overlap over step samples before this centre.
      const size_t from = o.size();
      o.resize(from + size_t(step), 0.0f);
      const std::vector<float>& t = tail[size_t(c)];
      for (int64_t i = 0; i < step; ++i) {
        // Sample centre_prev + i: the previous tail's sample i; this block's sample n/2 - step + i.
        const int64_t mine = half - step + i;
        const double v = (size_t(i) < t.size() ? t[size_t(i)] : 0.0) +
                         (mine >= 0 ? y[size_t(mine)] * half * window[size_t(mine)] : 0.0);
        o[from + size_t(i)] = float(v);
      }
      std::vector<float>& nt = tail[size_t(c)];
      nt.assign(size_t(half), 0.0f);
      for (int i = 0; i < half; ++i) nt[size_t(i)] = float(y[size_t(half + i)] * half * window[size_t(half + i)]);
    }
    centre += step;
    previous_n = n;
  }
};

// One page of an Ogg file, at `at`: its header fields and where its segments lie.
struct Page {
  uint8_t flags = 0;
  int64_t granule = -1;
  uint32_t serial = 0, sequence = 0;
  std::vector<uint8_t> lacing;
  size_t body = 0, size = 0;  // the body's offset and the whole page's size
};

uint32_t ogg_crc(const uint8_t* p, size_t n, size_t crc_at) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t r = i << 24;
      for (int k = 0; k < 8; ++k) r = r & 0x80000000u ? (r << 1) ^ 0x04C11DB7u : r << 1;
      t[i] = r;
    }
    return t;
  }();
  uint32_t crc = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t byte = i >= crc_at && i < crc_at + 4 ? 0 : p[i];
    crc = (crc << 8) ^ table[((crc >> 24) ^ byte) & 0xFF];
  }
  return crc;
}

uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// The page at `at`: false when the bytes end inside it; a page whose CRC does not match is Damaged.
bool read_page(const std::vector<uint8_t>& b, size_t at, Page& page) {
  if (b.size() < at + 27 || std::memcmp(b.data() + at, "OggS", 4) != 0) {
    if (b.size() >= at + 4 && std::memcmp(b.data() + at, "OggS", 4) != 0) throw Damaged{"no page header (OggS)"};
    return false;
  }
  const uint8_t* h = b.data() + at;
  if (h[4] != 0) throw Damaged{"Ogg version " + std::to_string(h[4]) + " (0 expected)"};
  page.flags = h[5];
  uint64_t g = 0;
  for (int i = 7; i >= 0; --i) g = g << 8 | h[6 + i];
  page.granule = int64_t(g);
  page.serial = le32(h + 14), page.sequence = le32(h + 18);
  const size_t segments = h[26];
  if (b.size() < at + 27 + segments) return false;
  page.lacing.assign(h + 27, h + 27 + segments);
  size_t body = 0;
  for (uint8_t l : page.lacing) body += l;
  page.body = at + 27 + segments;
  page.size = 27 + segments + body;
  if (b.size() < at + page.size) return false;
  if (ogg_crc(h, page.size, 22) != le32(h + 22)) throw Damaged{"its CRC does not match its bytes (damaged)"};
  return true;
}

const char* codec_of_packet(const uint8_t* p, size_t n) {
  auto starts = [&](const char* magic, size_t len) { return n >= len && std::memcmp(p, magic, len) == 0; };
  if (starts("\x01vorbis", 7)) return "Vorbis";
  if (starts("OpusHead", 8)) return "Opus";
  if (starts("\x7F" "FLAC", 5) || starts("fLaC", 4)) return "FLAC";
  if (starts("Speex   ", 8)) return "Speex";
  if (starts("\x80theora", 7)) return "Theora";
  return "";
}

// An Ogg file's first Vorbis stream: its packets, each with the granule position of the page it
// ends on when it is that page's last packet (-1 otherwise). Pages of other streams are passed
// over; a page that breaks the container is Damaged, named by its number and byte.
struct OggPacket {
  std::vector<uint8_t> data;
  int64_t granule = -1;
  bool last_page = false;  // it ends on the stream's last page
};

struct OggStream {
  std::vector<OggPacket> packets;
  bool found = false;           // a Vorbis stream was found
  bool any_first_page = false;  // some stream's first page was read
  std::string first_codec;      // the codec of the file's first stream (codec_of_packet)
  std::string note;             // the file cut short, or other streams chained after
};

OggStream first_vorbis_stream(const std::vector<uint8_t>& b) {
  OggStream o;
  std::vector<OggPacket>& packets = o.packets;
  uint32_t serial = 0, expected_sequence = 0;
  std::vector<uint8_t> partial;  // a packet continued on the next page
  bool have_partial = false;
  int page_number = 0;
  size_t at = 0;
  try {
    while (at < b.size()) {
      Page page;
      ++page_number;
      if (!read_page(b, at, page)) {
        o.note = "the file ends inside Ogg page " + std::to_string(page_number) + " (byte " + std::to_string(at) +
                 "; cut short?): the packets before it read";
        break;
      }
      const uint8_t* body = b.data() + page.body;
      if (!o.found && (page.flags & 0x02)) {  // a stream's first page: its first packet names the codec
        const std::string codec = codec_of_packet(body, page.size - (page.body - at));
        if (!o.any_first_page) o.first_codec = codec;
        o.any_first_page = true;
        if (codec == "Vorbis") o.found = true, serial = page.serial, expected_sequence = page.sequence;
      }
      if (!o.found && !(page.flags & 0x02)) break;  // past the first pages of every stream: none is Vorbis
      if (!o.found || page.serial != serial) {
        at += page.size;
        continue;
      }
      if (page.sequence != expected_sequence)
        throw Damaged{"its sequence number is " + std::to_string(page.sequence) + " where " +
                      std::to_string(expected_sequence) + " was expected (pages missing)"};
      ++expected_sequence;
      // A packet left unfinished by the previous page goes on only on a page that says it
      // continues one; a continuation with nothing before it is dropped.
      const bool continues = page.flags & 0x01;
      bool dropping = continues && !have_partial;
      if (!continues) partial.clear();
      size_t offset = page.body;
      int last_complete = -1;
      for (size_t i = 0; i < page.lacing.size(); ++i) {
        if (!dropping) partial.insert(partial.end(), b.data() + offset, b.data() + offset + page.lacing[i]);
        offset += page.lacing[i];
        if (page.lacing[i] < 255) {
          if (!dropping) {
            packets.push_back({std::move(partial), -1, false});
            last_complete = int(packets.size()) - 1;
          }
          partial.clear();
          dropping = false;
        }
      }
      have_partial = !page.lacing.empty() && page.lacing.back() == 255 && !dropping;
      if (last_complete >= 0) packets[size_t(last_complete)].granule = page.granule;
      at += page.size;
      if (page.flags & 0x04) {  // the stream's last page; what follows is another stream's, or not Ogg
        if (last_complete >= 0) packets[size_t(last_complete)].last_page = true;
        if (b.size() >= at + 27 && std::memcmp(b.data() + at, "OggS", 4) == 0 && (b[at + 5] & 0x02))
          o.note = "another stream is chained after the first: only the first read";
        break;
      }
    }
  } catch (const Damaged& d) {
    throw Damaged{"Ogg page " + std::to_string(page_number) + " (byte " + std::to_string(at) + "): " + d.what};
  }
  return o;
}

}  // namespace

bool is_ogg(const std::vector<uint8_t>& b) { return b.size() >= 4 && std::memcmp(b.data(), "OggS", 4) == 0; }

std::string ogg_codec(const std::vector<uint8_t>& b) {
  if (b.size() < 27 || !is_ogg(b)) return "";
  const size_t segments = b[26], body = 27 + segments;
  if (b.size() <= body) return "";
  return codec_of_packet(b.data() + body, b.size() - body);
}

Audio decode_vorbis(const std::vector<uint8_t>& b, const std::string& name, WavInfo* info) {
  DUET_CHECK(is_ogg(b), name, ": not an Ogg file (no OggS page at its start)");
  OggStream ogg;
  try {
    ogg = first_vorbis_stream(b);
  } catch (const Damaged& d) {
    throw Error(name + ": " + d.what);
  }
  const std::vector<OggPacket>& packets = ogg.packets;
  if (!ogg.found) {
    DUET_CHECK(ogg.any_first_page, name, ": an Ogg file without a stream's first page");
    DUET_CHECK(!ogg.first_codec.empty(), name,
               ": an Ogg file of a codec duet does not know (not Vorbis, Opus, FLAC or Speex); duet reads ",
               kAudioFormatsRead, " recordings", kConvertAdvice);
    fail(name, ": an Ogg ", ogg.first_codec, " ", ogg.first_codec == "Theora" ? "video" : "recording", "; duet reads ",
         kAudioFormatsRead, " recordings", kConvertAdvice);
  }
  DUET_CHECK(packets.size() >= 3, name, ": an Ogg Vorbis file without its three headers (", packets.size(),
             " packets; cut short?)");
  Setup setup;
  size_t index = 0;
  try {
    read_identification(packets[0].data, setup);
    index = 1;
    Bits comment(packets[1].data.data(), packets[1].data.size());
    expect_header(comment, 3, "comment");
    index = 2;
    read_setup(packets[2].data, setup);
  } catch (const Damaged& d) {
    static const char* kHeaders[] = {"identification", "comment", "setup"};
    throw Error(name + ": Vorbis " + kHeaders[index] + " header: " + d.what);
  }
  Decoder decoder(setup);
  // Granule positions: the first audio page's tells where the stream starts (one cut from a
  // longer stream starts part-way), the last page's where the encoder's input ended.
  int64_t offset = 0, end = -1;
  bool offset_known = false;
  for (size_t i = 3; i < packets.size(); ++i) {
    try {
      decoder.packet(packets[i].data);
    } catch (const Damaged& d) {
      throw Error(name + ": Vorbis audio packet " + std::to_string(i - 2) + ": " + d.what);
    }
    // -1: no packet ends on the page; past 2^62 (760,000 years at 192 kHz) a damaged field, also
    // ignored (it would overflow the arithmetic below).
    if (packets[i].granule < 0 || packets[i].granule >= (int64_t(1) << 62)) continue;
    if (!offset_known && !packets[i].last_page) offset = packets[i].granule - decoder.centre;
    offset_known = true;
    if (packets[i].last_page) end = packets[i].granule - offset;
  }
  const int64_t total = decoder.centre;
  const int64_t begin = std::clamp<int64_t>(-offset, 0, total);
  const int64_t stop = end >= 0 ? std::clamp<int64_t>(end, begin, total) : total;
  std::vector<std::vector<float>> channels(size_t(setup.channels));
  for (int c = 0; c < setup.channels; ++c) channels[size_t(c)] = std::move(decoder.out[size_t(c)]);
  Audio a = mono_from_channels(channels, setup.rate, size_t(begin), size_t(stop - begin));
  for (float v : a.samples) DUET_CHECK(std::isfinite(v), name, ": Vorbis decoding gave a non-finite sample (damaged?)");
  std::string encoding = "Vorbis (Ogg)";
  if (setup.nominal_bitrate > 0)
    encoding += ", " + std::to_string((setup.nominal_bitrate + 500) / 1000) + " kbit/s nominal";
  if (info) *info = {setup.rate, setup.channels, 0, encoding, stop - begin, ogg.note};
  return a;
}

}  // namespace duet::dsp
