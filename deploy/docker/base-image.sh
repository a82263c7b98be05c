#!/usr/bin/env bash
# Builds a minimal Debian base image locally, for machines that cannot pull images: a
# `debootstrap --variant=minbase` root filesystem from this machine's own apt mirror, turned
# into an image with `docker import`. The Dockerfile takes it as BASE_IMAGE.
#
#   deploy/docker/base-image.sh [IMAGE]      (default: vivace-base:bookworm)
#
# Does nothing when the image already exists. Needs root (debootstrap) and a Docker engine.
set -euo pipefail

image="${1:-vivace-base:bookworm}"
suite="${VIVACE_BASE_SUITE:-bookworm}"

if docker image inspect "$image" >/dev/null 2>&1; then
    echo "base image $image exists"
    exit 0
fi

# The first Debian mirror this machine's apt sources name (deb822 or one-line format).
mirror="${VIVACE_BASE_MIRROR:-}"
if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v '^[[:space:]]*#' | grep -Eo 'https?://[^ ]*/debian/?' | grep -v security | head -n 1 || true)
fi
mirror="${mirror:-http://deb.debian.org/debian}"

if ! command -v debootstrap >/dev/null 2>&1; then
    echo "installing debootstrap"
    apt-get install -y -qq debootstrap >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
fi

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/vivace-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap $suite from $mirror"
debootstrap --variant=minbase --include=ca-certificates "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 30 "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
# Package lists and caches are not needed in an image.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["/bin/bash"]' \
    --message "debootstrap --variant=minbase $suite" - "$image" >/dev/null
echo "built base image $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
