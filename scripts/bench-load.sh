#!/usr/bin/env bash
# What the first load costs on a phone: builds Haven as for production (release, assets
# named after their content and precompressed, the wasm split by page for the lazy
# routes), prints the size
# of the wasm, its JavaScript and the stylesheet (as built, gzip, brotli), then serves the demo on
# 127.0.0.1 and measures in Chromium (tests/browser/load-bench.mjs): the bytes of a cold
# and a warm load of `/`, the concern form and the door page, and how long the door page
# takes until it can scan on a slow network (1.6 Mbit/s, 150 ms round trip). Bounded:
# about a minute after the build.
#
#   scripts/bench-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

PORT=${PORT:-3927}
ensure_build_tools
ensure_test_tools
ensure_wasm_opt
say "building haven as for production (cargo leptos build --release --precompress --split)"
cargo leptos build --release --precompress --split
haven=$PWD/target/release/haven
pkg=$PWD/target/site/pkg

say "the assets"
printf '%-44s %12s %12s %12s\n' file "as built" gzip brotli
for f in "$pkg"/haven.*.wasm "$pkg"/haven.*.js "$pkg"/haven.*.css; do
  printf '%-44s %12s %12s %12s\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(stat -c %s "$f.gz")" "$(stat -c %s "$f.br")"
done

work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export HAVEN_DATA_DIR=$work HAVEN_ADDR=127.0.0.1:$PORT HAVEN_LOG=warn HAVEN_DATABASE_URL=sqlite://$work/haven.db
"$haven" migrate >/dev/null
"$haven" demo >/dev/null
"$haven" serve --no-migrate >>"$work/serve.log" 2>&1 &
server=$!
until curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.05; done

say "loads in Chromium (fresh profile each; warm = the same page loaded again)"
registrant=$("$haven" signin-link --email ada.lovelace@example.org)
door=$("$haven" signin-link --email door@example.org)
slow_door=$("$haven" signin-link --email door@example.org)
(cd tests/browser && BASE_URL="http://127.0.0.1:$PORT" SITE_PKG=$pkg REGISTRANT_LINK=$registrant DOOR_LINK=$door \
  SLOW_DOOR_LINK=$slow_door \
  TEST_OUTPUT_DIR="$work/browser" node load-bench.mjs) | grep -E '^(RESULT|FAILED)' | sed 's/^RESULT //'
