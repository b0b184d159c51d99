#!/usr/bin/env python3
"""tools/pictures.py on a made-up MNIST test set of three digits: names, sizes, polarity, the
K-fold enlargement, paper, ruled lines and a grid (where, how dark, how wide, turned), noise
and salt-and-pepper (clipped, reproducible for a seed), and a clear error (exit 1, the flag or
file named) for every wrong input.

    check_pictures.py PICTURES_PY WORK_DIR
"""
import gzip
import os
import shutil
import subprocess
import sys


def run(script, *args, env=None, cwd=None):
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True, env=env, cwd=cwd)


def read_pgm(path):
    data = open(path, "rb").read()
    magic, w, h, maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5" and maxval == b"255", path
    return int(w), int(h), pixels


def make_mnist(root, digits, labels):
    os.makedirs(os.path.join(root, "mnist"), exist_ok=True)
    head = (2051).to_bytes(4, "big") + len(digits).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    with gzip.open(os.path.join(root, "mnist", "t10k-images-idx3-ubyte.gz"), "wb") as f:
        f.write(head + b"".join(digits))
    with gzip.open(os.path.join(root, "mnist", "t10k-labels-idx1-ubyte.gz"), "wb") as f:
        f.write((2049).to_bytes(4, "big") + len(labels).to_bytes(4, "big") + bytes(labels))


