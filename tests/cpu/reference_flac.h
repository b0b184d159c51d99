// The reference FLAC encoder (`flac`, which tools/setup.sh installs) for the tests that read
// what it writes: whether it is there, and raw PCM encoded by it.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace duet_test {

inline bool reference_flac_installed() { return std::system("flac --version >/dev/null 2>&1") == 0; }

// Encodes the raw PCM file `raw` (signed little-endian, bits / 8 bytes a sample, channels
// interleaved) into `out` with flac's `options`; the command, or "" when flac succeeded.
inline std::string encode_raw_flac(const std::string& raw, const std::string& out, int channels, int bits, int rate,
                                   const std::string& options) {
  const std::string cmd = "flac -s -f " + options + " --force-raw-format --endian=little --sign=signed --channels=" +
                          std::to_string(channels) + " --bps=" + std::to_string(bits) +
                          " --sample-rate=" + std::to_string(rate) + " -o " + out + " " + raw + " 2>/dev/null";
  return std::system(cmd.c_str()) == 0 ? "" : cmd;
}

}  // namespace duet_test

// In a test body: without the encoder, skip (a failure under CI, where setup.sh installs it).
#define DUET_REQUIRE_REFERENCE_FLAC()                                                                  \
  if (!duet_test::reference_flac_installed()) {                                                        \
    if (std::getenv("CI")) FAIL() << "flac is not installed (tools/setup.sh installs it)";             \
    GTEST_SKIP() << "flac (the reference encoder) is not installed; tools/setup.sh installs it";       \
  }
