#!/bin/bash
# Runs the container demo (compose.yaml) for real, end to end, on a machine
# without a Docker engine, with Debian's podman:
#
#   1. installs what is missing (scripts/setup.sh --containers);
#   2. builds a debian:bookworm-slim base image with debootstrap from the
#      machine's Debian mirror (no registry is needed), cached per day;
#   3. builds the images and brings the project up with docker-compose 1.29
#      talking to `podman system service` (or podman-compose, see below);
#   4. waits until the logging subscriber holds exactly the alerts that the
#      publisher's --dry-run predicts for the sample articles, and the tariffs
#      and defense subscribers printed exactly theirs;
#   5. stops every service and checks each ended on SIGTERM with exit 0 (not
#      137, a kill after the grace period); prints how long the publisher took
#      by its own log, asserting no duration; then `down -v`;
#   6. removes everything it made: containers, images, volumes, networks,
#      podman's storage (in a temporary folder), the iptables chains podman
#      added, its own processes and mounts.
#
# Exits non-zero, saying what failed, on any failure. About 2 minutes here
# (the image build fetches the -dev packages from the mirror every time).
#
# What this machine needs, beyond the issue's hints (debootstrap base image,
# lowered default ulimits, storage in a temporary folder):
#   - runc, not crun: crun refuses the hybrid cgroup v1/v2 layout here;
#   - netavark + aardvark-dns, so containers find "publisher" by name;
#   - no systemd, so nothing runs podman's health checks: a loop here does
#     (`podman healthcheck run`), which docker-compose's depends_on
#     conditions wait for;
#   - podman-compose 1.0.3 ignores depends_on conditions (the feeder's
#     NW_FEED_SETTLE grace covers it) and has no `config` command.
#
# Environment:
#   NW_SKIP_COMPOSE=1       skip the whole check (exit 0)
#   NW_COMPOSE_RUNNER       docker-compose (default) or podman-compose
#   NW_COMPOSE_TIMEOUT      seconds to wait for the alerts (default 90)
#   NW_DEBIAN_MIRROR        Debian mirror for debootstrap (default: the one apt uses)
#   NW_CACHE_DIR            where the base tarball is cached
#                           (default ${XDG_CACHE_HOME:-~/.cache}/newswire)
#   NW_KEEP_WORKDIR=1       keep the temporary folder (logs) after a failure
set -euo pipefail

cd "$(dirname "$0")/.."
top=$(pwd)

if [ "${NW_SKIP_COMPOSE:-0}" = 1 ]; then
    echo "compose-check: skipped (NW_SKIP_COMPOSE=1)"
    exit 0
fi

runner=${NW_COMPOSE_RUNNER:-docker-compose}
alert_timeout=${NW_COMPOSE_TIMEOUT:-90}
cache_dir=${NW_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/newswire}
project="nwcheck$$"
image="newswire:local"
base_tag="docker.io/library/debian:bookworm-slim"
services_running="publisher proxy sub-tariffs sub-defense sub-log"

work=""
# Machine state before the run (record_machine_state); until known, assume
# everything existed so that cleanup removes nothing it should not.
ip_forward_before=""
var_containers_existed=1 run_networks_existed=1 run_containers_existed=1
run_netns_existed=1 run_netns_mounted=1
service_pid=""
ticker_pid=""
t_start=$(date +%s%3N)
t_phase=$t_start
timings=""

log() { printf 'compose-check: %s\n' "$*"; }
fail() {
    printf 'compose-check: FAILED: %s\n' "$*" >&2
    exit 1
}

# phase NAME: ends the current phase (timed) and names the next one.
phase() {
    local now
    now=$(date +%s%3N)
    if [ -n "${phase_name:-}" ]; then
        timings="$timings$(printf '  %-14s %6.1f s' "$phase_name" "$(ms_to_s $((now - t_phase)))")"$'\n'
    fi
    phase_name=$1
    t_phase=$now
    [ "$1" = finished ] || log "== $1 =="
}

# Podman set-up shared with scripts/package-check.sh: storage in $work, the
# debootstrap base image, the machine state podman networks change.
# shellcheck source=scripts/lib-podman.sh
. "$top/scripts/lib-podman.sh"

