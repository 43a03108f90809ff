#!/bin/sh
# bench_pipeline.sh BUILD_DIR [N] [ROUNDS]: the whole pipeline as a user runs it, against raw
# libzmq in the same run.
#
# N stories (default: all) of the Reuters training corpus (NW_BENCH_PIPELINE_CORPUS, default
# ../shared/corpus/reuters/train from the repository) are dropped into an empty spool at once
# (N renames of a fresh copy on the same file system: the spool refuses hard links) while
# newswire-pub runs with its defaults (journal, fsync interval, replay on) and one
# newswire-sub -q --log FILE (JSON Lines) is connected. The time is from just before the
# renames to the moment the log holds every expected alert. Expected = the unique
# alert ids `newswire-pub --dry-run` gives for the same files (identical stories give
# identical ids, which the journal sends once). Modes: --journal-fsync interval (the
# default), never, always, and --no-journal; then raw libzmq PUB->SUB (bench_zmq_raw) at the
# mean size of a log line of the run. ROUNDS (default 1) repeats the whole set interleaved;
# the summary takes each mode's median. Prints alerts/s, stories/s, the peak RSS (VmHWM) of
# both processes, their CPU time (user + system: what the run cost, whatever the load of the
# machine) and the ratios. Spool and journal live under /var/tmp (a real disk: fsync on
# a tmpfs costs nothing). NW_BENCH_PIPELINE_BASE=DIR (another build tree, e.g. a copy of the
# one before a change) runs each mode with that tree's programs first, interleaved, and
# prints candidate / base per mode. NW_BENCH_PIPELINE_MODES="interval no-journal" (any of
# interval never always no-journal) runs only those modes. Timing never fails the script; a missing corpus or a run that
# does not complete within 300 s does.
set -eu
bdir=$(cd "${1:?usage: bench_pipeline.sh BUILD_DIR [N] [ROUNDS]}" && pwd)
want=${2:-0}
rounds=${3:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${NW_BENCH_PIPELINE_CORPUS:-$here/../shared/corpus/reuters/train}
pub=$bdir/publisher/newswire-pub
sub=$bdir/subscriber/newswire-sub
raw=$bdir/bench/bench_zmq_raw
for f in "$pub" "$sub" "$raw"; do
    [ -x "$f" ] || { echo "bench_pipeline: $f missing: build first" >&2; exit 1; }
done
if [ ! -d "$corpus" ]; then
    echo "bench_pipeline: corpus $corpus not found (set NW_BENCH_PIPELINE_CORPUS)" >&2
    exit 1
fi
dir=$(mktemp -d /var/tmp/nw-bench-pipe.XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# The stories, copied per run into a stage on the spool's file system (the spool refuses
# files with more than one hard link), then renamed into incoming/.
mkdir "$dir/src"
ls "$corpus" | sort | { if [ "$want" -gt 0 ]; then head -n "$want"; else cat; fi; } >"$dir/names"
while read -r f; do cp "$corpus/$f" "$dir/src/$f"; done <"$dir/names"
n=$(wc -l <"$dir/names")
[ "$n" -gt 0 ] || { echo "bench_pipeline: no stories in $corpus" >&2; exit 1; }
(cd "$dir/src" && ls | xargs "$pub" --dry-run 2>/dev/null) |
    awk -F'"' '$2 == "id" && !/"topics":\[\]/ { print $4 }' | sort -u >"$dir/ids"
expected=$(wc -l <"$dir/ids")
echo "bench_pipeline: $n stories, $expected unique alerts expected, work dir $dir"

now_ms() { date +%s%3N; }
cpu_ms() { # user + system CPU time of a process so far, in ms (load-independent cost)
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

base=${NW_BENCH_PIPELINE_BASE:+$(cd "$NW_BENCH_PIPELINE_BASE" && pwd)}
modes=${NW_BENCH_PIPELINE_MODES:-interval never always no-journal}

run() { # LABEL, then newswire-pub flags; appends "LABEL ms pubkb subkb" to results
    label=$1; shift
    pub=$bdir/publisher/newswire-pub; sub=$bdir/subscriber/newswire-sub
    case "$label" in base:*)
        pub=$base/publisher/newswire-pub; sub=$base/subscriber/newswire-sub ;;
    esac
    w=$dir/run
    rm -rf "$w"; mkdir -p "$w/spool/incoming" "$w/stage"
    cp -R "$dir/src/." "$w/stage/"
    p=$(port); r=$(port)
    "$pub" --spool "$w/spool" --journal "$w/journal" --bind "tcp://127.0.0.1:$p" \
        --replay-bind "tcp://127.0.0.1:$r" "$@" 2>"$w/pub.log" &
    ppid_=$!
    "$sub" -c "tcp://127.0.0.1:$p" -q --log "$w/alerts.jsonl" 2>"$w/sub.log" &
    spid=$!
    pids="$ppid_ $spid"
    t=0
    while ! grep -qs "subscriber subscribed to ''" "$w/pub.log"; do
        t=$((t + 1)); [ "$t" -lt 400 ] || { echo "bench_pipeline: no subscriber" >&2; cat "$w/pub.log" >&2; exit 1; }
        sleep 0.05
    done
    t0=$(now_ms)
    # One process renames them all (mv re-checks each target, which the daemon may have
    # moved on already).
    (cd "$w/stage" && ls | perl -e 'chomp, rename($_, "$ARGV[0]/$_") || die "$_: $!" while <STDIN>' "$w/spool/incoming")
    got=0
    while [ "$got" -lt "$expected" ]; do
        kill -0 "$ppid_" 2>/dev/null || { echo "bench_pipeline: $label: publisher died" >&2; tail "$w/pub.log" >&2; exit 1; }
        [ $(( $(now_ms) - t0 )) -lt 300000 ] || { echo "bench_pipeline: $label: $got of $expected alerts after 300 s" >&2; exit 1; }
        sleep 0.02
        got=$(wc -l <"$w/alerts.jsonl" 2>/dev/null || echo 0)
        if [ "$got" -eq 0 ] && [ -n "$(ls -A "$w/spool/failed")" ]; then
            echo "bench_pipeline: $label: articles refused into failed/:" >&2
            grep -m 3 error "$w/pub.log" >&2
            exit 1
        fi
    done
    t1=$(now_ms)
    pk=$(hwm_kb "$ppid_"); sk=$(hwm_kb "$spid")
    pc=$(cpu_ms "$ppid_"); sc=$(cpu_ms "$spid")
    kill "$ppid_" "$spid"; wait "$ppid_" || true; wait "$spid" || true
    pids=""
    uniq_=$(awk -F'"' '$2 == "id" { print $4 }' "$w/alerts.jsonl" | sort -u | wc -l)
    [ "$uniq_" -eq "$expected" ] || echo "bench_pipeline: $label: $uniq_ unique ids logged, $expected expected" >&2
    bytes=$(wc -c <"$w/alerts.jsonl"); lines=$(wc -l <"$w/alerts.jsonl")
    echo "$bytes $lines" >>"$dir/sizes"
    ms=$((t1 - t0 > 0 ? t1 - t0 : 1))
    printf '%-26s %7d ms %9.0f alerts/s %8.0f stories/s  pub %6d kB  sub %6d kB  cpu pub %6d ms sub %6d ms\n' \
        "$label" "$ms" "$(echo "$expected * 1000 / $ms" | bc -l)" "$(echo "$n * 1000 / $ms" | bc -l)" \
        "$pk" "$sk" "$pc" "$sc"
    echo "$label $ms $pk $sk" >>"$dir/results"
}

: >"$dir/results"; : >"$dir/sizes"
both() { # LABEL FLAGS...: the base first when there is one, then the candidate
    [ -z "$base" ] || run "base:$@"
    run "$@"
}
i=0
while [ "$i" -lt "$rounds" ]; do
    for m in $modes; do
        case "$m" in
        interval) both "interval(default)" ;;
        never) both "never" --journal-fsync never ;;
        always) both "always" --journal-fsync always ;;
        no-journal) both "no-journal" --no-journal ;;
        *) echo "bench_pipeline: unknown mode '$m' in NW_BENCH_PIPELINE_MODES" >&2; exit 2 ;;
        esac
    done
    size=$(awk '{ b += $1; l += $2 } END { printf "%d", b / l }' "$dir/sizes")
    rawline=$("$raw" "$size" 200000)
    echo "$rawline"
    echo "raw $(echo "$rawline" | awk '{ print $(NF - 1) }') 0 0" >>"$dir/results"
    i=$((i + 1))
