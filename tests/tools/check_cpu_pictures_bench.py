#!/usr/bin/env python3
"""bench/cpu (duet_cpu_pictures_bench) runs every kind of picture and each takes the
preparation step it calls for (the benchmark skips a row with an error otherwise: smoothing
for noise, medians for specks, lines taken out of ruled and squared paper, noisy or not, none
for clean pictures). No timing is judged here (benchmarks are read, not asserted).

    check_cpu_pictures_bench.py DUET_CPU_PICTURES_BENCH
"""
import json
import subprocess
import sys

KINDS = {"mnist_clean", "mnist_noise_0.3", "mnist_salt_0.1", "paper_clean", "paper_ruled", "paper_ruled_8deg",
         "paper_squared", "paper_noise_0.1", "paper_ruled_0.6_noise_0.1"}


def main():
    bench = sys.argv[1]
    r = subprocess.run([bench, "--benchmark_min_time=0.01", "--benchmark_format=json"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["benchmarks"]
    assert {b["name"].split("/")[1] for b in rows} == KINDS, [b["name"] for b in rows]
    for b in rows:
        assert not b.get("error_occurred"), b
        assert b["real_time"] > 0, b
    print("duet_cpu_pictures_bench: ok (%d kinds of picture)" % len(rows))


if __name__ == "__main__":
    main()
