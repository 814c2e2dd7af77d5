#!/usr/bin/env bash
# Load benchmark of the door: a release `haven serve` on 127.0.0.1 with 100,000 seeded
# badges, scanned through POST /api/v1/scans by wrk (rotating over their real tokens, a
# fresh scan id each) at 8 and 32 connections, then GET /healthz of the same server at 32
# connections for comparison. Prints scans/s, p50 and p99, and checks that every answered
# scan is in the database, and how long a server killed with SIGKILL takes until /readyz
# answers 200 again (the door picture of every badge loaded). Then measures the door
# page's offline verdict in Chromium with 100,000 revoked ids. Bounded: about 12 s per
# measurement after building and seeding.
#
#   scripts/bench-door.sh            # BADGES=100000 SECONDS_EACH=10 by default
#   DATABASE=postgres scripts/bench-door.sh               # a fresh database on 127.0.0.1:5432
#   DATABASE=postgres INSTANCES=2 scripts/bench-door.sh   # two servers on it, wrk on both
#   HAVEN_BIN=path/to/haven scripts/bench-door.sh          # that server, not built here (and
#                                                            no door page measurement)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

BADGES=${BADGES:-100000}
SECONDS_EACH=${SECONDS_EACH:-10}
PORT=${PORT:-3917}
DATABASE=${DATABASE:-sqlite}
INSTANCES=${INSTANCES:-1}
if [ "$INSTANCES" != 1 ] && [ "$DATABASE" != postgres ]; then
  echo "INSTANCES=2 needs DATABASE=postgres" >&2
  exit 2
fi

ensure_test_tools
if [ -n "${HAVEN_BIN:-}" ]; then
  haven=$HAVEN_BIN
else
  ensure_build_tools
  ensure_wasm_opt
  say "building haven (release: server and wasm door page, with the door page's benchmark harness)"
  cargo leptos build --release --precompress --split --lib-features door-bench
  haven=$PWD/target/release/haven
fi

work=$(mktemp -d)
servers=()
pg=(psql -qAt -h 127.0.0.1 -U postgres -d postgres)
pgdb=haven_bench_$$
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  [ "$DATABASE" = postgres ] && "${pg[@]}" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export HAVEN_DATA_DIR=$work HAVEN_ADDR=127.0.0.1:$PORT HAVEN_LOG=warn
if [ "$DATABASE" = postgres ]; then
  "${pg[@]}" -c "CREATE DATABASE $pgdb"
  export HAVEN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/$pgdb
else
  export HAVEN_DATABASE_URL=sqlite://$work/haven.db
fi

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
# The demo event starts in 30 days; the door of an event open now is what counts (and its
# picture is what a restarted server loads before /readyz answers 200).
if [ "$DATABASE" = postgres ]; then
  psql -qAt "$HAVEN_DATABASE_URL" -c "UPDATE events SET starts_at = now() - interval '1 hour',
    ends_at = now() + interval '2 days' WHERE slug = 'havenconf'"
else
  python3 - "$work/haven.db" <<'PY'
import datetime, sqlite3, sys
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
text = lambda t: t.isoformat()
db = sqlite3.connect(sys.argv[1])
db.execute("update events set starts_at = ?, ends_at = ? where slug = 'havenconf'",
           (text(now - datetime.timedelta(hours=1)), text(now + datetime.timedelta(days=2))))
db.commit()
PY
fi
"$haven" badge tokens --event havenconf >"$work/tokens.txt"
echo "$(wc -l <"$work/tokens.txt") badge tokens"
device=$("$haven" device add --event havenconf --name bench 2>/dev/null)

# serve N: starts instance N (1, 2) on PORT+N-1 and waits until /readyz answers 200.
serve() {
  local port=$((PORT + $1 - 1))
  HAVEN_ADDR=127.0.0.1:$port "$haven" serve --no-migrate >>"$work/serve$1.log" 2>&1 &
  servers[$1]=$!
  until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.02; done
}
for n in $(seq 1 "$INSTANCES"); do serve "$n"; done

