# The Vivace image: one image for coordinators and workers, the role chosen by configuration.
#
#   docker build -t vivace .                                   # builds the binary from source
#   docker build --build-arg VIVACE_BINARY=dist/vivace \
#                --build-arg BUILDER_IMAGE=debian:bookworm-slim -t vivace .   # a prebuilt binary
#
# Images are arguments so air-gapped machines can use a locally built base
# (deploy/docker/base-image.sh); with VIVACE_BINARY the build needs no network at all.
# The runtime image is `scratch` plus the binary, the C libraries it links, CA certificates
# and a passwd entry: no shell, no package manager.

ARG BASE_IMAGE=debian:bookworm-slim
ARG BUILDER_IMAGE=rust:1-slim-bookworm

# Stage 1: the binary, compiled here or copied from the build context.
FROM ${BUILDER_IMAGE} AS builder
ARG VIVACE_BINARY=
WORKDIR /src
COPY . .
RUN set -eu; \
    if [ -n "$VIVACE_BINARY" ]; then \
        install -D -m 0755 "$VIVACE_BINARY" /out/vivace; \
    else \
        cargo build --release --locked --bin vivace --config profile.release.strip=true; \
        install -D -m 0755 target/release/vivace /out/vivace; \
    fi

# Stage 2: the runtime root filesystem, assembled in a directory.
FROM ${BASE_IMAGE} AS rootfs
COPY --from=builder /out/vivace /rootfs/usr/lib/vivace/bin/vivace
COPY deploy/docker/etc/ /rootfs/etc/vivace/
COPY deploy/docker/plugin-README.txt /rootfs/usr/lib/vivace/plugin/README.txt
RUN set -eu; \
    bin=/rootfs/usr/lib/vivace/bin/vivace; \
    # The shared libraries the binary links (and the loader), at the paths ldd reports.
    for lib in $(ldd "$bin" | grep -Eo '/[^ ]+'); do \
        mkdir -p "/rootfs$(dirname "$lib")"; cp -L "$lib" "/rootfs$lib"; \
    done; \
    mkdir -p /rootfs/etc/ssl/certs /rootfs/usr/bin /rootfs/tmp /rootfs/var/lib/vivace; \
    cp -L /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    ln -s ../lib/vivace/bin/vivace /rootfs/usr/bin/vivace; \
    chmod 1777 /rootfs/tmp; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nvivace:x:1000:1000:vivace:/var/lib/vivace:/sbin/nologin\n' > /rootfs/etc/passwd; \
    printf 'root:x:0:\nvivace:x:1000:\n' > /rootfs/etc/group; \
    printf 'hosts: files dns\n' > /rootfs/etc/nsswitch.conf; \
    chown -R 1000:1000 /rootfs/var/lib/vivace; \
    # The image must run: the binary starts inside the assembled root.
    chroot /rootfs /usr/lib/vivace/bin/vivace --version

# Stage 3: the image.
FROM scratch
ARG VERSION=dev
COPY --from=rootfs /rootfs/ /
LABEL org.opencontainers.image.title="vivace" \
      org.opencontainers.image.description="Vivace: a multi-tenant, distributed, Trino-compatible SQL query engine (coordinator and worker)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV HOME=/var/lib/vivace
USER 1000:1000
WORKDIR /var/lib/vivace
EXPOSE 8080 8443
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/lib/vivace/bin/vivace", "health", "--etc", "/etc/vivace"]
# Extra arguments (the container command) are passed through, e.g. `-Dcoordinator=false`.
ENTRYPOINT ["/usr/lib/vivace/bin/vivace", "server", "--etc", "/etc/vivace", "--node-id-from-hostname"]
CMD []
