#!/usr/bin/env bash
# Do live metrics slow the load? Runs `tailgate hit` at 10000/s three ways,
# interleaved in rotating order (so a drift of the machine's load hits all
# alike): without metrics, with --metrics-addr scraped by a real Prometheus
# every second, and with --metrics-push into that Prometheus (remote
# write). tailgate runs on CPU 0; bench/target and Prometheus share CPU 1.
# Prints the achieved rate, send lag and CPU seconds of every run and the
# medians per mode.
#
#   bench/metrics.sh                        # 10000/s for 10s, 3 reps
#   RATE=5000/s DUR=20s REPS=5 bench/metrics.sh
#
# Needs prometheus (Debian's package), jq and taskset. On a shared machine
# the spread between two runs of one mode says how much to trust a
# difference between modes.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-10000/s} DUR=${DUR:-10s} REPS=${REPS:-3}
PORT=${PORT:-18092} MPORT=${MPORT:-18093} PPORT=${PPORT:-18094}
OUT=$(mktemp -d /tmp/tailgate-metricsbench.XXXXXX)
go build -o "$OUT/tailgate" ./cmd/tailgate
go build -o "$OUT/target" ./bench/target
taskset -c 1 "$OUT/target" --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
TARGET=$!
cat >"$OUT/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: tailgate
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
YML
taskset -c 1 prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/data" \
	--web.listen-address="127.0.0.1:$PPORT" --enable-feature=native-histograms \
	--web.enable-remote-write-receiver >"$OUT/prometheus.log" 2>&1 &
PROM=$!
trap 'kill $TARGET $PROM 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null; do sleep 0.2; done
sleep 6 # Prometheus hands targets to its scrapers every 5s

run() { # mode rep
	local flags=()
	case $1 in
	scrape) flags=(--metrics-addr "127.0.0.1:$MPORT" --metrics-linger 2s) ;;
	push) flags=(--metrics-push "http://127.0.0.1:$PPORT/api/v1/write") ;;
	esac
	TIMEFORMAT='%U %S'
	{ time taskset -c 0 "$OUT/tailgate" hit "http://127.0.0.1:$PORT/" -r "$RATE" -d "$DUR" -c 50 \
		-o "$OUT/$1-$2.json" --quiet "${flags[@]}" >/dev/null 2>"$OUT/$1-$2.err"; } 2>"$OUT/$1-$2.cpu"
}
modes=(off scrape push)
for rep in $(seq 1 "$REPS"); do
	for k in 0 1 2; do run "${modes[$(((rep + k) % 3))]}" "$rep"; done
done

printf '%-6s %4s %10s %12s %12s %12s %8s\n' mode rep rate/s lag-p50-ms lag-p99-ms lag-max-ms cpu-s
for mode in "${modes[@]}"; do
	for rep in $(seq 1 "$REPS"); do
		j=$("$OUT/tailgate" report "$OUT/$mode-$rep.json" --format json)
		read -r u s <"$OUT/$mode-$rep.cpu"
		printf '%-6s %4s %10.1f %12.3f %12.3f %12.2f %8.2f\n' "$mode" "$rep" \
			"$(jq .total.rate <<<"$j")" "$(jq .total.send_lag_ms.p50 <<<"$j")" \
			"$(jq '.total.send_lag_ms.p99' <<<"$j")" "$(jq .total.send_lag_ms.max <<<"$j")" \
			"$(echo "$u + $s" | bc)"
	done
done | tee "$OUT/table.txt"
echo
echo "medians:"
for mode in "${modes[@]}"; do
	printf '%-6s' "$mode"
	for col in 3 4 5 6 7; do
		printf ' %12s' "$(awk -v m="$mode" -v c="$col" '$1==m {print $c}' "$OUT/table.txt" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
	done
	echo
done
grep -h warning "$OUT"/*.err || true
echo "results in $OUT"
