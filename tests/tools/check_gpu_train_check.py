#!/usr/bin/env python3
"""tools/gpu_train_check.sh with a stand-in duet binary (no GPU, no training): the stages it
starts and the flags it passes (@channels, TRAIN_ARGS), the lines of results.txt (accuracy and
robustness rows, the clip or picture alone, AUDIO_INPUTS, the installed fonts' digits or why they were not
measured), and every wrong input (no binary, unknown stage, @channels on another stage).

    check_gpu_train_check.py GPU_TRAIN_CHECK_SH WORK_DIR
"""
import os
import shutil
import subprocess
import sys

STUB = r"""#!/usr/bin/env bash
# Stand-in for duet: logs its arguments, writes what gpu_train_check.sh reads.
echo "$*" >>"$STUB_LOG"
cmd=$1; shift
out="" prev=""
for a in "$@"; do { [ "$prev" = --out ] || [ "$prev" = --resume ]; } && out=$a; prev=$a; done
case $cmd in
  train) mkdir -p "$out"
         if [ "$1" = --resume ]; then  # goes on with the model the folder's config.json describes
           echo '{"format": "duet-run-1", "args": [], "finished": true}' >"$out/run.json"; exit 0
         fi
         if [[ " $* " == *" --model audio "* ]]; then
           echo '{"model": "audio", "audio": {"test_speeds": [0.92, 1, 1.08]}}' >"$out/config.json"
         else
           shift_px=1; [[ " $* " == *" --test-shift 0 "* ]] && shift_px=0
           echo "{\"model\": \"image\", \"image\": {\"test_shift\": $shift_px}}" >"$out/config.json"
         fi ;;
  eval) echo '{"accuracy": 0.9912, "count": 3, "robustness": {"clean": 0.9912, "noise 0 dB": 0.9}}' ;;
  fonts) if [ -n "${STUB_FONTS:-}" ]; then mkdir -p "$out"; touch "$out/0_a.png" "$out/1_a.png"
         else echo "error: --font-dir /usr/share/fonts: no fonts (.ttf, .otf) found" >&2; exit 1; fi ;;
esac
"""


def run(script, work, stages, prepare=None, **env):
    e = dict(os.environ, BUILD_DIR=os.path.join(work, "build"), DUET_DATA=os.path.join(work, "data"),
             STUB_LOG=os.path.join(work, "duet.log"))
    for k in ("TRAIN_ARGS", "AUDIO_INPUTS", "IMAGE_INPUTS"):
        e.pop(k, None)
    e.update(env)
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    if prepare:
        prepare(out)
    if os.path.exists(e["STUB_LOG"]):
        os.remove(e["STUB_LOG"])
    r = subprocess.run(["bash", script, out] + stages, capture_output=True, text=True, env=e, timeout=120)
    calls = open(e["STUB_LOG"]).read().splitlines() if os.path.exists(e["STUB_LOG"]) else []
    results = os.path.join(out, "results.txt")
    lines = open(results).read().splitlines() if os.path.exists(results) else []
    return r, calls, lines


def expect_error(script, work, stages, text, **env):
    r, calls, _ = run(script, work, stages, **env)
    assert r.returncode != 0, f"{stages}: exit 0, expected an error"
    assert text in r.stderr, f"{stages}: stderr lacks {text!r}: {r.stderr!r}"
    assert not any(c.startswith("train") for c in calls), f"{stages}: trained before failing: {calls}"


