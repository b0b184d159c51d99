// What the reference-codec headers (reference_flac.h, reference_mp3.h, reference_aac.h) share:
// running a reference tool, and the rule for a test that needs one.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace duet_test {

// Whether `command` runs and succeeds (its output discarded).
inline bool command_succeeds(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs `command`; "" when it succeeded, else the command (for the test's failure message).
inline std::string run_reference(const std::string& command) { return command_succeeds(command) ? "" : command; }

}  // namespace duet_test

// In a test body: when the reference tool is not installed, skip with `why_skipped`; under CI,
// where tools/setup.sh installs every reference tool, fail with `why_failed` instead.
#define DUET_REQUIRE_REFERENCE_TOOL(installed, why_failed, why_skipped) \
  if (!(installed)) {                                                   \
    if (std::getenv("CI")) FAIL() << why_failed;                        \
    GTEST_SKIP() << why_skipped;                                        \
  }
