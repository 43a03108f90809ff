#!/bin/sh
# Installs the Debian packages newswire needs that are not installed yet, and
# nothing else: a no-op when everything is present.
#
#   scripts/setup.sh               build and run (compiler, CMake, libraries)
#   scripts/setup.sh --test        also what the test suite needs
#   scripts/setup.sh --containers  also what the container demo check needs
set -eu

packages="build-essential cmake pkg-config libzmq3-dev libmsgpack-dev libuv1-dev"
for arg in "$@"; do
    case "$arg" in
    --test) packages="$packages libcmocka-dev clang-format docker-compose" ;;
    --containers) packages="$packages podman podman-compose debootstrap uidmap iptables runc netavark aardvark-dns docker-compose" ;;
    *) echo "setup.sh: unknown option '$arg' (use --test, --containers)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
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

echo "setup.sh: installing:$missing" >&2
$sudo apt-get update -q >&2
# shellcheck disable=SC2086 # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing >&2
