#!/usr/bin/env bash
# Sets up and runs every test: formatting, clippy per package and feature set, unit tests,
# integration tests (SQLite, and PostgreSQL when a server answers on 127.0.0.1:5432) and
# browser tests in headless Chromium, and schemathesis against the device API. Installs
# what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
started=$(date +%s)
# Each stage says how long the run has taken so far, so a slow CI run shows where.
stage() { say "$* (at $(( $(date +%s) - started )) s)"; }

ensure_build_tools
ensure_test_tools

databases="SQLite and PostgreSQL"
if [ -z "${HAVEN_TEST_POSTGRES_URL:-}" ]; then
  candidate=postgres://postgres@127.0.0.1:5432/test
  if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export HAVEN_TEST_POSTGRES_URL=$candidate
    say "PostgreSQL answers on 127.0.0.1:5432: the integration tests run on SQLite and PostgreSQL"
  elif [ -n "${CI:-}" ]; then
    # CI promises both databases: this project's machines run PostgreSQL on 127.0.0.1:5432.
    say "FAILED: CI is set but no PostgreSQL answers on 127.0.0.1:5432"
    exit 1
  else
    databases="SQLite ONLY"
    say "NOTE: no PostgreSQL on 127.0.0.1:5432: the integration tests run on SQLite ONLY"
  fi
else
  say "HAVEN_TEST_POSTGRES_URL is set: the integration tests run on SQLite and PostgreSQL"
fi

stage "cargo fmt --check"
cargo fmt --all -- --check

stage "clippy, per package and feature set (never haven-app with both ssr and hydrate)"
clippy() { cargo clippy --quiet "$@" -- -D warnings; }
# Host packages in one run, so they share one feature resolution (the same as the tests').
clippy -p haven-app -p haven-migrations -p haven-server -p haven-tests --features haven-app/ssr --all-targets
# The pure build of haven-app (domain and wire types only), then the browser side.
clippy -p haven-app --all-targets
clippy -p haven-app --features hydrate --target wasm32-unknown-unknown
clippy -p haven-frontend --target wasm32-unknown-unknown

stage "building the site and the haven binary"
cargo leptos build --split

mkdir -p test-output
stage "unit tests"
# With the server's feature set, so they reuse what the build above compiled (the pure
# build of haven-app is checked by clippy above).
cargo test -p haven-app -p haven-server --lib --features haven-app/ssr 2>&1 | tee test-output/unit.log

stage "hostile API clients: schemathesis against the OpenAPI document"
set +e
scripts/schemathesis.sh
schema_status=$?

stage "integration and browser tests"
# They took 11 to 25 minutes here (both databases, two test threads); a hang must fail the
# run long before CI's limit.
timeout --kill-after=30s 30m cargo test -p haven-tests --test integration 2>&1 | tee test-output/integration.log
status=${PIPESTATUS[0]}
set -e

say "done in $(( $(date +%s) - started )) s"
printf 'unit tests:        %s\n' "$(grep -E '^test result:' test-output/unit.log | awk '{p+=$4; f+=$6} END {print p " passed, " f " failed"}')"
printf 'integration tests: %s\n' "$(grep -E '^test result:' test-output/integration.log | tail -n 1)"
printf 'schemathesis:      %s\n' "$([ "$schema_status" = 0 ] && echo passed || echo "FAILED (test-output/schemathesis.log)")"
printf 'databases:         %s\n' "$databases"
[ "$schema_status" = 0 ] || exit 1
exit "$status"
