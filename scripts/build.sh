#!/bin/sh
# Configures and builds one variant into build/VARIANT:
#   scripts/build.sh release    optimised with debug info, with the tests (the default)
#   scripts/build.sh sanitize   AddressSanitizer + UndefinedBehaviorSanitizer, with the tests
#   scripts/build.sh demo       optimised, programs only (needs no test packages)
set -eu
cd "$(dirname "$0")/.."
variant=${1:-release}
case "$variant" in
release) flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNW_SANITIZE=OFF -DNW_BUILD_TESTS=ON" ;;
sanitize) flags="-DCMAKE_BUILD_TYPE=Debug -DNW_SANITIZE=ON -DNW_BUILD_TESTS=ON" ;;
demo) flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNW_SANITIZE=OFF -DNW_BUILD_TESTS=OFF" ;;
*) echo "build.sh: unknown variant '$variant' (release, sanitize, demo)" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
cmake -S . -B "build/$variant" $flags >/dev/null
cmake --build "build/$variant" -j "$(nproc)"
