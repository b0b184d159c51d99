#!/usr/bin/env python3
"""Handwriting duet has never seen: the UCI optical-recognition digits (the 1797 test-set
digits scikit-learn ships as sklearn.datasets.load_digits: 8x8 pictures, 16 grey levels,
written by people other than MNIST's writers) as pictures named for

    duet eval --model-dir IMAGE_MODEL --inputs OUT

    optdigits.py OUT [--csv FILE] [--gamma G]

Each 8x8 digit is enlarged 4x (bilinear) onto a 40x40 dark canvas and written as
OUT/D_optdigits_N.pgm (D the digit, N its row). --gamma G (0.2-5, default 1: as they are)
maps each enlarged grey level v in 0..1 to v**G: below 1 the grey edges of the strokes
brighten and the digits look bolder, above 1 they darken and the digits look thinner (a
probe of how a model reads stroke weight; docs/training.md). The digits come from --csv (a
digits.csv or digits.csv.gz: 64 values 0-16 and the label per line), else from an installed
scikit-learn, else from the scikit-learn wheel that `pip download` fetches (network needed;
nothing is installed). Standard library only.
"""
import argparse
import glob
import gzip
import os
import subprocess
import sys
import tempfile
import zipfile

SIDE, SCALE, PAD = 8, 4, 4
WHEEL_PATH = "sklearn/datasets/data/digits.csv.gz"


def fail(msg):
    print(f"optdigits.py: {msg}", file=sys.stderr)
    sys.exit(1)


def read_text(raw, name):
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except OSError as e:
            fail(f"{name}: not a readable gzip file ({e})")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        fail(f"{name}: not a text file of numbers")


def from_sklearn():
    try:
        import sklearn.datasets
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(sklearn.datasets.__file__), "data", "digits.csv.gz")
    return (open(path, "rb").read(), path) if os.path.exists(path) else None


def from_wheel():
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                            "-d", tmp, "scikit-learn"], capture_output=True, text=True)
        wheels = glob.glob(os.path.join(tmp, "*.whl"))
        if r.returncode != 0 or not wheels:
            fail("no --csv given, scikit-learn is not installed, and `pip download scikit-learn` failed: "
                 + (r.stderr.strip().splitlines() or ["no output"])[-1])
        with zipfile.ZipFile(wheels[0]) as z:
            return z.read(WHEEL_PATH), f"{os.path.basename(wheels[0])}:{WHEEL_PATH}"


def parse(text, name):
    digits = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != SIDE * SIDE + 1:
            fail(f"{name}, line {n}: expected {SIDE * SIDE + 1} comma-separated values (64 pixels and the label), "
                 f"got {len(fields)}")
        try:
            values = [float(f) for f in fields]
        except ValueError:
            fail(f"{name}, line {n}: not all values are numbers")
        pixels, label = values[:-1], values[-1]
        if label not in range(10):
            fail(f"{name}, line {n}: the label must be a digit 0-9, got {fields[-1].strip()}")
        if min(pixels) < 0 or max(pixels) > 16:
            fail(f"{name}, line {n}: pixel values must lie in 0..16")
        digits.append((pixels, int(label)))
    if not digits:
        fail(f"{name}: no digits in it")
    return digits


def enlarge(pixels):
    """Bilinear 4x enlargement of an 8x8 picture (edge pixels extended), in 0..255."""
    n = SIDE * SCALE
    out = []
    for Y in range(n):
        y = (Y + 0.5) / SCALE - 0.5
        for X in range(n):
            x = (X + 0.5) / SCALE - 0.5
            x0, y0 = int(x // 1), int(y // 1)
            fx, fy = x - x0, y - y0

            def at(a, b):
                return pixels[min(max(b, 0), SIDE - 1) * SIDE + min(max(a, 0), SIDE - 1)]

            v = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + \
                (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy
            out.append(round(v * 255 / 16))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--csv", help="digits.csv or digits.csv.gz (64 values 0-16 and the label per line)")
    ap.add_argument("--gamma", type=float, default=1.0,
                    help="grey levels v (0..1) of the enlarged pictures become v**G: < 1 bolder, > 1 thinner "
                         "(0.2-5; default 1)")
    args = ap.parse_args()
    if not 0.2 <= args.gamma <= 5:
        fail(f"--gamma must lie in 0.2..5, got {args.gamma:g}")
    if args.csv:
        if not os.path.isfile(args.csv):
            fail(f"--csv {args.csv}: no such file")
        raw, name = open(args.csv, "rb").read(), args.csv
    else:
        raw, name = from_sklearn() or from_wheel()
    digits = parse(read_text(raw, name), name)
    os.makedirs(args.out, exist_ok=True)
    side = SIDE * SCALE + 2 * PAD
    for i, (pixels, label) in enumerate(digits):
        big = enlarge(pixels)
        if args.gamma != 1:
            big = [round(255 * (v / 255) ** args.gamma) for v in big]
        canvas = bytearray(side * side)
        for y in range(SIDE * SCALE):
            row = (y + PAD) * side + PAD
            canvas[row:row + SIDE * SCALE] = bytes(big[y * SIDE * SCALE:(y + 1) * SIDE * SCALE])
        with open(os.path.join(args.out, f"{label}_optdigits_{i}.pgm"), "wb") as f:
            f.write(b"P5\n%d %d\n255\n" % (side, side) + bytes(canvas))
    print(f"wrote {len(digits)} pictures from {name} to {args.out} "
          f"(duet eval --model-dir IMAGE_MODEL --inputs {args.out})")


if __name__ == "__main__":
    main()
