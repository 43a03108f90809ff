#!/bin/bash
# The bash completion of every program, through bash-completion's own
# machinery: option names, enumerated values, topics from the taxonomy.
# Usage: completion_test.sh SOURCE_DIR    (exit 77: bash-completion not installed)
set -u
src=$1
lib=/usr/share/bash-completion/bash_completion
if [ ! -r "$lib" ]; then
    echo "skip: $lib not found (Debian package bash-completion)"
    exit 77
fi
# shellcheck disable=SC1090
source "$lib"
source "$src/packaging/bash-completion/newswire-pub"
source "$src/packaging/bash-completion/newswire-sub"
source "$src/packaging/bash-completion/newswire-proxy"
source "$src/packaging/bash-completion/newswire-keygen"
source "$src/packaging/bash-completion/newswire-train"
failed=0

# expect FUNCTION "WORDS..." WANT...: completes the last word of WORDS and checks
# that every WANT is offered.
expect() {
    local fn=$1 line=$2 w
    shift 2
    read -r -a COMP_WORDS <<<"$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    "$fn"
    for w in "$@"; do
        if ! printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$w"; then
            echo "FAIL: '$line' does not offer '$w' (got: ${COMPREPLY[*]})" >&2
            failed=1
            return
        fi
    done
    echo "ok: '$line' -> ${COMPREPLY[*]}"
}

expect _newswire_sub "newswire-sub --min-priority h" high
expect _newswire_sub "newswire-sub --ex" --exclude --exec --exec-max --exec-timeout
expect _newswire_sub "newswire-sub --on-new-stream " now beginning
expect _newswire_sub "newswire-sub --format j" json
expect _newswire_sub "newswire-sub -t " general
expect _newswire_sub "newswire-sub --updates " changed none
expect _newswire_sub "newswire-sub --curve-" --curve-server-key --curve-secret
expect _newswire_pub "newswire-pub --journal-f" --journal-fsync
expect _newswire_pub "newswire-pub --journal-fsync a" always
expect _newswire_pub "newswire-pub --replay-bind n" none
expect _newswire_pub "newswire-pub --log-level " error warn info debug
expect _newswire_pub "newswire-pub --format " text json
expect _newswire_pub "newswire-pub --feed" --feed --feeds --feed-interval --feed-timeout --feed-max-size
expect _newswire_pub "newswire-pub --curve-" --curve-secret --curve-allow
expect _newswire_proxy "newswire-proxy --" --connect --bind --replay-bind --control --hwm --verbose --quiet
expect _newswire_proxy "newswire-proxy --replay-bind n" none
expect _newswire_proxy "newswire-proxy --log-level " error warn info debug
expect _newswire_keygen "newswire-keygen --" --help --version
expect _newswire_train "newswire-train --m" --map --min-df --max-per-topic
[ "$failed" = 0 ] || exit 1
echo "PASS"
