#!/usr/bin/env bash
# Runs every `cargo fuzz` target in fuzz/ for a bounded time (FUZZ_SECONDS each, default 60),
# starting from the corpus kept in the repo (fuzz/corpus/). New inputs the fuzzer finds go to
# a scratch directory, so the repo's corpus only changes when someone copies a find into it.
# A crash fails the run and prints the input that caused it.
#
# cargo-fuzz is installed from crates.io on first use, into the cache next to the cargo target
# directory. The machine has one stable toolchain; the fuzzing flags cargo-fuzz passes need
# nightly features, which RUSTC_BOOTSTRAP=1 enables on stable.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
cache="${VIVACE_CACHE:-${HOME:-/root}/.cache/vivace}"
tools="$cache/tools"
export CARGO_TARGET_DIR="$cache/fuzz-target"
export PATH="$tools/bin:$PATH"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz into $tools"
    cargo install cargo-fuzz --locked --root "$tools"
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

seeds_of() {
    case "$1" in
        session_headers) echo fuzz/corpus/session_headers ;;
        *) echo fuzz/corpus/sql ;;
    esac
}

targets=(statement_recognition trino_rewrites parser_entry session_headers)
if [ "$#" -gt 0 ]; then
    targets=("$@")
fi

export RUSTC_BOOTSTRAP=1
cd fuzz
for target in "${targets[@]}"; do
    echo "==> fuzzing $target for ${seconds}s"
    mkdir -p "$scratch/$target/corpus" "$scratch/$target/artifacts"
    if ! cargo fuzz run --release --sanitizer address "$target" \
        "$scratch/$target/corpus" "../$(seeds_of "$target")" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=16384 \
        -artifact_prefix="$scratch/$target/artifacts/" -print_final_stats=1; then
        echo "fuzz target $target failed; the input that caused it:" >&2
        for artifact in "$scratch/$target/artifacts/"*; do
            [ -f "$artifact" ] || continue
            echo "--- $artifact (base64)" >&2
            base64 "$artifact" >&2
        done
        exit 1
    fi
done
