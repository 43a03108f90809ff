#!/bin/sh
# Real disk-full test of the journal: mounts a 256 KiB tmpfs, fills it with the journal
# (tests/journal_fill.c), frees space, and checks that appends resume and nothing journaled
# was lost. Needs root (mount); elsewhere it skips with exit 77 (CTest SKIP_RETURN_CODE).
#
#     sh tests/journal_disk_full.sh build/tests/journal_fill
set -eu
fill=${1:-}
if [ -z "$fill" ] || [ ! -x "$fill" ]; then
    echo "usage: $0 PATH/TO/journal_fill" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "journal_disk_full: SKIP: needs root to mount a tmpfs"
    exit 77
fi
mnt=$(mktemp -d "${TMPDIR:-/tmp}/nw-journal-full-XXXXXX")
if ! mount -t tmpfs -o size=256k tmpfs "$mnt" 2>/dev/null; then
    rmdir "$mnt"
    echo "journal_disk_full: SKIP: cannot mount a tmpfs here (no CAP_SYS_ADMIN?)"
    exit 77
fi
trap 'umount "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true' EXIT
# A filler the program deletes to give space back once the journal has hit the wall.
dd if=/dev/zero of="$mnt/filler" bs=1024 count=64 2>/dev/null
"$fill" "$mnt/journal" "$mnt/filler"
