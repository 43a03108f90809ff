#!/bin/sh
# The programs' --help, man pages and bash completion agree, and --help speaks
# only of the installed product:
#   - each man page in docs/man passes `man --warnings -l` without a warning;
#   - every long option a program's --help lists in its OPTIONS section (the
#     lines that introduce an option, not options named in prose) appears in
#     its man page;
#   - the bash completion offers exactly those long options;
#   - --help names no source-tree path (docs/, proto/, *.md, ../shared).
# Usage: cli_docs_test.sh SOURCE_DIR PUB_BIN SUB_BIN PROXY_BIN KEYGEN_BIN TRAIN_BIN
set -u
src=$1 pub=$2 sub=$3 proxy=$4 keygen=$5 train=$6
failed=0
fail() {
    echo "FAIL: $*" >&2
    failed=1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if command -v man >/dev/null 2>&1; then
    for page in "$src"/docs/man/*.[1-8]; do
        LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >"$work/out" 2>"$work/warn"
        if [ -s "$work/warn" ]; then
            fail "$(basename "$page"): man --warnings says:"
            cat "$work/warn" >&2
        elif [ "$(wc -l <"$work/out")" -lt 20 ]; then
            fail "$(basename "$page"): man rendered only $(wc -l <"$work/out") lines"
        else
            echo "ok: $(basename "$page") lints clean ($(wc -l <"$work/out") lines)"
        fi
    done
else
    echo "skip: man is not installed (Debian package man-db): man pages not linted"
fi

# long_options FILE: the --long-option names in FILE, one per line, sorted.
long_options() { grep -o -- '--[a-z][a-z0-9-]*' "$1" | sort -u; }
# help_options FILE: the long options a --help output introduces in its
# OPTIONS section: lines indented at most 8 spaces that start with
# "-x, --name" or "--name" (continuation lines are indented further).
help_options() {
    sed -n '/^OPTIONS$/,/^[A-Z][A-Z ]*$/p' "$1" |
        grep -o -E '^ {1,8}(-[A-Za-z0-9], )?--[a-z][a-z0-9-]*' |
        grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

for prog in newswire-pub newswire-sub newswire-proxy newswire-keygen newswire-train; do
    case $prog in
        newswire-pub) bin=$pub min=15 ;;
        newswire-sub) bin=$sub min=15 ;;
        newswire-proxy) bin=$proxy min=8 ;;
        newswire-train) bin=$train min=15 ;;
        *) bin=$keygen min=2 ;;
    esac
    # Programs that read a config file are kept from reading the system's.
    case $prog in
        newswire-pub | newswire-sub) "$bin" --config none --help >"$work/help" ;;
        *) "$bin" --help >"$work/help" ;;
    esac || fail "$prog --help exited $?"
    help_options "$work/help" >"$work/help.opts"
    [ "$(wc -l <"$work/help.opts")" -ge "$min" ] ||
        fail "$prog --help lists only $(wc -l <"$work/help.opts") long options under OPTIONS"
    if [ ! -f "$src/docs/man/$prog.1" ]; then
        fail "$prog: no man page docs/man/$prog.1"
    else
        # The man page spells a dash \-.
        sed 's/\\-/-/g' "$src/docs/man/$prog.1" >"$work/man"
        long_options "$work/man" >"$work/man.opts"
        missing=$(comm -23 "$work/help.opts" "$work/man.opts" | tr '\n' ' ')
        [ -z "$missing" ] || fail "$prog: in --help, not in $prog.1: $missing"
    fi
    comp=$src/packaging/bash-completion/$prog
    if [ ! -f "$comp" ]; then
        fail "$prog: no bash completion packaging/bash-completion/$prog"
    else
        long_options "$comp" >"$work/comp.opts"
        missing=$(comm -23 "$work/help.opts" "$work/comp.opts" | tr '\n' ' ')
        [ -z "$missing" ] || fail "$prog: in --help, not in the bash completion: $missing"
        extra=$(comm -13 "$work/help.opts" "$work/comp.opts" | tr '\n' ' ')
        [ -z "$extra" ] || fail "$prog: the bash completion offers options --help does not know: $extra"
        if command -v bash >/dev/null 2>&1; then
            bash -n "$comp" || fail "$prog completion: bash -n failed"
        fi
    fi
    if grep -n -E '(docs|proto|shared)/|\.md\b' "$work/help" >"$work/paths"; then
        fail "$prog --help names source-tree paths:"
        cat "$work/paths" >&2
    fi
    echo "ok: $prog: $(wc -l <"$work/help.opts") long options checked in --help, man page and completion"
done

[ "$failed" = 0 ] || exit 1
echo "PASS"
