#!/usr/bin/env python3
"""tools/gpu_lease.sh with stand-ins for cmake, ctest and tools/gpu_train_check.sh (no GPU, no
build, no training): the jobs it starts (stage, TRAIN_ARGS after '=', an equal share of the
cores), the deadline that stops them (a stopped job is reported as such, a failed one as
failed), the build that fails before any job starts, and wrong arguments.

    check_gpu_lease.py GPU_LEASE_SH WORK_DIR
"""
import os
import shutil
import subprocess
import sys
import time

# Stand-in for tools/gpu_train_check.sh: logs what it was given; stage "slow" runs until it is
# stopped, stage "broken" fails.
TRAIN_CHECK = r"""#!/usr/bin/env bash
echo "threads=$OMP_NUM_THREADS args=[$TRAIN_ARGS] out=$1 stage=$2" >>"$STUB_LOG"
case $2 in
  slow) sleep 600 ;;
  broken) exit 1 ;;
  *) echo "$2 [$TRAIN_ARGS]: 99.12%" >>"$1/results.txt" ;;
esac
"""
CMAKE = r"""#!/usr/bin/env bash
echo "cmake $*" >>"$STUB_LOG"
prev=""
for a in "$@"; do [ "$prev" = -B ] && mkdir -p "$a"; prev=$a; done
[ -z "${STUB_BUILD_FAILS:-}" ] || { echo "stand-in compiler error"; exit 1; }
"""
CTEST = r"""#!/usr/bin/env bash
echo "ctest $*" >>"$STUB_LOG"
"""


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def run(repo, work, args, **env):
    e = dict(os.environ, STUB_LOG=os.path.join(work, "calls.log"), BUILD_DIR="build-stub",
             PATH=os.path.join(work, "bin") + os.pathsep + os.environ["PATH"])
    for k in ("TRAIN_ARGS", "GPU_TESTS", "STUB_BUILD_FAILS", "JOB_THREADS"):
        e.pop(k, None)
    e.update(env)
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    if os.path.exists(e["STUB_LOG"]):
        os.remove(e["STUB_LOG"])
    start = time.monotonic()
    r = subprocess.run(["bash", os.path.join(repo, "tools", "gpu_lease.sh")] + args, capture_output=True,
                       text=True, env=e, timeout=120, cwd=work)
    seconds = time.monotonic() - start
    calls = open(e["STUB_LOG"]).read().splitlines() if os.path.exists(e["STUB_LOG"]) else []
    lease = os.path.join(out, "lease.txt")
    lines = open(lease).read().splitlines() if os.path.exists(lease) else []
    return r, calls, lines, seconds


def main():
    script, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    repo = os.path.join(work, "repo")  # the script works from its checkout's root
    write(os.path.join(repo, "tools", "gpu_lease.sh"), open(script).read(), 0o755)
    write(os.path.join(repo, "tools", "gpu_train_check.sh"), TRAIN_CHECK, 0o755)
    write(os.path.join(work, "bin", "cmake"), CMAKE, 0o755)
    write(os.path.join(work, "bin", "ctest"), CTEST, 0o755)
    cores = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout)

    # Wrong arguments: a usage line, nothing built or started.
    for args, text in [(["out", "60"], "usage: tools/gpu_lease.sh OUT SECONDS JOB"),
                       (["out", "ten", "image"], "SECONDS must be a whole number of seconds, got 'ten'"),
                       (["out", "60", "image", "fold:theo", "image"], "job 'image' given twice")]:
        r, calls, _, _ = run(repo, work, args)
        assert r.returncode == 2 and text in r.stderr, (args, r.returncode, r.stderr)
        assert calls == [], calls

    # Two jobs that finish: each its stage, its flags and half of the cores (at least one);
    # the build configured afresh, the gpu tests run.
    r, calls, lines, _ = run(repo, work, ["out", "60", "image=--arch image:vgg", "audio:random"])
    assert r.returncode == 0, r.stderr
    out = os.path.join(work, "out")
    threads = max(1, cores // 2)
    assert f"threads={threads} args=[--arch image:vgg] out={out} stage=image" in calls, calls
    assert f"threads={threads} args=[] out={out} stage=audio:random" in calls, calls
    assert any(c.startswith("cmake -S . -B build-stub -G Ninja -DCMAKE_BUILD_TYPE=Release") for c in calls), calls
    assert any(c.startswith("cmake --build build-stub") for c in calls), calls
    assert "ctest --test-dir build-stub --output-on-failure -L gpu" in calls, calls
    text = "\n".join(lines)
    for want in ["build ok", f"started 2 job(s), {threads} threads each", "tests (gpu label) ok",
                 "job 0 (image=--arch image:vgg) done", "job 1 (audio:random) done", "total"]:
        assert want in text, f"lease.txt lacks {want!r}:\n{text}"
    assert "image [--arch image:vgg]: 99.12%" in r.stdout, r.stdout  # results.txt printed last

    # The deadline stops a job that runs on (reported, the same command goes on with it); a
    # failing job is reported as failed; a carried build folder is not configured again.
    write(os.path.join(repo, "build-stub", "CMakeCache.txt"), "")
    r, calls, lines, seconds = run(repo, work, ["out", "3", "slow", "broken"], GPU_TESTS="0")
    assert r.returncode == 1, r.returncode  # a failure outweighs a stop
    text = "\n".join(lines)
    assert "job 0 (slow) stopped by the deadline; the same command goes on with it" in text, text
    assert "job 1 (broken) FAILED (see job-1.log)" in text, text
    assert seconds < 30, f"the deadline of 3 s took {seconds:.0f} s"
    assert not any(c.startswith("cmake -S") for c in calls) and not any(c.startswith("ctest") for c in calls), calls

    # Binaries carried from another machine (a BUILD_DIR with duet and no CMakeCache.txt): no
    # build, their duet_gpu_tests is the gpu test.
    write(os.path.join(repo, "build-carry", "duet"), "#!/bin/sh\n", 0o755)
    write(os.path.join(repo, "build-carry", "tests", "duet_gpu_tests"), '#!/bin/sh\necho "gpu tests $*" >>"$STUB_LOG"\n', 0o755)
    r, calls, lines, _ = run(repo, work, ["out", "60", "image"], BUILD_DIR="build-carry", JOB_THREADS="3")
    assert r.returncode == 0, r.stderr
    assert not any(c.startswith("cmake") or c.startswith("ctest") for c in calls), calls
    assert "gpu tests " in calls and any(c.startswith("threads=3 ") for c in calls), calls
    text = "\n".join(lines)
    assert "no build: the duet carried in build-carry" in text and "tests (gpu label) ok" in text, text

    r, _, lines, _ = run(repo, work, ["out", "3", "slow", "image"], GPU_TESTS="0")
    assert r.returncode == 3, (r.returncode, lines)  # stopped by the deadline, nothing failed

    # A build that fails: its error shown, no job started.
    r, calls, lines, _ = run(repo, work, ["out", "60", "image"], STUB_BUILD_FAILS="1")
    assert r.returncode == 1 and "stand-in compiler error" in r.stdout, (r.returncode, r.stdout)
    assert any("build FAILED" in l for l in lines), lines
    assert not any(c.startswith("threads=") for c in calls), calls
    print("gpu_lease.sh: ok")


if __name__ == "__main__":
    main()
