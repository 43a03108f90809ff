#!/bin/bash
# Installs the Debian package in a clean container and uses it as an operator
# would, end to end, on a machine without a Docker engine (Debian's podman):
#
#   1. builds the .deb (scripts/package.sh), unless NW_PACKAGE_DEB names one;
#   2. starts a container from the compose check's debootstrap bookworm base
#      image (scripts/lib-podman.sh, cached per day), with the host's network
#      (apt fetches the package's dependencies from the mirror; no podman
#      network, so no iptables chains or /run/netns to undo);
#   3. in it: apt installs the .deb; checks the files (programs, man pages,
#      completion, units, docs, conffiles under /etc/newswire), the system
#      user and the folders with their owners and modes; runs newswire-pub
#      with the unit's ExecStart (--config /etc/newswire/newswire-pub.conf) as
#      user newswire, and a subscriber instance from the template unit's
#      ExecStart (/etc/newswire/sub-check.conf); drops a sample article into
#      the spool and sees every alert the dry run predicts in the
#      subscriber's log and in the publisher's GET /metrics; stops both
#      with SIGTERM (exit 0); then purges the package and checks what the
#      postrm keeps and removes;
#   4. removes everything it made (the container, the image, podman's storage
#      in a temporary folder, its own processes and mounts).
#
# Exits non-zero, saying what failed, on any failure. About a minute here.
#
# Environment:
#   NW_SKIP_PACKAGE=1   skip the whole check (exit 0)
#   NW_PACKAGE_DEB      an already built .deb to test (default: build one)
#   NW_DEBIAN_MIRROR    Debian mirror for debootstrap (default: the one apt uses)
#   NW_CACHE_DIR        where the base tarball is cached
#                       (default ${XDG_CACHE_HOME:-~/.cache}/newswire)
#   NW_KEEP_WORKDIR=1   keep the temporary folder (logs) after a failure
set -euo pipefail

cd "$(dirname "$0")/.."
top=$(pwd)

if [ "${NW_SKIP_PACKAGE:-0}" = 1 ]; then
    echo "package-check: skipped (NW_SKIP_PACKAGE=1)"
    exit 0
fi

cache_dir=${NW_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/newswire}
base_tag="localhost/newswire-package-check-base:$$"
container="nwpkgcheck$$"
work=""
t_start=$(date +%s%3N)

log() { printf 'package-check: %s\n' "$*"; }
fail() {
    printf 'package-check: FAILED: %s\n' "$*" >&2
    exit 1
}

# shellcheck source=scripts/lib-podman.sh
. "$top/scripts/lib-podman.sh"

# Everything this run made lives in $work or in podman's storage there. No
# podman network is used, so the machine's iptables and /run stay as they were.
cleanup() {
    local rc=$?
    set +e
    [ -n "$work" ] || exit "$rc"
    podman rm -f -t 1 "$container" >/dev/null 2>&1
    podman rmi -f "$base_tag" >/dev/null 2>&1
    podman system reset -f >/dev/null 2>&1
    end_workdir_processes
    unmount_leftovers
    if [ "$rc" -ne 0 ] && [ "${NW_KEEP_WORKDIR:-0}" = 1 ]; then
        log "kept $work"
    else
        rm -rf "$work"
    fi
    # Podman keeps a blob cache in /var/lib/containers and state in /run/containers
    # whatever its storage is. Undo what this run made, unless another podman (the
    # compose check, say) is running now and may be using them.
    if pgrep -x podman >/dev/null || pgrep -x conmon >/dev/null; then
        log "note: another podman is running; left /var/lib/containers and /run/containers as they are"
    else
        restore_run_dirs
    fi
    log "total $(ms_to_s $(($(date +%s%3N) - t_start))) s"
    exit "$rc"
}

# A free TCP port on 127.0.0.1 (the container shares the host's network).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}


main() {
    [ "$(id -u)" = 0 ] || fail "needs root (podman)"
    scripts/setup.sh --containers
    local deb=${NW_PACKAGE_DEB:-}
    if [ -z "$deb" ]; then
        log "building the package (scripts/package.sh)"
        deb=$(scripts/package.sh 2>"${TMPDIR:-/tmp}/newswire-package-build.$$.log") ||
            { tail -n 30 "${TMPDIR:-/tmp}/newswire-package-build.$$.log" >&2; fail "scripts/package.sh (log above)"; }
        rm -f "${TMPDIR:-/tmp}/newswire-package-build.$$.log"
    fi
    [ -s "$deb" ] || fail "no package at '$deb'"
    deb=$(readlink -f "$deb")
    log "package: $deb ($(du -k "$deb" | cut -f1) KiB)"

    var_containers_existed=$(exists /var/lib/containers)
    run_networks_existed=$(exists /run/containers/networks)
    run_containers_existed=$(exists /run/containers)
    run_netns_existed=$(exists /run/netns)
    run_netns_mounted=0
    if mountpoint -q /run/netns 2>/dev/null; then run_netns_mounted=1; fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/newswire-package.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    podman_config
    base_image
    local alert_port replay_port metrics_port
    alert_port=$(free_port)
    replay_port=$(free_port)
    metrics_port=$(free_port)
    podman run --name "$container" --network host \
        -v "$deb:/tmp/newswire.deb:ro" -v "$top/scripts/package-check-inside.sh:/inside.sh:ro" \
        "$base_tag" bash /inside.sh "$alert_port" "$replay_port" "$metrics_port" ||
        fail "the check in the container (above)"
    log "PASSED (podman $(podman version -f '{{.Client.Version}}' 2>/dev/null))"
}

# Until recorded, assume everything existed so that cleanup removes nothing it should not.
var_containers_existed=1 run_networks_existed=1 run_containers_existed=1
run_netns_existed=1 run_netns_mounted=1
main "$@"
