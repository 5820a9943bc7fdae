#!/usr/bin/env bash
# Does memory stay flat in run length? Runs `tailgate hit` at a steady open
# rate for a long time against bench/target and samples the tool's resident
# memory (VmRSS) every SAMPLE seconds. tailgate runs on CPU 0, the target on
# CPU 1. Prints one line per sample and, at the end, the first and last
# samples after the first minute (the heap's warm-up) and their ratio.
#
#   bench/soak.sh                           # 10000/s for 10m, every 30s
#   RATE=5000/s DUR=1h SAMPLE=60 bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-10000/s} DUR=${DUR:-10m} SAMPLE=${SAMPLE:-30} PORT=${PORT:-18095}
OUT=$(mktemp -d /tmp/tailgate-soak.XXXXXX)
go build -o "$OUT/tailgate" ./cmd/tailgate
go build -o "$OUT/target" ./bench/target
taskset -c 1 "$OUT/target" --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
TARGET=$!
trap 'kill "$TARGET" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
taskset -c 0 "$OUT/tailgate" hit "http://127.0.0.1:$PORT/" -r "$RATE" -d "$DUR" -c 50 \
  -o "$OUT/results.json" --quiet --no-tui >"$OUT/summary.txt" 2>&1 &
TG=$!
start=$(date +%s)
echo "elapsed_s rss_kib"
while kill -0 "$TG" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$TG/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(( $(date +%s) - start )) $rss" | tee -a "$OUT/rss.txt"
  sleep "$SAMPLE"
done
wait "$TG" || { echo "tailgate failed:"; cat "$OUT/summary.txt"; exit 1; }
awk 'NR>0 && $1>=60 {if (!f) {f=$2; ft=$1}; l=$2; lt=$1}
     END {if (f) printf "flatness: %d KiB at %ds, %d KiB at %ds: %+.1f%%\n", f, ft, l, lt, 100*(l-f)/f}' "$OUT/rss.txt"
grep -E "requests|iterations|schedule" "$OUT/summary.txt" || true
echo "files in $OUT"
