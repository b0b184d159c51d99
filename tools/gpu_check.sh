#!/usr/bin/env bash
# Everything that needs a GPU, in one command (docs/kernels.md explains the output):
#   tools/gpu_check.sh [OUT_DIR]          (default: $OUT, else gpu_check_out)
# 0. the machine: nvidia-smi and nvcc               -> OUT/machine.txt, OUT/gpu.txt (GPU name, driver)
# 1. configure + build with Ninja (Release, CUDA)   -> OUT/build.log
# 2. the `gpu` tests, with both GEMM main loops     -> OUT/ctest_gpu.log, OUT/ctest_gpu_single.log
# 3. kernel benchmarks against cuDNN/cuBLAS         -> OUT/kernels.json (+ kernels_single.json:
#    our kernels with the single-buffered GEMM loop)
# 4. duet bench and the PyTorch reference           -> OUT/duet_bench.json, OUT/pytorch.json
#    and where a GPU training step's time goes        -> OUT/profile_audio.txt, OUT/profile_image.txt
#    (duet train --profile, one epoch of each default model; OUT/profile_*/profile.csv)
# 5. every other test (the CPU label), and beside it
# 6. compute-sanitizer memcheck on the GPU tests    -> OUT/ctest.log, OUT/memcheck.log
# 7. a summary table                                -> OUT/summary.md (printed last)
# The benchmarks run before steps 5-6 so that they see an idle machine; OUT/status.txt gains a
# line as each step ends, with the seconds since the start (the last line: the total time).
# Data: $DUET_DATA, else ./data, else ../shared/data. Needs nothing a GPU machine with the
# CUDA toolkit, cuDNN, GoogleTest, Google Benchmark, FFTW3, zlib and nlohmann-json lacks;
# stb headers may sit in third_party_local/stb.
# Knobs for a short lease: CPU_TESTS=0 skips the CPU-label tests (CI runs them anyway),
# BENCH_MIN_TIME=0.2s shortens each kernel benchmark, MEMCHECK_TIMEOUT=N bounds the sanitizer run
# (0 skips it), MEMCHECK_FILTER=PATTERN picks its tests (a --gtest_filter).
set -u
cd "$(dirname "$0")/.."
out=${1:-${OUT:-gpu_check_out}}
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=${BUILD_DIR:-build-gpu}
data=${DUET_DATA:-}
for d in "$data" data ../shared/data; do
  if [ -n "$d" ] && [ -d "$d/fsdd" ]; then data=$(cd "$d" && pwd); break; fi
done
export PATH="/usr/local/cuda/bin:$PATH"
status() { printf '%-28s %s  [%d s in]\n' "$1" "$2" "$SECONDS" | tee -a "$out/status.txt"; }
: >"$out/status.txt"
{ nvidia-smi; nvcc --version; } >"$out/machine.txt" 2>&1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 >"$out/gpu.txt"

stb=()
[ -f third_party_local/stb/stb_image_write.h ] && stb=(-DDUET_STB_DIR="$(pwd)/third_party_local/stb")
if cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${stb[@]}" >"$out/build.log" 2>&1 &&
   cmake --build "$build" --parallel "$(nproc)" >>"$out/build.log" 2>&1; then
  status build ok
else
  status build FAILED
  tail -30 "$out/build.log"
  exit 1
fi

# The GPU tests first (fast to read), once more with the single-buffered GEMM main loop
# (DUET_GEMM_PIPELINE=0, kernels/gemm_tile.cuh), so both loops that ship are checked.
(cd "$build" && DUET_DATA="$data" timeout 900 ctest --output-on-failure -j 8 -L gpu) >"$out/ctest_gpu.log" 2>&1 && status "tests (gpu label)" ok ||
  status "tests (gpu label)" "FAILED (see ctest_gpu.log)"
(cd "$build" && DUET_DATA="$data" DUET_GEMM_PIPELINE=0 timeout 900 ctest --output-on-failure -j 8 -L gpu) \
  >"$out/ctest_gpu_single.log" 2>&1 && status "tests (gpu, single-buffered)" ok ||
  status "tests (gpu, single-buffered)" "FAILED (see ctest_gpu_single.log)"

