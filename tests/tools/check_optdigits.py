#!/usr/bin/env python3
"""tools/optdigits.py on made-up digits: names, picture size and polarity, the 4x
enlargement, gzip and plain input, --gamma's bolder and thinner strokes, and a clear error
(exit 1, the file and line named) for every malformed input.

    check_optdigits.py OPTDIGITS_PY WORK_DIR
"""
import gzip
import os
import shutil
import subprocess
import sys


def run(script, *args):
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True)


def read_pgm(path):
    data = open(path, "rb").read()
    magic, w, h, maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5" and maxval == b"255", path
    return int(w), int(h), pixels


def main():
    script, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    bar = [16 if x == 3 else 0 for y in range(8) for x in range(8)]  # a vertical stroke: a "1"
    dot = [16 if (x, y) == (0, 0) else 0 for y in range(8) for x in range(8)]
    lines = [",".join(map(str, bar + [1])), ",".join(map(str, dot + [7]))]
    plain = os.path.join(work, "digits.csv")
    open(plain, "w").write("\n".join(lines) + "\n")
    packed = os.path.join(work, "digits.csv.gz")
    open(packed, "wb").write(gzip.compress(("\n".join(lines) + "\n").encode()))
    for src, out in ((plain, "out_plain"), (packed, "out_gz")):
        r = run(script, os.path.join(work, out), "--csv", src)
        assert r.returncode == 0, r.stderr
        assert "wrote 2 pictures" in r.stdout, r.stdout
        names = sorted(os.listdir(os.path.join(work, out)))
        assert names == ["1_optdigits_0.pgm", "7_optdigits_1.pgm"], names
        w, h, px = read_pgm(os.path.join(work, out, "1_optdigits_0.pgm"))
        assert (w, h) == (40, 40) and len(px) == 1600
        # The border stays dark (MNIST polarity); the stroke (column 3 of 8, centred at 14 of
        # 32 after the 4x enlargement, +4 of padding) peaks there and fades within 4 pixels.
        assert all(px[i] == 0 for i in range(40)) and all(px[i * 40] == 0 for i in range(40))
        row = list(px[20 * 40:21 * 40])
        ink = [x for x in range(40) if row[x] > 0]
        assert max(row) > 200 and row.index(max(row)) in (4 + 13, 4 + 14), row
        assert ink == list(range(4 + 10, 4 + 18)), row
        # A lone corner pixel spreads to its bilinear neighbours and no further.
        _, _, px = read_pgm(os.path.join(work, out, "7_optdigits_1.pgm"))
        assert px[4 * 40 + 4] == 255 and px[4 * 40 + 4 + 8] == 0
    # --gamma: zero stays zero and full ink stays full; the grey edges brighten below 1 and
    # darken above it, as 255 * (v / 255) ** G of the pictures as they are.
    _, _, plain_px = read_pgm(os.path.join(work, "out_plain", "1_optdigits_0.pgm"))
    grey = [i for i, v in enumerate(plain_px) if 0 < v < 255]
    assert grey, "the enlarged bar has grey edges"
    for gamma in ("0.5", "2"):
        out = os.path.join(work, "out_gamma" + gamma)
        r = run(script, out, "--csv", plain, "--gamma", gamma)
        assert r.returncode == 0, r.stderr
        _, _, px = read_pgm(os.path.join(out, "1_optdigits_0.pgm"))
        assert all(px[i] == round(255 * (v / 255) ** float(gamma)) for i, v in enumerate(plain_px)), gamma
        assert all((px[i] > plain_px[i]) == (gamma == "0.5") for i in grey), gamma
        assert all(px[i] == plain_px[i] for i, v in enumerate(plain_px) if v in (0, 255)), gamma
    for gamma in ("0", "-1", "6"):
        r = run(script, os.path.join(work, "out_bad"), "--csv", plain, "--gamma", gamma)
        assert r.returncode == 1 and "--gamma must lie in 0.2..5" in r.stderr, (gamma, r.stderr)
    r = run(script, os.path.join(work, "out_bad"), "--csv", plain, "--gamma", "bold")
    assert r.returncode != 0 and "--gamma" in r.stderr and "Traceback" not in r.stderr, r.stderr
    bad = {
        "short.csv": ("1,2,3\n", "short.csv, line 1: expected 65 comma-separated values"),
        "label.csv": (",".join(["0"] * 64 + ["12"]) + "\n", "label.csv, line 1: the label must be a digit 0-9"),
        "text.csv": (",".join(["0"] * 63 + ["x", "1"]) + "\n", "text.csv, line 1: not all values are numbers"),
        "range.csv": (lines[0] + "\n" + ",".join(["17"] * 64 + ["2"]) + "\n", "range.csv, line 2: pixel values"),
        "empty.csv": ("\n", "empty.csv: no digits in it"),
    }
    for name, (text, message) in bad.items():
        path = os.path.join(work, name)
        open(path, "w").write(text)
        r = run(script, os.path.join(work, "out_bad"), "--csv", path)
        assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr, (name, r.stderr)
    r = run(script, os.path.join(work, "out_bad"), "--csv", os.path.join(work, "missing.csv"))
    assert r.returncode == 1 and "missing.csv: no such file" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(work, "out_bad")), "nothing is written for bad input"
    print("optdigits.py: all checks passed")


if __name__ == "__main__":
    main()
