#!/usr/bin/env python3
"""MNIST test digits as picture files, the way a digit may reach duet predict: grainy, or
written on a notebook's ruled or squared paper, perhaps photographed askew; for

    duet eval --model-dir IMAGE_MODEL --inputs OUT

    pictures.py OUT [--data DIR] [--count N] [--scale K] [--paper] [--noise SIGMA] [--salt P]
                [--lines LEVEL [--grid] [--spacing PX] [--tilt DEG]] [--frame PX] [--line-width PX]
                [--seed S]

The first N digits of MNIST's test set (DIR/mnist/t10k-*-ubyte.gz; DIR defaults to
$DUET_DATA, else ./data, else ../shared/data) are written as OUT/D_mnist_I.pgm (D the digit,
I its place in the test set), each enlarged K times (every pixel a K x K square; 28K pixels a
side). As MNIST stores them (light ink on black) unless --paper: dark ink (85% of black) on
white paper. --lines LEVEL (0-1, a share of the ink's darkness; implies --paper) rules
horizontal lines LEVEL dark and --line-width pixels wide every --spacing pixels (default 8K,
at a random offset per picture), and vertical ones too with --grid (squared paper); --tilt
DEG turns the lines of each picture by an angle drawn from -DEG..DEG (a page photographed
askew; the digit stays upright). --frame PX draws a printed box around the digit, as on a form:
lines 0.7 dark and --line-width wide, PX pixels inside the picture's edge (0: along it; implies
--paper). --noise SIGMA adds Gaussian noise of that sigma (in units of black to white) to
every pixel, clipped to 0-255 as a file stores it; --salt P sets a share P of the pixels to
black or white, half each (salt-and-pepper noise). Draws come from --seed (default 0), so a
set is reproducible. docs/training.md (Noisy pictures, Salt-and-pepper noise, Ruled paper)
measures the image models on such sets. Standard library only.
"""
import argparse
import gzip
import math
import os
import random
import sys


def fail(msg):
    print(f"pictures.py: {msg}", file=sys.stderr)
    sys.exit(1)


def data_dir(given):
    if given:
        return given
    for d in (os.environ.get("DUET_DATA", ""), "data", "../shared/data"):
        if d and os.path.isdir(os.path.join(d, "mnist")):
            return d
    fail("no MNIST found: give --data DIR (a folder holding mnist/t10k-images-idx3-ubyte.gz), "
         "set DUET_DATA, or run tools/get_data.sh")


def read_idx(path, magic, header):
    try:
        raw = gzip.open(path).read()
    except FileNotFoundError:
        fail(f"{path}: no such file (run tools/get_data.sh, or give --data DIR)")
    except (OSError, EOFError) as e:
        fail(f"{path}: not a readable gzip file ({e})")
    if len(raw) < header or int.from_bytes(raw[0:4], "big") != magic:
        fail(f"{path}: not an MNIST {'image' if magic == 2051 else 'label'} file")
    return raw


