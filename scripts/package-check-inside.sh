#!/bin/bash
# The part of scripts/package-check.sh that runs in the clean container (as
# root): install the .deb, inspect it, run it as its units would, purge it.
# Usage: package-check-inside.sh ALERT_PORT REPLAY_PORT METRICS_PORT
#        (the .deb at /tmp/newswire.deb)
set -euo pipefail
alert_port=$1 replay_port=$2 metrics_port=$3
say() { printf 'package-check: [container] %s\n' "$*"; }
bad() {
    printf 'package-check: [container] FAILED: %s\n' "$*" >&2
    for f in /tmp/pub.log /tmp/sub.log; do
        [ -s "$f" ] && { echo "----- $f -----" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}
# wait_for FILE TEXT SECONDS: until FILE holds TEXT.
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q -F -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    bad "no '$2' in $1 within $3 s"
}

# The slim base image drops man pages and docs at install (dpkg path-exclude);
# an ordinary Debian system keeps them, and they are part of what is checked.
rm -f /etc/dpkg/dpkg.cfg.d/docker-slim
export DEBIAN_FRONTEND=noninteractive
say "apt-get install ./newswire.deb (dependencies from the mirror)"
{ apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/newswire.deb; } \
    >/tmp/apt.log 2>&1 || { tail -n 30 /tmp/apt.log >&2; bad "apt-get install of the .deb (log above)"; }
say "installed $(dpkg-query -W -f='${Package} ${Version}, ${Installed-Size} KiB' newswire)"

# --- files ---
for f in /usr/bin/newswire-pub /usr/bin/newswire-sub /usr/bin/newswire-train \
    /usr/share/man/man1/newswire-pub.1.gz /usr/share/man/man1/newswire-sub.1.gz \
    /usr/share/man/man1/newswire-train.1.gz \
    /usr/share/bash-completion/completions/newswire-train \
    /usr/share/man/man7/newswire.7.gz \
    /usr/share/bash-completion/completions/newswire-pub \
    /usr/share/bash-completion/completions/newswire-sub \
    /usr/lib/systemd/system/newswire-pub.service /usr/lib/systemd/system/newswire-sub@.service \
    /etc/newswire/newswire-pub.conf /etc/newswire/newswire-sub.conf /etc/newswire/sub-log.conf \
    /usr/share/doc/newswire/README.md /usr/share/doc/newswire/PROTOCOL.md \
    /usr/share/newswire/topics.conf /usr/share/newswire/boilerplate.conf; do
    [ -s "$f" ] || bad "not installed: $f"
done
for f in /etc/newswire/newswire-pub.conf /etc/newswire/newswire-sub.conf /etc/newswire/sub-log.conf; do
    dpkg-query -W -f='${Conffiles}\n' newswire | grep -q " $f " || bad "$f is not a conffile"
done
for page in /usr/share/man/man*/newswire*.gz; do
    zcat "$page" | grep -q '^\.TH ' || bad "$page is not a man page"
done
for c in /usr/share/bash-completion/completions/newswire-*; do
    bash -n "$c" || bad "$c: bash syntax"
done
if grep -rnE '\.\./shared|\(issues? [0-9]+\)' /usr/share/doc/newswire >/tmp/grep.out; then
    cat /tmp/grep.out >&2
    bad "installed docs point outside the product (above)"
fi
newswire-pub --help | grep -q 'newswire-pub(1)' || bad "newswire-pub --help does not point at its man page"
if newswire-pub --help | grep -nE '(docs|proto)/|\.md\b'; then bad "newswire-pub --help names source paths"; fi
say "files: programs, 3 man pages, completion, 2 units, 3 conffiles, docs"

# --- user and folders ---
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd newswire) || bad "no user newswire"
[ "$uid" -lt 1000 ] || bad "newswire is not a system user (uid $uid)"
[ "$home" = /var/lib/newswire ] || bad "newswire's home is $home"
[ "$shell" = /usr/sbin/nologin ] || bad "newswire's shell is $shell"
getent group newswire >/dev/null || bad "no group newswire"
check_dir() { # PATH MODE
    [ -d "$1" ] || bad "no folder $1"
    [ "$(stat -c '%U:%G %a' "$1")" = "newswire:newswire $2" ] ||
        bad "$1 is $(stat -c '%U:%G %a' "$1"), not newswire:newswire $2"
}
check_dir /var/lib/newswire 755
check_dir /var/lib/newswire/spool 755
check_dir /var/lib/newswire/spool/incoming 2775
check_dir /var/lib/newswire/spool/done 755
check_dir /var/lib/newswire/spool/failed 755
check_dir /var/lib/newswire/journal 755
check_dir /var/lib/newswire/sub 750
check_dir /var/log/newswire 750
say "user newswire (uid $uid, nologin) and folders under /var/lib/newswire, /var/log/newswire"

# --- run as the units would ---
# The admin's edit: free ports on this (shared) network instead of 5556/5557.
sed -i -e "s|^bind = .*|bind = tcp://127.0.0.1:$alert_port|" \
    -e "s|^replay-bind = .*|replay-bind = tcp://127.0.0.1:$replay_port|" \
    -e "s|^#metrics-bind = .*|metrics-bind = 127.0.0.1:$metrics_port|" /etc/newswire/newswire-pub.conf
