#!/usr/bin/env bash
# Load benchmark of the door: a release `haven serve` on 127.0.0.1 with 100,000 seeded
# badges, scanned through POST /api/v1/scans by wrk (rotating over their real tokens, a
# fresh scan id each) at 8 and 32 connections, then GET /healthz of the same server at 32
# connections for comparison. Prints scans/s, p50 and p99, and checks that every answered
# scan is in the database. Then measures the door page's offline verdict in Chromium with
# 100,000 revoked ids. Bounded: about 12 s per measurement after building and seeding.
#
#   scripts/bench-door.sh            # BADGES=100000 SECONDS_EACH=10 by default
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

BADGES=${BADGES:-100000}
SECONDS_EACH=${SECONDS_EACH:-10}
PORT=${PORT:-3917}

ensure_build_tools
ensure_test_tools
ensure_wasm_opt
say "building haven (release: server and wasm door page)"
cargo leptos build --release
haven=$PWD/target/release/haven

work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export HAVEN_DATA_DIR=$work HAVEN_DATABASE_URL="sqlite://$work/haven.db" HAVEN_ADDR=127.0.0.1:$PORT HAVEN_LOG=warn

say "seeding the demo and ${BADGES} more registrations with badges"
"$haven" migrate >/dev/null
"$haven" demo >/dev/null
python3 - "$BADGES" >"$work/people.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("name,email")
for i in range(n):
    print(f"Bench Person {i},bench.{i}@example.net")
PY
time "$haven" import registrations --event havenconf "$work/people.csv"
"$haven" badge tokens --event havenconf >"$work/tokens.txt"
echo "$(wc -l <"$work/tokens.txt") badge tokens"
device=$("$haven" device add --event havenconf --name bench 2>/dev/null)

"$haven" serve --no-migrate >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

export TOKENS=$work/tokens.txt DEVICE=$device
measure() { # name connections script url
  local line
  line=$(wrk -t2 -c"$2" -d"${SECONDS_EACH}s" --latency -s "$3" "$4" | grep '^RESULT')
  printf '%-28s %s\n' "$1" "${line#RESULT }"
  echo "$line" >>"$work/results"
}

say "measuring (${SECONDS_EACH} s each, wrk -t2, on $(nproc) cores: wrk and haven share them)"
# A short warm-up so that the first measurement does not pay for cold caches.
GATE=Warmup wrk -t2 -c8 -d2s -s scripts/bench/door-scan.lua "http://127.0.0.1:$PORT/api/v1/scans" >/dev/null
measure "scans, 8 connections" 8 scripts/bench/door-scan.lua "http://127.0.0.1:$PORT/api/v1/scans"
measure "scans, 32 connections" 32 scripts/bench/door-scan.lua "http://127.0.0.1:$PORT/api/v1/scans"
measure "GET /healthz, 32 connections" 32 scripts/bench/trivial.lua "http://127.0.0.1:$PORT/healthz"

say "offline verdicts in the door page (Chromium, release wasm, 100,000 revoked ids)"
link=$("$haven" signin-link --email door@example.org)
(cd tests/browser && BASE_URL="http://127.0.0.1:$PORT" SIGNIN_LINK=$link TOKEN=$(head -1 "$work/tokens.txt") \
  TEST_OUTPUT_DIR="$work/browser" node door-bench.mjs) | grep '^RESULT' | sed 's/^RESULT /door page offline verdict: /'

kill "$server" && wait "$server" 2>/dev/null || true
server=""

# Every scan answered "200 with a result" must be in the database (some more may be,
# answered to connections wrk had already closed at the end of a run).
answered_scans=$(head -2 "$work/results" | grep -o 'answered=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s }')
recorded=$(python3 - "$work/haven.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("select count(*) from scans where gate = 'Bench'").fetchone()[0])
PY
)
rate() { sed -n "$1p" "$work/results" | grep -o 'rate=[0-9]*' | cut -d= -f2; }
echo
echo "answered scans (measured runs): ${answered_scans}; their scans in the database: ${recorded}"
python3 - "$(rate 2)" "$(rate 3)" <<'PY'
import sys
scan, trivial = map(float, sys.argv[1:])
print(f"scan rate at 32 connections / trivial route rate: {scan / trivial:.3f}")
PY
if [ "$recorded" -lt "$answered_scans" ]; then
  echo "FAILED: ${answered_scans} scans were answered but only ${recorded} are recorded" >&2
  exit 1
fi
