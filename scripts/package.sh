#!/bin/sh
# Builds the Debian package with CPack into build/package/packages/ and prints
# its path on the last line:
#
#   scripts/package.sh            -> build/package/packages/newswire_0.1.0_amd64.deb
#
# A release build (no tests, installed under /usr, config files in
# /etc/newswire) of the binaries, man pages, bash completion, systemd units,
# config files and docs; the maintainer scripts are in packaging/debian/.
set -eu
cd "$(dirname "$0")/.."
build=build/package
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DNW_SANITIZE=OFF -DNW_BUILD_TESTS=OFF \
    -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$build" -j "$(nproc)" >&2
rm -rf "$build/packages"
(cd "$build" && cpack -G DEB >cpack.log 2>&1) || {
    cat "$build/cpack.log" >&2
    echo "package.sh: cpack failed (log above)" >&2
    exit 1
}
deb=$(ls "$build"/packages/newswire_*.deb)
echo "package.sh: built $deb" >&2
echo "$deb"
