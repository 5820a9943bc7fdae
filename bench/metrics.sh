#!/usr/bin/env bash
# Do live metrics slow the load? Runs `tailgate hit` at 10000/s five ways,
# interleaved in rotating order (so a drift of the machine's load hits all
# alike): without metrics, with --metrics-addr scraped by a real Prometheus
# every second, and with --metrics-push into that Prometheus (remote
# write). tailgate runs on CPU 0; bench/target and Prometheus share CPU 1.
# A fourth mode, sink, pushes into a second bench/target (which answers
# every POST with 200 and keeps nothing) instead: tailgate's own cost of
# pushing, without Prometheus' ingestion, which shares CPU 1 with the
# target here (it would not in a real deployment). A fifth, otlp, sends
# OTLP/HTTP (--otlp-endpoint) into that sink.
# Prints the achieved rate, send lag, CPU seconds and CPU steal of every
# run, and per mode the medians over all runs, the medians over the runs
# whose tool CPU's steal stayed below STEAL_MAX, the send-lag percentiles
# of the mode's runs pooled into one histogram, and those of the seconds
# of its runs that lost nothing to steal.
#
#   bench/metrics.sh                        # 10000/s for 10s, 3 reps
#   RATE=5000/s DUR=20s REPS=5 bench/metrics.sh
#   STEAL_MAX=0.2 bench/metrics.sh          # quiet runs: < 0.2% stolen
#   OUT=/tmp/m REPS=5 bench/metrics.sh; OUT=/tmp/m FROM=6 REPS=5 bench/metrics.sh
#                                           # ten reps in two calls (two
#                                           # holds of a bench lock)
#   MODES="off scrape" BASE=3e0c766 bench/metrics.sh
#                                           # those modes, each also run by
#                                           # the build of a git revision
#                                           # (modes base-off, base-scrape),
#                                           # interleaved with this tree's
#
# OUT keeps the runs (a new temporary directory without it); FROM (default
# 1) is the first repetition this call runs, so a second call with the same
# OUT continues the series, keeping the rotation, and reports on all of it.
#
# Steal is the time the hypervisor took CPU 0 (tool) and CPU 1 (servers)
# away, from /proc/stat before and after each run (docs/metrics.md, "CPU
# steal"); the tool's own figure (its results' meta.steal) is beside it.
# On this kind of VM the tail of send lag follows steal, so a comparison
# of modes is worth as much as the runs that were not stolen from.
#
# Needs prometheus (Debian's package), jq, bc and taskset. On a shared
# machine the spread between two runs of one mode says how much to trust
# a difference between modes.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-10000/s} DUR=${DUR:-10s} REPS=${REPS:-3} STEAL_MAX=${STEAL_MAX:-0.5} FROM=${FROM:-1}
PORT=${PORT:-18092} MPORT=${MPORT:-18093} PPORT=${PPORT:-18094} SPORT=${SPORT:-18095}
OUT=${OUT:-$(mktemp -d /tmp/tailgate-metricsbench.XXXXXX)}
mkdir -p "$OUT"
LAST=$((FROM + REPS - 1)) # the series so far is repetitions 1…LAST
read -r -a modes <<<"${MODES:-off scrape push sink otlp}"
for m in "${modes[@]}"; do
	case $m in off | scrape | push | sink | otlp) ;; *) echo "metrics.sh: MODES: unknown mode $m" >&2; exit 2 ;; esac
done
if [ -n "${BASE:-}" ]; then
	for m in "${modes[@]}"; do modes+=("base-$m"); done
fi
for ((rep = 1; rep < FROM; rep++)); do
	[ -f "$OUT/${modes[0]}-$rep.json" ] || { echo "metrics.sh: FROM=$FROM but $OUT has no repetition $rep" >&2; exit 2; }
