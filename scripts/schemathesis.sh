#!/usr/bin/env bash
# Hostile API clients: Schemathesis reads /api/openapi.json from a real `haven serve` (SQLite,
# demo data, a door device's token) and sends each operation generated requests, valid and
# invalid: no answer may be a 5xx, and every answer's status, content type and body must be
# what the document says. Installs Schemathesis into .tools/schemathesis when missing.
#
#   scripts/schemathesis.sh [EXAMPLES]   # test cases per operation and phase (default 500)
#
# Needs a built binary: target/debug/haven (cargo leptos build), or HAVEN_BIN=path. SEED=n
# repeats an earlier run's inputs (each run prints its seed). Exits 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

SCHEMATHESIS_VERSION=4.32.5
# PyPI's schemathesis in a virtual environment of its own, installed once.
ensure_schemathesis() {
  local dir=$PWD/.tools/schemathesis
  if ! "$dir/bin/st" --version 2>/dev/null | grep -q " ${SCHEMATHESIS_VERSION}\$"; then
    say "installing schemathesis ${SCHEMATHESIS_VERSION} (PyPI, into .tools/schemathesis)"
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
    fi
    python3 -m venv --clear "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "schemathesis==${SCHEMATHESIS_VERSION}"
  fi
  export PATH="$dir/bin:$PATH"
  # Hypothesis (under Schemathesis) keeps its caches there, not in .hypothesis/ here.
  export HYPOTHESIS_STORAGE_DIRECTORY=$dir/hypothesis
}

examples=${1:-500}
if ! [[ "$examples" =~ ^[0-9]+$ ]] || [ "$examples" -lt 1 ] || [ "$examples" -gt 10000 ]; then
  echo "usage: scripts/schemathesis.sh [EXAMPLES (1-10000)]" >&2
  exit 2
fi
haven=${HAVEN_BIN:-$PWD/target/debug/haven}
if [ ! -x "$haven" ]; then
  echo "no haven binary at $haven: run cargo leptos build, or set HAVEN_BIN" >&2
  exit 2
fi
ensure_schemathesis

work=$(mktemp -d)
server=
cleanup() {
  [ -z "$server" ] || { kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; } || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export HAVEN_DATA_DIR=$work HAVEN_DATABASE_URL="sqlite://$work/haven.db?mode=rwc"
export HAVEN_ADDR=127.0.0.1:$port HAVEN_SITE_ROOT=$PWD/target/site HAVEN_LOG=warn

say "a server on 127.0.0.1:$port with the demo data and a door device"
"$haven" migrate >/dev/null
# The demo's badge for each door answer (admit, alert, deny for each reason).
badges=$("$haven" demo --door-tokens | grep -o 'HVN1\.[A-Za-z0-9_-]*')
device=$("$haven" device add --event havenconf --name "Schema gate" 2>/dev/null)
"$haven" serve --no-migrate >"$work/serve.log" 2>&1 &
server=$!
for tries in $(seq 300); do # 30 s at most
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  if [ "$tries" = 300 ] || ! kill -0 "$server" 2>/dev/null; then
    echo "the server did not become ready:" >&2
    cat "$work/serve.log" >&2
    exit 1
  fi
  sleep 0.1
done

# Half the scans carry a real badge (each with a fresh scan id, see the hooks) and most door
# syncs name the real event, so the answers with names, instructions and deny lists are
# checked too, not only 422 and 404.
cat >"$work/schemathesis.toml" <<EOF
hooks = "$PWD/scripts/schemathesis-hooks.py"
cache.enabled = false # no .schemathesis/ in the repository: failures are replayed by SEED
[dictionaries.badges]
values = [$(printf '"%s",' $badges)]
[dictionaries.events]
values = ["havenconf"]
[parameters]
"body.token" = { dictionary = "badges", probability = 0.5 }
"path.slug" = { dictionary = "events", probability = 0.8 }
EOF

mkdir -p test-output
say "schemathesis ${SCHEMATHESIS_VERSION}: ${examples} test cases per operation and phase"
started=$(date +%s)
set +e
# Every check (among them not_a_server_error, status_code_conformance,
# content_type_conformance, response_schema_conformance, negative_data_rejection and
# ignored_auth) but positive_data_acceptance: a schema-valid scan can still be refused with
# 422 (a `scanned_at` more than 5 minutes ahead), which JSON Schema cannot express; the
# document lists that 422. The hard bound: a run that hangs is ended and fails. Nothing is
# masked in the output: every token belongs to this run's throwaway database.
timeout --kill-after=10s 300 st --config-file "$work/schemathesis.toml" run \
  "http://127.0.0.1:$port/api/openapi.json" \
  --header "Authorization: Bearer $device" \
  --checks all --exclude-checks positive_data_acceptance --continue-on-failure \
  --max-examples "$examples" ${SEED:+--seed "$SEED"} \
  --request-timeout 10 --generation-database none --output-sanitize false \
  --report junit --report-junit-path test-output/schemathesis.xml \
  2>&1 | tee test-output/schemathesis.log
status=${PIPESTATUS[0]}
set -e
cp "$work/serve.log" test-output/schemathesis-serve.log
say "schemathesis done in $(( $(date +%s) - started )) s (exit $status; log in test-output/schemathesis.log)"
exit "$status"
