#!/usr/bin/env bash
# Sets up and runs Haven on an embedded SQLite database (./data/haven.db) with a demo
# event, at http://127.0.0.1:3000 (HAVEN_ADDR to change). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

ensure_build_tools
say "building Haven (server and wasm front end)"
cargo leptos build --split
say "migrating and seeding the demo (only into an empty database)"
target/debug/haven migrate
target/debug/haven demo --if-empty
say "serving Haven; stop with Ctrl-C"
exec target/debug/haven serve