cleanup() {
    local rc=$? t0
    set +e
    [ -n "$work" ] || exit "$rc"
    t0=$(date +%s%3N)
    log "== cleanup =="
    stop_health_ticker
    podman ps -aq 2>/dev/null | grep -q . && podman rm -af -t 1 >/dev/null 2>&1
    stop_podman_service
    podman system reset -f >/dev/null 2>&1
    end_leftover_processes
    unmount_leftovers
    restore_iptables
    restore_run_dirs
    if [ "$rc" -ne 0 ] && [ "${NW_KEEP_WORKDIR:-0}" = 1 ]; then
        log "kept $work"
    else
        rm -rf "$work"
    fi
    if awk -v w="$work/" 'index($2, w) == 1' /proc/mounts | grep -q .; then
        log "warning: mounts left under $work"
    fi
    log "cleanup took $(ms_to_s $(($(date +%s%3N) - t0))) s"
    if [ "$rc" -ne 0 ]; then print_timings; fi
    exit "$rc"
}

print_timings() {
    phase finished
    log "timings:"
    printf '%s' "$timings"
    log "$(printf '  %-14s %6.1f s' total "$(ms_to_s $(($(date +%s%3N) - t_start)))")"
}

# --- podman set-up -----------------------------------------------------------------

make_workdir() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/newswire-compose.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    record_machine_state
    podman_config
}

start_podman_service() {
    local i
    [ "$runner" = docker-compose ] || return 0
    podman system service --time=0 "unix://$work/podman.sock" >"$work/podman-service.log" 2>&1 &
    service_pid=$!
    for i in $(seq 1 100); do
        [ -S "$work/podman.sock" ] && break
        kill -0 "$service_pid" 2>/dev/null || fail "podman system service died: $(cat "$work/podman-service.log")"
        [ "$i" -lt 100 ] || fail "podman system service did not create its socket within 10 s"
        sleep 0.1
    done
    export DOCKER_HOST="unix://$work/podman.sock" COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0
}

stop_podman_service() {
    [ -n "$service_pid" ] || return 0
    kill -TERM "$service_pid" 2>/dev/null
    wait "$service_pid" 2>/dev/null
    service_pid=""
}

# Podman runs health checks from systemd timers; without systemd nothing runs
# them, so this loop does, once a second, for the project's running containers.
start_health_ticker() {
    rm -f "$work/ticker.stop"
    (
        while [ ! -e "$work/ticker.stop" ]; do
            for id in $(podman ps -q --filter "label=com.docker.compose.project=$project" 2>/dev/null); do
                podman healthcheck run "$id" >/dev/null 2>&1 || true
            done
            sleep 1
        done
    ) &
    ticker_pid=$!
}

stop_health_ticker() {
    [ -n "$ticker_pid" ] || return 0
    touch "$work/ticker.stop"
    wait "$ticker_pid" 2>/dev/null
    ticker_pid=""
}

# --- the project -------------------------------------------------------------------

compose() {
    case "$runner" in
    docker-compose | podman-compose)
        NW_SUB_FORMAT=json "$runner" -p "$project" -f "$top/compose.yaml" "$@"
        ;;
    *) fail "NW_COMPOSE_RUNNER must be docker-compose or podman-compose, not '$runner'" ;;
    esac
}

container() { echo "${project}_$1_1"; }

dump_logs() {
    local svc
    for svc in keys publisher proxy sub-tariffs sub-defense sub-log feeder; do
        echo "----- logs of $svc ($(podman inspect -f '{{.State.Status}} exit {{.State.ExitCode}}' "$(container "$svc")" 2>/dev/null || echo 'no container')) -----" >&2
        podman logs "$(container "$svc")" 2>&1 | tail -n 60 | cut -c1-240 >&2 || true
    done
}

build_images() {
    compose build >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; fail "building the images (compose build, log above)"; }
    podman image exists "$image" || fail "compose build did not produce $image"
    log "built $image ($(podman image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# What the publisher will send for the sample articles, from its own --dry-run.
dry_run() {
    podman run --rm "$image" sh -c 'newswire-pub --dry-run /usr/share/newswire/articles/*.txt' \
        >"$work/dry-run.jsonl" 2>"$work/dry-run.err" ||
        { cat "$work/dry-run.err" >&2; fail "newswire-pub --dry-run in the image"; }
    [ -s "$work/dry-run.jsonl" ] || fail "newswire-pub --dry-run printed no alerts for the sample articles"
    python3 "$work/check.py" expect "$work/dry-run.jsonl"
}

