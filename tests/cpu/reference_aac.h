// ffmpeg (which tools/setup.sh installs) as the reference AAC encoder and decoder for the tests
// that read what it writes and compare with what it decodes.
#pragma once
#include <string>

#include "reference_tools.h"

namespace duet_test {

inline bool reference_ffmpeg_installed() { return command_succeeds("ffmpeg -hide_banner -version"); }

// Runs ffmpeg with `args` (quiet, overwriting); the command, or "" when ffmpeg succeeded.
inline std::string ffmpeg(const std::string& args) {
  return run_reference("ffmpeg -hide_banner -loglevel error -nostdin -y " + args);
}

}  // namespace duet_test

// In a test body: without ffmpeg, skip (a failure under CI, where setup.sh installs it).
#define DUET_REQUIRE_REFERENCE_FFMPEG()                                                           \
  DUET_REQUIRE_REFERENCE_TOOL(duet_test::reference_ffmpeg_installed(),                            \
                              "ffmpeg is not installed (tools/setup.sh installs it)",             \
                              "ffmpeg (the reference AAC encoder and decoder) is not installed; " \
                              "tools/setup.sh installs it")
