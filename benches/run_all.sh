#!/usr/bin/env bash
# Runs every benchmark in turn and writes one Markdown report (the raw material
# of RESULTS.md): pass-through, idle connections, syscalls per request, profile.
# Usage: benches/run_all.sh OUTPUT.md [--tidegate PATH] [--rounds N] [--duration S]
# Each script is bounded and cleans up after itself; a failing one is reported
# in the output and makes this script exit 1 after the others have run.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
(($# >= 1)) || {
  echo "usage: $0 OUTPUT.md [--tidegate PATH] [--rounds N] [--duration S]" >&2
  exit 2
}
OUT="$1"
shift
TG_ARGS=()
ROUNDS=5
DURATION=4
while (($#)); do
  case "$1" in
    --tidegate) TG_ARGS=(--tidegate "$2"); shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

status=0
run() {
  local name="$1"
  shift
  echo "[$(date -u +%H:%M:%S)] $name …" >&2
  if ! "$@" >>"$OUT"; then
    echo -e "\n**$name exited non-zero** (see its stderr above)\n" >>"$OUT"
    status=1
  fi
  echo >>"$OUT"
}

: >"$OUT"
run passthrough "$BENCH_DIR/run_passthrough.sh" "${TG_ARGS[@]}" --rounds "$ROUNDS" \
  --duration "$DURATION" --per-run
run idle "$BENCH_DIR/idle_connections.sh" "${TG_ARGS[@]}"
run syscalls "$BENCH_DIR/syscalls_per_request.sh" "${TG_ARGS[@]}"
run "profile (small)" "$BENCH_DIR/profile_tidegate.sh" "${TG_ARGS[@]}" --page small --duration 8
run "profile (large)" "$BENCH_DIR/profile_tidegate.sh" "${TG_ARGS[@]}" --page large --duration 8
echo "[$(date -u +%H:%M:%S)] report in $OUT" >&2
exit "$status"
