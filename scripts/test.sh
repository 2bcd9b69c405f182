#!/usr/bin/env bash
# Runs every test of the workspace.
#
# First on the embedded defaults (SQLite files, in-process cache and counters),
# which need nothing but the Rust toolchain. Then, when TEST_DATABASE_URL
# (a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres) and/or
# TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) are set, the same suite again on
# those servers: every test makes its own database and Redis key prefix.
# TEST_S3_URL (an S3-compatible endpoint) also runs base's media tests on S3.
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo nextest --version >/dev/null 2>&1; then
  build() { cargo nextest run --workspace --no-run; }
  run() { cargo nextest run --workspace --no-fail-fast; }
else
  echo "cargo-nextest not found; using cargo test (install it with: cargo install cargo-nextest --locked)"
  build() { cargo test --workspace --no-run; }
  run() { cargo test --workspace --no-fail-fast; }
fi

build

echo "==> tests on the embedded defaults (SQLite, in-process cache)"
(unset TEST_DATABASE_URL TEST_REDIS_URL; run)

if [[ -n "${TEST_DATABASE_URL:-}" || -n "${TEST_REDIS_URL:-}" ]]; then
  echo "==> tests on PostgreSQL (${TEST_DATABASE_URL:-not set}) and Redis (${TEST_REDIS_URL:-not set})"
  run
fi
