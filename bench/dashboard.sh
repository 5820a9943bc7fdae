#!/usr/bin/env bash
# Does the live dashboard slow the load? Runs `tailgate hit` at the same high
# rate with the dashboard and with --no-tui, interleaved in ABBA order (so a
# drift of the machine's load hits both alike), each in a 200x50 tmux pane
# (a real terminal for both), against bench/target on 127.0.0.1. Prints the
# achieved rate, send lag and CPU seconds of every run and the medians.
#
#   bench/dashboard.sh                      # 5000/s for 10s, 5 pairs
#   RATE=2000/s DUR=20s REPS=3 bench/dashboard.sh
#
# Needs tmux and jq. Figures are only meaningful on an otherwise idle
# machine: on a shared one the send lag of two runs of the same command
# differs far more than the dashboard could add.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-5000/s} DUR=${DUR:-10s} REPS=${REPS:-5} PORT=${PORT:-18091}
OUT=$(mktemp -d /tmp/tailgate-dashbench.XXXXXX)
go build -o "$OUT/tailgate" ./cmd/tailgate
go build -o "$OUT/target" ./bench/target
"$OUT/target" --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
TARGET=$!
SOCK=tailgate-dashbench-$$
trap 'kill $TARGET 2>/dev/null; tmux -L $SOCK kill-server 2>/dev/null || true' EXIT
sleep 0.5

run() { # mode rep
	local flag=""
	[ "$1" = notui ] && flag=--no-tui
	tmux -L "$SOCK" -f /dev/null new-session -d -x 200 -y 50 -s b \
		"TIMEFORMAT='%U %S'; { time $OUT/tailgate hit http://127.0.0.1:$PORT/ -r $RATE -d $DUR -o $OUT/$1-$2.json $flag 2>/dev/null; } 2>$OUT/$1-$2.cpu"
	while tmux -L "$SOCK" has-session -t b 2>/dev/null; do sleep 0.5; done
}
for rep in $(seq 1 "$REPS"); do
	if [ $((rep % 2)) = 1 ]; then run tui "$rep"; run notui "$rep"; else run notui "$rep"; run tui "$rep"; fi
done

printf '%-6s %4s %10s %12s %12s %12s %8s\n' mode rep rate/s lag-mean-ms lag-p99-ms lag-max-ms cpu-s
for mode in tui notui; do
	for rep in $(seq 1 "$REPS"); do
		j=$("$OUT/tailgate" report "$OUT/$mode-$rep.json" --format json)
		read -r u s <"$OUT/$mode-$rep.cpu"
		printf '%-6s %4s %10.1f %12.2f %12.2f %12.2f %8.2f\n' "$mode" "$rep" \
			"$(jq .total.rate <<<"$j")" "$(jq .total.send_lag_ms.mean <<<"$j")" \
			"$(jq '.total.send_lag_ms.p99' <<<"$j")" "$(jq .total.send_lag_ms.max <<<"$j")" \
			"$(echo "$u + $s" | bc)"
	done
done | tee "$OUT/table.txt"
echo
echo "medians:"
for mode in tui notui; do
	printf '%-6s' "$mode"
	for col in 3 4 5 6 7; do
		printf ' %12s' "$(awk -v m="$mode" -v c="$col" '$1==m {print $c}' "$OUT/table.txt" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
	done
	echo
done
echo "results in $OUT"