if [ -x "$build/bench/duet_bench" ]; then
  bench_args=()
  [ -n "${BENCH_MIN_TIME:-}" ] && bench_args+=(--benchmark_min_time="$BENCH_MIN_TIME")
  timeout 600 "$build/bench/duet_bench" "${bench_args[@]}" --benchmark_out="$out/kernels.json" --benchmark_out_format=json \
    >"$out/kernels.txt" 2>&1 && status "kernel benchmarks" ok || status "kernel benchmarks" "FAILED (see kernels.txt)"
  DUET_GEMM_PIPELINE=0 timeout 600 "$build/bench/duet_bench" "${bench_args[@]}" --benchmark_filter='^ours/' \
    --benchmark_out="$out/kernels_single.json" --benchmark_out_format=json >"$out/kernels_single.txt" 2>&1 &&
    status "kernel benchmarks (single)" ok || status "kernel benchmarks (single)" "FAILED (see kernels_single.txt)"
else
  status "kernel benchmarks" "not built (Google Benchmark or cuDNN missing)"
fi
if [ -n "$data" ]; then
  timeout 600 "$build/duet" bench --device cuda --data "$data" --json >"$out/duet_bench.json" 2>"$out/duet_bench.err" &&
    status "duet bench" ok || status "duet bench" "FAILED (see duet_bench.err)"
  timeout 600 python3 bench/pytorch_reference.py --data "$data" --json >"$out/pytorch.json" 2>"$out/pytorch.err" &&
    status "pytorch reference" ok || status "pytorch reference" "FAILED (see pytorch.err)"
  for model in audio image; do
    limit=()
    [ "$model" = image ] && limit=(--train-limit 10000)
    timeout 300 "$build/duet" train --model "$model" --epochs 1 "${limit[@]}" --device cuda --profile --data "$data" \
      --out "$out/profile_$model" >"$out/profile_$model.txt" 2>&1 && status "per-op profile ($model)" ok ||
      status "per-op profile ($model)" "FAILED (see profile_$model.txt)"
  done
else
  status "duet bench" "skipped: no data (set DUET_DATA)"
fi
# Then, side by side (one uses the GPU and a core, the other the CPU): compute-sanitizer
# memcheck over the GPU tests, and every other test (the CPU label). Both after the
# benchmarks, so that those time an otherwise idle machine.
if [ "${MEMCHECK_TIMEOUT:-600}" != 0 ] && command -v compute-sanitizer >/dev/null; then
  (DUET_DATA="$data" timeout "${MEMCHECK_TIMEOUT:-600}" compute-sanitizer --tool memcheck --leak-check full \
    --error-exitcode 3 "$build/tests/duet_gpu_tests" --gtest_filter="${MEMCHECK_FILTER:-*}" >"$out/memcheck.log" 2>&1
   echo $? >"$out/memcheck.rc") &
  memcheck_pid=$!
fi
if [ "${CPU_TESTS:-1}" != 0 ]; then
  (cd "$build" && DUET_DATA="$data" timeout 1200 ctest --output-on-failure -j 8 -LE gpu) >"$out/ctest.log" 2>&1 &&
    status "tests (all others)" ok || status "tests (all others)" "FAILED (see ctest.log)"
else
  status "tests (all others)" "skipped (CPU_TESTS=0)"
fi
grep -sE "tests passed|Total Test" "$out/ctest_gpu.log" "$out/ctest_gpu_single.log" "$out/ctest.log" | sed 's/^/  /' | tee -a "$out/status.txt"
if [ "${MEMCHECK_TIMEOUT:-600}" = 0 ]; then
  status "compute-sanitizer memcheck" "skipped (MEMCHECK_TIMEOUT=0)"
elif [ -z "${memcheck_pid:-}" ]; then
  status "compute-sanitizer memcheck" "not found"
else
  wait "$memcheck_pid"
  rc=$(cat "$out/memcheck.rc" 2>/dev/null || echo "?")
  [ "$rc" = 0 ] && status "compute-sanitizer memcheck" "ok ($(grep -c '\[       OK \]' "$out/memcheck.log") tests)" ||
    status "compute-sanitizer memcheck" "FAILED rc=$rc (see memcheck.log; 124: timed out)"
fi
status finished "all steps"
python3 bench/summarize.py "$out" >"$out/summary.md"
echo
cat "$out/summary.md"
echo
cat "$out/status.txt"
