#!/usr/bin/env bash
# HTTP and Redis-protocol servers under real load generators, side by side:
#   - wrk -t1 -c{1,64,512,2000} against the http example and the same server on tokio current-thread;
#   - redis-benchmark -t get,set with -P 1 and -P 16 against the kv example and redis-server.
#   - wrk against GET /hash (a CPU-bound handler) on 1 and 2 dispatchers, tokio-ct and tokio-mt2;
#   - the echo servers' resident memory per idle connection at 5,000 connections (`echo idle`).
# Usage: bash benchmarks/io-bench.sh [SECONDS] [SECTIONS]
#   SECTIONS: a comma-separated subset of http,kv,hash,idle (all by default); http and hash need
#   wrk, kv needs redis-benchmark and redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
sections=${2:-http,kv,hash,idle}
want() { [[ ",$sections," == *",$1,"* ]]; }
need() {
    for tool in "$@"; do
        command -v "$tool" > /dev/null || { echo "io-bench.sh: $tool is not installed" >&2; exit 1; }
    done
}
if want http || want hash; then need wrk; fi
if want kv; then need redis-benchmark redis-server; fi
# 2,000 connections need more descriptors than the usual soft limit of 1,024 (servers and wrk
# inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
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
    timeout 120 redis-benchmark -p "$1" -t "$2" -n 200000 -P "$3" -q 2>/dev/null |
        tr '\r' '\n' | awk -F'[: ]+' '/requests per second/ {print $2}' | tail -1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if want http; then
echo "| wrk connections | concurrence http | tokio-ct http | ratio |"
echo "|---|---|---|---|"
start target/release/examples/http 127.0.0.1:0; conc=$port
start target/release/http_tokio 127.0.0.1:0; tok=$port
for c in 1 64 512 2000; do
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
fi

if want kv; then
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
fi

# A CPU-bound handler (GET /hash: about 20 us of SipHash per request) on one and two cores:
# the http example on 1 and 2 dispatchers against the tokio server on current-thread and on
# a 2-worker multi-thread runtime. wrk takes a core of its own, so its CPU is reported too
# (user + system seconds over the run), and each server's CPU from /proc.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
if want hash; then
echo
echo "| GET /hash, wrk -t1 -c64 | req/s | server CPU | wrk CPU | vs tokio-mt2 |"
echo "|---|---|---|---|---|"
hz=$(getconf CLK_TCK)
table=$(mktemp)
for server in "conc-1 target/release/examples/http --threads 1" \
              "conc-2 target/release/examples/http --threads 2" \
              "tokio-ct target/release/http_tokio --threads 1" \
              "tokio-mt2 target/release/http_tokio --threads 2"; do
    set -- $server
    name=$1; shift
    start "$@" 127.0.0.1:0
    pid=${pids[-1]}
    before=$(cpu_ticks "$pid")
    TIMEFORMAT='%U %S'
    { time wrk -t1 -c64 -d${secs}s "http://127.0.0.1:$port/hash" > "$table.wrk"; } 2> "$table.time"
    after=$(cpu_ticks "$pid")
    kill "$pid" 2>/dev/null || true
    rps=$(awk '/Requests\/sec/ {print $2}' "$table.wrk")
    server_cpu=$(python3 -c "print(f'{($after - $before) / $hz:.2f} s')")
    wrk_cpu=$(awk '{printf "%.2f s", $1 + $2}' "$table.time")
    echo "| $name | $rps | $server_cpu | $wrk_cpu | NAME_$name |" >> "$table"
done
tokio_mt2=$(awk -F'|' '$2 ~ /tokio-mt2/ {gsub(/ /, "", $3); print $3}' "$table")
while IFS= read -r line; do
    name=$(echo "$line" | awk -F'|' '{gsub(/ /, "", $2); print $2}')
    rps=$(echo "$line" | awk -F'|' '{gsub(/ /, "", $3); print $3}')
    ratio=$(python3 -c "print(f'{$rps/$tokio_mt2:.2f}x')")
    echo "${line/NAME_$name/$ratio}"
done < "$table"
fi

if want idle; then
echo
cargo build --release -q -p concurrence-benchmarks --features peers --bin echo
target/release/echo idle 5000 2>/dev/null
fi
