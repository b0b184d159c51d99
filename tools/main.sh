#!/usr/bin/env bash
# The main job: install what is missing, build, fetch the data, then train the audio model,
# the image model and the attention fusion (initialised from the two), and print how each
# does, alone and together, on clean and degraded inputs.
#   bash tools/main.sh            full recipes on a GPU; shorter CPU recipes without one
#   bash tools/main.sh --full     the full recipes even on the CPU (hours)
# Results: runs/audio, runs/image, runs/fusion (metrics, curves, confusion, checkpoints,
# robustness.csv/png for each, disagreements.csv for the fusion; the image model on printed
# digits of every installed font in runs/image/fonts/inputs.csv, the audio model on synthetic
# voices, tools/voices.py, in runs/audio/voices/inputs.csv).
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
[ "${1:-}" = "--full" ] && full=1
bash tools/setup.sh
bash tools/build.sh
bash tools/get_data.sh
export DUET_DATA=${DUET_DATA:-data}
duet=build/duet
$duet devices
if $duet devices | grep -q "^GPU 0" || [ $full -eq 1 ]; then
  audio_args=() image_args=() fusion_args=()
  echo "main: full recipes"
else
  # 6-9 minutes on 2 cores, build included; docs/training.md lists what these reach. The short image
  # model reads each picture once: five readings would make its --robustness evaluation about
  # 8 minutes longer on the CPU (docs/training.md, Test-time shifts).
  audio_args=(--epochs 8) image_args=(--epochs 1 --train-limit 10000 --test-shift 0) fusion_args=(--epochs 3)
  echo "main: no GPU, shorter CPU recipes (bash tools/main.sh --full for the full ones)"
fi
$duet train --model audio --split random --out runs/audio "${audio_args[@]}"
$duet train --model image --out runs/image "${image_args[@]}"
$duet train --model fusion --fusion attention --split random --init-audio runs/audio --init-image runs/image \
  --out runs/fusion "${fusion_args[@]}"
echo
echo "== audio alone, clean and degraded (noise, voices, rooms) =="
$duet eval --model-dir runs/audio --robustness
if python3 tools/voices.py runs/voices >/dev/null 2>&1; then
  echo "== audio alone on synthetic voices (espeak-ng's accents in men's and women's voices, flite; never heard in training) =="
  $duet eval --model-dir runs/audio --inputs runs/voices --out runs/audio/voices >/dev/null
  python3 tools/voices.py --report runs/audio/voices/inputs.csv | grep -v "^variant:"
fi
echo "== image alone, clean and degraded =="
$duet eval --model-dir runs/image --robustness
if $duet fonts --out runs/fonts >/dev/null 2>&1; then
  echo "== image alone on printed digits (every installed font, never seen in training) =="
  $duet eval --model-dir runs/image --inputs runs/fonts --out runs/image/fonts | sed "/^per-group/d"
fi
echo "== fusion (attention), clean and degraded =="
$duet eval --model-dir runs/fusion
echo
echo "main: results in runs/audio, runs/image, runs/fusion"
