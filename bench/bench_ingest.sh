#!/bin/sh
# bench_ingest.sh BUILD_DIR [N]: the subscriber's own ceiling and the publisher's replay rate,
# beside raw libzmq at the same message size, in one run.
#
# Writes a journal of N (default 1,000,000) real alerts of 511-byte frames (bench_journal_gen)
# under /var/tmp, starts newswire-pub on it (empty spool), then for each sink runs
# `newswire-sub --since 1 -C N` (the whole journal replayed, then exit after N alerts):
#   log:  -q --log FILE   (JSON Lines into a file, --fsync interval, the default)
#   json: --format json   (JSON Lines on standard output, into /dev/null)
# and times it from the subscriber's start to its exit: alerts/s is what the replay sent and
# the subscriber wrote. Prints the peak RSS (VmHWM) of the subscriber, and the publisher's
# resident size after opening the N-record journal and after each replay (flat = no growth
# per alert served), and the CPU time per alert of both processes (user + system, from
# /proc: on a loaded machine, wall-clock rates fall with the share of a CPU each process gets,
# and CPU time per alert does not). Then the publisher's replay alone (bench_replay: the same
# N alerts requested and counted by a bare DEALER, no decoding or output), and raw libzmq
# PUB->SUB (bench_zmq_raw) with N messages of the same size. A run that does not finish
# within 600 s fails the script; timing never does. NW_BENCH_INGEST_BASE=DIR (another build
# tree, e.g. a copy of the one before a change) runs each sink with that tree's newswire-sub
# first, against the same publisher, and prints the candidate / base ratio of the
# subscriber's CPU per alert. Each subscriber line also gives its resident memory at the last
# sample split into file pages (shared libraries, the program) and anonymous memory (heap,
# stacks, libzmq's queues) from /proc/PID/status.
set -eu
bdir=$(cd "${1:?usage: bench_ingest.sh BUILD_DIR [N]}" && pwd)
n=${2:-1000000}
size=511
pub=$bdir/publisher/newswire-pub
sub=$bdir/subscriber/newswire-sub
for f in "$pub" "$sub" "$bdir/bench/bench_journal_gen" "$bdir/bench/bench_zmq_raw" \
    "$bdir/bench/bench_replay"; do
    [ -x "$f" ] || { echo "bench_ingest: $f missing: build first" >&2; exit 1; }
done
dir=$(mktemp -d /var/tmp/nw-bench-ingest.XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
now_ms() { date +%s%3N; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# CPU time of a process, user + system, in clock ticks (the comm field has no spaces here).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)
us_per() { echo "$1 * 1000000 / $hz / $n" | bc -l; } # TICKS -> microseconds per alert
base=${NW_BENCH_INGEST_BASE:+$(cd "$NW_BENCH_INGEST_BASE" && pwd)}
[ -z "$base" ] || [ -x "$base/subscriber/newswire-sub" ] ||
    { echo "bench_ingest: $base/subscriber/newswire-sub missing" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$bdir/bench/bench_journal_gen" "$dir/journal" "$n" "$size" | sed 's/^/journal: /'
mkdir -p "$dir/spool"
p=$(port); r=$(port)
"$pub" --spool "$dir/spool" --journal "$dir/journal" --bind "tcp://127.0.0.1:$p" \
    --replay-bind "tcp://127.0.0.1:$r" 2>"$dir/pub.log" &
ppid_=$!
pids=$ppid_
t=0
while ! grep -qs "ready: stream" "$dir/pub.log"; do
    t=$((t + 1)); [ "$t" -lt 1200 ] || { echo "bench_ingest: publisher not ready" >&2; cat "$dir/pub.log" >&2; exit 1; }
    sleep 0.05
done
echo "publisher: $(kb "$ppid_" VmRSS) kB resident with the $n-record journal open"

run() { # SINK [SUBSCRIBER]: log or json, with bdir's newswire-sub or the one given
    label=$1; sub_=${2:-$sub}
    [ -z "${2:-}" ] || label="base:$1"
    p0=$(ticks "$ppid_")
    t0=$(now_ms)
    if [ "$1" = log ]; then
        "$sub_" -c "tcp://127.0.0.1:$p" --since 1 -C "$n" -q --log "$dir/alerts.jsonl" 2>"$dir/sub.log" &
    else
        "$sub_" -c "tcp://127.0.0.1:$p" --since 1 -C "$n" --format json >/dev/null 2>"$dir/sub.log" &
    fi
    spid=$!
    pids="$ppid_ $spid"
    hwm=0
    cpu=0
    rfile=0
    ranon=0
    while kill -0 "$spid" 2>/dev/null; do
        h=$(kb "$spid" VmHWM); [ -z "$h" ] || hwm=$h
        f=$(kb "$spid" RssFile); [ -z "$f" ] || [ "$f" -eq 0 ] || { rfile=$f; ranon=$(kb "$spid" RssAnon); }
        c=$(ticks "$spid"); [ -z "$c" ] || [ "$c" -eq 0 ] || cpu=$c
        [ $(( $(now_ms) - t0 )) -lt 600000 ] || { echo "bench_ingest: $1: not done after 600 s" >&2; exit 1; }
        sleep 0.1
    done
    st=0; wait "$spid" || st=$?
    t1=$(now_ms)
    pids=$ppid_
    [ "$st" -eq 0 ] || { echo "bench_ingest: $1: newswire-sub exit $st" >&2; tail "$dir/sub.log" >&2; exit 1; }
    if [ "$1" = log ]; then
        lines=$(wc -l <"$dir/alerts.jsonl"); rm -f "$dir/alerts.jsonl"
        [ "$lines" -eq "$n" ] || echo "bench_ingest: log: $lines lines, $n expected" >&2
    fi
    ms=$((t1 - t0 > 0 ? t1 - t0 : 1))
    printf 'ingest %-10s %9.0f alerts/s  %7d ms  sub peak %6d kB (last: file %d + anon %d kB)  pub resident %6d kB\n' \
        "$label" "$(echo "$n * 1000 / $ms" | bc -l)" "$ms" "$hwm" "$rfile" "$ranon" "$(kb "$ppid_" VmRSS)"
    printf 'ingest %-10s cpu per alert: sub %.2f us, pub %.2f us (sub ceiling %.0f alerts/s)\n' \
        "$label" "$(us_per "$cpu")" "$(us_per "$(($(ticks "$ppid_") - p0))")" \
        "$(echo "$n * $hz / ($cpu + 0.001)" | bc -l)"
    last_cpu=$cpu
}
both() { # SINK: the base subscriber first when there is one, then the candidate
    if [ -n "$base" ]; then
        run "$1" "$base/subscriber/newswire-sub"
        bcpu=$last_cpu
        run "$1"
        printf 'ingest %-10s sub cpu per alert, candidate / base: %.2f\n' "$1" \
            "$(echo "$last_cpu / ($bcpu + 0.001)" | bc -l)"
    else
        run "$1"
    fi
}
both log
both json
p0=$(ticks "$ppid_")
"$bdir/bench/bench_replay" "tcp://127.0.0.1:$r" "$n" | sed 's/^/ingest /'
p1=$(ticks "$ppid_")
printf 'ingest replay cpu per alert: pub %.2f us (pub ceiling %.0f alerts/s)\n' \
    "$(us_per $((p1 - p0)))" "$(echo "$n * $hz / ($p1 - $p0 + 0.001)" | bc -l)"
kill "$ppid_"; wait "$ppid_" || true
pids=""
"$bdir/bench/bench_zmq_raw" "$size" "$n" | sed 's/^/ingest /'
