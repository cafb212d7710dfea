#!/usr/bin/env bash
# Where tidegate spends its CPU under wrk load: a flat perf profile.
#
# Starts the nginx origin (1 KiB or 24 KiB page) and tidegate (one worker), runs
# wrk -t1 -c64 against tidegate, and records tidegate alone with
# `perf record -e cpu-clock -p PID` (a software event: works in VMs without PMU
# access). Prints the top symbols by self time and the split by shared object.
# When perf cannot record, falls back to valgrind --tool=callgrind on a short,
# slower run. Every process is stopped by the EXIT trap. See benches/README.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: $0 [options]
  --duration S      seconds of load while recording (default 8)
  --page NAME       small or large (default small)
  --top N           symbols to print (default 30)
  --tidegate PATH   tidegate binary (default: build-bench/tidegate, build/tidegate, …)
  --call-graph      also record DWARF call graphs and print the call chains of
                    the symbols above 3 % (bigger perf.data; use a short --duration)
  --callgrind       use valgrind --tool=callgrind instead of perf
EOF
}

DURATION=8
PAGE=small
TOP=30
TIDEGATE=""
USE_CALLGRIND=0
CALL_GRAPH=0
while (($#)); do
  case "$1" in
    --duration) DURATION="${2%s}"; shift 2 ;;
    --page) PAGE="$2"; shift 2 ;;
    --top) TOP="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --callgrind) USE_CALLGRIND=1; shift ;;
    --call-graph) CALL_GRAPH=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive number of seconds"
[[ "$PAGE" =~ ^(small|large)$ ]] || die "--page must be small or large"
[[ "$TOP" =~ ^[1-9][0-9]*$ ]] || die "--top must be a positive integer"
if [[ -z "$TIDEGATE" ]]; then
  TIDEGATE="$(find_tidegate)" || die "no tidegate binary found; build it or pass --tidegate PATH"
fi
[[ -x "$TIDEGATE" ]] || die "not executable: $TIDEGATE"
for tool in nginx wrk curl python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
if ((!USE_CALLGRIND)) && ! command -v perf >/dev/null; then
  log "perf is not installed (apt-get install linux-perf); using callgrind"
  USE_CALLGRIND=1
fi
if ((USE_CALLGRIND)); then
  command -v valgrind >/dev/null || die "neither perf nor valgrind is usable"
fi

bench_init profile
start_watchdog $((120 + 4 * DURATION))
start_origin

PORT="$(free_port)"
ADMIN_PORT="$(free_port)"
# The shipped conf.d (addresses changed, one worker); TIDEGATE_CONFIG=tuned
# profiles the hand-tuned file instead (benches/lib.sh tidegate_config_for).
CONF="$(tidegate_config_for "$WORK/tidegate" "$PORT" "$ORIGIN_PORT" "$ADMIN_PORT" 10000)" ||
  die "cannot write the tidegate configuration"
URL="http://127.0.0.1:$PORT/$PAGE.html"

if ((USE_CALLGRIND)); then
  start_bg tidegate valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
    "$TIDEGATE" -c "$CONF"
  TG_PID="$LAST_PID"
  wait_http "$URL" 60 "$TG_PID" || die "tidegate under valgrind did not start: $(tail "$WORK/tidegate.log")"
  timeout $((DURATION + 20)) wrk -t1 -c16 -d"$DURATION"s "$URL" >"$WORK/wrk.txt" 2>&1 || true
  stop_bg "$TG_PID" 60 # callgrind writes its output at exit
  echo "## callgrind profile of tidegate ($PAGE page, wrk -t1 -c16 -d${DURATION}s under valgrind)"
  echo
  grep -E 'Requests/sec|Non-2xx|Socket errors' "$WORK/wrk.txt" | sed 's/^/    /'
  echo
  echo '```'
  callgrind_annotate --auto=no "$WORK/callgrind.out" 2>/dev/null | awk -v max=$((TOP + 20)) 'n++ < max' || true
  echo '```'
  exit 0
fi

start_tidegate tidegate "$TIDEGATE" "$CONF"
TG_PID="$LAST_PID"
wait_http "$URL" 15 "$TG_PID" || die "tidegate did not start: $(tail "$WORK/tidegate.log")"
wrk -t1 -c64 -d1s "$URL" >/dev/null 2>&1 || true # warm-up: fill the upstream pool

PERF_ARGS=(-e cpu-clock -F 2000)
((CALL_GRAPH)) && PERF_ARGS=(-e cpu-clock -F 1000 --call-graph "dwarf,16384")
start_bg perf perf record "${PERF_ARGS[@]}" -o "$WORK/perf.data" -p "$TG_PID"
PERF_PID="$LAST_PID"
sleep 0.5 # perf attaches asynchronously
timeout $((DURATION + 20)) wrk -t1 -c64 -d"$DURATION"s --latency "$URL" >"$WORK/wrk.txt" 2>&1 || true
kill -INT "$PERF_PID" 2>/dev/null || true # perf writes its data on SIGINT
for ((i = 0; i < 100; i++)); do
  kill -0 "$PERF_PID" 2>/dev/null || break
  sleep 0.1
done
stop_bg "$PERF_PID"
[[ -s "$WORK/perf.data" ]] || die "perf recorded nothing: $(cat "$WORK/perf.log")"

echo "## perf profile of tidegate ($PAGE page, wrk -t1 -c64 -d${DURATION}s, perf record -e cpu-clock -p PID)"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit), binary $TIDEGATE"
grep -E 'Requests/sec|Non-2xx|Socket errors' "$WORK/wrk.txt" | sed 's/^ */- wrk: /'
echo
echo "### By shared object (self time)"
echo
echo '```'
perf report -i "$WORK/perf.data" --stdio --no-children --sort dso 2>/dev/null |
  awk '!/^#/ && NF && n++ < 12' || true
echo '```'
echo
echo "### Top $TOP symbols (self time)"
echo
echo '```'
perf report -i "$WORK/perf.data" --stdio --no-children --sort dso,symbol 2>/dev/null |
  awk -v top="$TOP" '!/^#/ && NF && n++ < top { sub(/[ \t]+-[ \t]+-[ \t]*$/, ""); print }' || true
echo '```'
if ((CALL_GRAPH)); then
  echo
  echo "### Call chains of the symbols above 3 % (caller-based, outermost first)"
  echo
  echo '```'
  perf report -i "$WORK/perf.data" --stdio --no-children -G --percent-limit 3 2>/dev/null |
    awk '!/^#/ && NF' || true
  echo '```'
fi