def main():
    script, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "data", "fsdd"))
    clips = os.path.join(work, "clips")
    os.makedirs(clips)

    # No binary yet.
    expect_error(script, work, ["image"], "not built")
    os.makedirs(os.path.join(work, "build"))
    stub = os.path.join(work, "build", "duet")
    with open(stub, "w") as f:
        f.write(STUB)
    os.chmod(stub, 0o755)

    # Wrong stages: nothing is trained.
    expect_error(script, work, ["bogus"], "unknown stage 'bogus'")
    expect_error(script, work, ["image@16,32"], "@channels applies to audio: and fold: stages, not 'image@16,32'")

    # An audio stage with other channels and extra flags, read on a folder of clips too.
    r, calls, lines = run(script, work, ["audio:random@16,32"], TRAIN_ARGS="--epochs 2", AUDIO_INPUTS=clips)
    assert r.returncode == 0, r.stderr
    train = [c for c in calls if c.startswith("train")]
    assert len(train) == 1, calls
    for flag in ["--model audio", "--split random", "--channels 16,32", "--epochs 2", "audio-random-c16-32-xepochs-2"]:
        assert flag in train[0], f"train call lacks {flag!r}: {train[0]}"
    label = "audio:duet random --channels 16,32 --epochs 2"
    expected = [f"{label}: 99.12% (noise 0 dB 90.00%)",
                f"{label}, the clip alone (--test-speeds 1): 99.12% (noise 0 dB 90.00%)",
                f"{label} on {clips} (3 files): 99.12% (noise 0 dB 90.00%)"]
    assert lines == expected, "results.txt:\n" + "\n".join(lines)
    assert any("--test-speeds 1" in c for c in calls), calls
    assert any(f"--inputs {clips}" in c for c in calls), calls

    # The image stage: the picture alone (its test-time shifts left out); the installed fonts'
    # digits, or why not.
    r, calls, lines = run(script, work, ["image"])
    assert r.returncode == 0, r.stderr
    assert lines[0] == "image:vgg: 99.12% (noise 0 dB 90.00%)", lines
    assert lines[1] == "image:vgg, the picture alone (--test-shift 0): 99.12% (noise 0 dB 90.00%)", lines
    assert lines[2].startswith("image:vgg on printed digits: not measured (error: --font-dir"), lines
    assert len(lines) == 3, lines
    assert any(c.startswith("eval") and "--test-shift 0" in c and "image/alone" in c for c in calls), calls
    assert not any("--test-speeds" in c for c in calls), calls
    r, calls, lines = run(script, work, ["image"], STUB_FONTS="1")
    assert r.returncode == 0, r.stderr
    assert lines[2] == "image:vgg on printed digits (2 pictures): 99.12% (noise 0 dB 90.00%)", lines
    # A model trained without test-time shifts has no second reading.
    r, calls, lines = run(script, work, ["image"], TRAIN_ARGS="--test-shift 0")
    assert r.returncode == 0, r.stderr
    assert len(lines) == 2 and lines[0] == "image:vgg --test-shift 0: 99.12% (noise 0 dB 90.00%)", lines
    assert lines[1].startswith("image:vgg --test-shift 0 on printed digits: not measured"), lines
    assert not any("--test-shift 0 --out" in c for c in calls if c.startswith("eval")), calls
    # The other image network, named by TRAIN_ARGS: its own folder, labelled by the flags.
    r, calls, lines = run(script, work, ["image"], TRAIN_ARGS="--arch image:duet")
    assert r.returncode == 0, r.stderr
    train = [c for c in calls if c.startswith("train")]
    assert len(train) == 1 and "--arch image:duet" in train[0] and "image-xarch-image-duet" in train[0], train
    assert lines[0] == "image --arch image:duet: 99.12% (noise 0 dB 90.00%)", lines
    # image-noise: image:duet with --augment-noise 0.1.
    r, calls, lines = run(script, work, ["image-noise"])
    assert r.returncode == 0, r.stderr
    train = [c for c in calls if c.startswith("train")]
    assert len(train) == 1 and "--arch image:duet --augment-noise 0.1" in train[0], train
    assert lines[0] == "image:duet --augment-noise 0.1: 99.12% (noise 0 dB 90.00%)", lines

    # An OUT given again: an unfinished training goes on (duet train --resume), a finished one is
    # kept and evaluated again, a folder without run.json (no earlier run) trains afresh.
    def earlier_runs(out):
        for name, finished in [("audio-random", False), ("audio-official", True)]:
            os.makedirs(os.path.join(out, name))
            with open(os.path.join(out, name, "run.json"), "w") as f:
                f.write('{"format": "duet-run-1", "args": [], "finished": %s}' % ("true" if finished else "false"))
            with open(os.path.join(out, name, "config.json"), "w") as f:
                f.write('{"model": "audio", "audio": {"test_speeds": [1]}}')
    r, calls, lines = run(script, work, ["audio", "image"], prepare=earlier_runs)
    assert r.returncode == 0, r.stderr
    train = [c for c in calls if c.startswith("train")]
    assert train[0] == f"train --resume {os.path.join(work, 'out', 'audio-random')}", train
    assert len(train) == 2 and "--model image" in train[1], train
    assert sum(c.startswith("eval --model-dir") and "audio-official --json --robustness" in c for c in calls) == 1, calls
    assert lines[:2] == ["audio:duet random: 99.12% (noise 0 dB 90.00%)", "audio:duet official: 99.12% (noise 0 dB 90.00%)"], lines
    print("gpu_train_check.sh: ok")


if __name__ == "__main__":
    main()
