#!/usr/bin/env bash
# The main job: install what is missing, build, and run duet's default job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
build/duet devices
build/duet demo --out runs/demo
echo "main: results in runs/"