sed -e "s|^connect = .*|connect = tcp://127.0.0.1:$alert_port|" -e 's|log.state|check.state|' \
    -e 's|alerts.jsonl|check.jsonl|' /etc/newswire/sub-log.conf >/etc/newswire/sub-check.conf
# unit_command UNIT INSTANCE: the unit's ExecStart, %i replaced.
unit_command() {
    sed -n 's/^ExecStart=//p' "/usr/lib/systemd/system/$1" | sed "s/%i/$2/g"
}
pub_cmd=$(unit_command newswire-pub.service "")
sub_cmd=$(unit_command newswire-sub@.service check)
say "publisher: $pub_cmd"
say "subscriber newswire-sub@check: $sub_cmd"
as_newswire() { setpriv --reuid=newswire --regid=newswire --init-groups "$@"; }
# shellcheck disable=SC2086 # the unit's command line, split as systemd would
(cd /var/lib/newswire && exec setpriv --reuid=newswire --regid=newswire --init-groups $pub_cmd) \
    >/tmp/pub.out 2>/tmp/pub.log &
pub_pid=$!
wait_for /tmp/pub.log "ready:" 30
# shellcheck disable=SC2086
(cd /var/lib/newswire/sub && exec setpriv --reuid=newswire --regid=newswire --init-groups $sub_cmd) \
    >/tmp/sub.out 2>/tmp/sub.log &
sub_pid=$!
wait_for /tmp/sub.log "; live" 30

article=/usr/share/doc/newswire/examples/articles/01-tariffs-steel.txt
expected=$(as_newswire newswire-pub --config none --dry-run "$article" | wc -l)
[ "$expected" -gt 0 ] || bad "the dry run of $article gave no alerts"
# A writer: create beside incoming/, then rename into it.
cp "$article" /var/lib/newswire/spool/.incoming-tariffs.txt
mv /var/lib/newswire/spool/.incoming-tariffs.txt /var/lib/newswire/spool/incoming/tariffs.txt
# Bounded wait (30 s) for the alerts in the log and the article in done/ (it moves
# there once its alerts are journaled and synced).
for ((i = 0; i < 300; i++)); do
    got=$(grep -c '"id"' /var/log/newswire/check.jsonl 2>/dev/null || true)
    [ "${got:-0}" -ge "$expected" ] && [ -e /var/lib/newswire/spool/done/tariffs.txt ] && break
    sleep 0.1
done
[ "${got:-0}" = "$expected" ] || bad "the subscriber logged ${got:-0} alerts, the dry run predicts $expected"
[ -e /var/lib/newswire/spool/done/tariffs.txt ] || bad "the article did not reach spool/done/"
say "published and received: $got alerts of $article, as the dry run predicts"

# GET /metrics with bash alone (no curl in the image).
exec 3<>"/dev/tcp/127.0.0.1/$metrics_port" || bad "cannot connect to the metrics port $metrics_port"
printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
metrics=$(cat <&3)
exec 3<&-
grep -q '^newswire_pub_articles_total{result="done"} 1$' <<<"$metrics" ||
    bad "metrics do not count the article: $(grep articles <<<"$metrics")"
grep -q "^newswire_pub_alerts_total $expected\$" <<<"$metrics" ||
    bad "metrics do not count $expected alerts: $(grep alerts_total <<<"$metrics")"
say "metrics: GET /metrics counts 1 article and $expected alerts"

kill -TERM "$sub_pid" "$pub_pid"
rc=0
wait "$sub_pid" || rc=$?
[ "$rc" = 0 ] || bad "the subscriber exited $rc on SIGTERM"
wait "$pub_pid" || rc=$?
[ "$rc" = 0 ] || bad "the publisher exited $rc on SIGTERM"
[ -s /var/lib/newswire/sub/check.state ] || bad "the subscriber saved no state file"
[ "$(stat -c %U /var/lib/newswire/journal/stream-id 2>/dev/null)" = newswire ] ||
    bad "no journal owned by newswire in /var/lib/newswire/journal"
say "both stopped with exit 0 on SIGTERM; journal and state files owned by newswire"

# --- purge ---
apt-get purge -y -q newswire >/tmp/purge.log 2>&1 || { cat /tmp/purge.log >&2; bad "apt-get purge"; }
[ ! -e /usr/bin/newswire-pub ] || bad "purge left /usr/bin/newswire-pub"
[ ! -e /etc/newswire/newswire-pub.conf ] || bad "purge left the conffile /etc/newswire/newswire-pub.conf"
[ ! -e /var/lib/newswire/journal ] || bad "purge left the journal"
[ ! -e /var/lib/newswire/sub/check.state ] || bad "purge left the subscriber state"
[ -e /var/lib/newswire/spool/done/tariffs.txt ] || bad "purge deleted a published article"
grep -q "kept /var/lib/newswire/spool/done (not empty)" /tmp/purge.log ||
    bad "purge did not say it kept spool/done: $(cat /tmp/purge.log)"
getent passwd newswire >/dev/null || bad "purge removed the user newswire (files may still be its)"
say "purge: programs, conffiles, journal and state gone; the article and the user kept"
say "PASSED"
