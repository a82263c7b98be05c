#!/usr/bin/env bash
# Runs the Python client compatibility suite (trino DBAPI + SQLAlchemy, presto-python-client)
# against a freshly started Vivace server.
#
#   tests/clients/run.sh [pytest args...]
#   tests/clients/run.sh -k cancel                      # subset of the whole directory
#   tests/clients/run.sh tests/clients/test_types.py    # only the named paths
#
# Environment:
#   VIVACE_VENV         virtualenv to create/reuse      (default: $REPO/target/venv)
#   VIVACE_BIN          server binary                   (default: ${CARGO_TARGET_DIR:-$REPO/target}/release/vivace)
#   VIVACE_SERVER_ARGS  extra arguments for `vivace server` (word-split)
#   VIVACE_START_TIMEOUT seconds to wait for /v1/info "starting":false (default: 30)
#   PYTHON              interpreter used to create the venv (default: python3)
#
# Exit status: pytest's exit status (or 1 if the server could not be started).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${VIVACE_VENV:-$REPO/target/venv}"
BIN="${VIVACE_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/vivace}"
PYTHON="${PYTHON:-python3}"
START_TIMEOUT="${VIVACE_START_TIMEOUT:-30}"

log() { printf '[clients] %s\n' "$*" >&2; }

# --- virtualenv ------------------------------------------------------------------------------
# shellcheck source=tests/clients/venv.sh
source "$HERE/venv.sh"

# --- server ----------------------------------------------------------------------------------
if [ ! -x "$BIN" ]; then
    log "server binary not found or not executable: $BIN"
    log "build it with: cargo build --release -p vivace   (or set VIVACE_BIN)"
    exit 1
fi

PORT="$("$VPY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"
SERVER_LOG="$(mktemp "${TMPDIR:-/tmp}/vivace-clients-server.XXXXXX.log")"
SERVER_PID=""
KEEP_LOG=0

print_log() {
    log "---- server log ($SERVER_LOG), last 300 lines ----"
    tail -n 300 "$SERVER_LOG" >&2 || true
    log "---- end of server log ----"
}

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            log "server did not stop after SIGTERM; sending SIGKILL"
            kill -9 "$SERVER_PID" 2>/dev/null || true
        fi
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$KEEP_LOG" = 0 ]; then
        rm -f "$SERVER_LOG"
    else
        log "server log kept at $SERVER_LOG"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck disable=SC2086  # VIVACE_SERVER_ARGS is intentionally word-split
"$BIN" server "-Dhttp-server.http.port=$PORT" ${VIVACE_SERVER_ARGS:-} </dev/null >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
log "started $BIN (pid $SERVER_PID) on $URL; log: $SERVER_LOG"

# Ready means GET /v1/info answers with "starting": false.
probe() {
    "$VPY" - "$URL" <<'PYEOF'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/v1/info", timeout=2) as response:
        info = json.load(response)
except Exception:
    sys.exit(1)
sys.exit(0 if isinstance(info, dict) and info.get("starting") is False else 1)
PYEOF
}

deadline=$((SECONDS + START_TIMEOUT))
until probe; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        KEEP_LOG=1
        status=0
        wait "$SERVER_PID" 2>/dev/null || status=$?
        SERVER_PID=""
        log "ERROR: server exited (status $status) before becoming ready"
        print_log
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        KEEP_LOG=1
        log "ERROR: server did not report \"starting\":false on $URL/v1/info within ${START_TIMEOUT}s"
        print_log
        exit 1
    fi
    sleep 0.25
done
log "server ready"

# --- tests -----------------------------------------------------------------------------------
# Run the whole directory unless the arguments already name test paths (file, dir or node id).
TARGETS=("$HERE")
for arg in "$@"; do
    case "$arg" in
        -*) ;;
        *) if [ -e "${arg%%::*}" ]; then TARGETS=(); break; fi ;;
    esac
done
set +e
VIVACE_URL="$URL" VIVACE_BIN="$BIN" "$VPY" -m pytest "${TARGETS[@]}" "$@"
rc=$?
set -e

if [ "$rc" -ne 0 ]; then
    KEEP_LOG=1
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "NOTE: the server process is no longer running (it crashed or exited during the tests)"
    fi
    print_log
fi
exit "$rc"