export TOKENS=$work/tokens.txt DEVICE=$device
measure() { # name connections script path
  local line
  if [ "$INSTANCES" = 1 ]; then
    line=$(wrk -t2 -c"$2" -d"${SECONDS_EACH}s" --latency -s "$3" "http://127.0.0.1:$PORT$4" | grep '^RESULT')
  else
    # One wrk per instance, half the connections each; rates and answers add up, the
    # slower instance's p50 and p99 are shown.
    SEED=1 wrk -t1 -c$(($2 / 2)) -d"${SECONDS_EACH}s" --latency -s "$3" "http://127.0.0.1:$PORT$4" >"$work/a" &
    local a=$!
    SEED=2 wrk -t1 -c$(($2 / 2)) -d"${SECONDS_EACH}s" --latency -s "$3" "http://127.0.0.1:$((PORT + 1))$4" >"$work/b" &
    wait "$a" $!
    line=$(python3 - "$work/a" "$work/b" <<'PY'
import re, sys
runs = [dict(re.findall(r"(\w+)=([0-9.]+)", open(f).read().split("RESULT", 1)[1])) for f in sys.argv[1:]]
add = lambda k: sum(float(r[k]) for r in runs)
top = lambda k: max(float(r[k]) for r in runs)
print(f"RESULT rate={add('rate'):.0f} p50_ms={top('p50_ms'):.2f} p99_ms={top('p99_ms'):.2f} "
      f"answered={add('answered'):.0f} failed={add('failed'):.0f} errors={add('errors'):.0f}")
PY
)
  fi
  printf '%-28s %s\n' "$1" "${line#RESULT }"
  echo "$line" >>"$work/results"
}

say "measuring ($DATABASE, $INSTANCES instance(s), ${SECONDS_EACH} s each, on $(nproc) cores: wrk and haven share them)"
# A short warm-up so that the first measurement does not pay for cold caches.
for n in $(seq 1 "$INSTANCES"); do
  GATE=Warmup SEED=$n wrk -t1 -c4 -d2s -s scripts/bench/door-scan.lua "http://127.0.0.1:$((PORT + n - 1))/api/v1/scans" >/dev/null
done
measure "scans, 8 connections" 8 scripts/bench/door-scan.lua /api/v1/scans
measure "scans, 32 connections" 32 scripts/bench/door-scan.lua /api/v1/scans
measure "GET /healthz, 32 connections" 32 scripts/bench/trivial.lua /healthz

if [ "$DATABASE" = sqlite ] && [ "$INSTANCES" = 1 ] && [ -z "${HAVEN_BIN:-}" ]; then
  say "offline verdicts in the door page (Chromium, release wasm, 100,000 revoked ids)"
  link=$("$haven" signin-link --email door@example.org)
  (cd tests/browser && BASE_URL="http://127.0.0.1:$PORT" SIGNIN_LINK=$link TOKEN=$(head -1 "$work/tokens.txt") \
    TEST_OUTPUT_DIR="$work/browser" node door-bench.mjs) | grep '^RESULT' | sed 's/^RESULT /door page offline verdict: /'
fi

say "kill -9 of instance 1, then started again: time until /readyz answers 200"
kill -9 "${servers[1]}"
wait "${servers[1]}" 2>/dev/null || true
started=$(date +%s.%N)
serve 1
python3 -c "import sys; print(f'kill -9 to /readyz 200 again: {float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" \
  "$started" "$(date +%s.%N)"
for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
servers=()

# Every scan answered "200 with a result" must be in the database (some more may be,
# answered to connections wrk had already closed at the end of a run).
answered_scans=$(head -2 "$work/results" | grep -o 'answered=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s }')
if [ "$DATABASE" = postgres ]; then
  recorded=$(psql -qAt "$HAVEN_DATABASE_URL" -c "select count(*) from scans where gate = 'Bench'")
else
  recorded=$(python3 - "$work/haven.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("select count(*) from scans where gate = 'Bench'").fetchone()[0])
PY
)
fi
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
