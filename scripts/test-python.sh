#!/usr/bin/env bash
# The Python package's tests (crates/unspin-py/tests) and the Spark jobs' (spark/), in a venv
# under target/venv-py with the pinned tools of crates/unspin-py/requirements-test.txt.
#
#   scripts/test-python.sh              every test (the Spark ones start one local[2] session)
#   scripts/test-python.sh -m spark     the Spark tests alone; -m "not spark" skips them
#
# Installs Debian openjdk-17-jre-headless when `java` is missing (PySpark needs Java 17). The
# package is installed as a user would: `pip install crates/unspin-py` (maturin builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=target/venv-py
python=${PYTHON:-python3}

# PySpark 4 needs Java 17 or later: install Debian's 17 when java is missing or older, and use it.
java_major() { java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}'; }
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -q openjdk-17-jre-headless >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q openjdk-17-jre-headless >/dev/null; }
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)
  export PATH="$JAVA_HOME/bin:$PATH"
fi

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
# Reinstalling pinned tools that are already there costs a second; the first time ~1 minute.
"$venv/bin/pip" install -q --disable-pip-version-check -r crates/unspin-py/requirements-test.txt
# The CLI the tests compare with, and the package, both with precise mode (without --precise
# nothing changes; the precise tests need the model from scripts/fetch-neural.sh).
cargo build --release --quiet -p unspin-cli --features precise
MATURIN_PEP517_ARGS="--features precise" \
  "$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps crates/unspin-py

# Spark's Python workers run this interpreter; a missing PySpark or Brown corpus is a failure.
export PYSPARK_PYTHON="$root/$venv/bin/python" PYSPARK_DRIVER_PYTHON="$root/$venv/bin/python"
export UNSPIN_REQUIRE_SPARK=1 UNSPIN_CLI="$root/target/release/unspin"
[ -e target/sources/brown/ca01 ] || scripts/fetch-sources.sh >/dev/null
export UNSPIN_REQUIRE_SOURCES=1

cd crates/unspin-py
rc=0
"$root/$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" tests || rc=$?
# pytest exits 5 when no test ran (a typo in -m, or collection found nothing): a failure here.
if [ "$rc" = 5 ]; then
  echo "test-python.sh: no tests ran" >&2
  exit 1
fi
exit "$rc"
