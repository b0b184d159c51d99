#!/usr/bin/env bash
# Installs what duet needs to build and test, on Debian/Ubuntu with the CUDA toolkit
# (or without it: duet then builds its CPU-only engine). Safe to run again: it installs
# only what is missing, and on a machine where nothing can be installed it says what is
# missing instead.
set -euo pipefail

debs=(cmake ninja-build g++ pkg-config zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
      libfftw3-dev libstb-dev nlohmann-json3-dev libopenblas-dev python3 python3-pip fonts-dejavu-core
      espeak-ng flite flac lame mpg123 ffmpeg vorbis-tools)
missing=()
for p in "${debs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: cannot install ${missing[*]} here (not root, no sudo); continuing with what is present" >&2
  fi
fi

# Python packages for the interop test and the reference scripts.
if ! python3 -c "import numpy, safetensors" 2>/dev/null; then
  echo "setup: installing numpy and safetensors (pip)"
  python3 -m pip install -q numpy safetensors 2>/dev/null ||
    python3 -m pip install -q --break-system-packages numpy safetensors ||
    echo "setup: could not pip-install numpy/safetensors; the interop test will be skipped" >&2
fi

if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: CUDA toolkit found ($( (command -v nvcc || echo /usr/local/cuda/bin/nvcc) ))"
else
  echo "setup: no CUDA toolkit found; duet will build its CPU-only engine"
fi
