#!/bin/sh
# The compose demo's one-shot feeder: drops the sample articles into the
# publisher's spool the maildir way (written under a hidden temporary name in
# incoming/, then renamed), so the daemon never reads half a file.
#
# compose.yaml starts it once the publisher and the subscribers report healthy
# (the subscribers are connected). For a runner that ignores depends_on
# conditions (podman-compose 1.0), NW_FEED_SETTLE seconds of grace come first.
#
# Environment: NW_SPOOL (default /var/lib/newswire/spool), NW_ARTICLES (default
# /usr/share/newswire/articles), NW_FEED_SETTLE (seconds, default 1),
# NW_FEED_TIMEOUT (seconds to wait for the spool, default 60).
set -eu

spool=${NW_SPOOL:-/var/lib/newswire/spool}
articles=${NW_ARTICLES:-/usr/share/newswire/articles}
settle=${NW_FEED_SETTLE:-1}
timeout=${NW_FEED_TIMEOUT:-60}

fail() {
    echo "feeder: $*" >&2
    exit 1
}

# wait_for_dir DIR SECONDS: the publisher's volume is mounted and DIR is there.
wait_for_dir() {
    waited=0
    while [ ! -d "$1" ]; do
        [ "$waited" -lt "$2" ] || fail "gave up after $2 s waiting for $1"
        sleep 1
        waited=$((waited + 1))
    done
}

wait_for_dir "$spool/incoming" "$timeout"
sleep "$settle"

count=0
for article in "$articles"/*.txt; do
    [ -f "$article" ] || continue
    name=$(basename "$article")
    tmp="$spool/incoming/.$name.tmp"
    cp "$article" "$tmp" || fail "cannot write $tmp"
    mv "$tmp" "$spool/incoming/$name" || fail "cannot rename $tmp into incoming/"
    echo "feeder: dropped $name into $spool/incoming"
    count=$((count + 1))
done
[ "$count" -gt 0 ] || fail "no articles (*.txt) in $articles"
echo "feeder: dropped $count articles"
