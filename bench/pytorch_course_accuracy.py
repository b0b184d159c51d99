#!/usr/bin/env python3
"""The course recipe in PyTorch on exactly the clips duet trains and tests on, so that an accuracy
gap between `duet train --arch audio:seed` and PyTorch can be told apart from split-to-split spread.

    duet split --split random --seed S -o SPLIT_DIR
    python3 bench/pytorch_course_accuracy.py --split-dir SPLIT_DIR [--seed N] [--epochs 30] [--device cpu|cuda]

Recipe (the course's): torchaudio MelSpectrogram() + AmplitudeToDB() of each clip zero-padded to 48000
samples, Conv 1->10 7x7/3, ReLU, Conv 10->10 5x5/2, ReLU, Flatten, Linear->10, PyTorch's default
initialisation, SGD lr 1e-3 momentum 0.9, batch 32 reshuffled every epoch, cross-entropy.
Prints one line per epoch and, with --json, a last line {"accuracy": ..., "per_epoch": [...]}.
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import CourseCNN, read_wav  # noqa: E402


def load_split(path):
    """path,label rows written by `duet split`; the clips zero-padded (or cut) to 48000 samples."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"pytorch_course_accuracy: cannot read {path}: {e.strerror}")
    if not rows or "path" not in rows[0] or "label" not in rows[0]:
        sys.exit(f"pytorch_course_accuracy: {path}: expected a CSV with columns path,label (from `duet split`)")
    waves = np.zeros((len(rows), 48000), dtype=np.float32)
    for i, r in enumerate(rows):
        if not os.path.isfile(r["path"]):
            sys.exit(f"pytorch_course_accuracy: {path}: clip {r['path']} not found (run from the folder duet split ran in)")
        x = read_wav(r["path"])[:48000]
        waves[i, : len(x)] = x
    return torch.from_numpy(waves), torch.tensor([int(r["label"]) for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split-dir", required=True, help="folder with train.csv and test.csv from `duet split`")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.epochs < 1:
        sys.exit("pytorch_course_accuracy: --epochs must be at least 1")
    dev = torch.device(a.device)
    torch.manual_seed(a.seed)

    mel = torchaudio.transforms.MelSpectrogram().to(dev)
    to_db = torchaudio.transforms.AmplitudeToDB().to(dev)
    data = {}
    for part in ("train", "test"):
        w, y = load_split(os.path.join(a.split_dir, part + ".csv"))
        with torch.no_grad():
            data[part] = (to_db(mel(w.to(dev))).unsqueeze(1), y.to(dev))
    xs, ys = data["train"]
    xt, yt = data["test"]

    model = CourseCNN(xs.shape[2], xs.shape[3]).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    per_epoch = []
    for ep in range(a.epochs):
        model.train()
        order = torch.randperm(len(ys), device=dev)
        total, correct = 0.0, 0
        for i in range(0, len(ys), 32):
            idx = order[i:i + 32]
            logits = model(xs[idx])
            loss = F.cross_entropy(logits, ys[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (logits.argmax(1) == ys[idx]).sum().item()
        model.eval()
        with torch.no_grad():
            acc = sum((model(xt[i:i + 256]).argmax(1) == yt[i:i + 256]).sum().item()
                      for i in range(0, len(yt), 256)) / len(yt)
        per_epoch.append(acc)
        print(f"epoch {ep + 1:3d}/{a.epochs}  train loss {total / len(ys):.4f} acc {correct / len(ys):.4f}  "
              f"test acc {acc:.4f}", flush=True)
    if a.json:
        print(json.dumps({"accuracy": per_epoch[-1], "per_epoch": per_epoch, "seed": a.seed,
                          "device": str(dev), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