bring_up() {
    start_health_ticker
    compose up -d --no-build >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; dump_logs; fail "compose up -d (log above)"; }
}

# wait_for_alerts: until every subscriber holds its expected alerts, or the limit.
wait_for_alerts() {
    local alerts deadline rc svc
    alerts="$(podman volume inspect -f '{{.Mountpoint}}' "${project}_alerts")/alerts.jsonl" ||
        fail "no volume ${project}_alerts"
    deadline=$(($(date +%s) + alert_timeout))
    while :; do
        podman logs "$(container sub-tariffs)" >"$work/tariffs.out" 2>/dev/null || true
        podman logs "$(container sub-defense)" >"$work/defense.out" 2>/dev/null || true
        rc=0
        python3 "$work/check.py" verify "$work/dry-run.jsonl" "$alerts" \
            "$work/tariffs.out" "$work/defense.out" >"$work/verify.out" 2>&1 || rc=$?
        if [ "$rc" = 0 ]; then
            cat "$work/verify.out"
            break
        fi
        for svc in $services_running; do
            if [ "$(podman inspect -f '{{.State.Status}}' "$(container "$svc")" 2>/dev/null)" != running ]; then
                dump_logs
                cat "$work/verify.out" >&2
                fail "$svc is not running any more (logs above)"
            fi
        done
        if [ "$rc" != 1 ] || [ "$(date +%s)" -ge "$deadline" ]; then
            dump_logs
            cat "$work/verify.out" >&2
            if [ "$rc" != 1 ]; then fail "the subscribers received wrong alerts (above)"; fi
            fail "the subscribers did not get their alerts within $alert_timeout s (above)"
        fi
        sleep 1
    done
    [ "$(podman inspect -f '{{.State.ExitCode}}' "$(container feeder)")" = 0 ] ||
        { dump_logs; fail "the feeder did not exit 0"; }
    [ "$(podman inspect -f '{{.State.ExitCode}}' "$(container keys)")" = 0 ] ||
        { dump_logs; fail "the keys service did not exit 0"; }
}

# Stops the services as `down` would (SIGTERM, then SIGKILL after the grace
# period) and checks that each ended on SIGTERM with exit 0: 137 would mean it
# was killed after the grace period. Durations are printed, never asserted: on a
# loaded machine the compose client itself is slow. The publisher's own stop
# time comes from its log ("stopping on SIGTERM" to "stopped").
stop_and_check() {
    local t0 t1 svc name code bad=0
    t0=$(date +%s%3N)
    compose stop -t 10 >"$work/stop.log" 2>&1 || { cat "$work/stop.log" >&2; fail "compose stop"; }
    t1=$(date +%s%3N)
    for svc in $services_running; do
        name=$(container "$svc")
        code=$(podman inspect -f '{{.State.ExitCode}}' "$name")
        log "$(printf '%-12s exit %s' "$svc" "$code")"
        if [ "$code" != 0 ]; then
            echo "compose-check: $svc exited $code on SIGTERM, not 0 (137: killed after the grace period)" >&2
            bad=1
        fi
    done
    log "compose stop took $(ms_to_s $((t1 - t0))) s (compose client included; not a limit)"
    podman logs -t "$(container publisher)" 2>&1 | python3 "$work/check.py" stoptime publisher
    for svc in sub-tariffs sub-defense sub-log; do
        podman logs "$(container "$svc")" 2>&1 | grep -v '^{' | tail -n 1 | sed "s/^/compose-check: $svc said: /"
    done
    if [ "$bad" = 1 ]; then
        dump_logs
        fail "not every service stopped with exit 0 on SIGTERM"
    fi
}

bring_down() {
    compose down -v >"$work/down.log" 2>&1 || { cat "$work/down.log" >&2; fail "compose down -v"; }
    [ -z "$(podman ps -aq)" ] || fail "containers left after down: $(podman ps -a --format '{{.Names}}')"
}

