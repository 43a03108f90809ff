#!/bin/sh
# Installs the build into a scratch root (cmake --install, prefix /usr) and
# checks what a package would hold: programs, man pages, bash completion,
# units, config files, docs; and that the installed docs speak only of the
# installed product: no ../shared paths, no work-item numbers ("issue 6"), no
# developer-only documents.
# Usage: install_test.sh BUILD_DIR
set -u
build=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failed=0
fail() {
    echo "FAIL: $*" >&2
    failed=1
}
DESTDIR=$root cmake --install "$build" --prefix /usr >"$root.log" 2>&1 ||
    { cat "$root.log" >&2; rm -f "$root.log"; echo "FAIL: cmake --install" >&2; exit 1; }
rm -f "$root.log"
for f in usr/bin/newswire-pub usr/bin/newswire-sub usr/bin/newswire-proxy usr/bin/newswire-keygen \
    usr/share/man/man1/newswire-pub.1.gz usr/share/man/man1/newswire-sub.1.gz \
    usr/share/man/man1/newswire-proxy.1.gz usr/share/man/man1/newswire-keygen.1.gz \
    usr/share/man/man7/newswire.7.gz \
    usr/share/bash-completion/completions/newswire-pub \
    usr/share/bash-completion/completions/newswire-sub \
    usr/share/bash-completion/completions/newswire-proxy \
    usr/share/bash-completion/completions/newswire-keygen \
    usr/share/newswire/html.conf \
    usr/lib/systemd/system/newswire-pub.service usr/lib/systemd/system/newswire-sub@.service \
    usr/share/doc/newswire/README.md usr/share/doc/newswire/PROTOCOL.md \
    usr/share/newswire/topics.conf; do
    [ -e "$root/$f" ] || fail "not installed: /$f"
done
# Config files land in the configured sysconfdir (/etc with a /usr prefix at configure time).
n_conf=$(find "$root" -path '*/etc/newswire/*.conf' | wc -l)
[ "$n_conf" -ge 3 ] || fail "expected 3 config files under etc/newswire, found $n_conf"
for dev in ARCHITECTURE.md BENCHMARKS.md; do
    [ ! -e "$root/usr/share/doc/newswire/$dev" ] || fail "developer document installed: $dev"
done
# (model.txt is data, words and weights: "issue 0" there is a feature, not a reference.)
grep -rnE --exclude=model.txt '\.\./shared|/work/|\(issues? [0-9]+\)|[Ii]ssue [0-9]+' \
    "$root/usr/share/doc" "$root/usr/share/newswire" "$root/usr/lib/systemd" \
    "$root/usr/share/bash-completion" >"$root.grep"
zcat "$root"/usr/share/man/man*/*.gz | grep -nE '\.\./shared|[Ii]ssue [0-9]+' >>"$root.grep"
find "$root" -path '*/etc/newswire/*' -type f -exec grep -HnE '\.\./shared|[Ii]ssue [0-9]+' {} + \
    >>"$root.grep"
if [ -s "$root.grep" ]; then
    fail "installed docs refer to things outside the product:"
    cat "$root.grep" >&2
fi
rm -f "$root.grep"
for page in "$root"/usr/share/man/man*/*.gz; do
    gzip -t "$page" || fail "$page is not valid gzip"
done
[ "$failed" = 0 ] || exit 1
echo "ok: $(find "$root" -type f | wc -l) files installed; docs clean"
echo "PASS"
