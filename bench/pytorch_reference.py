#!/usr/bin/env python3
"""The PyTorch side of `duet bench`: the same workloads, same data, same GPU, same timing rule
(median of --repeat runs after one warm-up, data preloaded on the device).

    python3 bench/pytorch_reference.py --data DATA_DIR [--repeat 5] [--json]

frontend       torchaudio MelSpectrogram() + AmplitudeToDB() of 3000 clips x 48000 samples
audio_seed     one epoch of the course CNN on 2250 clips (random 75/25 split), batch 32, SGD 1e-3/0.9
image_duet     one epoch of the MNIST CNN (conv32-conv64-pool-fc128-fc10), batch 64
fusion_concat  one epoch of naive concat fusion (course CNN + MNIST CNN features -> linear), batch 32
"""
import argparse
import gzip
import json
import os
import random
import statistics
import sys
import time
import wave

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio


def read_wav(path):
    with wave.open(path, "rb") as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    return x


def load_fsdd(root):
    d = os.path.join(root, "fsdd", "recordings")
    names = sorted(f for f in os.listdir(d) if f.endswith(".wav"))
    waves = np.zeros((len(names), 48000), dtype=np.float32)
    labels = []
    for i, n in enumerate(names):
        x = read_wav(os.path.join(d, n))[:48000]
        waves[i, : len(x)] = x
        labels.append(int(n.split("_")[0]))
    return waves, np.array(labels)


def load_mnist(root):
    with gzip.open(os.path.join(root, "mnist", "train-images-idx3-ubyte.gz")) as f:
        img = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(root, "mnist", "train-labels-idx1-ubyte.gz")) as f:
        lab = np.frombuffer(f.read()[8:], dtype=np.uint8)
    return (img.astype(np.float32) / 255.0 - 0.1307) / 0.3081, lab.astype(np.int64)


class CourseCNN(nn.Module):
    def __init__(self, h=128, w=241):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 7, stride=3)
        self.conv2 = nn.Conv2d(10, 10, 5, stride=2)
        ho, wo = ((h - 7) // 3 + 1 - 5) // 2 + 1, ((w - 7) // 3 + 1 - 5) // 2 + 1
        self.fc = nn.Linear(10 * ho * wo, 10)

    def features(self, x):
        return torch.flatten(F.relu(self.conv2(F.relu(self.conv1(x)))), 1)

    def forward(self, x):
        return self.fc(self.features(x))


class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.dropout(torch.flatten(x, 1), 0.25, self.training)
        return F.dropout(F.relu(self.fc1(x)), 0.5, self.training)

    def forward(self, x):
        return self.fc2(self.features(x))


def median_ms(repeat, fn):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def epoch(model, opt, batches):
    for x, y in batches:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("DUET_DATA", "data"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("pytorch_reference: no CUDA device", file=sys.stderr)
        sys.exit(1)
    dev = torch.device("cuda")
    torch.manual_seed(0)
    out = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "repeat": a.repeat}

    waves, labels = load_fsdd(a.data)
    w = torch.from_numpy(waves).to(dev)
    mel = torchaudio.transforms.MelSpectrogram().to(dev)
    to_db = torchaudio.transforms.AmplitudeToDB().to(dev)
    out["frontend_ms"] = median_ms(a.repeat, lambda: to_db(mel(w)))

    with torch.no_grad():
        feats = to_db(mel(w)).unsqueeze(1)  # [3000, 1, 128, 241]
    idx = list(range(len(labels)))
    random.Random(0).shuffle(idx)
    train = idx[750:]
    xs = feats[train]
    ys = torch.from_numpy(labels[train]).to(dev)
    audio_batches = [(xs[i:i + 32], ys[i:i + 32]) for i in range(0, len(train), 32)]
    m = CourseCNN().to(dev)
    opt = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9)
    out["audio_seed_epoch_ms"] = median_ms(a.repeat, lambda: epoch(m, opt, audio_batches))

    img, lab = load_mnist(a.data)
    xi = torch.from_numpy(img).to(dev)
    yi = torch.from_numpy(lab).to(dev)
    img_batches = [(xi[i:i + 64], yi[i:i + 64]) for i in range(0, len(lab), 64)]
    mi = MnistCNN().to(dev)
    opt = torch.optim.SGD(mi.parameters(), lr=0.01, momentum=0.9)
    out["image_duet_epoch_ms"] = median_ms(max(1, a.repeat // 2), lambda: epoch(mi, opt, img_batches))

    by_digit = [np.flatnonzero(lab == d) for d in range(10)]
    nxt = [0] * 10
    pick = []
    for d in labels[train]:
        pick.append(by_digit[d][nxt[d]])
        nxt[d] += 1
    paired = xi[torch.from_numpy(np.array(pick)).to(dev)]

    class Concat(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.i = CourseCNN(), MnistCNN()
            self.head = nn.Linear(10 * 19 * 38 + 128, 10)

        def forward(self, xa, xi):
            return self.head(torch.cat([self.a.features(xa), self.i.features(xi)], 1))

    mf = Concat().to(dev)
    opt = torch.optim.SGD(mf.parameters(), lr=1e-3, momentum=0.9)
    fusion_batches = [(xs[i:i + 32], paired[i:i + 32], ys[i:i + 32]) for i in range(0, len(train), 32)]

    def fusion_epoch():
        for xa, xb, y in fusion_batches:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(mf(xa, xb), y).backward()
            opt.step()

    out["fusion_concat_epoch_ms"] = median_ms(a.repeat, fusion_epoch)
    if a.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:24s} {v:10.2f} ms" if isinstance(v, float) else f"{k:24s} {v}")


if __name__ == "__main__":
    main()
