#!/usr/bin/env bash
# Runs every property test (the parsers of what clients send) for a set time each: round
# after round of fresh random inputs, each round as many cases as fit the time left.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target, 1 to 3600 (default 60); TARGETs by name (default: all of them):
# badge-token registration-row concern-fields csv-parser scan-api door-sync concern-form
# csv-import. The HTTP targets run against a real server on SQLite. A failure prints the
# shrunk input that fails; the script then goes on with the next target and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ] || [ "$seconds" -gt 3600 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS (1-3600)] [TARGET...]" >&2
  exit 2
fi
shift || true

# name | test binary | test filter | cases in the first round (per property)
targets=(
  "badge-token|app|domain::badge::properties|1000"
  "registration-row|app|domain::registration::properties|1000"
  "concern-fields|app|domain::case::properties|300"
  "csv-parser|server|services::registrations::csv::properties|500"
  "scan-api|integration|properties::scan_bodies|400"
  "door-sync|integration|properties::door_sync|500"
  "concern-form|integration|properties::concern_forms|150"
  "csv-import|integration|properties::csv_imports|120"
)
wanted=("$@")

# The test binaries, built once (the executable cargo names for each).
executable() { cargo test --quiet "$@" --no-run --message-format=json | grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d'"' -f4; }
say "building the property tests"
declare -A bin
bin[app]=$(executable -p haven-app --lib)
bin[server]=$(executable -p haven-server --lib)
bin[integration]=$(executable -p haven-tests --features haven-app/ssr --test integration)
# The fuzzing time goes to SQLite (the normal test run covers PostgreSQL).
export HAVEN_TEST_POSTGRES_URL=

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

mkdir -p test-output
summary=test-output/fuzz-summary.txt
printf '%-17s %8s %7s %12s  %s\n' target seconds rounds cases result | tee "$summary"
failed=0
for entry in "${targets[@]}"; do
  IFS='|' read -r name kind filter cases <<<"$entry"
  if [ "${#wanted[@]}" -gt 0 ] && [[ " ${wanted[*]} " != *" $name "* ]]; then
    continue
  fi
  say "$name: ${seconds} s ($filter)"
  log=test-output/fuzz-$name.log
  : >"$log"
  start=$(now_ms)
  rounds=0 total=0 result=ok
  while :; do
    left=$(( seconds * 1000 - ($(now_ms) - start) ))
    [ "$left" -gt 0 ] || break
    round_start=$(now_ms)
    # The hard bound: a round that hangs is ended and counts as a failure.
    if ! PROPTEST_CASES=$cases timeout --kill-after=10s $(( left / 1000 + 300 )) \
      "${bin[$kind]}" --test-threads 2 "$filter" >>"$log" 2>&1; then
      result="FAILED (see $log)"
      failed=1
      grep -E 'Test failed|minimal failing input|^    |^\)' "$log" | head -n 60 || true
      break
    fi
    passed=$(grep -E '^test result:' "$log" | tail -n 1 | awk '{print $4}')
    if [ "${passed:-0}" -eq 0 ]; then
      result="no test matched $filter"
      failed=1
      break
    fi
    rounds=$(( rounds + 1 ))
    total=$(( total + passed * cases ))
    took=$(( $(now_ms) - round_start ))
    left=$(( seconds * 1000 - ($(now_ms) - start) ))
    # As many cases as should fit the time left at this round's pace (servers start
    # anew each round, so the pace is a little pessimistic).
    cases=$(( cases * left / (took > 0 ? took : 1) * 9 / 10 ))
    [ "$cases" -ge 10 ] || break
  done
  elapsed=$(( ($(now_ms) - start) / 1000 ))
  printf '%-17s %8s %7s %12s  %s\n' "$name" "$elapsed" "$rounds" "$total" "$result" | tee -a "$summary"
done

say "summary (also in $summary)"
cat "$summary"
exit "$failed"
