#!/usr/bin/env bash
# `unspin scan` throughput and peak memory (BENCHMARKS.md, "Scan (issue 5)").
#
#   scripts/bench-scan.sh            (BYTES=1000000000 SLICE=2000000 LIST=… PARTS=fp,model)
#
# The corpus is the Brown corpus repeated to BYTES of text (crates/unspin-io/examples/make_corpus.rs:
# a JSONL file and a Common Crawl-style WET file, one gzip member per record), under
# target/bench-scan/ (never committed). Measured, each with /usr/bin/time (wall clock, peak RSS):
#   - the fingerprint list alone (--fingerprints-only) over the whole JSONL and WET files, -j 1
#     and -j 2, and -j 1 pinned to one core (taskset: the reader and writer threads share it);
#   - both files in one run with --report (2 GB of text): the memory bound on a multi-GB input;
#   - the full model (detection + fingerprint list) on the first SLICE bytes of the JSONL, -j 1
#     and -j 2 (the model runs at ~0.1–0.5 MB/s per core, so not on the whole corpus);
#   - `unspin detect --json` over the same slice's documents, one file each, in one process and
#     in one process per file, against `unspin scan -j 1` over the same files: the batch path
#     costs nothing extra.
# Each result is checked: one output line per input record, no errors, the same bytes for -j 1
# and -j 2, and scan's scores equal to detect's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bytes=${BYTES:-1000000000}
slice=${SLICE:-2000000}
parts=${PARTS:-fp,model}
list=${LIST:-/work/shared/data/pps_dev.csv}
[ -e "$list" ] || list=crates/unspin/tests/data/pps_sample.csv
out=target/bench-scan
mkdir -p "$out" "$out/data"
# No installed fingerprint list leaks in: the list is always named.
export UNSPIN_DATA_DIR="$root/$out/data"

[ -e target/sources/brown/ca01 ] || scripts/fetch-sources.sh >/dev/null
cargo build --release --quiet -p unspin-cli
cargo build --release --quiet -p unspin-io --example make_corpus
bin=target/release/unspin
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
if [ "$(size "$out/brown.jsonl")" -lt "$bytes" ] || [ ! -s "$out/brown.warc.wet.gz" ]; then
  echo "making the corpus ($bytes bytes of text per file) …" >&2
  target/release/examples/make_corpus target/sources/brown "$out/brown" "$bytes" >/dev/null
  rm -f "$out/brown.warc.gz"  # make_corpus may also write HTML responses: not used here
fi
records=$(wc -l < "$out/brown.jsonl")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GB"
echo "list: $list"
echo "corpus: $out/brown.jsonl ($(size "$out/brown.jsonl") bytes, $records records), $out/brown.warc.wet.gz ($(size "$out/brown.warc.wet.gz") bytes)"
echo
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared: CPU s is user + sys)"
echo
echo "| run | input | jobs | records | text MB | wall s | CPU s | text MB/s | records/s | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|"

# run NAME INPUT-LABEL JOBS-LABEL OUT -- COMMAND…: one table row; scan's summary line gives the
# counts (for another command, RECORDS and TEXT_BYTES in the environment).
run() {
  local name=$1 label=$2 jobs=$3 output=$4
  shift 5
  local rc=0
  /usr/bin/time -f "%e %M %U %S" -o "$out/time.txt" "$@" > "$output" 2> "$out/stderr.txt" || rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "$name failed (exit $rc):" >&2
    cat "$out/stderr.txt" >&2
    exit 1
  fi
  python3 - "$name" "$label" "$jobs" "$out/time.txt" "$out/stderr.txt" <<'PY'
import os, re, sys
name, label, jobs, timef, errf = sys.argv[1:]
wall, rss_kb, user, system = open(timef).read().split()[-4:]
wall, rss, cpu = float(wall), int(rss_kb) / 1024, float(user) + float(system)
err = open(errf).read()
m = re.search(r"unspin scan: ([\d,]+) records, ([\d,]+) flagged, ([\d,]+) errors .*?([\d.]+) (MB|GB) of text", err)
if m:
    recs = int(m.group(1).replace(",", ""))
    text = float(m.group(4)) * (1000 if m.group(5) == "GB" else 1)
    errors = int(m.group(3).replace(",", ""))
    assert errors == 0, err
else:
    recs, text = int(os.environ["RECORDS"]), int(os.environ["TEXT_BYTES"]) / 1e6
print(f"| {name} | {label} | {jobs} | {recs} | {text:.1f} | {wall:.2f} | {cpu:.2f} | "
      f"{text / wall:.2f} | {recs / wall:.1f} | {rss:.0f} |")
PY
}

