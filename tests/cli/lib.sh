# Shared by the CLI test scripts: expectations about the duet binary's behaviour. A script
# called as `SCRIPT PATH/TO/duet WORKDIR` sources it with `. lib.sh "$@"`: $duet is the binary,
# $work the scratch folder (emptied here; made absolute), and the counters start at zero.
duet=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && work=$(cd "$work" && pwd)  # absolute: checks cd elsewhere
failures=0
passes=0

# expect_fail NAME PATTERN CMD...: CMD exits 1 (not a crash) with at most two lines on
# stderr, one of which matches PATTERN.
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

# expect_ok NAME CMD...: CMD succeeds.
expect_ok() {
  local name=$1
  shift
  if ! "$@" >"$work/out" 2>"$work/err"; then
    echo "FAIL $name: $(tail -c 400 "$work/err")"
    failures=$((failures + 1))
  else
    passes=$((passes + 1))
  fi
}

# check_json NAME PYTHON-EXPR FILE: the JSON object in FILE (as j) satisfies the expression.
check_json() {
  local name=$1 expr=$2 file=$3
  if python3 -c "import json,sys; j=json.load(open('$file')); sys.exit(0 if ($expr) else 1)" 2>/dev/null; then
    passes=$((passes + 1))
  else
    echo "FAIL $name: $expr on $(head -c 300 "$file")"
    failures=$((failures + 1))
  fi
}

# check NAME CONDITION-COMMAND...: counts a pass when the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then passes=$((passes + 1)); else echo "FAIL $name"; failures=$((failures + 1)); fi
}

# not CMD...: succeeds when CMD fails (for check).
not() { ! "$@"; }

# finish TITLE: the summary line; the script's exit status is 0 only when nothing failed.
finish() {
  echo "$1: $passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
