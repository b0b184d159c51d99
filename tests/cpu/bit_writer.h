// Bits written most significant first, as FLAC, MP3 and AAC streams hold them: what the decoder
// tests build their streams with; and whole big-endian fields, as AIFF, CAF and MNIST's files hold them.
#pragma once
#include <cstdint>
#include <vector>

namespace duet_test {

struct BitWriter {
  std::vector<uint8_t> bytes;
  int used = 8;  // bits used in the last byte
  void put(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) {
      if (used == 8) {
        bytes.push_back(0);
        used = 0;
      }
      if ((v >> i) & 1) bytes.back() |= uint8_t(0x80 >> used);
      ++used;
    }
  }
  void put_signed(int64_t v, int n) { put(uint64_t(v) & (n == 64 ? ~0ull : (1ull << n) - 1), n); }
  void unary(uint64_t zeros) {
    for (uint64_t i = 0; i < zeros; ++i) put(0, 1);
    put(1, 1);
  }
  void align() { used = 8; }
};

// v as a big-endian field of `bytes` bytes appended to b.
inline void put_be(std::vector<uint8_t>& b, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) b.push_back(uint8_t(v >> (8 * i)));
}

}  // namespace duet_test
