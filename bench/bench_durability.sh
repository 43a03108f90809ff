#!/bin/sh
# bench_durability.sh PUB_BIN [ALERTS]: alerts/s through the newswire-pub daemon (ingest,
# journal, send) with the journal off and under each fsync policy, in one run. Publishes one
# spool of short-paragraph articles per mode on 127.0.0.1 (no subscriber: PUB drops) and
# times it from the first article's start to the last "published" log line. Run it on the
# disk the journal will use: a tmpfs makes fsync free.
set -eu
pub=${1:?usage: bench_durability.sh PUB_BIN [ALERTS]}
alerts=${2:-200000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/nw-bench-dur.XXXXXX")
trap 'rm -rf "$dir"' EXIT
per=10000
n=$(( (alerts + per - 1) / per ))
printf 'topic: alpha\nthreshold: 1\n5: zebra\n' >"$dir/tax.conf"
awk -v per="$per" 'BEGIN { print "Zebra report\n"; for (i = 0; i < per - 1; i++)
    printf "Zebra item %d moves on the market today.\n\n", i }' >"$dir/article.txt"
ms() { date -d "$1" +%s%3N; }
run() { # mode label, then newswire-pub flags
    label=$1; shift
    rm -rf "$dir/spool" "$dir/journal"; mkdir -p "$dir/spool/incoming"
    i=0; while [ "$i" -lt "$n" ]; do
        # Different text per article, so alert ids differ.
        sed "1s/.*/Zebra report $i/" "$dir/article.txt" >"$dir/spool/.a$i"
        mv "$dir/spool/.a$i" "$dir/spool/incoming/a$(printf %04d "$i").txt"; i=$((i + 1)); done
    "$pub" --spool "$dir/spool" --journal "$dir/journal" --topics "$dir/tax.conf" \
        --bind tcp://127.0.0.1:* --replay-bind none "$@" 2>"$dir/log" &
    pid=$!
    last=$(printf 'a%04d.txt' $((n - 1)))
    while ! grep -q "published $last" "$dir/log"; do
        kill -0 "$pid" 2>/dev/null || { cat "$dir/log" >&2; exit 1; }; sleep 0.05; done
    kill "$pid"; wait "$pid" || true
    t0=$(ms "$(grep -m1 'ready: stream' "$dir/log" | cut -d' ' -f1)")
    t1=$(ms "$(grep "published $last" "$dir/log" | cut -d' ' -f1)")
    total=$(grep -o 'published [^:]*: [0-9]* alerts' "$dir/log" | awk '{ s += $3 } END { print s }')
    printf '%-22s %8d alerts %7d ms %9.0f alerts/s\n' "$label" "$total" $((t1 - t0)) \
        "$(echo "$total * 1000 / ($t1 - $t0 + 1)" | bc -l)"
}
echo "newswire-pub end to end, $n articles of $per alerts, journal in $dir"
run "--no-journal" --no-journal
run "--journal-fsync never" --journal-fsync never
run "--journal-fsync interval" --journal-fsync interval
# One fdatasync per alert: a fifth of the alerts keeps the run short.
n=$(( (n + 4) / 5 ))
run "--journal-fsync always" --journal-fsync always
