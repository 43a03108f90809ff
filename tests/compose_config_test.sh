#!/bin/sh
# Fast check of the container demo's files, without building or running
# anything: compose.yaml is valid for Debian's docker-compose 1.29 (which
# rejects what Compose v2 alone accepts, such as a top-level "name:"), has the
# demo's services, and the container scripts pass shellcheck.
# Exit 77 (skipped) when docker-compose is not installed
# (scripts/setup.sh --test installs it).
set -eu
cd "$(dirname "$0")/.."

fail() {
    echo "compose_config: FAILED: $*" >&2
    exit 1
}

if ! command -v docker-compose >/dev/null 2>&1; then
    echo "compose_config: skipped: docker-compose not installed (scripts/setup.sh --test)"
    exit 77
fi

# No engine is needed for 'config'; keep it from looking for one anyway.
DOCKER_HOST=unix:///nonexistent
export DOCKER_HOST

docker-compose -f compose.yaml config -q || fail "docker-compose config rejects compose.yaml"

services=$(docker-compose -f compose.yaml config --services | sort | tr '\n' ' ')
[ "$services" = "feeder keys proxy publisher sub-defense sub-log sub-tariffs " ] ||
    fail "compose.yaml services are '$services', expected feeder keys proxy publisher sub-defense sub-log sub-tariffs"

volumes=$(docker-compose -f compose.yaml config --volumes | sort | tr '\n' ' ')
[ "$volumes" = "alerts journal keys spool " ] ||
    fail "compose.yaml volumes are '$volumes', expected alerts journal keys spool"

# Compose v2 accepts these top-level keys, docker-compose 1.29 does not (name)
# or warns (version): keep both out.
if grep -Eq '^(name|version):' compose.yaml; then
    fail "compose.yaml has a top-level name: or version: key"
fi

# podman-compose >= 1.1 has 'config'; Debian 12's 1.0.3 does not.
if command -v podman-compose >/dev/null 2>&1 &&
    podman-compose --help 2>/dev/null | grep -Eq '[{,]config[,}]'; then
    podman-compose -f compose.yaml config >/dev/null || fail "podman-compose config rejects compose.yaml"
fi

if command -v shellcheck >/dev/null 2>&1; then
    shellcheck -x docker/healthcheck.sh docker/feed-articles.sh docker/make-keys.sh scripts/compose-check.sh \
        scripts/lib-podman.sh scripts/package-check.sh scripts/package-check-inside.sh \
        scripts/package.sh \
        tests/compose_config_test.sh || fail "shellcheck on the container scripts"
fi

echo "compose_config: compose.yaml is valid (docker-compose $(docker-compose version --short 2>/dev/null))"
