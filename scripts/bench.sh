#!/bin/sh
# Builds the release variant and runs every benchmark, each against its baseline in the
# same run, then prints a compact summary (see docs/BENCHMARKS.md):
#   scripts/bench.sh              build, then run all
#   scripts/bench.sh --no-build   run what build/release already holds
#   scripts/bench.sh --bin DIR    run the benches of another build tree's bench/ dir, no build
# Environment: NW_BENCH_SECS (seconds per case, default 1; bench_pubsub uses twice that),
# NW_BENCH_CORPUS (bench_tagger's corpus; default ../shared/corpus/reuters/train, and
# bench_tagger fails without it: a few example files make no grep baseline),
# NW_BENCH_PIPELINE_N (stories for bench_pipeline.sh, default all of
# ../shared/corpus/reuters/train; it is skipped with a note when that corpus is missing),
# NW_BENCH_PIPELINE_ROUNDS (default 1). Timing never fails the script; a bench that crashes
# or cannot run does.
set -eu
cd "$(dirname "$0")/.."

bin=build/release/bench
case "${1:-}" in
--no-build) ;;
--bin) bin=${2:?"--bin needs a directory"} ;;
"") scripts/build.sh release >/dev/null ;;
*) echo "usage: scripts/bench.sh [--no-build | --bin DIR]" >&2; exit 2 ;;
esac
secs=${NW_BENCH_SECS:-1}
corpus=${NW_BENCH_CORPUS:-../shared/corpus/reuters/train}

logs=$(mktemp -d "${TMPDIR:-/tmp}/nw-bench-logs.XXXXXX")
# The journal bench needs a real disk (fsync on tmpfs costs nothing): /var/tmp, not /tmp.
jdir=$(mktemp -d /var/tmp/nw-bench-journal.XXXXXX)
trap 'rm -rf "$logs" "$jdir"' EXIT INT TERM

run() { # NAME COMMAND...: runs a bench, shows its output, keeps it for the summary
    name=$1
    shift
    echo "== $name: $*"
    "$@" | tee "$logs/$name"
    echo
}

run tagger "$bin/bench_tagger" "$corpus" 3
run journal "$bin/bench_journal" "$jdir" "$secs"
run codec "$bin/bench_codec" "$secs"
run pubsub "$bin/bench_pubsub" "$(echo "$secs" | awk '{print $1 * 2}')"
run fanout "$bin/bench_fanout"
run ingest bench/bench_ingest.sh "$bin/.." "${NW_BENCH_INGEST_N:-200000}"
run durable bench/bench_durable.sh "$bin/.." "${NW_BENCH_DURABLE_N:-200000}"
if [ -d ../shared/corpus/reuters/train ] || [ -n "${NW_BENCH_PIPELINE_CORPUS:-}" ]; then
    run pipeline bench/bench_pipeline.sh "$bin/.." "${NW_BENCH_PIPELINE_N:-0}" \
        "${NW_BENCH_PIPELINE_ROUNDS:-1}"
else
    echo "== pipeline: skipped, ../shared/corpus/reuters/train not found"
    : >"$logs/pipeline"
fi

echo "== summary (ours vs the baseline of the same run; ratio > 1 means ours is faster)"
printf '%-34s %14s %14s %8s\n' "measure" "ours" "baseline" "ratio"
awk '
/^tag  \(taxonomy \+ model\)/ { tag = $5 }
/^grep -F -i -c -f/ { grep = $6 }
END { if (grep > 0) printf "%-34s %9.1f MB/s %9.1f MB/s %8.2f\n",
                           "tagger: taxonomy+model vs grep", tag, grep, tag / grep }
' "$logs/tagger"
awk '
$2 == "write(2)"            { w[$1] = $3 }
$2 == "journal" && $3 == "interval" { printf "%-34s %11.0f /s %11.0f /s %8.2f\n",
    "journal " $1 " B: interval vs write(2)", $4, w[$1], $4 / w[$1] }
' "$logs/journal"
awk '
$2 == "encode+decode" { printf "%-34s %11.0f /s %11.0f /s %8.2f\n",
    "codec " $1 " B: encode+decode", $3, $4, $6 }
$2 == "decode" && $5 == "unpack" { printf "%-34s %11.0f /s %11.0f /s %8.2f\n",
    "codec " $1 " B: decode vs unpack", $3, $4, $6 }
' "$logs/codec"
awk '
$2 == "raw" && $3 == "1-frame" { raw[$1] = $4; p50[$1] = $5; p99[$1] = $6 }
$2 == "newswire" {
    printf "%-34s %9.0f msg/s %9.0f msg/s %8.2f\n", "pubsub " $1 " B: throughput", $3, raw[$1], $6
    printf "%-34s %7.0f/%-4.0f us %7.0f/%-4.0f us %8.2f\n", "pubsub " $1 " B: latency p50/p99",
        $4, $5, p50[$1], p99[$1], p50[$1] / $4
}
' "$logs/pubsub"
awk '
$2 == "zmq_proxy" { raw[$1] = $3; p99[$1] = $5 }
$2 == "newswire" {
    printf "%-34s %9.0f msg/s %9.0f msg/s %8.2f\n", "fanout " $1 " subs: delivered/s", $3, raw[$1], $6
    printf "%-34s %12.0f us %12.0f us %8.2f\n", "fanout " $1 " subs: p99 latency", $5, p99[$1], ($7 > 0 ? 1 / $7 : 0)
}
' "$logs/fanout"
awk '
/^pipeline ratio/ { r = $NF; $1 = ""; $2 = ""; $NF = ""; printf "%-34s %14s %14s %8.3f\n", "pipeline: " $0, "", "", r }
$1 == "pipeline" && $4 == "alerts/s" { printf "%-34s %9.0f /s %14s %8.3f\n", "pipeline " $2 " alerts/s", $3, "raw libzmq", $7 }
' "$logs/pipeline"
awk '
$1 == "ingest" && $2 == "raw" { raw = $(NF - 1) }
$1 == "ingest" && $4 == "alerts/s" { r[$2] = $3; hwm[$2] = $9 }
$1 == "ingest" && $3 == "cpu" && $2 != "replay" { c[$2] = $14 }
$1 == "ingest" && $2 == "replay" && $3 == "count" { rp = $4 }
$1 == "ingest" && $2 == "replay" && $3 == "cpu" { rpc = $11 }
END {
    for (k in r) printf "%-34s %9.0f /s %9.0f msg/s %8.3f\n", "sub ingest " k " (replay), sub " hwm[k] " kB", r[k], raw, r[k] / raw
    for (k in c) printf "%-34s %9.0f /s %9.0f msg/s %8.3f\n", "sub ingest " k ": CPU ceiling", c[k], raw, c[k] / raw
    if (rp > 0) printf "%-34s %9.0f /s %9.0f msg/s %8.3f\n", "replay alone (bench_replay)", rp, raw, rp / raw
    if (rpc > 0) printf "%-34s %9.0f /s %9.0f msg/s %8.3f\n", "replay alone: publisher CPU ceiling", rpc, raw, rpc / raw
}
' "$logs/ingest"
awk '
$1 == "durable" && $2 == "ratio" { printf "%-34s %14s %14s %8.2f\n", $3 " " $4 " / " $6 " " $7, "", "", $NF }
' "$logs/durable"
