// What the MP3 and AAC decoders (dsp/mp3.cpp, dsp/aac.cpp) read their bitstreams with: bits
// most significant first, and a prefix code (a Huffman table) as a binary tree.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace duet::dsp {

// Thrown when a read would pass the end of the bytes; each decoder turns it into an error
// naming the file and frame.
struct BitsRanOut {};

class BitReader {
 public:
  BitReader(const uint8_t* p, size_t n) : p_(p), n_bits_(uint64_t(n) * 8) {}
  // n in 0..32 bits, unsigned.
  uint32_t bits(int n) {
    if (n == 0) return 0;
    if (pos_ + uint64_t(n) > n_bits_) throw BitsRanOut{};
    uint32_t v = 0;
    for (int i = 0; i < n; ++i, ++pos_) v = (v << 1) | ((p_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1);
    return v;
  }
  uint32_t bit() { return bits(1); }
  void skip(uint64_t n) {
    if (pos_ + n > n_bits_) throw BitsRanOut{};
    pos_ += n;
  }
  void align() { pos_ = (pos_ + 7) & ~uint64_t(7); }
  void seek(uint64_t pos) { pos_ = pos; }
  uint64_t pos() const { return pos_; }
  uint64_t size() const { return n_bits_; }

 private:
  const uint8_t* p_;
  uint64_t n_bits_, pos_ = 0;
};

// A prefix code as a binary tree: node n's children are child[2n] and child[2n + 1]; a child
// >= 0 is another node, ~value a leaf. Built from each value's code and length (a complete code:
// every path ends in a leaf, so decoding always ends).
struct PrefixCode {
  std::vector<int32_t> child;

  template <typename Code>
  PrefixCode(const Code* codes, const uint8_t* lengths, int count) : child(2, 0) {
    for (int value = 0; value < count; ++value) {
      int32_t node = 0;
      for (int i = lengths[value] - 1; i >= 0; --i) {
        const size_t slot = size_t(2 * node) + ((codes[value] >> i) & 1);
        if (i == 0) {
          child[slot] = ~value;
        } else {
          if (child[slot] == 0) {  // 0 is the root, never a child: a free slot
            child[slot] = int32_t(child.size() / 2);
            child.resize(child.size() + 2, 0);
          }
          node = child[slot];
        }
      }
    }
  }
  PrefixCode() = default;

  int decode(BitReader& in) const {
    int32_t node = 0;
    for (;;) {
      const int32_t next = child[size_t(2 * node) + in.bit()];
      if (next < 0) return ~next;
      node = next;
    }
  }
};

}  // namespace duet::dsp
