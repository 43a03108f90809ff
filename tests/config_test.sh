#!/bin/sh
# --config for both programs, as real processes: a bad line exits 2 naming
# FILE:LINE, a bad value from the file names FILE:LINE and the option, a
# missing file is an error, and the command line overrides the file.
# Usage: config_test.sh PUB_BIN SUB_BIN ARTICLE
set -u
pub=$1 sub=$2 article=$3
failed=0
fail() {
    echo "FAIL: $*" >&2
    failed=1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# expect STATUS TEXT CMD...: runs CMD, checks its exit status and that stderr holds TEXT.
expect() {
    want=$1 text=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" != "$want" ]; then
        fail "$* exited $got, not $want; stderr: $(head -c 300 "$work/err")"
    elif [ -n "$text" ] && ! grep -q -F -- "$text" "$work/err"; then
        fail "$*: stderr does not say '$text': $(head -c 300 "$work/err")"
    else
        echo "ok: $(basename "$1") ${2:-} ... exit $got, says '$text'"
    fi
}

for bin in "$pub" "$sub"; do
    printf '# comment\n\nlog-level = info\nbogus-key = 1\n' >"$work/bad-key.conf"
    expect 2 "$work/bad-key.conf:4: unknown key 'bogus-key'" "$bin" --config "$work/bad-key.conf"
    printf 'log-level\n' >"$work/no-eq.conf"
    expect 2 "$work/no-eq.conf:1: expected 'key = value'" "$bin" --config "$work/no-eq.conf"
    printf 'log-level = loud\n' >"$work/bad-value.conf"
    expect 2 "$work/bad-value.conf:1: --log-level: 'loud'" "$bin" --config "$work/bad-value.conf"
    expect 2 "$work/absent.conf" "$bin" --config "$work/absent.conf"
    expect 2 "is a folder" "$bin" --config "$work"
    # The command line's --log-level replaces the file's bad one.
    expect 0 "" "$bin" --config "$work/bad-value.conf" --log-level warn --version
done

# The publisher reads its options from the file: --dry-run with a topics file from
# the file fails on it, and the command line's --topics replaces it.
printf 'topics = %s\nmax-article-size = 1M\n' "$work/absent-topics.conf" >"$work/pub.conf"
expect 2 "absent-topics.conf" "$pub" --config "$work/pub.conf" --dry-run "$article"
printf "topic: trade\\nthreshold: 1\\n4: tariff~\\n" >"$work/topics.conf"
expect 0 "" "$pub" --config "$work/pub.conf" --topics "$work/topics.conf" --dry-run "$article"
grep -q '"topics"' "$work/out" || fail "newswire-pub --dry-run printed no alerts with --config"
# The subscriber: a repeated key repeats the option (two bad topics: the first is named).
printf 'topic = trade\ntopic = Not_A_Topic\n' >"$work/sub.conf"
expect 2 "$work/sub.conf:2: -t/--topic: 'Not_A_Topic'" "$sub" --config "$work/sub.conf"

[ "$failed" = 0 ] || exit 1
echo "PASS"
