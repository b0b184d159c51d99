#!/usr/bin/env python3
"""bench/summarize.py on a made-up tools/gpu_check.sh output folder: every table row, the
ratio column, the direct and single-buffered columns, an errored benchmark, the GPU's name in
the heading (from gpu.txt; the host name alone without it), and an empty folder.

    check_summarize.py SUMMARIZE_PY WORK_DIR
"""
import json
import os
import shutil
import subprocess
import sys


def run(script, folder):
    r = subprocess.run([sys.executable, script, folder], capture_output=True, text=True)
    assert r.returncode == 0, f"summarize.py exited {r.returncode}: {r.stderr}"
    return r.stdout


def main():
    script, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    bench = lambda name, ms: {"name": name + "/manual_time", "real_time": ms}
    kernels = {"context": {"host_name": "box"}, "benchmarks": [
        bench("ours/gemm/square_4096", 4.0), bench("vendor/gemm/square_4096", 2.0),
        bench("ours/conv/c1/fwd", 0.5), bench("vendor/conv/c1/fwd", 1.0), bench("direct/conv/c1/fwd", 0.75),
        {"name": "ours/conv/c2/fwd/manual_time", "error_occurred": True, "error_message": "result differs"},
        bench("vendor/conv/c2/fwd", 1.0)]}
    single = {"benchmarks": [bench("ours/gemm/square_4096", 4.5), bench("ours/conv/c1/fwd", 0.6)]}
    with open(os.path.join(work, "kernels.json"), "w") as f:
        json.dump(kernels, f)
    with open(os.path.join(work, "kernels_single.json"), "w") as f:
        json.dump(single, f)
    with open(os.path.join(work, "duet_bench.json"), "w") as f:
        json.dump({"frontend_ms": 2.0, "audio_seed_epoch_ms": 50.0}, f)
    with open(os.path.join(work, "pytorch.json"), "w") as f:
        json.dump({"torch": "9.9", "gpu": "box", "repeat": 5, "frontend_ms": 3.0, "audio_seed_epoch_ms": 60.0}, f)
    out = run(script, work)
    assert "### Kernels vs cuDNN / cuBLAS (box)" in out.splitlines(), "heading without gpu.txt:\n" + out
    with open(os.path.join(work, "gpu.txt"), "w") as f:  # what a machine without nvidia-smi leaves
        f.write("")
    assert "### Kernels vs cuDNN / cuBLAS (box)" in run(script, work).splitlines(), "heading with an empty gpu.txt"
    with open(os.path.join(work, "gpu.txt"), "w") as f:
        f.write("NVIDIA H200, 580.159.04\n")
    out = run(script, work)
    assert "### Kernels vs cuDNN / cuBLAS (NVIDIA H200, driver 580.159.04; host box)" in out.splitlines(), \
        "heading with gpu.txt:\n" + out
    expected = ["| gemm/square_4096 | 4.0000 | 2.0000 | 0.50 |  | 4.5000 |",
                "| conv/c1/fwd | 0.5000 | 1.0000 | 2.00 | 0.7500 | 0.6000 |",
                "| conv/c2/fwd | error: result differs | 1.0 | |  |  |",
                "| frontend | 2.00 | 3.00 | 1.50 |",
                "| audio_seed_epoch | 50.00 | 60.00 | 1.20 |"]
    missing = [line for line in expected if line not in out.splitlines()]
    assert not missing, "missing rows:\n" + "\n".join(missing) + "\n--- output:\n" + out
    empty = os.path.join(work, "empty")
    os.makedirs(empty)
    assert run(script, empty).startswith("no benchmark results found in "), "empty folder"
    print("summarize.py: ok")


if __name__ == "__main__":
    main()
