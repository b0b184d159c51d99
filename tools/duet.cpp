// duet: the one binary. Subcommands are dispatched from here; each lives in its own file.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tools/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return duet::cli::run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duet: error: %s\n", e.what());
    return 1;
  }
}
