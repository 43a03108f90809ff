#!/bin/sh
# Installs the Debian packages newswire needs that are not installed yet, and
# nothing else: a no-op when everything is present.
#
#   scripts/setup.sh               build and run (compiler, CMake, libraries)
#   scripts/setup.sh --test        also what the test suite needs
#   scripts/setup.sh --containers  also what the container demo check needs
#   scripts/setup.sh --bench       also what the benchmarks' peers and profiling (perf) need
set -eu

packages="build-essential cmake pkg-config libzmq3-dev libmsgpack-dev libuv1-dev"
packages="$packages liblinear-dev libxml2-dev libcurl4-openssl-dev libmicrohttpd-dev"
packages="$packages libjansson-dev"
for arg in "$@"; do
    case "$arg" in
    --test) packages="$packages libcmocka-dev clang-format docker-compose clang-14 libclang-rt-14-dev python3-zmq man-db iproute2 bash-completion" ;;
    --bench) packages="$packages redis-server libhiredis-dev python3-zmq linux-perf" ;;
    --containers) packages="$packages podman podman-compose debootstrap uidmap iptables runc netavark aardvark-dns docker-compose" ;;
    *) echo "setup.sh: unknown option '$arg' (use --test, --containers, --bench)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) case "$missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac ;;
    esac
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "setup.sh: need root (or sudo) to install:$missing" >&2
    exit 1
fi

# One line says what is installed; apt's own output goes to a log file, shown only
# when apt fails.
log=${TMPDIR:-/tmp}/newswire-setup.log
echo "setup.sh: installing:$missing (apt log: $log)" >&2
# shellcheck disable=SC2086 # word splitting of the package list is intended
if ! { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive \
    $sudo apt-get install -y -q --no-install-recommends $missing; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "setup.sh: apt-get failed (last lines above; the whole log is $log)" >&2
    exit 1
fi
echo "setup.sh: installed:$missing" >&2