def main():
    script, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # A "1": a bar in columns 13-14, rows 4-23; a blank picture; a full square.
    one = bytes(255 if 13 <= x <= 14 and 4 <= y <= 23 else 0 for y in range(28) for x in range(28))
    data = os.path.join(work, "data")
    make_mnist(data, [one, bytes(784), bytes([255]) * 784], [1, 0, 8])
    P = lambda out, *a: run(script, os.path.join(work, out), "--data", data, "--count", "3", *a)

    r = P("plain")
    assert r.returncode == 0, r.stderr
    assert "wrote 3 pictures (28x28)" in r.stdout, r.stdout
    assert sorted(os.listdir(os.path.join(work, "plain"))) == ["0_mnist_1.pgm", "1_mnist_0.pgm", "8_mnist_2.pgm"]
    w, h, px = read_pgm(os.path.join(work, "plain", "1_mnist_0.pgm"))
    assert (w, h) == (28, 28) and px == one, "the digit as MNIST stores it"

    r = P("paper", "--scale", "4", "--paper")
    assert r.returncode == 0 and "(112x112)" in r.stdout, r.stderr
    w, h, px = read_pgm(os.path.join(work, "paper", "1_mnist_0.pgm"))
    assert (w, h) == (112, 112)
    assert px[0] == 255 and px[(4 * 10) * 112 + 4 * 13 + 3] == round(255 * 0.15), "dark ink on white paper"
    assert px[(4 * 4 - 1) * 112 + 4 * 13] == 255 and px[(4 * 4) * 112 + 4 * 13] < 255, "each pixel a 4x4 square"

    # Ruled lines: rows of uniform darkness (0.4 of the ink's 0.85) every 16 pixels, 3 wide.
    r = P("lines", "--scale", "2", "--lines", "0.4", "--spacing", "16", "--line-width", "3")
    assert r.returncode == 0, r.stderr
    _, _, px = read_pgm(os.path.join(work, "lines", "0_mnist_1.pgm"))  # the blank digit: lines only
    line = round(255 * (1 - 0.85 * 0.4))
    rows = [y for y in range(56) if all(px[y * 56 + x] == line for x in range(56))]
    assert all(px[y * 56 + x] in (line, 255) for y in range(56) for x in range(56))
    assert rows and all(px[y * 56] == 255 for y in range(56) if y not in rows), rows
    runs = [y for y in rows if y - 1 not in rows]
    assert all(b - a == 16 for a, b in zip(runs, runs[1:])) and len(rows) == 3 * len(runs), rows
    # A grid adds columns; a tilt turns both within the angle (a line drifts, but no more
    # than tan(angle) x the side).
    r = P("grid", "--scale", "2", "--lines", "0.4", "--grid")
    assert r.returncode == 0, r.stderr
    _, _, px = read_pgm(os.path.join(work, "grid", "0_mnist_1.pgm"))
    cols = [x for x in range(56) if all(px[y * 56 + x] == line for y in range(56))]
    assert cols, "vertical lines"
    for angle in ("3", "10"):
        out = "tilt" + angle
        r = P(out, "--scale", "4", "--lines", "0.4", "--tilt", angle, "--spacing", "40")
        assert r.returncode == 0, r.stderr
        _, _, px = read_pgm(os.path.join(work, out, "0_mnist_1.pgm"))
        # Follow the line through (0, y0): the dark pixel nearest in each next column.
        y0 = next(y for y in range(20, 112) if px[y * 112] == line)
        ys = [y0]
        for x in range(1, 112):
            near = [y for y in range(ys[-1] - 2, ys[-1] + 3) if 0 <= y < 112 and px[y * 112 + x] == line]
            if not near:
                break
            ys.append(min(near, key=lambda y: abs(y - ys[-1])))
        drift = abs(ys[-1] - ys[0]) / len(ys)
        assert drift <= 0.0175 * float(angle) + 0.02, (angle, drift)
    _, _, level = read_pgm(os.path.join(work, "tilt3", "0_mnist_1.pgm"))
    _, _, turned = read_pgm(os.path.join(work, "tilt10", "0_mnist_1.pgm"))
    assert level != turned

    # A printed box: a frame of lines 0.7 dark, --line-width wide, PX inside the edge.
    r = P("frame", "--scale", "2", "--frame", "3", "--line-width", "2")
    assert r.returncode == 0, r.stderr
    _, _, px = read_pgm(os.path.join(work, "frame", "0_mnist_1.pgm"))
    edge = round(255 * (1 - 0.85 * 0.7))
    framed = {(x, y) for y in range(56) for x in range(56) if px[y * 56 + x] == edge}
    want = {(x, y) for y in range(3, 53) for x in range(3, 53) if min(x, y, 55 - x, 55 - y) < 5}
    assert framed == want and all(px[y * 56 + x] in (edge, 255) for y in range(56) for x in range(56))

    # Noise: clipped to 0-255, the same for the same seed, another draw for another seed.
    for seed in ("0", "1"):
        r = P("noise" + seed, "--noise", "0.3", "--seed", seed)
        assert r.returncode == 0, r.stderr
    r = P("noise0b", "--noise", "0.3")
    _, _, a = read_pgm(os.path.join(work, "noise0", "0_mnist_1.pgm"))
    _, _, b = read_pgm(os.path.join(work, "noise0b", "0_mnist_1.pgm"))
    _, _, c = read_pgm(os.path.join(work, "noise1", "0_mnist_1.pgm"))
    assert a == b and a != c
    assert 300 < sum(v == 0 for v in a) < 500, "about half of a black picture's noise is clipped at 0"
    _, _, full = read_pgm(os.path.join(work, "noise0", "8_mnist_2.pgm"))
    assert 300 < sum(v == 255 for v in full) < 500, "and half of a white one's at 255"
    r = P("salt", "--salt", "0.1")
    assert r.returncode == 0, r.stderr
    _, _, s = read_pgm(os.path.join(work, "salt", "0_mnist_1.pgm"))
    assert set(s) <= {0, 255} and 15 < sum(v == 255 for v in s) < 70, sum(v == 255 for v in s)

    # Wrong input: one line naming the flag or file, exit 1, no traceback.
    bad = [
        (["--count", "0"], "--count must lie in 1..10000"),
        (["--count", "5"], "the test set holds fewer than 5 digits"),
        (["--scale", "9"], "--scale must lie in 1..8"),
        (["--noise", "2"], "--noise must lie in 0..1"),
        (["--salt", "-0.1"], "--salt must lie in 0..1"),
        (["--lines", "1.5"], "--lines must lie in 0..1"),
        (["--grid"], "give --lines LEVEL with them"),
        (["--line-width", "2"], "give --lines LEVEL or --frame PX with it"),
        (["--frame", "8"], "--frame must lie in 0..7 pixels"),
        (["--tilt", "3"], "give --lines LEVEL with them"),
        (["--lines", "0.3", "--tilt", "30"], "--tilt must lie in 0..20 degrees"),
        (["--lines", "0.3", "--spacing", "1"], "--spacing must lie in 2..28"),
        (["--lines", "0.3", "--line-width", "9"], "--line-width must lie in 1..8"),
    ]
    for args, message in bad:
        r = run(script, os.path.join(work, "bad"), "--data", data, "--count", "3", *args)
        assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    r = run(script, os.path.join(work, "bad"), "--data", data, "--noise", "much")
    assert r.returncode != 0 and "--noise" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = run(script, os.path.join(work, "bad"), "--data", os.path.join(work, "nowhere"))
    assert r.returncode == 1 and "t10k-images-idx3-ubyte.gz: no such file" in r.stderr, r.stderr
    # No --data, no DUET_DATA, and neither ./data nor ../shared/data beside the folder it runs in.
    alone = os.path.join(work, "alone", "here")
    os.makedirs(alone)
    env = {k: v for k, v in os.environ.items() if k != "DUET_DATA"}
    r = run(os.path.abspath(script), "out", env=env, cwd=alone)
    assert r.returncode == 1 and "no MNIST found: give --data DIR" in r.stderr, r.stderr
    env["DUET_DATA"] = data
    r = run(os.path.abspath(script), "out", "--count", "3", env=env, cwd=alone)
    assert r.returncode == 0 and os.path.exists(os.path.join(alone, "out", "1_mnist_0.pgm")), r.stderr
    broken = os.path.join(work, "broken")
    os.makedirs(os.path.join(broken, "mnist"))
    open(os.path.join(broken, "mnist", "t10k-images-idx3-ubyte.gz"), "wb").write(b"not gzip")
    open(os.path.join(broken, "mnist", "t10k-labels-idx1-ubyte.gz"), "wb").write(b"not gzip")
    r = run(script, os.path.join(work, "bad"), "--data", broken)
    assert r.returncode == 1 and "not a readable gzip file" in r.stderr, r.stderr
    with gzip.open(os.path.join(broken, "mnist", "t10k-images-idx3-ubyte.gz"), "wb") as f:
        f.write(b"\0" * 40)
    r = run(script, os.path.join(work, "bad"), "--data", broken)
    assert r.returncode == 1 and "not an MNIST image file" in r.stderr, r.stderr
    blocked = os.path.join(work, "file")
    open(blocked, "w").write("x")
    r = run(script, os.path.join(blocked, "out"), "--data", data, "--count", "3")
    assert r.returncode == 1 and "cannot make the folder" in r.stderr, r.stderr
    print("pictures.py: all checks passed")


if __name__ == "__main__":
    main()