done
go build -o "$OUT/tailgate" ./cmd/tailgate
if [ -n "${BASE:-}" ]; then
	rm -rf "$OUT/base-src"
	git worktree add -q --detach "$OUT/base-src" "$BASE"
	(cd "$OUT/base-src" && go build -o "$OUT/tailgate-base" ./cmd/tailgate)
	git worktree remove --force "$OUT/base-src"
fi
go build -o "$OUT/target" ./bench/target
go build -o "$OUT/lagtl" ./bench/cmd/lagtl
taskset -c 1 "$OUT/target" --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
TARGET=$!
taskset -c 1 "$OUT/target" --addr "127.0.0.1:$SPORT" >/dev/null 2>&1 &
SINK=$!
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
trap 'kill $TARGET $SINK $PROM 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null; do sleep 0.2; done
sleep 6 # Prometheus hands targets to its scrapers every 5s

# cpuclock prints the steal and the total time (user … steal, USER_HZ
# ticks) of CPU 0 and of CPU 1: "steal0 total0 steal1 total1".
cpuclock() {
	awk '$1 == "cpu0" || $1 == "cpu1" { t = 0; for (i = 2; i <= 9; i++) t += $i; s[$1] = $9 " " t }
		END { print s["cpu0"], s["cpu1"] }' /proc/stat
}

