#!/bin/sh
# The demo: installs what is missing, builds, then runs the publisher daemon on
# a temporary spool with three subscribers (tariffs, defense, and one logging
# everything as JSON Lines), drops the sample articles in, shows what each
# subscriber received, and stops everything cleanly.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

scripts/setup.sh
scripts/build.sh demo >/dev/null

pub="$top/build/demo/publisher/newswire-pub"
sub="$top/build/demo/subscriber/newswire-sub"
work=$(mktemp -d "${TMPDIR:-/tmp}/newswire-demo.XXXXXX")
pids=""

cleanup() {
    for pid in $pids; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $pids; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

# wait_for FILE TEXT SECONDS: waits until FILE contains TEXT, or fails the demo.
wait_for() {
    i=0
    while ! grep -qF -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt $(($3 * 10)) ]; then
            echo "demo: gave up after $3 s waiting for '$2' in $1" >&2
            cat "$1" >&2 || true
            exit 1
        fi
        sleep 0.1
    done
}

# How many alerts the publisher will send for the sample articles: its dry run says.
expected=$("$pub" --dry-run examples/articles/*.txt | wc -l)

mkdir -p "$work/spool/incoming"
"$pub" --spool "$work/spool" --journal "$work/journal" --bind "tcp://127.0.0.1:*" \
    --replay-bind "tcp://127.0.0.1:*" \
    2>"$work/publisher.log" &
pids="$pids $!"
wait_for "$work/publisher.log" "listening on tcp://" 10
endpoint=$(grep -v 'replay:' "$work/publisher.log" | sed -n 's/.*listening on \(tcp:\/\/[^ ]*\).*/\1/p' | head -n 1)

NO_COLOR=1 "$sub" -c "$endpoint" -t tariffs >"$work/tariffs.txt" 2>"$work/sub-tariffs.log" &
pids="$pids $!"
NO_COLOR=1 "$sub" -c "$endpoint" -t defense >"$work/defense.txt" 2>"$work/sub-defense.log" &
pids="$pids $!"
"$sub" -c "$endpoint" -q --log "$work/alerts.jsonl" 2>"$work/sub-all.log" &
pids="$pids $!"

# No fixed sleep: wait until the publisher has seen each subscription arrive.
wait_for "$work/publisher.log" "subscribed to 'tariffs'" 10
wait_for "$work/publisher.log" "subscribed to 'defense'" 10
wait_for "$work/publisher.log" "subscribed to ''" 10

for article in examples/articles/*.txt; do
    name=$(basename "$article")
    cp "$article" "$work/spool/incoming/.$name.tmp"
    mv "$work/spool/incoming/.$name.tmp" "$work/spool/incoming/$name"
done

# Wait until the logging subscriber holds every alert the dry run predicted.
i=0
while [ "$(wc -l <"$work/alerts.jsonl" 2>/dev/null || echo 0)" -lt "$expected" ]; do
    i=$((i + 1))
    if [ "$i" -gt 300 ]; then
        echo "demo: the log has $(wc -l <"$work/alerts.jsonl") of $expected alerts after 30 s" >&2
        exit 1
    fi
    sleep 0.1
done

cleanup
pids=""
trap - EXIT INT TERM

echo "== newswire-sub -t tariffs =="
cat "$work/tariffs.txt"
echo
echo "== newswire-sub -t defense =="
cat "$work/defense.txt"
echo
echo "== summary =="
echo "articles published: $(ls "$work/spool/done" | wc -l), alerts: $expected"
echo "tariffs subscriber: $(wc -l <"$work/tariffs.txt") alerts, defense subscriber: $(wc -l <"$work/defense.txt") alerts"
echo "logging subscriber: $(wc -l <"$work/alerts.jsonl") alerts"
echo "all alerts as JSON Lines: $work/alerts.jsonl"
echo "publisher log: $work/publisher.log"
