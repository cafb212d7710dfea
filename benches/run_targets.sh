#!/usr/bin/env bash
# Every issue-15 target in one bounded run (at most 12 minutes with the
# defaults), against the peers of the same run, printed as the Markdown table
# for benches/RESULTS.md. Meant for a quiet machine: before each script it
# waits (up to --quiet-wait seconds) for the 1-minute load average to fall
# under 1, and the table records the load each script started at.
#
#   pass-through, default configuration   run_passthrough.sh (1 KB, 24 KB; tidegate, nginx, HAProxy)
#     CPU/request <= 0.8x the better peer (lower CPU), req/s >= 1.1x and p99 <= 1.0x the better peer
#   queue page to cookie-less visitors     run_queue.sh       req/s >= 1.0x nginx `return 200`
#   banner, 24 KB page                     run_banner.sh --no-stream
#     identity >= 1.5x nginx sub_filter req/s, gzip >= 1.2x
#   idle keep-alive connections            idle_connections.sh --connections 10000   <= 1.0 kB each
#   admitted traffic through a room        run_room_admitted.sh --backend local     >= 0.97x pass-through
#
# The scripts run one after the other (never two loads at once); each one
# interleaves its targets and takes medians. Their full outputs are kept in
# --out DIR. Pass-through runs whatever configuration run_passthrough.sh
# gives tidegate (the shipped conf.d defaults once that script uses them).
#
# usage: benches/run_targets.sh [--rounds N] [--duration S] [--tidegate PATH]
#                               [--out DIR] [--quiet-wait S] [--only LIST]
#   --only: comma-separated subset of passthrough,queue,banner,idle,admitted
#   --idle-connections N: fewer idle connections (smoke tests; the target is at 10,000)
# Exit status: 0 when every script ran (whether or not targets are met), 1
# when one failed (its rows say FAILED).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=5
DURATION=4
TIDEGATE=""
OUT=""
QUIET_WAIT=30
IDLE_CONNECTIONS=10000
ONLY="passthrough,queue,banner,idle,admitted"
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="${2%s}"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --quiet-wait) QUIET_WAIT="${2%s}"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --idle-connections) IDLE_CONNECTIONS="$2"; shift 2 ;;  # smoke tests only (the target is at 10,000)
    -h | --help) sed -n '2,27p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ && "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--rounds and --duration are positive integers"
[[ -n "$TIDEGATE" ]] || TIDEGATE="$(find_tidegate)" || die "no tidegate binary; pass --tidegate PATH"
TIDEGATE="$(cd "$(dirname "$TIDEGATE")" && pwd)/$(basename "$TIDEGATE")"
[[ -n "$OUT" ]] || OUT="/tmp/tidegate-targets-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

# Time budget: each script's own bound, plus the quiet waits; the whole run
# is stopped at 12 minutes with the defaults (more with more rounds).
BUDGET=$((120 + 5 * QUIET_WAIT + ROUNDS * (DURATION + 2) * 26 + 150))
((ROUNDS == 5 && DURATION == 4 && QUIET_WAIT <= 30)) && BUDGET=720
bench_init targets
start_watchdog "$BUDGET"
log "results in $OUT; time limit ${BUDGET}s"

LOADS=()
load1() { awk '{print $1}' /proc/loadavg; }
# Waits up to QUIET_WAIT seconds for the 1-minute load average under 1.
wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT)) l
  while l="$(load1)"; awk -v l="$l" 'BEGIN { exit !(l >= 1) }' && ((SECONDS < deadline)); do
    sleep 5
  done
  l="$(load1)"
  awk -v l="$l" 'BEGIN { exit !(l >= 1) }' && log "warning: load average $l (not quiet) before $1"
  LOADS+=("$1 $l")
}

