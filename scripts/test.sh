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
# Tests that need a server say so with a SKIPPED line here; under CI=true
# they fail wherever else their server is missing.
(unset TEST_DATABASE_URL TEST_REDIS_URL TEST_S3_URL; export MARQUEE_TEST_PHASE=embedded; run)

# In CI this phase always runs: a server it lacks fails the tests that need it.
if [[ -n "${TEST_DATABASE_URL:-}" || -n "${TEST_REDIS_URL:-}" || "${CI:-}" == "true" || "${CI:-}" == "1" ]]; then
  echo "==> tests on PostgreSQL (${TEST_DATABASE_URL:-not set}) and Redis (${TEST_REDIS_URL:-not set})"
  MARQUEE_TEST_PHASE=servers run
fi
