#!/usr/bin/env python3
"""bench/cpu (duet_cpu_bench) runs and checks its products: one shape, every implementation
the build has (the reference loops, the portable and, where the CPU has it, the AVX2 GEMM;
OpenBLAS where it was found), each within 1e-4 of the reference loops and none skipped with
an error. No timing is judged here (benchmarks are read, not asserted).

    check_cpu_bench.py DUET_CPU_BENCH
"""
import json
import subprocess
import sys


def main():
    bench = sys.argv[1]
    names = subprocess.run([bench, "--benchmark_list_tests"], capture_output=True, text=True, check=True).stdout.split()
    impls = {n.split("/")[0] for n in names}
    assert {"reference", "portable"} <= impls, impls
    assert impls <= {"reference", "portable", "avx2", "openblas"}, impls
    shapes = {n.split("/")[1] for n in names}
    assert {"conv_mnist2_fwd", "linear_mnist_fc1_b64_bwd_weight", "square_1024"} <= shapes, shapes
    r = subprocess.run([bench, "--benchmark_filter=/conv_mnist2_bwd_data/", "--benchmark_format=json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["benchmarks"]
    assert sorted(b["name"].split("/")[0] for b in rows) == sorted(impls), [b["name"] for b in rows]
    for b in rows:
        assert not b.get("error_occurred"), b
        assert b["max_rel_err"] < 1e-4 and b["GFLOP/s"] > 0, b
    print("duet_cpu_bench: ok (%s)" % ", ".join(sorted(impls)))


if __name__ == "__main__":
    main()