FAILED=0
ROWS=()
# row MEASURE TIDEGATE PEER RATIO TARGET MET
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
# met RATIO OP LIMIT: "met" or "**missed**"
met() {
  [[ "$1" =~ ^[0-9.]+$ ]] || { echo "FAILED (no figure)"; return; }
  awk -v r="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? r >= l : r <= l; print ok ? "met" : "**missed**" }'
}
# run NAME SCRIPT ARGS…: runs a bench script, keeps its stdout/stderr.
run() {
  local name="$1"
  shift
  wait_quiet "$name"
  log "running $name: $*"
  if "$@" >"$OUT/$name.md" 2>"$OUT/$name.log"; then
    return 0
  fi
  log "$name failed (see $OUT/$name.log)"
  FAILED=1
  return 1
}

if wants passthrough; then
  if run passthrough bash "$BENCH_DIR/run_passthrough.sh" --rounds "$ROUNDS" --duration "$DURATION" \
    --targets tidegate,nginx,haproxy --tidegate "$TIDEGATE" --raw "$OUT/passthrough.csv"; then
    python3 - "$OUT/passthrough.csv" >"$OUT/passthrough.rows" <<'EOF'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["ok"] == "1"]
def med(page, target, key):
    v = [float(r[key]) for r in rows if r["page"] == page and r["target"] == target and r[key]]
    return statistics.median(v) if v else None
for page, label in (("small", "1 KB"), ("large", "24 KB")):
    t = {k: med(page, "tidegate", k) for k in ("cpu_us_per_req", "rps", "p99_us")}
    peers = {p: {k: med(page, p, k) for k in ("cpu_us_per_req", "rps", "p99_us")} for p in ("nginx", "haproxy")}
    def best(key, lower):
        have = [(v[key], p) for p, v in peers.items() if v[key] is not None]
        return (min if lower else max)(have) if have else (None, "-")
    for key, lower, name, op, limit, unit in (
        ("cpu_us_per_req", True, "CPU per request", "<=", 0.8, "µs"),
        ("rps", False, "req/s", ">=", 1.1, "req/s"),
        ("p99_us", True, "p99", "<=", 1.0, "µs")):
        value, peer = best(key, lower)
        mine = t[key]
        if mine is None or value is None:
            print(f"pass-through {label}, {name}\tFAILED\t-\t-\t{op} {limit}x\tFAILED")
            continue
        r = mine / value
        ok = r <= limit if op == "<=" else r >= limit
        print(f"pass-through {label}, {name}\t{mine:,.1f} {unit}\t{peer} {value:,.1f} {unit}\t{r:.2f}x\t{op} {limit}x\t{'met' if ok else '**missed**'}")
EOF
    while IFS=$'\t' read -r a b c d e f; do row "$a" "$b" "$c" "$d" "$e" "$f"; done <"$OUT/passthrough.rows"
  else
    row "pass-through (1 KB, 24 KB)" FAILED - - "see $OUT/passthrough.log" FAILED
  fi
fi

if wants queue; then
  if run queue bash "$BENCH_DIR/run_queue.sh" --rounds "$ROUNDS" --duration "$DURATION" --tidegate "$TIDEGATE"; then
    t="$(awk -F'|' '/^\| tidegate queue page/ {gsub(/ /, "", $3); gsub(/ /, "", $4); print $3 " req/s, " $4 " µs CPU"}' "$OUT/queue.md")"
    n="$(awk -F'|' '/^\| nginx return 200/ {gsub(/ /, "", $3); gsub(/ /, "", $4); print "nginx " $3 " req/s, " $4 " µs CPU"}' "$OUT/queue.md")"
    r="$(awk '/^ratio tidegate \/ nginx:/ {sub(/x$/, "", $5); print $5}' "$OUT/queue.md")"
    row "queue page, cookie-less visitors, req/s" "$t" "$n" "${r}x" ">= 1.0x" "$(met "$r" ">=" 1.0)"
    c="$(awk '/^CPU per request tidegate \/ nginx:/ {sub(/x$/, "", $7); print $7}' "$OUT/queue.md")"
    row "queue page, CPU per request (context: req/s on a loaded machine follows the scheduler)" - - "${c}x" "-" "-"
  else
    row "queue page, req/s" FAILED - - ">= 1.0x" FAILED
  fi
fi

