#!/usr/bin/env python3
"""tools/mic.py on made-up clips: which clips are written, the DC offset and the hum sample by
sample (clipped at full scale), and a clear error (exit 1, the file or flag named) for every
wrong input.

    check_mic.py MIC_PY WORK_DIR
"""
import array
import math
import os
import shutil
import subprocess
import sys
import wave


def run(script, *args):
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True)


def write(path, samples, width=2, channels=1, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(array.array("h", samples).tobytes() if width == 2 else bytes(samples))


def read(path):
    with wave.open(path, "rb") as w:
        return list(array.array("h", w.readframes(w.getnframes()))), w.getframerate()


def expect_error(script, pattern, *args):
    r = run(script, *args)
    assert r.returncode == 1 and pattern in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r)


def main():
    script, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    clips, out = os.path.join(work, "clips"), os.path.join(work, "out")
    os.makedirs(clips)
    x = [int(20000 * math.sin(0.3 * k)) for k in range(800)]
    write(os.path.join(clips, "3_ann_0.wav"), x)
    write(os.path.join(clips, "3_ann_7.wav"), x)  # not an official test clip
    open(os.path.join(clips, "notes.txt"), "w").write("not a clip")

    r = run(script, "--clips", clips, "--out", out, "--dc", "2,50", "--hum", "60", "--hum-level", "0.25")
    assert r.returncode == 0, r
    assert sorted(os.listdir(out)) == ["clean", "dc2", "dc50", "hum60"], os.listdir(out)
    for kind in os.listdir(out):
        assert os.listdir(os.path.join(out, kind)) == ["3_ann_0.wav"], (kind, os.listdir(os.path.join(out, kind)))
    clean, rate = read(os.path.join(out, "clean", "3_ann_0.wav"))
    assert clean == x and rate == 8000
    dc2, _ = read(os.path.join(out, "dc2", "3_ann_0.wav"))
    assert all(abs(d - (v + 655.36)) <= 0.5 for d, v in zip(dc2, x)), "dc2"
    dc50, _ = read(os.path.join(out, "dc50", "3_ann_0.wav"))
    assert max(dc50) == 32767 and all(d == min(32767, round(v + 16384)) for d, v in zip(dc50, x)), "dc50 clips"
    hum, _ = read(os.path.join(out, "hum60", "3_ann_0.wav"))
    peak = max(abs(v) for v in x)
    assert all(abs(h - (v + 0.25 * peak * math.sin(2 * math.pi * 60 * k / 8000))) <= 0.5
               for k, (h, v) in enumerate(zip(hum, x))), "hum60"

    r = run(script, "--clips", clips, "--out", os.path.join(work, "all"), "--all", "--hum", "0")
    assert r.returncode == 0, r
    assert sorted(os.listdir(os.path.join(work, "all"))) == ["clean", "dc10", "dc2"]
    assert sorted(os.listdir(os.path.join(work, "all", "clean"))) == ["3_ann_0.wav", "3_ann_7.wav"]

    expect_error(script, "--clips /nonexistent: not a folder", "--clips", "/nonexistent", "--out", out)
    expect_error(script, "--dc expects comma-separated numbers, got 'x'", "--clips", clips, "--out", out, "--dc", "x")
    expect_error(script, "--dc expects numbers in [0, 50], got '60'", "--clips", clips, "--out", out, "--dc", "60")
    expect_error(script, "--hum expects one frequency, got '50,60'", "--clips", clips, "--out", out, "--hum", "50,60")
    expect_error(script, "--hum-level expects numbers in [0, 10], got '-1'", "--clips", clips, "--out", out,
                 "--hum-level=-1")
    empty = os.path.join(work, "empty")
    os.makedirs(empty)
    expect_error(script, "no .wav clips of the official test split", "--clips", empty, "--out", out)
    odd = os.path.join(work, "odd")
    os.makedirs(odd)
    write(os.path.join(odd, "mine.wav"), x)
    expect_error(script, "mine.wav: not named like FSDD's", "--clips", odd, "--out", out)
    eight = os.path.join(work, "eight")
    os.makedirs(eight)
    write(os.path.join(eight, "1_b_0.wav"), [128] * 100, width=1)
    expect_error(script, "1_b_0.wav: 8-bit, 1 channel(s); expected 16-bit mono PCM", "--clips", eight, "--out", out)
    broken = os.path.join(work, "broken")
    os.makedirs(broken)
    open(os.path.join(broken, "1_b_0.wav"), "wb").write(b"RIFF0000WAVEjunk")
    expect_error(script, "1_b_0.wav: not a readable WAV file", "--clips", broken, "--out", out)
    print("mic.py: all checks passed")


if __name__ == "__main__":
    main()
