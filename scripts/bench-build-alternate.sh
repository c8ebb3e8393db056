#!/usr/bin/env bash
# Times `index build -j1` of the 1 M benchmark corpus with several unspin binaries, alternating
# them (two rounds), the output removed before each run: the way BENCHMARKS.md compares builds
# on a noisy machine. Usage: scripts/bench-build-alternate.sh BIN… (build the baseline in a git
# worktree with its own CARGO_TARGET_DIR). Needs target/trace-bench from scripts/bench-trace.sh.
set -euo pipefail
docs=${DOCS:-target/trace-bench/docs-1000000.jsonl}
n=${N:-1000000}
out=${OUT:-/tmp/unspin-build-alternate.unspinx}
rounds=${ROUNDS:-2}
[ $# -gt 0 ] || { echo "usage: $0 BIN…" >&2; exit 2; }
[ -s "$docs" ] || { echo "$docs: missing (run scripts/bench-trace.sh first)" >&2; exit 2; }
for round in $(seq "$rounds"); do
  for bin in "$@"; do
    rm -f "$out"; sync; sleep 2
    /usr/bin/time -f "$bin: %e s (%U user + %S system), peak RSS %M KB" \
      "$bin" index build "$docs" --limit "$n" -o "$out" -j1 --progress never > /dev/null
  done
done
rm -f "$out"
