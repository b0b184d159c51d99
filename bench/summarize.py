#!/usr/bin/env python3
"""Tables from a tools/gpu_check.sh output folder.

    python3 bench/summarize.py OUT_DIR

Reads OUT/kernels.json (Google Benchmark: rows named ours/..., vendor/... and, for
convolutions, direct/... (the direct algorithm) with the same label), OUT/kernels_single.json
when present (our kernels again with the single-buffered GEMM main loop), OUT/gpu.txt (the
GPU's name and driver, as nvidia-smi --query-gpu=name,driver_version writes them), OUT/duet_bench.json
and OUT/pytorch.json, and prints Markdown tables of ours, the reference and their ratio
(reference time / our time: > 1 means duet is faster).
"""
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def machine(out, kernels):
    """The GPU named by OUT/gpu.txt (first line: name, driver) and the host Google Benchmark saw."""
    host = kernels.get("context", {}).get("host_name", "")
    try:
        with open(os.path.join(out, "gpu.txt")) as f:
            name, _, driver = f.readline().strip().partition(",")
    except OSError:
        return host
    if not name.strip():  # nvidia-smi missing or silent
        return host
    gpu = name.strip() + (f", driver {driver.strip()}" if driver.strip() else "")
    return f"{gpu}; host {host}" if host else gpu


def main():
    out = sys.argv[1]
    lines = []
    k = load(os.path.join(out, "kernels.json"))
    if k:
        rows = {}
        for b in k.get("benchmarks", []):
            if b.get("error_occurred"):
                who, label = b["name"].split("/", 1)
                rows.setdefault(label, {})[who] = "error: " + b.get("error_message", "")
                continue
            who, label = b["name"].split("/", 1)
            rows.setdefault(label, {})[who] = b["real_time"]  # ms (Unit is kMillisecond)
        single = {}
        for b in (load(os.path.join(out, "kernels_single.json")) or {}).get("benchmarks", []):
            who, label = b["name"].split("/", 1)
            if who == "ours" and not b.get("error_occurred"):
                single[label] = b["real_time"]
        lines.append(f"### Kernels vs cuDNN / cuBLAS ({machine(out, k)})\n")
        lines.append("| kernel | duet (ms) | cuDNN/cuBLAS (ms) | vendor/duet | duet direct (ms) | duet single-buffered (ms) |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for label, r in rows.items():
            o, v, dr = r.get("ours"), r.get("vendor"), r.get("direct")
            dtxt = f"{dr:.4f}" if isinstance(dr, float) else (dr or "")
            stxt = f"{single[label]:.4f}" if label in single else ""
            name = label.replace("/manual_time", "")
            if isinstance(o, float) and isinstance(v, float):
                lines.append(f"| {name} | {o:.4f} | {v:.4f} | {v / o:.2f} | {dtxt} | {stxt} |")
            else:
                lines.append(f"| {name} | {o} | {v} | | {dtxt} | {stxt} |")
        lines.append("")
    d, p = load(os.path.join(out, "duet_bench.json")), load(os.path.join(out, "pytorch.json"))
    if d and p:
        lines.append(f"### End to end vs PyTorch {p.get('torch', '')} ({p.get('gpu', '')}, median of {p.get('repeat')})\n")
        lines.append("| workload | duet (ms) | PyTorch (ms) | PyTorch/duet |")
        lines.append("|---|---:|---:|---:|")
        for key in ["frontend_ms", "audio_seed_epoch_ms", "image_duet_epoch_ms", "fusion_concat_epoch_ms"]:
            if key in d and key in p:
                lines.append(f"| {key[:-3]} | {d[key]:.2f} | {p[key]:.2f} | {p[key] / d[key]:.2f} |")
        lines.append("")
    print("\n".join(lines) if lines else "no benchmark results found in " + out)


if __name__ == "__main__":
    main()
