#!/usr/bin/env python3
"""duet <-> safetensors interop, both directions.

1. duet writes a checkpoint (`duet demo`); the `safetensors` package loads it and every
   value equals what duet itself reads back (`duet checkpoint --json`).
2. numpy + safetensors write a file; duet reads the same values back.
Usage: check_safetensors.py PATH/TO/duet WORKDIR
"""
import json
import os
import subprocess
import sys

try:
    import numpy as np
    from safetensors.numpy import load_file, save_file
except ImportError as e:  # tools/setup.sh installs them; CI must have them, elsewhere skip
    print(f"interop test needs numpy and safetensors (pip install numpy safetensors): {e}", file=sys.stderr)
    sys.exit(1 if os.environ.get("CI") else 77)

duet, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)

subprocess.run([duet, "demo", "--device", "cpu", "--steps", "20", "--out", work], check=True,
               stdout=subprocess.DEVNULL)
path = os.path.join(work, "model.safetensors")
theirs = load_file(path)
ours = json.loads(subprocess.run([duet, "checkpoint", path, "--json"], check=True, capture_output=True,
                                 text=True).stdout)
ours.pop("__metadata__")
assert set(theirs) == set(ours), (sorted(theirs), sorted(ours))
for name, arr in theirs.items():
    assert arr.dtype == np.float32, (name, arr.dtype)
    assert list(arr.shape) == ours[name]["shape"], (name, arr.shape, ours[name]["shape"])
    np.testing.assert_array_equal(arr.ravel().astype(np.float64), np.array(ours[name]["values"]))
print(f"safetensors loaded duet's {len(theirs)} tensors: {sorted(theirs)}")

rng = np.random.default_rng(0)
mine = {"w": rng.standard_normal((3, 4)).astype(np.float32), "labels": np.arange(5, dtype=np.int32),
        "d": rng.standard_normal(2)}
path2 = os.path.join(work, "from_numpy.safetensors")
save_file(mine, path2, metadata={"origin": "numpy"})
back = json.loads(subprocess.run([duet, "checkpoint", path2, "--json"], check=True, capture_output=True,
                                 text=True).stdout)
assert back["__metadata__"] == {"origin": "numpy"}
for name, arr in mine.items():
    assert back[name]["shape"] == list(arr.shape), name
    np.testing.assert_array_equal(np.array(back[name]["values"]), arr.ravel().astype(np.float64))
print("duet read the numpy-written file: OK")
