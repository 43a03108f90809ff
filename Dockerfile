# newswire container image: newswire-pub, newswire-sub, newswire-proxy and
# newswire-keygen on Debian 12.
#
#   docker build -t newswire .                 (compose.yaml does this for you)
#   docker run --rm newswire newswire-pub --dry-run /usr/share/newswire/articles/*.txt
#
# The image has no ENTRYPOINT: its default command runs the publisher daemon on
# the spool and journal under /var/lib/newswire; any other command (newswire-sub,
# a shell) runs instead when given.

# --- build stage: compilers and the -dev packages -------------------------------
FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
# The same packages as scripts/setup.sh installs (without the test tools).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libzmq3-dev libmsgpack-dev libuv1-dev \
        libxml2-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev liblinear-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DNW_BUILD_TESTS=OFF \
        -DCMAKE_INSTALL_PREFIX=/usr/local \
 && cmake --build /build -j "$(nproc)" --target newswire-pub newswire-sub newswire-proxy newswire-keygen \
        newswire-train nw_man_pages \
 && DESTDIR=/staging cmake --install /build --strip \
 && for bin in newswire-pub newswire-sub newswire-proxy newswire-keygen newswire-train; do \
        test -x "/staging/usr/local/bin/$bin" || { \
            echo "Dockerfile: 'cmake --install' did not install $bin into bin/:" \
                 "it needs an install(TARGETS $bin) rule" >&2; exit 1; }; \
    done

# --- runtime stage: only the shared libraries -----------------------------------
FROM debian:bookworm-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzmq5 libuv1 libmsgpackc2 libmicrohttpd12 \
        libxml2 libjansson4 libcurl4 liblinear4 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed, non-root uid/gid so that named volumes keep their owner across rebuilds.
RUN groupadd --system --gid 10001 newswire \
 && useradd --system --uid 10001 --gid newswire --home-dir /var/lib/newswire \
        --no-create-home --shell /usr/sbin/nologin newswire \
 && install -d -o newswire -g newswire -m 0755 /var/lib/newswire \
        /var/lib/newswire/spool /var/lib/newswire/spool/incoming \
        /var/lib/newswire/spool/done /var/lib/newswire/spool/failed \
        /var/lib/newswire/journal /var/lib/newswire/keys /var/log/newswire
COPY --from=build /staging/ /
COPY examples/articles/ /usr/share/newswire/articles/
COPY docker/healthcheck.sh /usr/local/libexec/newswire/healthcheck
COPY docker/feed-articles.sh /usr/local/libexec/newswire/feed-articles
COPY docker/make-keys.sh /usr/local/libexec/newswire/make-keys
RUN chmod 0755 /usr/local/libexec/newswire/healthcheck /usr/local/libexec/newswire/feed-articles \
        /usr/local/libexec/newswire/make-keys \
 && newswire-pub --version && newswire-sub --version && newswire-proxy --version \
 && newswire-keygen --version
USER newswire
WORKDIR /var/lib/newswire
EXPOSE 5556 5557
STOPSIGNAL SIGTERM
CMD ["newswire-pub", "--spool", "/var/lib/newswire/spool", "--journal", "/var/lib/newswire/journal", \
     "--bind", "tcp://*:5556", "--replay-bind", "tcp://*:5557", "--log-level", "info"]
