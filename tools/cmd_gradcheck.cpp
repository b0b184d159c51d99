// duet gradcheck: the finite-difference gradient checks of every op, as a table.
#include <chrono>
#include <cstdio>

#include "engine/error.h"
#include "engine/gradcheck.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace duet::cli {

int cmd_gradcheck(const Argv& argv) {
  Args args(argv, {"only"}, {"help"}, "gradcheck");
  if (args.flag("help")) {
    std::printf(
        "usage: duet gradcheck [--only NAME]\n"
        "Runs each op's backward against central finite differences in float64 on the CPU and\n"
        "prints the largest relative error (pass: <= %g).\n",
        kGradCheckTolerance);
    return 0;
  }
  const std::string only = args.str("only", "");
  if (!only.empty()) run_gradcheck(only);  // fails early for an unknown name
  int failed = 0;
  std::printf("%-22s %10s %14s  %s\n", "check", "elements", "max rel error", "result");
  for (const auto& c : gradcheck_suite()) {
    if (!only.empty() && c.name != only) continue;
    GradCheckResult r = c.run();
    const bool ok = !r.missing_gradient && r.checked > 0 && r.max_rel_error <= kGradCheckTolerance;
    failed += !ok;
    std::printf("%-22s %10lld %14.3e  %s\n", c.name.c_str(), (long long)r.checked, r.max_rel_error, ok ? "ok" : "FAIL");
  }
  if (failed) fail(failed, " gradient check(s) failed");
  return 0;
}

}  // namespace duet::cli
