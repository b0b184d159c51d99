#!/usr/bin/env python3
"""A model folder's config.json is a file users can edit: every field `duet predict` reads is
set in turn to a wrong value (zero, negative, huge, tiny, fractional, another type, null, a
list, an empty one) and predict must either answer with finite probabilities or refuse with one
line on stderr and exit 1: never crash, hang or print NaN.

Usage: check_config_fields.py DUET MODEL_DIR WORK -- PREDICT_ARGS...
(PREDICT_ARGS: the input, e.g. --image x.pgm). Prints one line per problem and a summary; exits
1 when there was a problem."""
import copy
import json
import math
import os
import shutil
import subprocess
import sys

# The fields predict does not read: results and how the model was trained.
SKIPPED = {"results", "train", "data"}


def leaves(x, path):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from leaves(v, path + [k])
    else:
        yield path, x


def wrong_values(v):
    if isinstance(v, bool):
        return ["yes", 3, None]
    if isinstance(v, (int, float)):
        return [0, -1, 1e12, 1e-30, 0.5, "x", None, [1]]
    if isinstance(v, str):
        return ["", "bogus", 5, None]
    if isinstance(v, list):
        out = [[], "x", None]
        if v and all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in v):
            out += [v[:1], v + v[:1], [0] * len(v), [-1] * len(v), [1e12] * len(v)]
        return out
    return [None, 1]


def main():
    if len(sys.argv) < 5 or sys.argv[4] != "--":
        sys.exit(__doc__)
    duet, model_dir, work = sys.argv[1:4]
    predict_args = sys.argv[5:]
    base = json.load(open(os.path.join(model_dir, "config.json")))
    folder = os.path.join(work, "model")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    shutil.copy(os.path.join(model_dir, "model.safetensors"), folder)
    problems = runs = answered = refused = 0
    for path, value in leaves(base, []):
        if path[0] in SKIPPED:
            continue
        for wrong in wrong_values(value):
            config = copy.deepcopy(base)
            node = config
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = wrong
            with open(os.path.join(folder, "config.json"), "w") as f:
                json.dump(config, f)
            runs += 1
            try:
                r = subprocess.run([duet, "predict", "--model-dir", folder, *predict_args, "--json", "--device", "cpu"],
                                   capture_output=True, text=True, timeout=60)
                rc, out, err = r.returncode, r.stdout, r.stderr
            except subprocess.TimeoutExpired:
                rc, out, err = "timeout", "", ""
            lines = [l for l in err.splitlines() if l.strip()]
            problem = None
            answered += rc == 0
            refused += rc == 1
            if rc == 0:
                try:
                    probabilities = json.loads(out)["probabilities"]
                    if not all(isinstance(p, (int, float)) and math.isfinite(p) for p in probabilities):
                        problem = f"probabilities not finite numbers: {probabilities}"
                except (ValueError, KeyError, TypeError) as e:
                    problem = f"output not the JSON predict promises ({e})"
            elif rc == 1:
                # One error line (a note may come before it), as tests/cli/lib.sh's expect_fail.
                if len([l for l in lines if l.startswith("duet: error: ")]) != 1 or len(lines) > 2:
                    problem = "not one error line"
            else:
                problem = f"exit status {rc}"
            if problem:
                problems += 1
                print(f"FAIL config {'.'.join(path)} = {json.dumps(wrong)[:60]}: {problem}: {err.strip()[:300]}")
    if refused == 0:
        problems += 1
        print("FAIL config fields: no wrong value was refused (is the sweep reaching the loader?)")
    print(f"config fields ({os.path.basename(model_dir.rstrip('/'))}): {runs} wrong values, {answered} answered, "
          f"{refused} refused, {problems} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
