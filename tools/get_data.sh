#!/usr/bin/env bash
# Fills a data folder (default ./data) with FSDD and MNIST, checking SHA-256 sums either way:
#   tools/get_data.sh                 copy from ../shared/data when it exists, else download
#   tools/get_data.sh SRC             copy from a local folder SRC (same layout)
#   DUET_DATA=DIR tools/get_data.sh   fill DIR instead of ./data
# Layout: DIR/fsdd/recordings/*.wav, DIR/mnist/*-ubyte.gz, DIR/SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${DUET_DATA:-data}
src=${1:-}
sums=$(pwd)/tools/data.sha256
fsdd_commit=26eb9aaf76e81b692f806f9140c2d2777410d7a1

# The recordings must match exactly; MNIST files are checked by their uncompressed content
# (a re-gzipped copy is equally valid).
verify() {
  (cd "$dest" && grep -E ' fsdd/recordings/' "$sums" | sha256sum --quiet -c - >/dev/null 2>&1) || return 1
  local f want got
  for f in train-images-idx3-ubyte t10k-images-idx3-ubyte train-labels-idx1-ubyte t10k-labels-idx1-ubyte; do
    want=$(grep " mnist-raw/$f\$" "$sums" | cut -d' ' -f1)
    got=$(gzip -dc "$dest/mnist/$f.gz" 2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$want" = "$got" ] || return 1
  done
}

if [ -f "$dest/.complete" ] && verify; then
  echo "get_data: $dest is complete and verified"
  exit 0
fi
mkdir -p "$dest"

if [ -z "$src" ] && [ -d ../shared/data/fsdd ]; then src=../shared/data; fi
if [ -n "$src" ] && [ "$(realpath "$src")" = "$(realpath "$dest")" ]; then
  echo "get_data: $src is the destination itself; only verifying"
elif [ -n "$src" ]; then
  [ -d "$src/fsdd" ] && [ -d "$src/mnist" ] || { echo "get_data: $src has no fsdd/ and mnist/ folders" >&2; exit 1; }
  echo "get_data: copying from $src"
  mkdir -p "$dest/fsdd" "$dest/mnist"
  cp -r "$src/fsdd/." "$dest/fsdd/"
  cp "$src/mnist/"*-ubyte.gz "$dest/mnist/"
else
  command -v curl >/dev/null || { echo "get_data: needs curl to download" >&2; exit 1; }
  echo "get_data: downloading FSDD (commit $fsdd_commit) and MNIST"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  curl -fsSL -o "$tmp/fsdd.tar.gz" \
    "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/$fsdd_commit.tar.gz"
  tar -xzf "$tmp/fsdd.tar.gz" -C "$tmp"
  mkdir -p "$dest/fsdd/recordings" "$dest/mnist"
  cp "$tmp"/free-spoken-digit-dataset-*/recordings/*.wav "$dest/fsdd/recordings/"
  cp "$tmp"/free-spoken-digit-dataset-*/README.md "$dest/fsdd/README.md"
  cp "$tmp"/free-spoken-digit-dataset-*/utils/metadata.py "$dest/fsdd/metadata.py" 2>/dev/null ||
    cp "$tmp"/free-spoken-digit-dataset-*/metadata.py "$dest/fsdd/metadata.py" 2>/dev/null || true
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    curl -fsSL -o "$dest/mnist/$f.gz" "https://ossci-datasets.s3.amazonaws.com/mnist/$f.gz"
  done
fi

echo "get_data: verifying checksums"
verify || { echo "get_data: checksum mismatch in $dest (a file is missing, damaged or a different release)" >&2; exit 1; }
touch "$dest/.complete"
echo "get_data: $dest ready ($(ls "$dest/fsdd/recordings" | wc -l) recordings, MNIST 60000 + 10000)"