def picture(digit, k, args, rng):
    """One 28k x 28k picture (bytes, row by row) of a 28x28 digit (bytes 0-255)."""
    n = 28 * k
    paper = args.paper or args.lines > 0 or args.frame >= 0
    # Ink darkness 0-1 of each pixel, the digit enlarged k times.
    dark = [[digit[(y // k) * 28 + x // k] / 255.0 for x in range(n)] for y in range(n)]
    if args.lines > 0:
        spacing = args.spacing or 8 * k
        slope = math.tan(math.radians(rng.uniform(-args.tilt, args.tilt))) if args.tilt > 0 else 0.0
        offsets = [rng.randrange(spacing)] + ([rng.randrange(spacing)] if args.grid else [])
        for vertical, offset in zip((False, True), offsets):
            for start in range(offset - spacing * 2, n + spacing * 2, spacing):
                for t in range(n):  # along the line
                    c = int(round(start + slope * (t - n / 2) * (-1 if vertical else 1)))
                    for w in range(args.line_width or max(1, k // 2)):
                        if 0 <= c + w < n:
                            y, x = (t, c + w) if vertical else (c + w, t)
                            dark[y][x] = max(dark[y][x], args.lines)
    if args.frame >= 0:
        a, width = args.frame, args.line_width or max(1, k // 2)
        for y in range(a, n - a):
            for x in range(a, n - a):
                if min(x, y, n - 1 - x, n - 1 - y) < a + width:
                    dark[y][x] = max(dark[y][x], 0.7)
    out = bytearray(n * n)
    for y in range(n):
        for x in range(n):
            v = 1 - 0.85 * dark[y][x] if paper else dark[y][x]
            if args.noise > 0:
                v += rng.gauss(0, args.noise)
            if args.salt > 0 and rng.random() < args.salt:
                v = float(rng.random() < 0.5)
            out[y * n + x] = min(255, max(0, int(round(v * 255))))
    return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--data", help="the data folder (holding mnist/)")
    ap.add_argument("--count", type=int, default=1000, help="how many test digits, from the first (default 1000)")
    ap.add_argument("--scale", type=int, default=1, help="enlargement, 1-8 (default 1: 28x28)")
    ap.add_argument("--paper", action="store_true", help="dark ink on white paper")
    ap.add_argument("--noise", type=float, default=0.0, help="Gaussian noise sigma, 0-1 (default 0)")
    ap.add_argument("--salt", type=float, default=0.0, help="share of pixels set to black or white, 0-1")
    ap.add_argument("--lines", type=float, default=0.0, help="ruled lines this dark, 0-1 (default 0: none)")
    ap.add_argument("--grid", action="store_true", help="with --lines: vertical lines too")
    ap.add_argument("--spacing", type=int, default=0, help="with --lines: pixels between lines (default 8 x scale)")
    ap.add_argument("--line-width", type=int, default=0, help="with --lines or --frame: pixels (default scale / 2)")
    ap.add_argument("--tilt", type=float, default=0.0, help="with --lines: largest angle in degrees, 0-20")
    ap.add_argument("--frame", type=int, default=-1, help="a printed box this many pixels inside the edge")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not 1 <= args.count <= 10000:
        fail(f"--count must lie in 1..10000, got {args.count}")
    if not 1 <= args.scale <= 8:
        fail(f"--scale must lie in 1..8, got {args.scale}")
    if not 0 <= args.noise <= 1:
        fail(f"--noise must lie in 0..1, got {args.noise}")
    if not 0 <= args.salt <= 1:
        fail(f"--salt must lie in 0..1, got {args.salt}")
    if not 0 <= args.lines <= 1:
        fail(f"--lines must lie in 0..1, got {args.lines}")
    if args.lines == 0 and (args.grid or args.spacing or args.tilt):
        fail("--grid, --spacing and --tilt shape the ruled lines: give --lines LEVEL with them")
    if args.line_width and args.lines == 0 and args.frame < 0:
        fail("--line-width sets the width of the ruled lines or the box: give --lines LEVEL or --frame PX with it")
    if args.frame < -1 or args.frame > 7 * args.scale:
        fail(f"--frame must lie in 0..{7 * args.scale} pixels (inside a quarter of the side), got {args.frame}")
    if args.spacing and not 2 <= args.spacing <= 28 * args.scale:
        fail(f"--spacing must lie in 2..{28 * args.scale} (the picture's side), got {args.spacing}")
    if args.line_width and not 1 <= args.line_width <= 8 * args.scale:
        fail(f"--line-width must lie in 1..{8 * args.scale}, got {args.line_width}")
    if not 0 <= args.tilt <= 20:
        fail(f"--tilt must lie in 0..20 degrees, got {args.tilt}")
    root = data_dir(args.data)
    images = read_idx(os.path.join(root, "mnist", "t10k-images-idx3-ubyte.gz"), 2051, 16)
    labels = read_idx(os.path.join(root, "mnist", "t10k-labels-idx1-ubyte.gz"), 2049, 8)
    count = min(int.from_bytes(images[4:8], "big"), int.from_bytes(labels[4:8], "big"))
    if len(images) < 16 + 784 * args.count or len(labels) < 8 + args.count or count < args.count:
        fail(f"{root}/mnist: the test set holds fewer than {args.count} digits")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        fail(f"{args.out}: cannot make the folder ({e.strerror})")
    rng = random.Random(args.seed)
    n = 28 * args.scale
    for i in range(args.count):
        digit = images[16 + 784 * i:16 + 784 * (i + 1)]
        path = os.path.join(args.out, f"{labels[8 + i]}_mnist_{i}.pgm")
        with open(path, "wb") as f:
            f.write(f"P5\n{n} {n}\n255\n".encode() + picture(digit, args.scale, args, rng))
    print(f"pictures.py: wrote {args.count} pictures ({n}x{n}) to {args.out}")


if __name__ == "__main__":
    main()
