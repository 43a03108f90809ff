#!/bin/sh
# Container health check that needs no extra tools, only /proc (compose.yaml):
#
#   healthcheck listening PORT   a process in this container listens on tcp PORT
#                                (the publisher has bound its endpoint)
#   healthcheck connected PORT   this container holds an established tcp connection
#                                to a remote PORT (a subscriber reached its publisher)
set -eu

usage() {
    echo "usage: healthcheck listening|connected PORT" >&2
    exit 2
}

[ $# -eq 2 ] || usage
case "$2" in
'' | *[!0-9]*) usage ;;
esac
port=$(printf '%04X' "$2")

# /proc/net/tcp{,6}: "sl local_address rem_address st ...", addresses as HEX:PORT;
# state 0A is LISTEN, 01 is ESTABLISHED.
case "$1" in
listening) pattern=" [0-9A-F]+:$port [0-9A-F]+:0000 0A " ;;
connected) pattern=" [0-9A-F]+:[0-9A-F]{4} [0-9A-F]+:$port 01 " ;;
*) usage ;;
esac

if grep -Eqs -- "$pattern" /proc/net/tcp /proc/net/tcp6; then
    exit 0
fi
echo "healthcheck: nothing $1 on tcp port $2" >&2
exit 1