run() { # mode rep
	local flags=() bin="$OUT/tailgate"
	[[ $1 == base-* ]] && bin="$OUT/tailgate-base"
	case ${1#base-} in
	scrape) flags=(--metrics-addr "127.0.0.1:$MPORT" --metrics-linger 2s) ;;
	push) flags=(--metrics-push "http://127.0.0.1:$PPORT/api/v1/write") ;;
	sink) flags=(--metrics-push "http://127.0.0.1:$SPORT/api/v1/write") ;;
	otlp) flags=(--otlp-endpoint "http://127.0.0.1:$SPORT") ;;
	esac
	TIMEFORMAT='%U %S'
	cpuclock >"$OUT/$1-$2.steal"
	{ time taskset -c 0 "$bin" hit "http://127.0.0.1:$PORT/" -r "$RATE" -d "$DUR" -c 50 \
		-o "$OUT/$1-$2.json" --quiet "${flags[@]}" >/dev/null 2>"$OUT/$1-$2.err"; } 2>"$OUT/$1-$2.cpu"
	cpuclock >>"$OUT/$1-$2.steal"
}
for rep in $(seq "$FROM" "$LAST"); do
	for ((k = 0; k < ${#modes[@]}; k++)); do run "${modes[$(((rep + k) % ${#modes[@]}))]}" "$rep"; done
done

# stolen FILE N: the share (%) of CPU N's time stolen between the two
# readings in FILE.
stolen() {
	awk -v n="$2" 'NR == 1 { s = $(2 * n + 1); t = $(2 * n + 2) }
		NR == 2 { d = $(2 * n + 2) - t; printf "%.2f", (d > 0 ? 100 * ($(2 * n + 1) - s) / d : 0) }' "$1"
}

printf '%-11s %4s %10s %12s %12s %12s %8s %7s %7s %8s\n' mode rep rate/s lag-p50-ms lag-p99-ms lag-max-ms cpu-s st0-% st1-% tool-st%
for mode in "${modes[@]}"; do
	for rep in $(seq 1 "$LAST"); do
		j=$("$OUT/tailgate" report "$OUT/$mode-$rep.json" --format json)
		read -r u s <"$OUT/$mode-$rep.cpu"
		printf '%-11s %4s %10.1f %12.3f %12.3f %12.2f %8.2f %7s %7s %8s\n' "$mode" "$rep" \
			"$(jq .total.rate <<<"$j")" "$(jq .total.send_lag_ms.p50 <<<"$j")" \
			"$(jq '.total.send_lag_ms.p99' <<<"$j")" "$(jq .total.send_lag_ms.max <<<"$j")" \
			"$(echo "$u + $s" | bc)" "$(stolen "$OUT/$mode-$rep.steal" 0)" "$(stolen "$OUT/$mode-$rep.steal" 1)" \
			"$(jq -r 'if .steal_share == null then "-" else .steal_share * 100 * 100 | round / 100 | tostring end' <<<"$j")"
	done
done | tee "$OUT/table.txt"

# medians: the median of columns 3-9 of the table rows on stdin ("-"
# without rows).
medians() {
	local rows
	rows=$(cat)
	if [ -z "$rows" ]; then
		printf ' %12s' - - - - - - -
		echo
		return
	fi
	for col in 3 4 5 6 7 8 9; do
		printf ' %12s' "$(awk -v c="$col" '{print $c}' <<<"$rows" | sort -g |
			awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
	done
	echo
}
header() { printf '%-11s %5s %12s %12s %12s %12s %12s %12s %12s\n' mode runs rate/s lag-p50-ms lag-p99-ms lag-max-ms cpu-s st0-% st1-%; }
echo
echo "medians over all runs:"
header
for mode in "${modes[@]}"; do
	printf '%-11s %5s' "$mode" "$LAST"
	awk -v m="$mode" '$1 == m' "$OUT/table.txt" | medians
done
echo
echo "medians over the runs whose tool CPU (0) lost less than $STEAL_MAX% to steal:"
header
for mode in "${modes[@]}"; do
	quiet=$(awk -v m="$mode" -v x="$STEAL_MAX" '$1 == m && $8 < x' "$OUT/table.txt")
	printf '%-11s %5s' "$mode" "$(grep -c . <<<"$quiet" || true)/$LAST"
	medians <<<"$quiet"
done

# tailgate merge merges the shards of one run and refuses whole runs (they
# would count the plan twice): each run is relabelled as one shard of a
# pool of LAST, so the merged file's histograms are all the mode's requests
# together. Only its percentiles mean anything; its rates count LAST plans.
echo
echo "send lag of each mode's runs pooled (tailgate merge; ms):"
printf '%-11s %10s %10s %10s %10s %10s %10s\n' mode requests p50 p99 p99.9 max steal-%
for mode in "${modes[@]}"; do
	files=()
	for rep in $(seq 1 "$LAST"); do
		jq --argjson i "$((rep - 1))" --argjson n "$LAST" --arg id "pool-$mode" \
			'.meta.shard = {index: $i, count: $n} | .meta.run_id = $id' "$OUT/$mode-$rep.json" >"$OUT/pool-$mode-$rep.json"
		files+=("$OUT/pool-$mode-$rep.json")
	done
	"$OUT/tailgate" merge -o "$OUT/pool-$mode.json" --quiet "${files[@]}" 2>"$OUT/pool-$mode.err"
	"$OUT/tailgate" report "$OUT/pool-$mode.json" --format json |
		jq -r --arg m "$mode" '[$m, .total.requests, .total.send_lag_ms.p50, .total.send_lag_ms.p99, .total.send_lag_ms["p99.9"], .total.send_lag_ms.max,
			(if .steal_share == null then "-" else .steal_share * 100 * 100 | round / 100 end)] | @tsv' |
		awk -F'\t' '{printf "%-11s %10s %10.3f %10.3f %10.3f %10.2f %10s\n", $1, $2, $3, $4, $5, $6, $7}'
done
# The seconds of every run in which no 10 ms tick of CPU 0 was stolen
# (the results' per-interval steal), pooled per mode: what is left of the
# hypervisor's noise after its bursts.
echo
echo "send lag over each mode's seconds with less than 0.1% of CPU 0 stolen, pooled (bench/cmd/lagtl -quiet):"
for mode in "${modes[@]}"; do
	files=()
	for rep in $(seq 1 "$LAST"); do files+=("$OUT/$mode-$rep.json"); done
	printf '%-11s %s\n' "$mode" "$("$OUT/lagtl" -quiet 0.001 "${files[@]}" 2>&1)"
done
for mode in "${modes[@]}"; do grep -h warning "$OUT/$mode"-*.err || true; done
echo "results in $OUT"
