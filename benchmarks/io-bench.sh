#!/usr/bin/env bash
# HTTP and Redis-protocol servers under real load generators, side by side:
#   - wrk -t1 -c{1,64,512} against the http example and the same server on tokio current-thread;
#   - redis-benchmark -t get,set with -P 1 and -P 16 against the kv example and redis-server.
# Usage: bash benchmarks/io-bench.sh [SECONDS]   (needs wrk, redis-benchmark, redis-server)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
cargo build --release -q -p concurrence-examples --example http --example kv
cargo build --release -q -p concurrence-benchmarks --features peers --bin http_tokio

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# start NAME COMMAND...: starts a server that prints "... listening on ADDRESS"; sets $port.
start() {
    local log; log=$(mktemp)
    "$@" > "$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        if grep -q "listening on" "$log"; then break; fi
        sleep 0.05
    done
    port=$(grep -o "listening on .*" "$log" | head -1 | sed 's/.*://')
}

# rps PORT TEST PIPELINE: redis-benchmark's requests per second (its progress lines end in \r).
rps() {
    redis-benchmark -p "$1" -t "$2" -n 200000 -P "$3" -q 2>/dev/null |
        tr '\r' '\n' | awk -F'[: ]+' '/requests per second/ {print $2}' | tail -1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "| wrk connections | concurrence http | tokio-ct http | ratio |"
echo "|---|---|---|---|"
start target/release/examples/http 127.0.0.1:0; conc=$port
start target/release/http_tokio 127.0.0.1:0; tok=$port
for c in 1 64 512; do
    line=()
    for p in $conc $tok; do
        out=$(wrk -t1 -c$c -d${secs}s --latency "http://127.0.0.1:$p/")
        rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
        p99=$(echo "$out" | awk '$1=="99%" {print $2}')
        line+=("$rps req/s, p99 $p99")
        eval "rps_$p=$rps"
    done
    ratio=$(python3 -c "print(f'{$(eval echo \$rps_$conc)/$(eval echo \$rps_$tok):.2f}x')")
    echo "| $c | ${line[0]} | ${line[1]} | $ratio |"
done

echo
echo "| redis-benchmark | concurrence kv | redis-server | ratio |"
echo "|---|---|---|---|"
start target/release/examples/kv 127.0.0.1:0; kv=$port
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --daemonize no > /dev/null &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
for pipeline in 1 16; do
    for test in get set; do
        a=$(rps "$kv" $test $pipeline)
        b=$(rps "$rport" $test $pipeline)
        ratio=$(python3 -c "print(f'{$a/$b:.2f}x')")
        echo "| ${test^^} -P $pipeline | $a req/s | $b req/s | $ratio |"
    done
done
