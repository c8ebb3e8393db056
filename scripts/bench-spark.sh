#!/usr/bin/env bash
# Records/s of the Spark scoring job (spark/score.py) in local mode on this machine against
# `unspin scan -j 2` on the same input, and how the job's partitions scale (BENCHMARKS.md,
# "Python and Spark (issue 9)").
#
#   scripts/bench-spark.sh            (RECORDS=3000 CHARS=1000 PARTS="1 2 4 8" MASTER=local[2])
#
# The input is RECORDS records of Brown text, each about CHARS characters (whole paragraphs,
# the 500 Brown files cycled), one JSONL file under target/bench-spark/ (never committed).
# Measured: scan -j 2; Spark's bare start-up and shutdown (a session that counts one row); then
# spark/score.py under spark-submit --master MASTER for each partition count. wall: the whole
# process, JVM start-up included; job: what the job itself reports, from the session being up to
# the Parquet written; CPU s: user + sys of the whole process tree (the JVM and its Python
# workers), the figure that depends least on what else runs on a shared machine; peak RSS: the
# process tree's summed RSS. Both sampled from /proc every 0.2 s (sample.py below).
# Each Spark result is checked against scan's: same ids, scores within 1e-6, same span offsets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
records=${RECORDS:-3000}
chars=${CHARS:-1000}
parts=${PARTS:-1 2 4 8}
master=${MASTER:-local[2]}
out=target/bench-spark
venv=target/venv-py
mkdir -p "$out" "$out/data"
export UNSPIN_DATA_DIR="$root/$out/data"   # no installed fingerprint list leaks in
export UNSPIN_PACK="$root/models/default.unspin"

[ -e target/sources/brown/ca01 ] || scripts/fetch-sources.sh >/dev/null
[ -x "$venv/bin/spark-submit" ] && "$venv/bin/python" -c "import unspin" 2>/dev/null ||
  scripts/test-python.sh -m "not spark" -q >/dev/null
cargo build --release --quiet -p unspin-cli
export PYSPARK_PYTHON="$root/$venv/bin/python" PYSPARK_DRIVER_PYTHON="$root/$venv/bin/python"
py="$root/$venv/bin/python"

"$py" - "$out/brown.jsonl" "$records" "$chars" <<'PY'
import json, sys
from pathlib import Path
out, n, chars = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = Path("target/sources/brown")
files = sorted(p for p in d.iterdir() if len(p.name) == 4 and p.name[0] == "c")
def paragraphs(p):
    for block in p.read_text(encoding="utf-8", errors="replace").split("\n\n"):
        words = [t.rsplit("/", 1)[0] for t in block.split()]
        if words:
            yield " ".join(words)
written = 0
with open(out, "w") as f:
    while written < n:
        for p in files:
            cur = []
            for para in paragraphs(p):
                cur.append(para)
                if sum(len(x) + 1 for x in cur) >= chars:
                    f.write(json.dumps({"id": f"r{written}", "text": "\n".join(cur)}) + "\n")
                    written += 1
                    cur = []
                    if written == n:
                        sys.exit(0)
PY
bytes=$(stat -c %s "$out/brown.jsonl")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GB; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $out/brown.jsonl, $records records of Brown text (~$chars characters each), $bytes bytes"
echo "versions: $("$py" -c 'import pyspark, pyarrow; print("pyspark", pyspark.__version__, "pyarrow", pyarrow.__version__)'), $(java -version 2>&1 | head -1)"
echo
echo "| run | partitions | wall s | job s | CPU s | records/s (wall) | records/s (job) | records per CPU s | peak RSS MiB (process tree) |"
echo "|---|---|---|---|---|---|---|---|---|"

# A sampler of a process tree: every 0.2 s, the summed RSS of the root and its descendants, and
# each process's CPU time (utime + stime from /proc, kept at its last value), until the root
# exits. /usr/bin/time cannot give the tree's CPU: Spark's Python workers are not waited for by
# the process it times.
cat > "$out/sample.py" <<'PY'
import os, sys, time
root, hz = int(sys.argv[1]), os.sysconf("SC_CLK_TCK")
cpu, peak = {}, 0
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / hz, int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
def alive(pid):
    # The root stays a zombie until the shell reaps it, after this script ends.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
