#!/usr/bin/env bash
# Fingerprint matching speed: unspin's matcher (crates/unspin/examples/fpscan.rs) against
# `rg -i -F -w -f phrases.txt` on a corpus of at least 500 MB built from the Brown corpus.
#
#   scripts/bench-fingerprints.sh [LIST.csv]      (default: the 51-row test sample)
#
# The corpus is the Brown corpus as plain text (wrapped at 78 columns like a text extracted from a
# PDF), with tortured phrases of the list inserted at known places: some on one line, some
# broken across a line, some hyphenated at a line end (`sick-\nness`). That base is repeated to
# MIN_MB. Everything is written under target/bench-fingerprints/ (never committed).
#
# Timings are wall clock, end to end: rg reads the phrases and the file; fpscan loads the saved
# list, builds its automaton, maps the file and scans it as one text. Each is run RUNS times,
# alternating, and the best run of each is reported with its CPU time (the machine may be
# shared). fpscan scans on one thread; rg searches a single file on one thread too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
csv=${1:-crates/unspin/tests/data/pps_sample.csv}
min_mb=${MIN_MB:-500}
runs=${RUNS:-3}
out=target/bench-fingerprints
mkdir -p "$out"

if ! command -v rg >/dev/null; then
  apt-get install -y ripgrep >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y ripgrep >/dev/null; }
fi
[ -e target/sources/brown/ca01 ] || scripts/fetch-sources.sh >/dev/null

cargo build --release --quiet -p unspin --example fpscan
fpscan=target/release/examples/fpscan

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(rg --version | sed -n 1p)"
echo "list: $csv"
$fpscan import "$csv" "$out/list.json" 2> "$out/import.log" || { cat "$out/import.log"; exit 1; }
grep -v '=' "$out/import.log" | sed 's/^/  import: /' || true
grep -E '^(rows_read|imported|skipped)=' "$out/import.log" | tr '\n' ' ' | sed 's/^/  /'; echo
$fpscan phrases "$out/list.json" > "$out/phrases.txt"
$fpscan phrases "$out/list.json" --standalone > "$out/standalone.txt"

python3 - "$out" "$min_mb" <<'PY'
import os, random, re, sys, textwrap
out, min_mb = sys.argv[1], int(sys.argv[2])
brown = "target/sources/brown"
docs = []
for name in sorted(os.listdir(brown)):
    paras = []
    for para in re.split(r"\n\s*\n", open(os.path.join(brown, name), encoding="latin-1").read()):
        words = [t.rsplit("/", 1)[0] for t in para.split()]
        words = [w.replace("``", '"').replace("''", '"') for w in words]
        if words:
            paras.append(words)
    docs.append(paras)
phrases = [p for p in open(os.path.join(out, "standalone.txt"), encoding="utf-8").read().split("\n") if p]
# Only phrases that survive wrapping intact and are words, so every insertion is one hit.
phrases = [p for p in phrases if re.fullmatch(r"[A-Za-z][A-Za-z' ]*[A-Za-z]", p) and " " in p]
rng = random.Random(1)
inserted = {"one line": 0, "line break": 0, "hyphenated": 0}
def para_text(words):
    text = " ".join(words)
    return re.sub(r" ([.,;:!?)])", r"\1", text)
