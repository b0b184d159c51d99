// The reference FLAC encoder (`flac`, which tools/setup.sh installs) for the tests that read
// what it writes: whether it is there, and raw PCM encoded by it.
#pragma once
#include <string>

#include "reference_tools.h"

namespace duet_test {

inline bool reference_flac_installed() { return command_succeeds("flac --version"); }

// Encodes the raw PCM file `raw` (signed little-endian, bits / 8 bytes a sample, channels
// interleaved) into `out` with flac's `options`; the command, or "" when flac succeeded.
inline std::string encode_raw_flac(const std::string& raw, const std::string& out, int channels, int bits, int rate,
                                   const std::string& options) {
  const std::string cmd = "flac -s -f " + options +
                          " --force-raw-format --endian=little --sign=signed --channels=" + std::to_string(channels) +
                          " --bps=" + std::to_string(bits) + " --sample-rate=" + std::to_string(rate) + " -o " + out +
                          " " + raw;
  return run_reference(cmd);
}

}  // namespace duet_test

// In a test body: without the encoder, skip (a failure under CI, where setup.sh installs it).
#define DUET_REQUIRE_REFERENCE_FLAC()                                               \
  DUET_REQUIRE_REFERENCE_TOOL(duet_test::reference_flac_installed(),                \
                              "flac is not installed (tools/setup.sh installs it)", \
                              "flac (the reference encoder) is not installed; tools/setup.sh installs it")