if wants banner; then
  if run banner bash "$BENCH_DIR/run_banner.sh" --rounds "$ROUNDS" --duration "$DURATION" --tidegate "$TIDEGATE" --no-stream; then
    for enc in identity gzip; do
      limit=1.5
      [[ "$enc" == gzip ]] && limit=1.2
      t="$(awk -F'|' -v e="$enc" '$2 ~ " "e" " && $3 ~ /tidegate/ {gsub(/ /, "", $4); gsub(/ /, "", $6); print $4 " req/s, " $6 " µs CPU"}' "$OUT/banner.md")"
      n="$(awk -F'|' -v e="$enc" '$2 ~ " "e" " && $3 ~ /nginx/ {gsub(/ /, "", $4); gsub(/ /, "", $6); print "nginx sub_filter " $4 " req/s, " $6 " µs CPU"}' "$OUT/banner.md")"
      r="$(awk -F'|' -v e="$enc" '$2 ~ " "e" " && $3 ~ /[0-9]x *$/ {gsub(/[ x]/, "", $3); print $3}' "$OUT/banner.md")"
      row "banner, 24 KB page, $enc, req/s" "$t" "$n" "${r}x" ">= ${limit}x" "$(met "$r" ">=" "$limit")"
      # tidegate / nginx CPU per request, alone and with each one's origin (behind
      # tidegate the origin gzips; behind nginx it serves identity).
      c="$(awk -F'|' -v e="$enc" '$2 ~ " "e" " && $3 ~ /[0-9]x *$/ {gsub(/[ x]/, "", $4); gsub(/[ x]/, "", $5); printf "%.2fx (with the origin: %.2fx)", 1 / $4, 1 / $5}' "$OUT/banner.md")"
      row "banner, 24 KB page, $enc, CPU per request (context)" - - "$c" "-" "-"
    done
  else
    row "banner, 24 KB page" FAILED - - ">= 1.5x / 1.2x" FAILED
  fi
fi

if wants idle; then
  if run idle bash "$BENCH_DIR/idle_connections.sh" --connections "$IDLE_CONNECTIONS" --setup-time 60; then
    per() { awk -F'|' -v s="$1" '$2 ~ "^ "s" " {gsub(/ /, "", $6); sub(/kB$/, "", $6); print $6}' "$OUT/idle.md"; }
    t="$(per tidegate)"
    row "idle keep-alive connection ($IDLE_CONNECTIONS)" "$t kB" "nginx $(per nginx) kB, HAProxy $(per haproxy) kB" "-" "<= 1.0 kB" "$(met "$t" "<=" 1.0)"
  else
    row "idle keep-alive connection (10,000)" FAILED - - "<= 1.0 kB" FAILED
  fi
fi

if wants admitted; then
  if run admitted bash "$BENCH_DIR/run_room_admitted.sh" --rounds "$ROUNDS" --duration "$DURATION" --tidegate "$TIDEGATE" --backend local; then
    line="$(awk -F'|' '$2 ~ /^ local / {print}' "$OUT/admitted.md")"
    p="$(echo "$line" | awk -F'|' '{gsub(/ /, "", $3); print $3}')"
    t="$(echo "$line" | awk -F'|' '{gsub(/ /, "", $4); print $4}')"
    r="$(echo "$line" | awk -F'|' '{gsub(/[ x]/, "", $5); print $5}')"
    row "admitted traffic through a room (local), req/s" "$t req/s" "pass-through $p req/s" "${r}x" ">= 0.97x" "$(met "$r" ">=" 0.97)"
  else
    row "admitted traffic through a room" FAILED - - ">= 0.97x" FAILED
  fi
fi

echo "## Issue 15 targets — $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit)"
echo
echo "- \`benches/run_targets.sh --rounds $ROUNDS --duration $DURATION\`; binary $TIDEGATE; full outputs in $OUT"
echo "- $(machine_info | paste -sd ';' | sed 's/;/; /g')"
echo "- $(tool_versions | paste -sd ';' | sed 's/;/; /g')"
echo "- 1-minute load average when each script started: $(printf '%s, ' "${LOADS[@]}" | sed 's/, $//')"
echo
echo "| target | tidegate | peer (same run) | ratio | target | met |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
exit "$FAILED"
