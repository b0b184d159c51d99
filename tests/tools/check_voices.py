#!/usr/bin/env python3
"""tools/voices.py with stand-in synthesisers (small scripts on PATH that answer the voice
listings and write a WAV file): the clips' names and count, voices.csv, --report's
accuracies, and a clear error (exit 1, no traceback) for every wrong input, a missing voice
and a synthesiser that writes nothing. Where the real espeak-ng and flite are installed, it
also synthesises the whole set and has duet read a clip of each engine.

    check_voices.py VOICES_PY WORK_DIR [DUET]
"""
import csv
import os
import shutil
import stat
import struct
import subprocess
import sys

# The stand-ins are shell scripts (quick to start: the full set is 1110 calls): they list
# voices as the real ones do and copy a WAV file the test writes ($FAKE_WAV) to the path
# after -w (espeak-ng) or -o (flite).
FAKE_ESPEAK = r"""#!/bin/sh
if [ "$1" = "--voices=en" ]; then
  echo "Pty Language Age/Gender VoiceName File Other Languages"
  for l in ${FAKE_LANGS:-en-us en-us-nyc en-gb en-gb-x-rp en-gb-scotland en-gb-x-gbclan en-gb-x-gbcwmd en-029}; do
    echo " 2  $l  --/M  Some_name gmw/$l"
  done
  exit 0
fi
if [ "$1" = "--voices=variant" ]; then
  for v in m1 m2 m3 m4 m5 m6 m7 f1 f2 f3 f4 f5 croak; do echo " 5  variant  --/M  $v  !v/$v"; done
  exit 0
fi
while [ $# -gt 0 ]; do
  if [ "$1" = "-w" ]; then cp "${FAKE_EMPTY_WAV:-$FAKE_WAV}" "$2"; fi
  shift
done
"""

FAKE_FLITE = r"""#!/bin/sh
if [ "$1" = "-lv" ]; then echo "Voices available: kal awb_time kal16 awb rms slt "; exit 0; fi
while [ $# -gt 0 ]; do
  if [ "$1" = "-o" ]; then cp "$FAKE_WAV" "$2"; fi
  shift
done
"""


def write_wav(path, rate, samples):
    data = struct.pack("<%dh" % len(samples), *samples)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
                struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16) + b"data" +
                struct.pack("<I", len(data)) + data)


def make_bin(work, engines):
    """A folder holding stand-ins for the named engines, and cp (the stand-ins' one tool)."""
    d = os.path.join(work, "bin-" + "-".join(engines or ["none"]))
    os.makedirs(d, exist_ok=True)
    for name, text in (("espeak-ng", FAKE_ESPEAK), ("flite", FAKE_FLITE)):
        if name in engines:
            p = os.path.join(d, name)
            open(p, "w").write(text)
            os.chmod(p, os.stat(p).st_mode | stat.S_IEXEC)
    if not os.path.exists(os.path.join(d, "cp")):
        os.symlink(shutil.which("cp"), os.path.join(d, "cp"))
    return d


def run(script, args, path=None, **env):
    e = dict(os.environ, **env)
    if path is not None:
        e["PATH"] = path
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True, env=e)


def expect_error(r, message, what):
    assert r.returncode == 1, (what, r.returncode, r.stdout, r.stderr)
    assert message in r.stderr, (what, r.stderr)
    assert "Traceback" not in r.stderr, (what, r.stderr)


