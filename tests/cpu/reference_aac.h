// ffmpeg (which tools/setup.sh installs) as the reference AAC encoder and decoder for the tests
// that read what it writes and compare with what it decodes.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace duet_test {

inline bool reference_ffmpeg_installed() { return std::system("ffmpeg -hide_banner -version >/dev/null 2>&1") == 0; }

// Runs ffmpeg with `args` (quiet, overwriting); the command, or "" when ffmpeg succeeded.
inline std::string ffmpeg(const std::string& args) {
  const std::string cmd = "ffmpeg -hide_banner -loglevel error -nostdin -y " + args + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 ? "" : cmd;
}

}  // namespace duet_test

// In a test body: without ffmpeg, skip (a failure under CI, where setup.sh installs it).
#define DUET_REQUIRE_REFERENCE_FFMPEG()                                                                \
  if (!duet_test::reference_ffmpeg_installed()) {                                                      \
    if (std::getenv("CI")) FAIL() << "ffmpeg is not installed (tools/setup.sh installs it)";           \
    GTEST_SKIP() << "ffmpeg (the reference AAC encoder and decoder) is not installed; tools/setup.sh " \
                    "installs it";                                                                     \
  }
