#!/usr/bin/env bash
# The full test suite: formatting, lints, Rust unit and integration tests (sqllogictest files
# included), a bounded fuzzing run, the real Python clients against a real server, and the
# Docker image with its compose clusters on the Docker engine (skipped, with a message, when
# there is none).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --release --all-targets -- -D warnings

step "cargo build --release"
cargo build --release --bin vivace

step "cargo test (unit, integration, sqllogictest)"
cargo test --release --workspace

step "fuzzing the SQL front end and the session headers (60 s per target)"
bash scripts/fuzz.sh

step "vivace cli in a terminal (tmux)"
bash tests/cli/interactive.sh

step "Python clients (trino, presto-python-client, SQLAlchemy)"
bash tests/clients/run.sh

step "Docker image and compose clusters (skipped without a Docker engine)"
bash tests/docker/run.sh