write_checker() {
    cat >"$work/check.py" <<'EOF'
"""Compares what the subscribers received with the publisher's dry run.

expect DRY_RUN                       prints what each subscriber should get
verify DRY_RUN LOG TARIFFS DEFENSE   exit 0: all there; 1: not yet; 2: wrong
"""
import json
import sys


def matches(flt, topic):
    return flt == "" or topic == flt or topic.startswith(flt + ".")


def alerts(path, skip_text=False):
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                if skip_text and not line.startswith("{"):
                    continue  # the subscriber's own messages (stderr)
                try:
                    out.append(json.loads(line))
                except ValueError as e:
                    raise SystemExit(f"{path}:{n}: not JSON ({e}): {line[:120]}") from None
    except FileNotFoundError:
        pass
    return out


def expected(dry_run):
    want = {"": [], "tariffs": [], "defense": []}
    titles = set()
    for a in alerts(dry_run):
        topics = a.get("topics") or []
        titles.add(a.get("title"))
        for flt in want:
            if any(matches(flt, t) for t in topics):
                want[flt].append(str(a["id"]))
    return want, titles


def compare(name, got, want, flt):
    ids = [str(a.get("id")) for a in got]
    wrong = []
    if len(set(ids)) != len(ids):
        wrong.append(f"{name}: {len(ids) - len(set(ids))} duplicate alerts")
    extra = set(ids) - set(want)
    if extra:
        wrong.append(f"{name}: {len(extra)} alerts it should not have, e.g. {sorted(extra)[:3]}")
    for a in got:
        if flt and not any(matches(flt, t) for t in a.get("topics") or []):
            wrong.append(f"{name}: alert {a.get('id')} has topics {a.get('topics')}, none is {flt}")
            break
    print(f"{name}: {len(set(ids) & set(want))} of {len(want)} expected alerts")
    return wrong, set(want) <= set(ids)


def stop_time(name):
    """Prints the daemon's own stop time from `podman logs -t` on stdin."""
    import datetime
    import re

    def when(line):
        m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?", line)
        if not m:
            return None
        t = datetime.datetime.fromisoformat(m.group(1)).timestamp()
        return t + float("0" + (m.group(2) or ".0"))

    began = ended = None
    for line in sys.stdin:
        if "stopping on SIG" in line:
            began = when(line)
        elif "stopped:" in line and began is not None:
            ended = when(line)
    if began is None or ended is None:
        print(f"compose-check: {name}: no 'stopping on SIGTERM' ... 'stopped:' pair in its log")
        return 0
    print(f"compose-check: {name} stopped in {ended - began:.3f} s "
          f"by its own log")
    return 0


def main():
    if sys.argv[1] == "stoptime":
        return stop_time(sys.argv[2])
    mode, dry_run = sys.argv[1], sys.argv[2]
    want, titles = expected(dry_run)
    if mode == "expect":
        print(f"dry run: {len(alerts(dry_run))} alerts from {len(titles)} articles; "
              f"expected: log {len(want[''])}, tariffs {len(want['tariffs'])}, "
              f"defense {len(want['defense'])}")
        if not want["tariffs"] or not want["defense"]:
            raise SystemExit("the sample articles give no tariffs or no defense alert")
        return 0
    log, tariffs, defense = sys.argv[3:6]
    wrong, complete = [], True
    got_log = alerts(log)
    for name, got, flt in (("log (all topics)", got_log, ""),
                           ("tariffs subscriber", alerts(tariffs, True), "tariffs"),
                           ("defense subscriber", alerts(defense, True), "defense")):
        w, c = compare(name, got, want[flt], flt)
        wrong += w
        complete = complete and c
    seen = {a.get("title") for a in got_log}
    print(f"log: alerts from {len(seen & titles)} of {len(titles)} articles")
    for w in wrong:
        print("WRONG: " + w)
    return 2 if wrong else 0 if complete else 1


sys.exit(main())
EOF
}

main() {
    [ "$(id -u)" = 0 ] || fail "needs root (podman with netavark networks)"
    phase setup
    scripts/setup.sh --containers
    command -v python3 >/dev/null 2>&1 || fail "python3 not found (it comes with podman-compose)"
    make_workdir
    write_checker
    phase base-image
    base_image
    start_podman_service
    phase build
    build_images
    phase dry-run
    dry_run
    phase up
    bring_up
    phase alerts
    wait_for_alerts
    phase stop
    stop_and_check
    phase down
    bring_down
    print_timings
    log "PASSED ($runner, podman $(podman version -f '{{.Client.Version}}' 2>/dev/null))"
}

main "$@"
