#!/bin/sh
# Fails (and lists the files) when a C source is not formatted per .clang-format.
# With --fix, formats them in place instead.
set -eu
cd "$(dirname "$0")/.."
# Tracked files and new ones not yet added (but not ignored ones, such as build trees).
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null ||
    find . -name '*.[ch]' -not -path './build*')
[ -n "$files" ] || exit 0
if [ "${1:-}" = "--fix" ]; then
    # shellcheck disable=SC2086
    clang-format -i $files
    exit 0
fi
bad=""
for f in $files; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
if [ -n "$bad" ]; then
    echo "check-format: not formatted (run scripts/check-format.sh --fix):$bad" >&2
    exit 1
fi
echo "check-format: all C sources formatted"
