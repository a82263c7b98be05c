#!/usr/bin/env bash
# Drives `vivace cli` in a real terminal (a detached tmux session) against a real server:
# a multi-line query, the live progress line of a slow query, Ctrl-C cancelling it (the CLI
# stays), history recall with the Up arrow, tab completion, and `quit`.
#
#   tests/cli/interactive.sh
#
# Environment:
#   VIVACE_BIN  the binary (default: ${CARGO_TARGET_DIR:-$REPO/target}/release/vivace)
#
# tmux and less come from Debian's packages; they are installed when missing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN="${VIVACE_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/vivace}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vivace-cli-test.XXXXXX")"
SOCKET="vivace-cli-test-$$"
SERVER_PID=""

log() { printf '[cli] %s\n' "$*" >&2; }

fail() {
    log "FAILED: $*"
    log "---- terminal ----"
    tmux -L "$SOCKET" capture-pane -p -t cli -S -200 >&2 2>/dev/null || true
    log "---- server log (last 50 lines) ----"
    tail -n 50 "$WORK/server.log" >&2 || true
    exit 1
}

cleanup() {
    tmux -L "$SOCKET" kill-server 2>/dev/null || true
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

install_missing() {
    local missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing ${missing[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}

[ -x "$BIN" ] || { log "binary not found: $BIN (build it with cargo build --release)"; exit 1; }
install_missing tmux less curl

# --- server ----------------------------------------------------------------------------------
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"
"$BIN" server "-Dhttp-server.http.port=$PORT" -Dhttp-server.http.bind-address=127.0.0.1 \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    curl -fsS "$URL/v1/info" 2>/dev/null | grep -q '"starting":false' && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited"
    sleep 0.1
done
curl -fsS "$URL/v1/info" | grep -q '"starting":false' || fail "the server did not start"

# --- terminal helpers --------------------------------------------------------------------------
screen() { tmux -L "$SOCKET" capture-pane -p -t cli -S -200; }

# Waits until the terminal shows text matching the extended regex $1 (at most $2 seconds).
wait_for() {
    local pattern="$1" seconds="${2:-20}"
    for _ in $(seq 1 $((seconds * 10))); do
        screen | grep -Eq -- "$pattern" && return 0
        sleep 0.1
    done
    fail "the terminal never showed /$pattern/"
}

# How many lines of the terminal match the extended regex $1.
count() { screen | grep -Ec -- "$1" || true; }

# Waits until at least $2 lines of the terminal match the extended regex $1.
wait_for_count() {
    local pattern="$1" wanted="$2"
    for _ in $(seq 1 200); do
        [ "$(count "$pattern")" -ge "$wanted" ] && return 0
        sleep 0.1
    done
    fail "the terminal never showed /$pattern/ $wanted times"
}

keys() { tmux -L "$SOCKET" send-keys -t cli "$@"; }
# Types $1 and Enter. tmux reads an argument's final ';' as a command separator, so a final
# ';' is sent as its own escaped key.
type_line() {
    if [[ "$1" == *";" ]]; then
        keys -l "${1%;}"
        keys '\;'
    else
        keys -l "$1"
    fi
    keys Enter
}

# --- the session -------------------------------------------------------------------------------
HISTORY="$WORK/history"
EXIT_STATUS="$WORK/exit-status"
# The pane's shell records the CLI's exit status: tmux 3.3 sometimes never reaps a pane's
# process, and then never learns its status. The shell survives Ctrl-C (its INT trap runs a
# no-op) and the CLI, which does not inherit a trap, gets the signal as usual.
tmux -L "$SOCKET" -f /dev/null new-session -d -s cli -x 160 -y 50 \
    "trap : INT; env TERM=xterm-256color '$BIN' cli --server '$URL' --catalog tpch --schema tiny --user alice --history-file '$HISTORY'; echo \$? > '$EXIT_STATUS'"
tmux -L "$SOCKET" set-option -t cli remain-on-exit on >/dev/null

log "prompt"
wait_for '^vivace:tiny>'

log "a multi-line query"
type_line "SELECT nationkey, name"
wait_for '^ +->$'
type_line "FROM nation"
type_line "WHERE nationkey < 3 ORDER BY nationkey;"
wait_for '^\(3 rows\)'
screen | grep -Eq '^ nationkey +\| +name' || fail "no ALIGNED header"
screen | grep -Eq '^ +1 \| ARGENTINA' || fail "no ALIGNED row"
screen | grep -Eq '^Query [0-9a-z_]+, FINISHED' || fail "no final statistics"

log "history: Up recalls the last statement"
keys Up
wait_for 'ORDER BY nationkey;$'
keys Enter
wait_for_count '^\(3 rows\)' 2

log "tab completion of a table name"
keys -l "SELECT count(*) FROM line"
keys Tab
wait_for 'FROM lineitem'
keys '\;'
keys Enter
wait_for '^ +60175$'

log "progress of a slow query, then Ctrl-C"
keys -l "clear"
keys Enter
type_line "SELECT count(*) FROM tpch.sf100.lineitem;"
wait_for 'RUNNING .*rows' 60
log "progress line: $(screen | grep -E 'RUNNING .*rows' | tail -n 1)"
keys C-c
wait_for '^Query aborted by user' 30
wait_for '^vivace:tiny>$' 10
screen | grep -Eq 'RUNNING .*rows' && fail "the progress line was left on the terminal"

log "the CLI still works after the cancel, and the query was cancelled on the server"
type_line "SELECT state FROM system.runtime.queries WHERE query LIKE '%sf100.lineitem%' AND query NOT LIKE '%runtime%';"
wait_for_count '^\(1 row\)' 2
screen | grep -Eq '^ (FAILED|CANCELED) *$' || fail "the aborted query is not cancelled on the server"

log "a long result goes through the pager (less), and q returns to the prompt"
finished="$(count '^Query [0-9a-z_]+, FINISHED')"
type_line "SELECT orderkey, comment FROM orders ORDER BY orderkey LIMIT 200;"
wait_for '^:$'
[ "$(count '^Query [0-9a-z_]+, FINISHED')" -eq "$finished" ] || fail "statistics printed while the pager is open"
keys q
wait_for_count '^Query [0-9a-z_]+, FINISHED' $((finished + 1))

log "quit"
type_line "quit"
for _ in $(seq 1 100); do
    [ -s "$EXIT_STATUS" ] && break
    sleep 0.1
done
[ -s "$EXIT_STATUS" ] || fail "quit did not end the CLI"
status="$(cat "$EXIT_STATUS")"
[ "$status" = 0 ] || fail "the CLI exited with status $status"
grep -q 'sf100.lineitem' "$HISTORY" || fail "history was not saved to $HISTORY"
screen | grep -q 'panicked' && fail "the CLI panicked"

[ -n "${VIVACE_SHOW_TERMINAL:-}" ] && screen >&2
log "ok"
