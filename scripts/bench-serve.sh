#!/usr/bin/env bash
# `unspin serve` under load on loopback (BENCHMARKS.md, "Serve (issue 8)").
#
#   scripts/bench-serve.sh            (DURATION=10s CONNS="1 8 64" ENDPOINTS="detect restore")
#
# The server runs with its defaults (one analysis per core, 30 s timeout, 1 MiB bodies) on a
# free port of 127.0.0.1 and nothing else is contacted. The body is a 2 KB text: the first Brown
# press text (target/sources/brown, scripts/fetch-sources.sh) cut at a sentence end below
# 2,048 bytes and spun by the reference spinner (seed 7, rate 0.3), so every request has real
# work to do. wrk (Debian package `wrk`, installed here if missing) POSTs it for DURATION per
# row at each number of connections, with a 30 s socket timeout like the server's; its Lua
# hook prints requests/s, p50/p99 latency and errors (non-2xx answers, socket errors and
# timeouts). Peak RSS is the server's VmHWM from /proc after each row (a high-water mark: it
# only grows). The server must then stop with exit status 0 on SIGTERM.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
duration=${DURATION:-10s}
conns=${CONNS:-"1 8 64"}
endpoints=${ENDPOINTS:-"detect restore"}
out=target/bench-serve
mkdir -p "$out"

if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -q wrk >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q wrk >/dev/null; }
fi
[ -e target/sources/brown/ca01 ] || scripts/fetch-sources.sh >/dev/null
cargo build --release --quiet -p unspin-cli
bin=target/release/unspin
export UNSPIN_PACK="$root/models/default.unspin"

# The 2 KB text: Brown ca01 untagged, cut at a sentence end, then spun.
python3 - target/sources/brown/ca01 > "$out/clean.txt" <<'EOF'
import re, sys
raw = open(sys.argv[1], encoding="latin-1").read()
paras = []
for block in raw.split("\n\n"):
    words = [t.rsplit("/", 1)[0] for t in block.split()]
    if words:
        p = " ".join(words).replace("``", '"').replace("''", '"')
        p = re.sub(r' ([,.;:?!)])', r'\1', p)
        p = re.sub(r'([(]) ', r'\1', p)
        p = re.sub(r'" (.*?) "', r'"\1"', p)
        paras.append(p)
text = ""
for p in paras:
    if len((text + p + "\n\n").encode()) > 2048:
        break
    text += p + "\n\n"
sys.stdout.write(text)
EOF
"$bin" spin --seed 7 --rate 0.3 "$out/clean.txt" > "$out/spun.txt"
python3 -c 'import json,sys; print(json.dumps({"text": open(sys.argv[1]).read()}))' "$out/spun.txt" > "$out/body.json"
cat > "$out/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("$root/$out/body.json", "rb"))
wrk.body = f:read("*a")
f:close()
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.1f %.1f %.1f %d %d\n",
    summary.requests, summary.duration,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
EOF

"$bin" serve --addr 127.0.0.1:0 --no-fingerprints 2> "$out/server.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 200); do
  grep -q "listening on" "$out/server.log" && break
  sleep 0.05
done
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out/server.log" | head -1)
[ -n "$url" ] || { cat "$out/server.log" >&2; exit 1; }
kib() { awk -v k="$1" '/^'"$1"':/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GB; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: $(head -1 "$out/server.log" | sed 's/^unspin serve: //'); idle RSS $(kib VmRSS) MiB"
echo "body: $(stat -c %s "$out/spun.txt") bytes of text ($(wc -w < "$out/spun.txt") words), $(stat -c %s "$out/body.json") bytes of JSON; $duration per row"
echo
echo "| endpoint | connections | requests | requests/s | p50 ms | p99 ms | errors (non-2xx / socket) | server peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
for ep in $endpoints; do
  # A first request checks the answer, so that a fast wrong one cannot pass for a result.
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$out/body.json" "$url/v1/$ep" > "$out/$ep.json"
  python3 - "$out/$ep.json" "$ep" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
assert v["spans"], f"{sys.argv[2]}: no spans in the answer"
if sys.argv[2] == "detect":
    assert 0 <= v["score"] <= 1
EOF
  for c in $conns; do
    t=$(( c < 2 ? c : 2 ))
    line=$(wrk -t "$t" -c "$c" -d "$duration" --timeout 30s -s "$out/post.lua" "$url/v1/$ep" | grep '^RESULT')
    read -r _ n _ rps p50 p99 status sock <<< "$line"
    echo "| /v1/$ep | $c | $n | $rps | $p50 | $p99 | $status / $sock | $(kib VmHWM) |"
  done
done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
trap - EXIT
echo
echo "SIGTERM: server exited with status $rc"
[ "$rc" = 0 ]
