#!/usr/bin/env python3
"""duet's course recipe against PyTorch's, step for step.

duet_course_steps trains audio:seed for a few SGD steps from its own initialisation on the
training clips in split order and writes the initial and final weights and every step's loss.
This script loads the same initial weights into the PyTorch course CNN, computes the course's
features with torchaudio (MelSpectrogram() + AmplitudeToDB() of each clip zero-padded to 48000
samples), replays the same batches with torch.optim.SGD(lr=1e-3, momentum=0.9), and compares
the losses and the final weights. The two frameworks see the same numbers, so any difference
beyond float32 rounding is a difference in the recipe.

Usage: check_course_steps.py PATH/TO/duet_course_steps DATA_DIR WORKDIR [STEPS] [cpu|cuda]
($DUET_DATA, when set, takes the place of DATA_DIR.)
Exit 77 (skipped) when torch, torchaudio or safetensors is missing outside CI, or the data is absent.
"""
import json
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    import torchaudio
except ImportError as e:
    print(f"course step check needs torch, torchaudio and numpy: {e}", file=sys.stderr)
    sys.exit(77)


def load_file(path):
    """A float32 safetensors file as {name: array} (the format is 8 bytes of header length,
    a JSON header, then the raw tensors), so the check needs no safetensors package."""
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", f"{path}: {name} is {t['dtype']}, expected F32"
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + b: 8 + n + e], dtype="<f4").reshape(t["shape"])
    return out

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from pytorch_reference import CourseCNN, read_wav  # noqa: E402

if len(sys.argv) < 4:
    sys.exit("usage: check_course_steps.py PATH/TO/duet_course_steps DATA_DIR WORKDIR [STEPS] [cpu|cuda]")
exe, data, work = sys.argv[1:4]
data = os.environ.get("DUET_DATA") or data  # as the other tests: $DUET_DATA first
steps = sys.argv[4] if len(sys.argv) > 4 else "20"
device = sys.argv[5] if len(sys.argv) > 5 else "cpu"
if not os.path.isdir(os.path.join(data, "fsdd", "recordings")):
    print(f"no FSDD under {data}", file=sys.stderr)
    sys.exit(77)
if device == "cuda" and not torch.cuda.is_available():
    print("no GPU for PyTorch", file=sys.stderr)
    sys.exit(77)
r = subprocess.run([exe, data, work, steps, device])
if r.returncode != 0:
    sys.exit(r.returncode)

run = json.load(open(os.path.join(work, "steps.json")))
init = load_file(os.path.join(work, "init.safetensors"))
final = load_file(os.path.join(work, "final.safetensors"))
dev = torch.device(device)
torch.backends.cudnn.allow_tf32 = False  # duet computes in plain float32
torch.backends.cuda.matmul.allow_tf32 = False

model = CourseCNN().to(dev)
state = model.state_dict()
assert set(state) == set(init), f"parameter names differ: torch {sorted(state)} vs duet {sorted(init)}"
model.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()})
opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

waves = np.zeros((len(run["clips"]), 48000), dtype=np.float32)
labels = []
for i, path in enumerate(run["clips"]):
    x = read_wav(path)[:48000]
    waves[i, : len(x)] = x
    labels.append(int(os.path.basename(path).split("_")[0]))
with torch.no_grad():
    feats = torchaudio.transforms.AmplitudeToDB()(torchaudio.transforms.MelSpectrogram()(
        torch.from_numpy(waves))).unsqueeze(1).to(dev)
y = torch.tensor(labels).to(dev)

failures = 0
worst = 0.0
for s, duet_loss in enumerate(run["losses"]):
    xb, yb = feats[32 * s: 32 * (s + 1)], y[32 * s: 32 * (s + 1)]
    loss = F.cross_entropy(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    rel = abs(loss.item() - duet_loss) / max(1.0, abs(loss.item()))
    worst = max(worst, rel)
    print(f"step {s + 1:3d}  torch {loss.item():.6f}  duet {duet_loss:.6f}  rel {rel:.2e}")
    if rel > 1e-3:
        failures += 1
for name, p in model.state_dict().items():
    t = p.detach().cpu().numpy()
    d = final[name]
    err = np.abs(t - d).max() / max(1e-6, np.abs(t).max())
    print(f"{name:14s} max |torch - duet| / max |torch| = {err:.2e}")
    if err > 1e-3:
        failures += 1
print(f"{len(run['losses'])} steps on {device}: worst relative loss difference {worst:.2e}; "
      f"{'FAIL' if failures else 'ok'}")
sys.exit(1 if failures else 0)