while alive(root):
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                procs[int(d)] = stat(d)
            except (OSError, ValueError, IndexError):
                pass
    tree, rss = {root}, 0
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _, _) in procs.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    for pid in tree:
        if pid in procs:
            _, c, r = procs[pid]
            cpu[pid] = max(cpu.get(pid, 0.0), c)
            rss += r
    peak = max(peak, rss)
    time.sleep(0.2)
print(round(sum(cpu.values()), 1), peak // (1 << 20))
PY

# timed OUT ERR COMMAND…: runs COMMAND, sets $wall (s), $cpu (CPU s of the whole process tree)
# and $rss (the tree's peak summed RSS, MiB).
timed() {
  local o=$1 e=$2
  shift 2
  local t0
  t0=$(date +%s.%N)
  "$@" > "$o" 2> "$e" &
  local pid=$!
  "$py" "$out/sample.py" "$pid" > "$out/sample.txt"
  wait "$pid" || [ $? = 1 ]
  wall=$("$py" -c "print(round($(date +%s.%N) - $t0, 2))")
  read -r cpu rss < "$out/sample.txt"
}

timed /dev/null "$out/scan.err" target/release/unspin scan "$out/brown.jsonl" -j 2 --progress never -o "$out/scan.jsonl"
echo "| \`unspin scan -j 2\` | – | $wall | – | $cpu | $("$py" -c "print(round($records/$wall))") | – | $("$py" -c "print(round($records/$cpu))") | $rss |"

# Spark's own cost: start a session, count one row, stop.
cat > "$out/empty.py" <<'PY'
from pyspark.sql import SparkSession
s = SparkSession.builder.appName("empty").getOrCreate()
s.range(1).count()
s.stop()
PY
timed /dev/null /dev/null "$venv/bin/spark-submit" --master "$master" "$out/empty.py"
echo "| Spark start-up, one-row job, shutdown | – | $wall | – | $cpu | – | – | – | $rss |"
startup=$wall

for p in $parts; do
  rm -rf "$out/scores-$p"
  timed "$out/spark-$p.out" "$out/spark-$p.err" "$venv/bin/spark-submit" --master "$master" \
    --conf spark.ui.enabled=false --driver-memory 2g \
    spark/score.py --jsonl "$out/brown.jsonl" -o "$out/scores-$p" --partitions "$p"
  # spark-submit runs the Python driver with its stderr merged into stdout.
  job=$(cat "$out/spark-$p.out" "$out/spark-$p.err" | grep '^unspin-score:' | grep -o 'in [0-9.]* s' | awk '{print $2}')
  "$py" - "$out/scores-$p" "$out/scan.jsonl" <<'PY'
import json, sys
import pyarrow.parquet as pq
rows = {r["id"]: r for r in pq.read_table(sys.argv[1], columns=["id", "score", "spans"]).to_pylist()}
want = {}
for l in open(sys.argv[2]):
    j = json.loads(l)
    want[j["id"]] = j
assert rows.keys() == want.keys(), "different records"
for i, w in want.items():
    r = rows[i]
    assert abs(r["score"] - w["score"]) <= 1e-6 * max(1, w["score"]), i
    assert [(s["start"], s["end"]) for s in r["spans"]] == [(s["start"], s["end"]) for s in w["spans"]], i
PY
  echo "| \`spark/score.py\` ($master) | $p | $wall | $job | $cpu | $("$py" -c "print(round($records/$wall))") | $("$py" -c "print(round($records/$job))") | $("$py" -c "print(round($records/$cpu))") | $rss |"
done
echo
echo "Spark start-up and shutdown alone: $startup s. Every Spark result equals scan's (ids, scores, span offsets)."
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Tracing: spark/trace.py against `unspin index build` + `unspin trace --queries` on the same
# originals (every Brown file, whole) and suspects (SUSPECTS of them spun at rate 0.3, plus 50
# files' worth of unrelated text that is not among the originals: the Brown files again, each
# spun at rate 0.3 with its words reversed per paragraph, so that nothing of it can be traced).
if [ "${TRACE:-1}" = 1 ]; then
  suspects=${SUSPECTS:-100}
  "$py" - "$out" "$suspects" <<'PY'
import json, random, sys
from pathlib import Path
import unspin
out, n = Path(sys.argv[1]), int(sys.argv[2])
d = Path("target/sources/brown")
files = sorted(p for p in d.iterdir() if len(p.name) == 4 and p.name[0] == "c")
def text(p):
    paras = []
    for block in p.read_text(encoding="utf-8", errors="replace").split("\n\n"):
        words = [t.rsplit("/", 1)[0] for t in block.split()]
        if words:
            paras.append(" ".join(words))
    return "\n".join(paras)
docs = [(p.name, text(p)) for p in files]
with open(out / "originals.jsonl", "w") as f:
    for i, t in docs:
        f.write(json.dumps({"id": i, "text": t}) + "\n")
rng = random.Random(9)
picked = rng.sample(docs, n)
with open(out / "suspects.jsonl", "w") as f:
    for k, (i, t) in enumerate(picked):
        f.write(json.dumps({"id": f"spun-{i}", "text": unspin.spin(t, seed=k, rate=0.3)[0]}) + "\n")
    for k, (i, t) in enumerate(rng.sample(docs, 50)):
        rev = "\n".join(" ".join(reversed(p.split())) for p in t.split("\n"))
        f.write(json.dumps({"id": f"none-{i}", "text": unspin.spin(rev, seed=k, rate=0.3)[0]}) + "\n")
PY
  echo
  echo "Tracing: $(wc -l < "$out/originals.jsonl") originals ($(stat -c %s "$out/originals.jsonl") bytes), $(wc -l < "$out/suspects.jsonl") suspects ($suspects spun copies, 50 untraceable)"
  echo
  echo "| run | wall s | job s | CPU s | suspects traced to the right source | untraceable suspects given a source | peak RSS MiB |"
  echo "|---|---|---|---|---|---|---|"
  check() {
    "$py" - "$@" <<'PY'
import json, sys
import pyarrow.parquet as pq
kind, path = sys.argv[1], sys.argv[2]
best = {}
if kind == "cli":
    for l in open(path):
        j = json.loads(l)
        if j["matches"]:
            best[j["query_id"]] = j["matches"][0]["id"]
else:
    for r in pq.read_table(path).to_pylist():
        if r["rank"] == 1:
            best[r["query_id"]] = r["source_id"]
spun = [q for q in best if q.startswith("spun-")]
right = sum(best[q] == q[len("spun-"):] for q in spun)
wrong = sum(q.startswith("none-") for q in best)
print(right, wrong)
PY
  }
  rm -f "$out/originals.idx"
  timed /dev/null "$out/index.err" bash -c "target/release/unspin index build '$out/originals.jsonl' -o '$out/originals.idx' -j 2 --progress never && target/release/unspin trace --index '$out/originals.idx' --queries '$out/suspects.jsonl' -j 2 -o '$out/traced.jsonl'"
  read -r right wrong <<< "$(check cli "$out/traced.jsonl")"
  echo "| \`unspin index build -j 2\` + \`unspin trace --queries -j 2\` | $wall | – | $cpu | $right / $suspects | $wrong / 50 | $rss |"
  rm -rf "$out/sources"
  timed "$out/trace.out" "$out/trace.err" "$venv/bin/spark-submit" --master "$master" \
    --conf spark.ui.enabled=false --driver-memory 2g --conf spark.sql.shuffle.partitions=8 \
    spark/trace.py --originals-jsonl "$out/originals.jsonl" --candidates-jsonl "$out/suspects.jsonl" \
    -o "$out/sources" --partitions 4
  read -r right wrong <<< "$(check spark "$out/sources")"
  job=$(cat "$out/trace.out" "$out/trace.err" | grep '^unspin-trace:' | grep -o 'in [0-9.]* s' | awk '{print $2}')
  echo "| \`spark/trace.py\` ($master, 4 partitions) | $wall | $job | $cpu | $right / $suspects | $wrong / 50 | $rss |"
fi
