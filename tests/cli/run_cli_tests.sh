#!/usr/bin/env bash
# The duet binary's contract with its users: bad input gives one line on stderr that names
# the problem, a non-zero exit, and no crash. Usage: run_cli_tests.sh PATH/TO/duet WORKDIR
set -u
duet=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
failures=0
passes=0

# expect_fail NAME PATTERN CMD...: CMD exits 1 (not a crash) and stderr matches PATTERN on one line.
expect_fail() {
  local name=$1 pattern=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if [ "$rc" -ne 1 ] || ! grep -qE -e "$pattern" "$work/err" || [ "$(grep -c . "$work/err")" -gt 2 ]; then
    echo "FAIL $name: rc=$rc stderr: $(head -c 300 "$work/err")"
    failures=$((failures + 1))
  else
    passes=$((passes + 1))
  fi
}

expect_ok() {
  local name=$1
  shift
  if ! "$@" >"$work/out" 2>"$work/err"; then
    echo "FAIL $name: $(head -c 300 "$work/err")"
    failures=$((failures + 1))
  else
    passes=$((passes + 1))
  fi
}

expect_ok help "$duet" --help
expect_ok version "$duet" --version
expect_ok devices "$duet" devices
expect_fail unknown-command "unknown command 'frobnicate'" "$duet" frobnicate
expect_fail unknown-flag "unknown option --bogus" "$duet" demo --bogus
expect_fail missing-value "--steps needs a value" "$duet" demo --steps
expect_fail bad-integer "--steps expects an integer, got 'ten'" "$duet" demo --steps ten
expect_fail out-of-range "--steps must be in" "$duet" demo --steps 0
expect_fail bad-device "--device expects cpu or cuda, got 'tpu'" "$duet" demo --device tpu
if ! "$duet" devices | grep -q "^GPU 0"; then
  expect_fail cuda-without-gpu "--device cuda: .*(no CUDA device|without CUDA)" "$duet" demo --device cuda
fi
expect_fail checkpoint-missing "no_such.safetensors: cannot open" "$duet" checkpoint "$work/no_such.safetensors"
printf 'garbage' >"$work/bad.safetensors"
expect_fail checkpoint-truncated "bad.safetensors: .*exceeds the file|bad.safetensors: truncated" \
  "$duet" checkpoint "$work/bad.safetensors"
expect_ok demo "$duet" demo --device cpu --steps 5 --out "$work/demo"
expect_ok checkpoint "$duet" checkpoint "$work/demo/model.safetensors"

echo "cli: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
