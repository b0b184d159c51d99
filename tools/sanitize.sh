#!/usr/bin/env bash
# duet's CPU code under AddressSanitizer and UndefinedBehaviorSanitizer: a CPU-only build into
# BUILD_DIR (default build-sanitize), then the unit tests (GTEST_FILTER narrows them) and,
# unless CLI=0, the duet binary's CLI checks (tests/cli/run_cli_tests.sh) with that build.
# TRAINING=1 adds the stop-and-resume checks and the CLI trainings on the real data
# (run_resume_tests.sh, run_training_tests.sh image, audio and fusion; about 15 minutes more).
# A sanitizer report (a read past a buffer, a use after free, a leak at exit, undefined
# behaviour such as an index out of bounds or a signed overflow) stops the program with exit
# code 86, which fails the test that ran it. tools/ubsan.supp names the one report it leaves
# in stb_image (a memcpy of 0 bytes from a null pointer). Extra arguments go to CMake.
#   bash tools/sanitize.sh                          # everything (11 min on 2 cores)
#   GTEST_FILTER='DamagedFiles.*' CLI=0 bash tools/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-sanitize}
flags="-fsanitize=address,undefined -fno-omit-frame-pointer"
BUILD_DIR="$build" bash tools/build.sh -DDUET_CUDA=OFF -DDUET_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" "$@"
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=86:print_stacktrace=1:suppressions=$PWD/tools/ubsan.supp"
rc=0
"$build/tests/duet_tests" --gtest_filter="${GTEST_FILTER:-*}" || rc=$?
echo "sanitize: unit tests rc=$rc"
if [ "${CLI:-1}" != 0 ]; then
  cli=0
  bash tests/cli/run_cli_tests.sh "$build/duet" "$build/cli-work" || cli=$?
  echo "sanitize: CLI checks rc=$cli"
  [ "$cli" = 0 ] || rc=$cli
fi
if [ "${TRAINING:-0}" != 0 ]; then
  for part in resume image audio fusion; do
    r=0
    if [ "$part" = resume ]; then
      bash tests/cli/run_resume_tests.sh "$build/duet" "$build/resume-work" || r=$?
    else
      bash tests/cli/run_training_tests.sh "$build/duet" "$build/training-work-$part" "$part" || r=$?
    fi
    echo "sanitize: $part checks rc=$r"
    [ "$r" = 0 ] || rc=$r
  done
fi
exit "$rc"
