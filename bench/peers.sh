#!/usr/bin/env bash
# bench/peers.sh — measure tailgate side by side with wrk, vegeta and hey and
# write BENCHMARKS.md. Not part of CI: a full run takes about half an hour
# and needs both CPUs to itself.
#
#   bench/peers.sh                 # full run, REPS=3 (env REPS to change)
#   bench/peers.sh --quick         # smoke variant: short runs, one rep,
#                                  # writes BENCHMARKS.quick.md
#   bench/peers.sh --sections 1,3  # some sections only (see --help)
#
# It installs what is missing (wrk, nginx and time from Debian; vegeta and hey
# with go install at pinned versions), builds tailgate, bench/target and the
# driver bench/cmd/peers into bench/bin, and runs the driver, which starts
# nginx and the target on loopback, pins the tools to CPU 0 and the servers
# to CPU 1, and stops both servers by PID at the end.
#
# TAILGATE_SRC=dir builds tailgate from another checkout (e.g. a snapshot of
# a commit) instead of this work tree; TAILGATE_REV describes it in the
# document when dir is not a git checkout.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

VEGETA_VERSION=v12.13.0
HEY_VERSION=v0.1.5

need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
[ -x /usr/bin/time ] || need_apt+=(time)
command -v taskset >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
	echo "installing ${need_apt[*]} from Debian" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ "$(nproc)" -lt 2 ]; then
	echo "peers.sh: needs 2 CPUs (one for the tool, one for the server)" >&2
	exit 1
fi

gobin=$(go env GOPATH)/bin
export PATH="$gobin:$PATH:/usr/sbin"
installed_version() { # binary module-version: "vX.Y.Z" of a go-installed binary, or ""
	go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3 }'
}
if [ "$(installed_version "$gobin/vegeta")" != "$VEGETA_VERSION" ]; then
	echo "installing vegeta $VEGETA_VERSION" >&2
	GOFLAGS= go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi
if [ "$(installed_version "$gobin/hey")" != "$HEY_VERSION" ]; then
	echo "installing hey $HEY_VERSION" >&2
	GOFLAGS= go install "github.com/rakyll/hey@$HEY_VERSION"
fi

bin="$root/bench/bin"
mkdir -p "$bin"
src=${TAILGATE_SRC:-$root}
(cd "$src" && go build -o "$bin/tailgate" ./cmd/tailgate)
rev=${TAILGATE_REV:-}
if [ -z "$rev" ]; then
	rev="commit $(git -C "$src" log -1 --format='%h %s' 2>/dev/null || echo unknown)"
	git -C "$src" diff --quiet HEAD -- 2>/dev/null || rev="$rev (with uncommitted changes)"
fi
go build -o "$bin/target" ./bench/target
go build -o "$bin/peers" ./bench/cmd/peers

exec "$bin/peers" --tailgate "$bin/tailgate" --target "$bin/target" \
	--wrk "$(command -v wrk)" --nginx "$(command -v nginx)" \
	--vegeta "$gobin/vegeta" --hey "$gobin/hey" \
	--src "$src" --tailgate-rev "$rev" --command "bench/peers.sh $*" "$@"
