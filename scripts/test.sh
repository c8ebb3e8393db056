#!/usr/bin/env bash
# The project's test command (README, second command).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release
# The fuzz targets (their own workspace; run with cargo +nightly fuzz, see fuzz/README.md) must
# keep compiling.
cargo check --quiet --manifest-path fuzz/Cargo.toml --all-targets
