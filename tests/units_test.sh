#!/bin/sh
# systemd-analyze verify on the packaged units, with ExecStart pointing at the
# built programs (verify checks that the executables exist). The template is
# verified as an instance, newswire-sub@test.service.
# Usage: units_test.sh SOURCE_DIR PUB_BIN SUB_BIN   (exit 77: no systemd-analyze)
set -u
src=$1 pub=$2 sub=$3
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "skip: systemd-analyze not found (Debian package systemd): units not verified"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|/usr/bin/newswire-pub|$pub|" "$src/packaging/systemd/newswire-pub.service" \
    >"$work/newswire-pub.service"
sed "s|/usr/bin/newswire-sub|$sub|" "$src/packaging/systemd/newswire-sub@.service" \
    >"$work/newswire-sub@.service"
cp "$work/newswire-sub@.service" "$work/newswire-sub@test.service"
failed=0
for unit in newswire-pub.service newswire-sub@test.service; do
    # verify prints problems (and exits non-zero on some); any line about our unit fails.
    SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$work/$unit" >"$work/out" 2>&1
    rc=$?
    if [ "$rc" != 0 ] || grep -q "newswire" "$work/out"; then
        echo "FAIL: systemd-analyze verify $unit (exit $rc):" >&2
        cat "$work/out" >&2
        failed=1
    else
        echo "ok: $unit verifies ($(systemd-analyze --version | head -n 1))"
    fi
    # The hardening the package promises.
    for key in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
        User=newswire RestrictAddressFamilies=; do
        grep -q "^$key" "$work/$unit" || { echo "FAIL: $unit lacks $key" >&2; failed=1; }
    done
done
grep -q '^ReadWritePaths=/var/lib/newswire/spool /var/lib/newswire/journal$' \
    "$work/newswire-pub.service" || { echo "FAIL: newswire-pub.service: ReadWritePaths" >&2; failed=1; }
grep -q -- '--config /etc/newswire/sub-%i.conf' "$work/newswire-sub@test.service" ||
    { echo "FAIL: newswire-sub@.service does not read /etc/newswire/sub-%i.conf" >&2; failed=1; }
[ "$failed" = 0 ] || exit 1
echo "PASS"