export LIST_FILE=$list
fp=(--fingerprints "$list" --fingerprints-only --progress never)
J=$out/brown.jsonl
W=$out/brown.warc.wet.gz

if [[ $parts == *fp* ]]; then
run "fingerprints only" "JSONL" "1" "$out/fp-j1.jsonl" -- $bin scan -j 1 "${fp[@]}" "$J"
run "fingerprints only" "JSONL" "2" "$out/fp-j2.jsonl" -- $bin scan -j 2 "${fp[@]}" "$J"
run "fingerprints only" "JSONL" "1, one core" /dev/null -- taskset -c 0 $bin scan -j 1 "${fp[@]}" "$J"
cmp "$out/fp-j1.jsonl" "$out/fp-j2.jsonl" || { echo "-j 1 and -j 2 differ" >&2; exit 1; }
[ "$(wc -l < "$out/fp-j1.jsonl")" -eq "$records" ] || { echo "not one line per record" >&2; exit 1; }
rm -f "$out/fp-j1.jsonl" "$out/fp-j2.jsonl"
run "fingerprints only" "WET.gz" "1" /dev/null -- $bin scan -j 1 "${fp[@]}" "$W"
run "fingerprints only" "WET.gz" "2" /dev/null -- $bin scan -j 2 "${fp[@]}" "$W"
run "fingerprints only, --report" "JSONL + WET.gz" "2" /dev/null -- \
  $bin scan -j 2 "${fp[@]}" --report "$out/report-fp.html" "$J" "$W"
fi

if [[ $parts == *model* ]]; then
# The model on a slice: whole records from the start of the JSONL.
head -c "$slice" "$J" | head -n -1 > "$out/slice.jsonl"
slice_records=$(wc -l < "$out/slice.jsonl")
model=(--fingerprints "$list" --progress never)
run "model + list" "JSONL slice" "1" "$out/model-j1.jsonl" -- $bin scan -j 1 "${model[@]}" "$out/slice.jsonl"
run "model + list" "JSONL slice" "2" "$out/model-j2.jsonl" -- $bin scan -j 2 "${model[@]}" "$out/slice.jsonl"
cmp "$out/model-j1.jsonl" "$out/model-j2.jsonl" || { echo "-j 1 and -j 2 differ" >&2; exit 1; }

# The same documents as text files: detect, one process over all the files, against scan.
rm -rf "$out/slice-txt"
mkdir -p "$out/slice-txt"
python3 - "$out/slice.jsonl" "$out/slice-txt" <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    with open(f"{sys.argv[2]}/{i:05d}.txt", "w", encoding="utf-8") as f:
        f.write(json.loads(line)["text"])
PY
RECORDS=$slice_records TEXT_BYTES=$(cat "$out"/slice-txt/*.txt | wc -c) \
  run "detect, file by file" "slice as .txt" "1" "$out/detect.jsonl" -- \
  $bin detect --json --fingerprints "$list" "$out"/slice-txt/*.txt
RECORDS=$slice_records TEXT_BYTES=$(cat "$out"/slice-txt/*.txt | wc -c) \
  run "detect, one process per file" "slice as .txt" "1" /dev/null -- \
  sh -c 'for f in "$@"; do "$0" detect --json --fingerprints "$LIST_FILE" "$f" || [ $? = 1 ]; done' \
  "$bin" "$out"/slice-txt/*.txt
run "scan" "slice as .txt" "1" "$out/scan-txt.jsonl" -- $bin scan -j 1 "${model[@]}" "$out/slice-txt"
python3 - "$out/detect.jsonl" "$out/scan-txt.jsonl" "$slice_records" <<'PY'
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
s = [json.loads(l) for l in open(sys.argv[2])]
assert len(d) == len(s) == int(sys.argv[3]), (len(d), len(s))
for a, b in zip(d, s):
    for k in ("score", "flagged", "spans", "fingerprints", "paragraphs"):
        assert a[k] == b[k], (a["path"], k)
print(f"\nscan and detect agree on all {len(d)} documents (score, flagged, spans, fingerprints, paragraphs)")
PY
fi
echo "slice: $(size "$out/slice.jsonl") bytes, $slice_records records; reports: $out/report-fp.html"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
