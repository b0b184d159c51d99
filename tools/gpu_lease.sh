#!/usr/bin/env bash
# Several trainings of tools/gpu_train_check.sh side by side on one GPU machine, all stopped by
# one deadline, in one command (for a machine lent for minutes, whose commands are time-limited):
#   tools/gpu_lease.sh OUT SECONDS JOB...
# JOB is a gpu_train_check stage, optionally with training flags after '=' (its TRAIN_ARGS):
#   tools/gpu_lease.sh out 540 audio:random 'audio:random=--seed 1' image 'image=--arch image:duet' \
#     fold:george fold:jackson fold:lucas fold:nicolas fold:theo fold:yweweler
# 1. builds (BUILD_DIR, default build-gpu; Release, Ninja) and runs the `gpu` tests beside the
#    trainings (GPU_TESTS=0 skips them)                       -> OUT/build.log, OUT/ctest_gpu.log
#    A BUILD_DIR that holds a duet binary and no CMakeCache.txt is used as it is, no build: the
#    minutes of a build saved on a lent machine by carrying binaries built elsewhere (a CUDA
#    build for its GPU: build/duet and build/tests/duet_gpu_tests copied into a git-ignored
#    folder such as build-carry/); its duet_gpu_tests (in it or in its tests/) is the gpu test.
# 2. starts every JOB at once, each its own gpu_train_check.sh process with an equal share of
#    the cores (OMP_NUM_THREADS; JOB_THREADS=N gives each N instead), stopped SECONDS after this script started (SIGTERM: a training
#    saves its last finished epoch)                           -> OUT/job-N.log, OUT/results.txt
# 3. writes OUT/lease.txt: each job's state (done, or stopped by the deadline) and the time.
# Exit status: 0 every job done, 3 some stopped by the deadline, 1 a job or the build failed,
# 2 wrong arguments.
# The same command with the same OUT (carried back to the next machine) goes on with every
# training that was stopped and keeps the finished ones (gpu_train_check.sh continues them).
set -u
if [ $# -lt 3 ]; then
  echo "usage: tools/gpu_lease.sh OUT SECONDS JOB... (see the comment at the top of tools/gpu_lease.sh)" >&2
  exit 2
fi
out=$1 deadline=$2
shift 2
case $deadline in '' | *[!0-9]*) echo "gpu_lease: SECONDS must be a whole number of seconds, got '$deadline'" >&2; exit 2 ;; esac
dup=$(printf '%s\n' "$@" | sort | uniq -d | head -1)
[ -z "$dup" ] || { echo "gpu_lease: job '$dup' given twice (both would train into the same folder)" >&2; exit 2; }
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)  # relative to where the command was given
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build-gpu}
data=${DUET_DATA:-}  # as gpu_check.sh finds it: $DUET_DATA, else ./data, else ../shared/data
for d in "$data" data ../shared/data; do
  if [ -n "$d" ] && [ -d "$d/fsdd" ]; then data=$(cd "$d" && pwd); break; fi
done
[ -n "$data" ] && export DUET_DATA=$data
export PATH="/usr/local/cuda/bin:$PATH"
log() { printf '%-40s [%d s in]\n' "$1" "$SECONDS" | tee -a "$out/lease.txt"; }
: >"$out/lease.txt"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 >"$out/gpu.txt"

stb=()
[ -f third_party_local/stb/stb_image_write.h ] && stb=(-DDUET_STB_DIR="$(pwd)/third_party_local/stb")
configure=(cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${stb[@]}")
[ -f "$BUILD_DIR/CMakeCache.txt" ] && configure=(true)  # a build folder made before
gpu_tests=()
if [ -x "$BUILD_DIR/duet" ] && [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  log "no build: the duet carried in $BUILD_DIR"
  for t in "$BUILD_DIR/duet_gpu_tests" "$BUILD_DIR/tests/duet_gpu_tests"; do [ -x "$t" ] && gpu_tests=("$t"); done
elif "${configure[@]}" >"$out/build.log" 2>&1 && cmake --build "$BUILD_DIR" --parallel "$(nproc)" >>"$out/build.log" 2>&1; then
  log "build ok"
  gpu_tests=(ctest --test-dir "$BUILD_DIR" --output-on-failure -L gpu)
else
  log "build FAILED (see build.log)"
  tail -20 "$out/build.log"
  exit 1
fi

left=$((deadline - SECONDS))
[ "$left" -gt 0 ] || { log "no time left for the trainings after the build (SECONDS was $deadline)"; exit 1; }
threads=${JOB_THREADS:-$(($(nproc) / $#))}
[ "$threads" -ge 1 ] 2>/dev/null || threads=1
pids=() names=()
for job in "$@"; do
  stage=${job%%=*} args=""
  [[ $job == *=* ]] && args=${job#*=}
  n=${#pids[@]}
  TRAIN_ARGS=$args OMP_NUM_THREADS=$threads timeout -s TERM "$left" tools/gpu_train_check.sh "$out" "$stage" \
    >"$out/job-$n.log" 2>&1 &
  pids+=($!) names+=("$job")
done
log "started ${#pids[@]} job(s), $threads threads each, $left s left"
if [ "${GPU_TESTS:-1}" = 0 ]; then
  :
elif [ ${#gpu_tests[@]} -eq 0 ]; then
  log "tests (gpu label) not run: no duet_gpu_tests in $BUILD_DIR"
else
  timeout "$left" "${gpu_tests[@]}" >"$out/ctest_gpu.log" 2>&1 &&
    log "tests (gpu label) ok" || log "tests (gpu label) FAILED or stopped (see ctest_gpu.log)"
fi
rc=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"
  case $? in
    0) log "job $i (${names[$i]}) done" ;;
    124) log "job $i (${names[$i]}) stopped by the deadline; the same command goes on with it"
      [ "$rc" -ne 0 ] || rc=3 ;;
    *) log "job $i (${names[$i]}) FAILED (see job-$i.log)"
      rc=1 ;;
  esac
done
log "total"
echo
[ ! -f "$out/results.txt" ] || cat "$out/results.txt"
exit "$rc"