def main():
    script, work = sys.argv[1], sys.argv[2]
    duet = sys.argv[3] if len(sys.argv) > 3 else None
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    wav = os.path.join(work, "tone.wav")
    write_wav(wav, 22050, [1000, -1000] * 1102 + [0])  # 0.1 s
    empty = os.path.join(work, "empty.wav")
    write_wav(empty, 22050, [])
    os.environ["FAKE_WAV"] = wav
    both = make_bin(work, ["espeak-ng", "flite"])
    only_espeak = make_bin(work, ["espeak-ng"])
    none = make_bin(work, [])

    # Both stand-ins: 8 accents x 12 variants x 10 digits, and 5 voices x 3 durations x 10.
    out = os.path.join(work, "clips")
    r = run(script, [out], path=both)
    assert r.returncode == 0, r.stderr
    assert "wrote 1110 clips (espeak-ng: 960, flite: 150)" in r.stdout, r.stdout
    names = sorted(n for n in os.listdir(out) if n.endswith(".wav"))
    assert len(names) == 1110 and "7_scotland_f3.wav" in names and "5_slt_s1.2.wav" in names, names[:5]
    rows = list(csv.DictReader(open(os.path.join(out, "voices.csv"))))
    assert len(rows) == 1110 and sorted(r["file"] for r in rows) == names
    by_name = {r["file"]: r for r in rows}
    assert by_name["7_scotland_f3.wav"]["voice"] == "en-gb-scotland+f3" and by_name["7_scotland_f3.wav"]["sex"] == "f"
    assert by_name["5_slt_s1.2.wav"]["engine"] == "flite" and by_name["5_slt_s1.2.wav"]["sex"] == "f"
    assert by_name["0_awb_s1.wav"]["accent"] == "scotland" and by_name["0_awb_s1.wav"]["sex"] == "m"
    assert by_name["0_us_m1.wav"]["sample_rate"] == "22050" and by_name["0_us_m1.wav"]["seconds"] == "0.100"
    assert sum(r["sex"] == "f" for r in rows) == 8 * 5 * 10 + 3 * 10
    for r_ in rows:
        assert r_["digit"] == r_["file"][0]

    # --engines picks one; a second run into the same folder rewrites it.
    r = run(script, [out, "--engines", "flite"], path=both)
    assert r.returncode == 0 and "wrote 150 clips (flite: 150)" in r.stdout, (r.stdout, r.stderr)
    assert len(list(csv.DictReader(open(os.path.join(out, "voices.csv"))))) == 150
    assert len([n for n in os.listdir(out) if n.endswith(".wav")]) == 150, "the earlier run's clips are gone"

    # --variants: only those espeak-ng variants (flite as before), e.g. a training set and a test set.
    some = os.path.join(work, "some")
    r = run(script, [some, "--variants", "m1,f2"], path=both)
    assert r.returncode == 0 and "wrote 310 clips (espeak-ng: 160, flite: 150)" in r.stdout, (r.stdout, r.stderr)
    names = sorted(n for n in os.listdir(some) if n.endswith(".wav"))
    assert "7_scotland_f2.wav" in names and "7_scotland_m1.wav" in names and "7_scotland_m2.wav" not in names
    rows = list(csv.DictReader(open(os.path.join(some, "voices.csv"))))
    assert {r_["variant"] for r_ in rows if r_["engine"] == "espeak-ng"} == {"m1", "f2"}

    # --report: a made-up inputs.csv as duet eval --inputs writes it (file, label, prediction, ...).
    inputs = os.path.join(work, "inputs.csv")
    with open(inputs, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "label", "prediction", "confidence"])
        w.writerow([os.path.join(out, "5_slt_s1.wav"), 5, 9, 0.9])    # a woman's voice, wrong
        w.writerow([os.path.join(out, "5_slt_s0.85.wav"), 5, 5, 0.9])  # right
        w.writerow([os.path.join(out, "3_awb_s1.wav"), 3, 3, 0.8])     # a man's voice, right
    r = run(script, ["--report", inputs], path=both)
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(": ", 1) for l in r.stdout.strip().splitlines())
    assert lines["all"] == "66.67% (3 clips)", r.stdout
    assert "men's voices: 100.00% (1)" in lines["sex"] and "women's voices: 50.00% (2)" in lines["sex"], r.stdout
    assert lines["digit"] == "3: 100.00% (1)  5: 50.00% (2)", r.stdout
    assert "scotland: 100.00% (1)" in lines["accent"] and "us: 50.00% (2)" in lines["accent"], r.stdout
    assert "flite s1: 50.00% (2)" in lines["variant"] and "flite s0.85: 100.00% (1)" in lines["variant"], r.stdout

    # Wrong inputs: exit 1, a message naming what was wrong, nothing written.
    bad_out = os.path.join(work, "not_written")
    expect_error(run(script, [], path=both), "name the folder", "no OUT")
    expect_error(run(script, [bad_out, "--engines", "say"], path=both), "unknown engine 'say'", "engine")
    expect_error(run(script, [bad_out, "--engines", ","], path=both), "name at least one", "empty engines")
    expect_error(run(script, [bad_out, "--engines", "flite"], path=only_espeak),
                 "--engines: flite is not installed", "missing engine")
    expect_error(run(script, [bad_out], path=none), "neither espeak-ng nor flite is installed", "no engine")
    expect_error(run(script, [bad_out], path=only_espeak, FAKE_LANGS="en-us en-gb"),
                 "espeak-ng has no voice en-us-nyc", "missing voice")
    afile = os.path.join(work, "afile")
    open(afile, "w").write("x")
    expect_error(run(script, [afile], path=both), "exists and is not a folder", "OUT a file")
    expect_error(run(script, [bad_out, "--report", inputs], path=both), "--report takes only", "report and OUT")
    expect_error(run(script, [bad_out, "--variants", "m9"], path=both), "unknown espeak-ng variant 'm9'", "variant")
    expect_error(run(script, [bad_out, "--variants", "m1,m1"], path=both), "named twice", "variant twice")
    expect_error(run(script, [bad_out, "--variants", ","], path=both), "--variants: name at least one", "no variant")
    expect_error(run(script, [bad_out, "--variants", "m1", "--engines", "flite"], path=both),
                 "add espeak-ng to --engines", "variants without espeak-ng")
    expect_error(run(script, ["--report", inputs, "--variants", "m1"], path=both), "--report takes only", "report variants")
    assert not os.path.exists(bad_out), "nothing is written for bad input"
    expect_error(run(script, [os.path.join(work, "empty")], path=only_espeak, FAKE_EMPTY_WAV=empty),
                 "did not write a WAV file with samples", "synthesiser writes nothing")
    assert not os.path.exists(os.path.join(work, "empty")), "a failed run leaves no folder"
    expect_error(run(script, [out], path=only_espeak, FAKE_EMPTY_WAV=empty), "did not write", "failed rerun")
    assert len([n for n in os.listdir(out) if n.endswith(".wav")]) == 150, "a failed rerun leaves OUT as it was"
    assert not [n for n in os.listdir(work) if n.startswith(".voices-")], "nor a scratch folder"
    # A folder holding WAV files of the user's is refused, and left as it was.
    mine = os.path.join(work, "mine")
    os.makedirs(mine)
    shutil.copy(wav, os.path.join(mine, "7_me_1.wav"))
    expect_error(run(script, [mine], path=both), "holds WAV files voices.py did not write (7_me_1.wav)", "foreign")
    assert os.listdir(mine) == ["7_me_1.wav"]

    # --report on files that are not a voices.py evaluation.
    expect_error(run(script, ["--report", os.path.join(work, "missing.csv")]), "missing.csv: no such file", "report")
    wrong = os.path.join(work, "wrong.csv")
    open(wrong, "w").write("a,b\n1,2\n")
    expect_error(run(script, ["--report", wrong]), "not an inputs.csv", "report columns")
    elsewhere = os.path.join(work, "elsewhere.csv")
    open(elsewhere, "w").write(f"file,label,prediction\n{os.path.join(work, 'x', '1_me_1.wav')},1,1\n")
    expect_error(run(script, ["--report", elsewhere]), "has no voices.csv", "report without manifest")
    unlisted = os.path.join(work, "unlisted.csv")
    open(unlisted, "w").write(f"file,label,prediction\n{os.path.join(out, '1_me_1.wav')},1,1\n")
    expect_error(run(script, ["--report", unlisted]), "1_me_1.wav is not listed", "report unlisted")
    # The clips' folder named with --clips, where inputs.csv's paths are relative to elsewhere.
    moved = os.path.join(work, "moved.csv")
    open(moved, "w").write("file,label,prediction\nsomewhere/5_slt_s1.wav,5,5\n")
    expect_error(run(script, ["--report", moved]), "give the folder with --clips", "report relative")
    r = run(script, ["--report", moved, "--clips", out])
    assert r.returncode == 0 and r.stdout.startswith("all: 100.00% (1 clips)"), (r.stdout, r.stderr)
    expect_error(run(script, [out, "--clips", out], path=both), "--clips goes with --report", "clips alone")

    # The real synthesisers, where installed: every clip, and duet reads one of each engine.
    if shutil.which("espeak-ng") and shutil.which("flite"):
        real = os.path.join(work, "real")
        r = run(script, [real])
        assert r.returncode == 0 and "wrote 1110 clips" in r.stdout, (r.stdout, r.stderr)
        rows = list(csv.DictReader(open(os.path.join(real, "voices.csv"))))
        assert all(0.2 < float(r_["seconds"]) < 3 for r_ in rows), [r_ for r_ in rows if not 0.2 < float(r_["seconds"]) < 3][:3]
        if duet:
            for name, rate in (("7_scotland_f3.wav", "22050 Hz"), ("7_slt_s1.wav", "16000 Hz")):
                r = subprocess.run([duet, "info", os.path.join(real, name)], capture_output=True, text=True)
                assert r.returncode == 0 and rate in r.stdout, (name, r.stdout, r.stderr)
        print("voices.py: the real espeak-ng and flite checked too")
    else:
        print("voices.py: espeak-ng or flite not installed; checked with stand-ins only")
    print("voices.py: all checks passed")


if __name__ == "__main__":
    main()
