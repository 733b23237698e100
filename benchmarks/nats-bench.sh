#!/usr/bin/env bash
# Remote calls over NATS (issue 20): concurrence-nats against async-nats on tokio, through one
# nats-server started here on a free loopback port and killed at the end; and futures through
# the bridge against tokio's spawn. Prints the tables (progress goes to stderr).
# Usage: bash benchmarks/nats-bench.sh [NATS_BENCH_ARGS...]   e.g. --runs 5, --quick
#   NATS_BENCH_BIN=path: run that build of nats_bench instead of building this tree's (to
#   compare a local change of concurrence or concurrence-nats against a copy of the binary).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nats-server > /dev/null || { echo "nats-bench.sh: nats-server is not installed" >&2; exit 1; }
if [[ -n ${NATS_BENCH_BIN:-} ]]; then
    bin=$NATS_BENCH_BIN
else
    cargo build --release -q -p concurrence-benchmarks --features peers --bin nats_bench
    bin=${CARGO_TARGET_DIR:-target}/release/nats_bench
fi

log=$(mktemp)
server=
cleanup() {
    if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -f "$log"
}
trap cleanup EXIT

# Port -1: the server picks a free one and logs it.
nats-server -a 127.0.0.1 -p -1 > "$log" 2>&1 &
server=$!
port=
for _ in $(seq 200); do
    port=$(grep -o 'Listening for client connections on [0-9.]*:[0-9]*' "$log" | sed 's/.*://' || true)
    [[ -n $port ]] && break
    sleep 0.05
done
[[ -n $port ]] || { echo "nats-bench.sh: nats-server did not start" >&2; cat "$log" >&2; exit 1; }
echo "nats-server $(nats-server --version | awk '{print $2}') on 127.0.0.1:$port" >&2

# Bounded: a full run takes about 4 minutes with 3 runs.
timeout 1200 "$bin" --nats "127.0.0.1:$port" --nats-pid "$server" "$@"
