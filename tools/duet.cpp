// duet: the one binary. Subcommands are dispatched from here; each lives in its own file.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/error.h"
#include "engine/ops/gemm.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    duet::ops::cpu_gemm_default();  // a wrong DUET_CPU_GEMM is reported here, not inside a parallel loop
    const int rc = duet::cli::run(args);
    duet::cuda::release_all();  // no device tensor is alive here; leaves nothing for a leak checker
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duet: error: %s\n", duet::printable(e.what()).c_str());
    return 1;
  }
}
