// vorbis-tools (which tools/setup.sh installs) as the reference Vorbis encoder (oggenc) and
// decoder (oggdec, libvorbis's own decoder, to 16-bit PCM) for the tests that read what the
// encoders write and compare with what libvorbis decodes.
#pragma once
#include <string>

#include "reference_tools.h"

namespace duet_test {

inline bool reference_vorbis_tools_installed() {
  return command_succeeds("oggenc --version") && command_succeeds("oggdec --version");
}

// Runs oggenc or oggdec with `args` (quiet); the command, or "" when it succeeded.
inline std::string oggenc(const std::string& args) { return run_reference("oggenc --quiet " + args); }
inline std::string oggdec(const std::string& args) { return run_reference("oggdec --quiet " + args); }

}  // namespace duet_test

// In a test body: without vorbis-tools, skip (a failure under CI, where setup.sh installs it).
#define DUET_REQUIRE_REFERENCE_VORBIS_TOOLS()                                                          \
  DUET_REQUIRE_REFERENCE_TOOL(duet_test::reference_vorbis_tools_installed(),                           \
                              "oggenc/oggdec are not installed (tools/setup.sh installs vorbis-tools)", \
                              "oggenc and oggdec (the reference Vorbis encoder and decoder) are not "  \
                              "installed; tools/setup.sh installs vorbis-tools")
