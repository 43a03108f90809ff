#!/bin/sh
# bench_durable.sh BUILD_DIR [N] [SIZE]: newswire's journaled publish path against Redis
# Streams, side by side, in one run: N messages (default 200000) of SIZE bytes (default 511)
# from one publisher to one consumer that writes them to a line file.
#   newswire interval / always: bench_durable newswire (numbered, encoded, journaled, sent
#     [topic][frame] of SIZE bytes; a group commit per 64 alerts) into newswire-sub -q --log
#     FILE (its JSON lines are longer than the frame: the mean is printed);
#   redis everysec / always: redis-server (Debian), started here on a free loopback port in a
#     temporary dir with appendonly yes and that appendfsync, pipelined XADD (hiredis) and a
#     consumer XREAD-ing into a line file.
# Everything lives under /var/tmp (a real disk). Prints msg/s and the ratios newswire / redis.
set -eu
bdir=$(cd "${1:?usage: bench_durable.sh BUILD_DIR [N] [SIZE]}" && pwd)
n=${2:-200000}
size=${3:-511}
b=$bdir/bench/bench_durable
sub=$bdir/subscriber/newswire-sub
[ -x "$b" ] || { echo "bench_durable: $b missing (needs libhiredis-dev): build first" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "bench_durable: redis-server not installed" >&2; exit 1; }
dir=$(mktemp -d /var/tmp/nw-bench-durable.XXXXXX)
rpid=""
cleanup() {
    [ -z "$rpid" ] || kill "$rpid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis() { # appendfsync policy
    rm -rf "$dir/redis"; mkdir -p "$dir/redis"
    p=$(port)
    redis-server --port "$p" --bind 127.0.0.1 --dir "$dir/redis" --appendonly yes \
        --appendfsync "$1" --save '' --daemonize no --logfile "$dir/redis.log" &
    rpid=$!
    t=0
    until redis-cli -p "$p" ping >/dev/null 2>&1; do
        t=$((t + 1)); [ "$t" -lt 200 ] || { echo "bench_durable: redis-server did not start" >&2; exit 1; }
        sleep 0.05
    done
    "$b" redis "$p" "$n" "$size" "$dir/out.txt" | sed "s/^redis/redis-$1/" | tee -a "$dir/results"
    kill "$rpid"; wait "$rpid" || true
    rpid=""
    rm -f "$dir/out.txt"
}

newswire() { # interval or always
    rm -rf "$dir/journal"
    "$b" newswire "$dir/journal" "$1" "$n" "$size" "$sub" "$dir/out.jsonl" | tee -a "$dir/results"
    echo "  (mean log line $(awk '{ b += length($0) + 1 } END { printf "%d", b / NR }' "$dir/out.jsonl") B)"
    rm -f "$dir/out.jsonl" "$dir/out.jsonl.stderr"
}

: >"$dir/results"
newswire interval
redis everysec
newswire always
redis always
awk '{ r[$1] = $(NF - 1) } END {
    printf "durable ratio newswire interval / redis everysec  %6.2f\n", r["newswire-interval"] / r["redis-everysec"]
    printf "durable ratio newswire always / redis always      %6.2f\n", r["newswire-always"] / r["redis-always"]
}' "$dir/results"
