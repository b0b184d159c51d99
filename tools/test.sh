#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds (with CUDA compilation when the
# toolkit is present), and runs every test. Tests labelled `gpu` skip without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh "$@"
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure --parallel "$(nproc)"
