#!/usr/bin/env bash
# Before/after comparison of the door: builds the server of two revisions (release), then
# runs scripts/bench-door.sh with each in turn, before then after, PAIRS times, on the same
# machine. Prints every run's scans/s at 32 connections, /healthz's rate and their ratio,
# then the median of each side and the after/before ratio of the medians. Interleaving
# spreads the machine's drift over both sides.
#
#   scripts/bench-door-pairs.sh BEFORE [AFTER]     # AFTER is HEAD by default; PAIRS=3
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/setup.sh
before=${1:?usage: scripts/bench-door-pairs.sh BEFORE-REVISION [AFTER-REVISION]}
after=${2:-HEAD}
PAIRS=${PAIRS:-3}

work=$(mktemp -d)
cleanup() {
  git worktree remove --force "$work/tree" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# build REVISION NAME: the release server of that revision, copied to $work/NAME.
build() {
  say "building haven at $1 ($(git rev-parse --short "$1"), release)"
  git worktree add --detach "$work/tree" "$1" >/dev/null 2>&1
  (cd "$work/tree" && CARGO_TARGET_DIR=$root/target cargo build --release --locked -p haven-server --bin haven)
  cp "$root/target/release/haven" "$work/$2"
  git worktree remove --force "$work/tree"
}
build "$before" before
build "$after" after

for i in $(seq 1 "$PAIRS"); do
  for side in before after; do
    say "pair $i of $PAIRS: $side"
    HAVEN_BIN=$work/$side scripts/bench-door.sh | tee "$work/out" | grep -E '^(scans, 32|GET /healthz|answered scans|scan rate)'
    scans=$(grep '^scans, 32' "$work/out" | grep -o 'rate=[0-9]*' | cut -d= -f2)
    trivial=$(grep '^GET /healthz' "$work/out" | grep -o 'rate=[0-9]*' | cut -d= -f2)
    echo "$side $scans $trivial" >>"$work/results"
  done
done

echo
python3 - "$work/results" <<'PY'
import statistics, sys
runs = {"before": [], "after": []}
for line in open(sys.argv[1]):
    side, scans, trivial = line.split()
    runs[side].append((float(scans), float(trivial)))
median = {}
for side, rows in runs.items():
    ratios = [s / t for s, t in rows]
    median[side] = statistics.median(ratios)
    print(f"{side:6}  ratios {', '.join(f'{r:.3f}' for r in ratios)}; median {median[side]:.3f}; "
          f"scans/s median {statistics.median(s for s, _ in rows):,.0f}")
print(f"after/before (medians of the ratio): {median['after'] / median['before']:.3f}")
PY
