#!/bin/sh
# The compose demo's one-shot key maker (the "keys" service): makes a CURVE
# key pair for each service that lacks one in the keys volume, and writes the
# two allowlist folders from the public certificates:
#
#   KEYS/NAME.key, KEYS/NAME.key_secret   pub, proxy, sub-tariffs, sub-defense,
#                                         sub-log (newswire-keygen; existing
#                                         pairs are kept)
#   KEYS/pub-allow/proxy.key              who may connect to the publisher
#   KEYS/proxy-allow/sub-*.key            who may connect to the proxy
#
# Idempotent: a second run keeps every pair and rewrites the same allowlists.
# Half a pair (one of the two files missing) is replaced by a new pair.
#
# Environment: NW_KEYS (default /var/lib/newswire/keys).
set -eu

keys=${NW_KEYS:-/var/lib/newswire/keys}

fail() {
    echo "keys: $*" >&2
    exit 1
}

if [ ! -d "$keys" ] || [ ! -w "$keys" ]; then
    fail "$keys is not a writable folder (the keys volume)"
fi

for name in pub proxy sub-tariffs sub-defense sub-log; do
    if [ -f "$keys/$name.key" ] && [ -f "$keys/$name.key_secret" ]; then
        echo "keys: $name: kept the existing pair"
        continue
    fi
    rm -f "$keys/$name.key" "$keys/$name.key_secret"
    newswire-keygen "$keys/$name" || fail "newswire-keygen $keys/$name failed"
    echo "keys: $name: made a new pair"
done

# allowlist DIR NAME...: DIR holds exactly the public certificates of NAME...
allowlist() {
    dir=$keys/$1
    shift
    mkdir -p "$dir"
    rm -f "$dir"/*.key
    for name in "$@"; do
        cp "$keys/$name.key" "$dir/$name.key"
    done
    echo "keys: $dir allows $*"
}

allowlist pub-allow proxy
allowlist proxy-allow sub-tariffs sub-defense sub-log