done

echo "== pipeline summary: $n stories, $expected alerts, mean log line $size B, median of $rounds"
awk -v n="$n" -v e="$expected" '
function med(k,   m, i, j, t) { m = cnt[k]; for (i = 1; i <= m; i++) a[i] = v[k, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((m + 1) / 2)] }
{ k = $1; cnt[k]++; v[k, cnt[k]] = $2; p[k] = $3 > p[k] ? $3 : p[k]; s[k] = $4 > s[k] ? $4 : s[k] }
END {
    rawr = med("raw")
    split("interval(default) never always no-journal", modes, " ")
    for (i = 1; i <= 4; i++) { k = modes[i]; if (cnt[k] == 0) continue; ms = med(k); rate[k] = e * 1000 / ms
        printf "pipeline %-18s %9.0f alerts/s %8.0f stories/s  %6.3f of raw  pub %6d kB  sub %6d kB\n",
            k, rate[k], n * 1000 / ms, rate[k] / rawr, p[k], s[k] }
    printf "pipeline raw libzmq         %9.0f msg/s\n", rawr
    d = rate["interval(default)"]
    if (d > 0) printf "pipeline ratio default / raw libzmq   %6.3f\n", d / rawr
    if (d > 0 && rate["no-journal"] > 0) printf "pipeline ratio default / no-journal   %6.3f\n", d / rate["no-journal"]
    if (d > 0 && rate["always"] > 0) printf "pipeline ratio always / interval      %6.3f\n", rate["always"] / d
    for (i = 1; i <= 4; i++) { k = modes[i]; if (cnt["base:" k] == 0) continue; ms = med("base:" k)
        printf "pipeline base %-18s %9.0f alerts/s  candidate / base %6.2f  pub %6d kB  sub %6d kB\n",
            k, e * 1000 / ms, rate[k] / (e * 1000 / ms), p["base:" k], s["base:" k] }
}' "$dir/results"
