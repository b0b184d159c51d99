// The reference MP3 encoder and decoder (`lame` and `mpg123`, which tools/setup.sh installs) for
// the tests that read what the encoder writes and compare with what the decoder makes of it.
#pragma once
#include <string>

#include "reference_tools.h"

namespace duet_test {

inline bool reference_mp3_installed() {
  return command_succeeds("lame --version") && command_succeeds("mpg123 --version");
}

// Encodes the WAV file `wav` into `out` with lame's `options`; the command, or "" when lame succeeded.
inline std::string encode_mp3(const std::string& wav, const std::string& out, const std::string& options) {
  return run_reference("lame --quiet " + options + " " + wav + " " + out);
}

// Decodes `mp3` with mpg123 into a 32-bit float WAV `out` (gapless, as mpg123 decodes by
// default); the command, or "" when mpg123 succeeded.
inline std::string decode_reference_mp3(const std::string& mp3, const std::string& out) {
  return run_reference("mpg123 -q -e f32 -w " + out + " " + mp3);
}

}  // namespace duet_test

// In a test body: without the encoder and decoder, skip (a failure under CI, where setup.sh
// installs them).
#define DUET_REQUIRE_REFERENCE_MP3()                                                                    \
  DUET_REQUIRE_REFERENCE_TOOL(duet_test::reference_mp3_installed(),                                     \
                              "lame or mpg123 is not installed (tools/setup.sh installs them)",         \
                              "lame and mpg123 (the reference encoder and decoder) are not installed; " \
                              "tools/setup.sh installs them")
