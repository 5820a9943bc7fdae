#!/usr/bin/env bash
# bench/peers.sh — measure tailgate side by side with wrk, wrk2, vegeta and
# hey and write BENCHMARKS.md. Not part of CI: a full run takes about half an hour
# and needs both CPUs to itself.
#
#   bench/peers.sh                 # full run, REPS=3 (env REPS to change)
#   bench/peers.sh --quick         # smoke variant: short runs, one rep,
#                                  # writes BENCHMARKS.quick.md
#   bench/peers.sh --sections 1,3  # some sections only (see --help)
#   bench/peers.sh --sections 6 --keep bench/results/X-measurements.json
#                                  # measure section 6, keep the others
#   TAILGATE_BASE=dir bench/peers.sh --sections 6
#                                  # A/B: also measure tailgate built from dir
#
# It installs what is missing (wrk, nginx, h2load and time from Debian;
# vegeta, hey and bombardier with go install at pinned versions), builds wrk2
# from ../shared/peers (beside the checkout) into bench/out/, builds tailgate, bench/target and the
# driver bench/cmd/peers into bench/bin, and runs the driver, which starts
# nginx and the target on loopback, pins the tools to CPU 0 and the servers
# to CPU 1, and stops both servers by PID at the end.
#
# Sections written by hand from other scripts (bench/metrics.sh, bench/soak.sh)
# live in bench/sections/*.md and are included after the measured ones, so a
# regeneration keeps them: edit them there, not in BENCHMARKS.md.
#
# TAILGATE_SRC=dir builds tailgate from another checkout (e.g. a snapshot of
# a commit) instead of this work tree; TAILGATE_REV describes it in the
# document when dir is not a git checkout.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

VEGETA_VERSION=v12.13.0
HEY_VERSION=v0.1.5
BOMBARDIER_VERSION=v1.2.6
WRK2_TARBALL="$root/../shared/peers/wrk2-44a94c1.tar.gz"

need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
[ -x /usr/bin/time ] || need_apt+=(time)
command -v h2load >/dev/null || need_apt+=(nghttp2-client)
if ! command -v make >/dev/null || ! command -v cc >/dev/null || [ ! -e /usr/include/openssl/ssl.h ] || [ ! -e /usr/include/zlib.h ]; then
	need_apt+=(build-essential libssl-dev zlib1g-dev) # for wrk2
fi
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
if [ "$(installed_version "$gobin/bombardier")" != "$BOMBARDIER_VERSION" ]; then
	echo "installing bombardier $BOMBARDIER_VERSION" >&2
	GOFLAGS= go install "github.com/codesenberg/bombardier@$BOMBARDIER_VERSION"
fi

# wrk2 is no package: build it from the tarball beside the checkout, once,
# into the ignored bench/out/.
wrk2_dir="$root/bench/out/wrk2-44a94c1"
if [ ! -x "$wrk2_dir/wrk2" ]; then # the last step's product: an interrupted build leaves no wrk2
	if [ ! -f "$WRK2_TARBALL" ]; then
		echo "peers.sh: $WRK2_TARBALL not found (shared/ beside the checkout holds it)" >&2
		exit 1
	fi
	echo "building wrk2 in $wrk2_dir" >&2
	rm -rf "$wrk2_dir"
	mkdir -p "$wrk2_dir"
	tar xzf "$WRK2_TARBALL" -C "$wrk2_dir"
	make -C "$wrk2_dir" -j"$(nproc)" >"$wrk2_dir/build.log" 2>&1 || {
		echo "peers.sh: building wrk2 failed, see $wrk2_dir/build.log" >&2
		exit 1
	}
	cp "$wrk2_dir/wrk" "$wrk2_dir/wrk2" # so commands show it as wrk2
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
base_args=()
invoked="bench/peers.sh $*"
if [ -n "${TAILGATE_BASE:-}" ]; then
	(cd "$TAILGATE_BASE" && go build -o "$bin/tailgate-base" ./cmd/tailgate)
	base_args=(--tailgate-base "$bin/tailgate-base")
	invoked="TAILGATE_BASE=$TAILGATE_BASE bench/peers.sh $*"
fi

exec "$bin/peers" --tailgate "$bin/tailgate" --target "$bin/target" \
	--wrk "$(command -v wrk)" --nginx "$(command -v nginx)" \
	--vegeta "$gobin/vegeta" --hey "$gobin/hey" --wrk2 "$wrk2_dir/wrk2" --h2load "$(command -v h2load)" "${base_args[@]}" \
	--src "$src" --tailgate-rev "$rev" --command "$invoked" "$@"
