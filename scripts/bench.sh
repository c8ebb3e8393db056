#!/usr/bin/env bash
# Reproduces the figures in BENCHMARKS.md: restoration quality on spun Brown press texts, clean-text
# changes, speed, pack load time and peak memory. Needs scripts/fetch-sources.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/unspin
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "## restore quality (Brown ca01-ca44, rate 0.3)"
$bin eval restore --docs 44 --rate 0.3 --seed 1
echo
echo "## the example paragraph"
$bin restore examples/spun-news.txt --diff --color never
echo "WER spun vs original / restored vs original:"
python3 - "$bin" <<'PY'
import subprocess, sys
def words(t): return [w.strip('.,;:"').lower() for w in t.split()]
spun = open("examples/spun-news.txt").read()
orig = open("examples/spun-news.original.txt").read()
rest = subprocess.run([sys.argv[1], "restore", "examples/spun-news.txt"], capture_output=True, text=True).stdout
def errs(a, b):
    a, b = words(a), words(b)
    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
print(f"  spun: {errs(spun, orig)} words differ; restored: {errs(rest, orig)} words differ")
PY
echo
echo "## speed and memory (restore, one thread, 100 Brown files concatenated)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in target/sources/brown/c[a-d]*; do
  python3 -c "import sys; print('\n'.join(' '.join(t.rsplit('/',1)[0] for t in l.split()) for l in open(sys.argv[1])))" "$f"
done | head -c 2000000 > "$tmp/in.txt"
size=$(stat -c %s "$tmp/in.txt")
/usr/bin/time -f "%e %U %M" -o "$tmp/time" $bin restore "$tmp/in.txt" > /dev/null
read -r secs user kb < "$tmp/time"
python3 -c "print(f'  {$size/1e6:.2f} MB in {$secs:.2f} s = {$size/1e6/$secs:.2f} MB/s ({$user:.2f} s user CPU = {$size/1e6/$user:.2f} MB/s, what to compare on a shared machine); peak RSS {$kb/1024:.0f} MiB')"
echo
echo "## pack load"
for i in 1 2 3; do $bin pack info | head -1; done
