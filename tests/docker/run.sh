#!/usr/bin/env bash
# The Docker tests: builds the image from the release binary on a locally built base image
# (no image is pulled), then runs tests/docker/*.py against compose clusters on the Docker
# engine. Skipped, with a message, when there is no Docker engine or Compose tool.
#
#   tests/docker/run.sh [pytest args...]
#
# Environment:
#   VIVACE_BIN     the release binary to put in the image (default: ${CARGO_TARGET_DIR:-target}/release/vivace)
#   VIVACE_VENV    virtualenv to create/reuse (default: $REPO/target/venv)
#   VIVACE_IMAGE   the image tag to build and test (default: vivace:test)
#   VIVACE_BASE_IMAGE  the base image (default: vivace-base:bookworm, built by deploy/docker/base-image.sh)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${VIVACE_VENV:-$REPO/target/venv}"
BIN="${VIVACE_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/vivace}"
PYTHON="${PYTHON:-python3}"
IMAGE="${VIVACE_IMAGE:-vivace:test}"
BASE_IMAGE="${VIVACE_BASE_IMAGE:-vivace-base:bookworm}"

log() { printf '[docker] %s\n' "$*" >&2; }

if ! docker info >/dev/null 2>&1; then
    log "SKIPPED: no Docker engine answers 'docker info'"
    exit 0
fi
if docker compose version >/dev/null 2>&1; then
    COMPOSE="docker compose"
elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE="docker-compose"
else
    log "SKIPPED: neither 'docker compose' nor 'docker-compose' is installed"
    exit 0
fi
if [ ! -x "$BIN" ]; then
    log "the release binary is missing: $BIN (cargo build --release --bin vivace)"
    exit 1
fi

# shellcheck source=tests/clients/venv.sh
source "$REPO/tests/clients/venv.sh"

bash "$REPO/deploy/docker/base-image.sh" "$BASE_IMAGE"

# The image takes a stripped copy of the binary from the build context.
mkdir -p "$REPO/dist"
strip -o "$REPO/dist/vivace" "$BIN" 2>/dev/null || cp "$BIN" "$REPO/dist/vivace"
log "building $IMAGE from $BIN"
docker build --quiet \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --build-arg "BUILDER_IMAGE=$BASE_IMAGE" \
    --build-arg VIVACE_BINARY=dist/vivace \
    -t "$IMAGE" "$REPO" >/dev/null
log "image $IMAGE: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1000000}')"

cd "$REPO"
VIVACE_IMAGE="$IMAGE" VIVACE_COMPOSE="$COMPOSE" VIVACE_BIN="$BIN" "$VPY" -m pytest -c "$HERE/pytest.ini" "$HERE" "$@"
