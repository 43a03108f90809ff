#!/bin/sh
# The test command: installs what is missing, checks formatting, runs the container
# and package checks and a short fuzzing pass, builds twice (release, and ASan+UBSan) and
# runs every test in both builds.
set -eu
cd "$(dirname "$0")/.."

scripts/setup.sh --test
scripts/check-format.sh

# The container demo, for real (about two minutes; NW_SKIP_COMPOSE=1 leaves it out).
# It runs first so that ctest's summary stays the last thing printed.
scripts/compose-check.sh
# The .deb installed in a clean container (NW_SKIP_PACKAGE=1 leaves it out).
scripts/package-check.sh
# Every libFuzzer harness for 10 s under ASan + UBSan (clang-14); a finding fails.
scripts/fuzz.sh --short

# Any sanitizer report ends the process with a failure that the tests see.
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86"
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87"
export ASAN_OPTIONS UBSAN_OPTIONS

for variant in release sanitize; do
    echo "== $variant build =="
    scripts/build.sh "$variant"
    echo "== $variant tests =="
    (cd "build/$variant" && ctest --output-on-failure --timeout 900)
done
