#!/usr/bin/env bash
# The project's test command (README, second command).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release