base_parts = []
for paras in docs:
    for words in paras:
        if phrases and rng.random() < 0.05:
            p = rng.choice(phrases)
            kind = rng.choice(list(inserted))
            inserted[kind] += 1
            at = rng.randrange(len(words) + 1)
            # \x00 stands for a space and \x01 for a line break inside the inserted phrase, so
            # that wrapping leaves them where they are.
            ws = p.split(" ")
            if kind == "line break":
                k = rng.randrange(1, len(ws))
                piece = "\x00".join(ws[:k]) + "\x01" + "\x00".join(ws[k:])
            elif kind == "hyphenated" and max(map(len, ws)) >= 4:
                i = max(range(len(ws)), key=lambda j: len(ws[j]))
                ws[i] = ws[i][: len(ws[i]) // 2] + "-\x01" + ws[i][len(ws[i]) // 2 :]
                piece = "\x00".join(ws)
            else:
                if kind == "hyphenated":
                    inserted[kind] -= 1
                    inserted["one line"] += 1
                piece = "\x00".join(ws)
            words = words[:at] + [piece] + words[at:]
        # Wrap at 78 columns, like text extracted from a PDF.
        lines = textwrap.wrap(para_text(words), 78, break_long_words=False, break_on_hyphens=False)
        base_parts.append("\n".join(lines).replace("\x00", " ").replace("\x01", "\n"))
base = "\n\n".join(base_parts) + "\n\n"
copies = -(-min_mb * 1_000_000 // len(base.encode()))
with open(os.path.join(out, "corpus.txt"), "w", encoding="utf-8") as f:
    for _ in range(copies):
        f.write(base)
with open(os.path.join(out, "inserted.txt"), "w") as f:
    for k, v in inserted.items():
        f.write(f"{k}={v * copies}\n")
print(f"corpus: {copies} copies of {len(base.encode()) / 1e6:.1f} MB of Brown text with {sum(inserted.values())} inserted phrases each "
      + ", ".join(f"{v * copies} {k}" for k, v in inserted.items()))
PY

# The full PPS list has about 7,600 rows, four times the development slice: a list that size,
# made by giving each quoted phrase of every row a different last word in each of four copies,
# shows what loading and building cost at full scale.
python3 - "$csv" "$out/scaled.csv" <<'PY'
import csv, re, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
out = csv.writer(open(sys.argv[2], "w", newline="", encoding="utf-8"))
out.writerow(rows[0])
for k, suffix in enumerate(["", " system", " model", " method"]):
    for r in rows[1:]:
        out.writerow([re.sub(r'"([^"]+)"', lambda m: '"' + m.group(1) + suffix + '"', r[0])] + r[1:])
PY
$fpscan import "$out/scaled.csv" "$out/scaled.json" 2> "$out/scaled-import.log" || true
printf 'the text\n' > "$out/tiny.txt"
for i in 1 2 3; do $fpscan scan "$out/scaled.json" "$out/tiny.txt" 2>&1 >/dev/null | grep -E '^(entries|patterns|automaton_bytes|load_ms|build_ms)=' | tr '\n' ' '; echo; done \
  | sort -t= -k5 -n | head -1 | sed 's/^/list at full scale (best of 3): /'
for i in 1 2 3; do $fpscan scan "$out/list.json" "$out/tiny.txt" 2>&1 >/dev/null | grep -E '^(entries|patterns|automaton_bytes|load_ms|build_ms)=' | tr '\n' ' '; echo; done \
  | sort -t= -k5 -n | head -1 | sed 's/^/list as given (best of 3): /'

corpus=$out/corpus.txt
size=$(stat -c %s "$corpus")
cat "$corpus" > /dev/null  # warm the page cache for both
# Best of RUNS by wall clock, with the CPU time (user + system) of that run: on a shared machine
# the CPU time says more about the code, the wall clock is what a user waits.
timed() {  # timed NAME CMD... ; appends "wall cpu" to $out/NAME.times
  local name=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$out/time.tmp" "$@"
  awk '{printf "%s %.3f\n", $1, $2 + $3}' "$out/time.tmp" >> "$out/$name.times"
}
threads=$(nproc)
rm -f "$out/rg.times" "$out/fpscan.times" "$out/fpscan-par.times"
for i in $(seq "$runs"); do
  timed rg sh -c "rg -i -F -w -f '$out/phrases.txt' '$corpus' > '$out/rg.out' || true"
  timed fpscan sh -c "$fpscan scan '$out/list.json' '$corpus' > '$out/fpscan.out' 2> '$out/fpscan.log'"
  timed fpscan-par sh -c "$fpscan scan '$out/list.json' '$corpus' --threads $threads > '$out/fpscan-par.out' 2> '$out/fpscan-par.log'"
done
best() { sort -n "$out/$1.times" | head -1; }
read -r best_rg cpu_rg <<< "$(best rg)"
read -r best_fp cpu_fp <<< "$(best fpscan)"
read -r best_par cpu_par <<< "$(best fpscan-par)"
if ! cmp -s "$out/fpscan.out" "$out/fpscan-par.out"; then
  echo "error: $threads threads found $(cat "$out/fpscan-par.out") hits, one thread $(cat "$out/fpscan.out")" >&2
  exit 1
fi
rg_lines=$(wc -l < "$out/rg.out")
rg_matches=$(rg -i -F -w -o -f "$out/phrases.txt" "$corpus" | wc -l)
fp_hits=$(cat "$out/fpscan.out")
get() { grep -m1 "^$1=" "$out/fpscan.log" | cut -d= -f2; }
python3 - "$size" "$best_rg" "$best_fp" "$cpu_rg" "$cpu_fp" "$best_par" "$cpu_par" "$threads" "$rg_lines" "$rg_matches" "$fp_hits" "$(get hits_multiline)" \
  "$(get load_ms)" "$(get build_ms)" "$(get scan_mb_s)" "$(get patterns)" "$(get engine)" "$(get automaton_bytes)" \
  "$(grep '^one line=' "$out/inserted.txt" | cut -d= -f2)" "$(grep '^line break=' "$out/inserted.txt" | cut -d= -f2)" \
  "$(grep '^hyphenated=' "$out/inserted.txt" | cut -d= -f2)" "$(wc -l < "$out/phrases.txt")" <<'PY'
import sys
(size, t_rg, t_fp, c_rg, c_fp, t_par, c_par, threads, rg_lines, rg_matches, hits, multiline, load_ms, build_ms, scan_mbs, patterns,
 engine, aut_bytes, one, broken, hyph, nphrases) = sys.argv[1:]
size = int(size); t_rg = float(t_rg); t_fp = float(t_fp); c_rg = float(c_rg); c_fp = float(c_fp)
t_par = float(t_par); c_par = float(c_par)
print(f"corpus: {size / 1e6:.0f} MB; {nphrases} phrases in phrases.txt; fpscan automaton: {patterns} patterns, {engine}, {int(aut_bytes) / 1e6:.1f} MB")
print(f"rg -i -F -w -f phrases.txt: {t_rg:.2f} s = {size / 1e6 / t_rg:.0f} MB/s (cpu {c_rg:.2f} s); {rg_lines} lines, {rg_matches} matches (-o)")
print(f"fpscan (load {float(load_ms):.1f} ms, build {float(build_ms):.1f} ms, scan {scan_mbs} MB/s): {t_fp:.2f} s = {size / 1e6 / t_fp:.0f} MB/s end to end (cpu {c_fp:.2f} s); {hits} hits, {multiline} across a line break")
print(f"fpscan --threads {threads}: {t_par:.2f} s = {size / 1e6 / t_par:.0f} MB/s end to end (cpu {c_par:.2f} s); same hits")
print(f"ratio, one thread: fpscan is {t_rg / t_fp:.2f}x faster than rg by the clock, {c_rg / c_fp:.2f}x by CPU time")
print(f"ratio, {threads} threads: {t_rg / t_par:.2f}x by the clock")
print(f"inserted: {one} on one line, {broken} broken across a line, {hyph} hyphenated at a line end")
print(f"hits on one line: fpscan {int(hits) - int(multiline)}, rg {rg_matches} (-o); hits across lines: fpscan {multiline}, rg cannot see them")
PY
