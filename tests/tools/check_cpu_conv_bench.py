#!/usr/bin/env python3
"""bench/cpu (duet_cpu_conv_bench) runs and checks its convolutions: every layer has the
forward, the input gradient and the weight gradient, and one small layer's three passes each
agree with the direct loops (within 1e-4 of the largest value) and none is skipped with an
error. No timing is judged here (benchmarks are read, not asserted).

    check_cpu_conv_bench.py DUET_CPU_CONV_BENCH
"""
import json
import subprocess
import sys

PASSES = {"forward", "backward_data", "backward_weight"}


def main():
    bench = sys.argv[1]
    names = subprocess.run([bench, "--benchmark_list_tests"], capture_output=True, text=True, check=True).stdout.split()
    layers = {}
    for n in names:
        pass_, layer = n.split("/")[:2]
        layers.setdefault(layer, set()).add(pass_)
    assert {"audio_conv1", "audio_conv4", "image_conv2"} <= set(layers), layers
    for layer, passes in layers.items():
        assert passes == PASSES, (layer, passes)
    r = subprocess.run([bench, "--benchmark_filter=/image_conv1/", "--benchmark_min_time=0.01",
                        "--benchmark_format=json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["benchmarks"]
    assert {b["name"].split("/")[0] for b in rows} == PASSES, [b["name"] for b in rows]
    for b in rows:
        assert not b.get("error_occurred"), b
        assert b["max_rel_err"] < 1e-4 and b["GFLOP/s"] > 0, b
    print("duet_cpu_conv_bench: ok (%d layers, image_conv1 checked)" % len(layers))


if __name__ == "__main__":
    main()
