#!/usr/bin/env bash
# Maintenance gate overhead: tidegate as a plain pass-through against tidegate
# with 200 features / 1,000 path patterns, in the same run.
#
# Three tidegate instances (one worker each) in front of one nginx origin:
#   plain     no [features]
#   features  200 features x 5 path patterns, none under maintenance
#             (the gate's fast path: no filter is even created)
#   one_on    the same, with one feature under maintenance (a configured
#             window) whose patterns do not match the bench path: every
#             request is normalised and runs the full RE2::Set match
# wrk (-t1 -cC --latency) on the 1 KiB page, interleaved rounds with a
# rotating order; medians of req/s, p50, p99 and server CPU per request, and
# the ratios to `plain` (target: <= 3 % overhead). Every process is started
# here on probed free ports and stopped by the EXIT trap.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: $0 [options]
  --rounds N         interleaved rounds (default 3)
  --duration S       seconds per wrk run (default 4)
  --warmup S         seconds of unrecorded warm-up per target (default 1, 0 = none)
  --connections C    wrk connections (default 64)
  --tidegate PATH    tidegate binary (default: build-bench/tidegate, build/tidegate, …)
  --pin              wrk on CPU 0, origin and tidegate on CPU 1
  --max-time S       hard time limit for the whole script (default: computed)
EOF
}

ROUNDS=3
DURATION=4
WARMUP=1
CONNECTIONS=64
TIDEGATE=""
PIN=0
MAX_TIME=""
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="${2%s}"; shift 2 ;;
    --warmup) WARMUP="${2%s}"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --pin) PIN=1; shift ;;
    --max-time) MAX_TIME="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive number of seconds"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "--warmup must be a number of seconds"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "--connections must be a positive integer"
for tool in nginx wrk curl python3 awk; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
if [[ -z "$TIDEGATE" ]]; then
  TIDEGATE="$(find_tidegate)" || die "no tidegate binary found; build it or pass --tidegate PATH"
fi
[[ -x "$TIDEGATE" ]] || die "not executable: $TIDEGATE"

WRK_PREFIX=()
PIN_SERVER=()
if ((PIN)); then
  (($(nproc) >= 2)) || die "--pin needs at least 2 CPUs"
  WRK_PREFIX=(taskset -c 0)
  PIN_SERVER=(taskset -c 1)
fi

TARGETS=(plain features one_on)
n=${#TARGETS[@]}
[[ -n "$MAX_TIME" ]] || MAX_TIME=$((60 + ROUNDS * n * (DURATION + 5) + n * (WARMUP + 5)))

bench_init maintenance
start_watchdog "$MAX_TIME"
log "work dir $WORK; $((ROUNDS * n)) runs of ${DURATION}s; time limit ${MAX_TIME}s"

write_pages "$WORK/www"
start_origin
log "origin nginx on 127.0.0.1:$ORIGIN_PORT"

# 200 features x 5 patterns, shaped like real shop paths; none matches /small.html.
write_features() {
  local file="$1" with_one_on="$2" f
  {
    for ((f = 0; f < 200; f++)); do
      echo "[features.feature_$f]"
      echo "match = [{ path = \"^/shop/f$f/checkout\" }, { path = \"^/api/v1/f$f/(orders|payments)\" }," \
        "{ path = \"^/f$f/shipping/[a-z]+\$\" }, { path = \"/f$f/search\" }, { path = \"^/gift-$f(/|\$)\" }]"
      if ((with_one_on && f == 0)); then
        echo "maintenance = { message = \"bench\" }"
      fi
    done
    echo
    echo "[maintenance]"
    echo "api_prefixes = [\"/api/\"]"
  } >>"$file"
}

declare -A PORT=() PID=() HOLDER=()
for t in "${TARGETS[@]}"; do
  PORT[$t]="$(free_port)"
  conf="$WORK/$t.toml"
  write_tidegate "$conf" "${PORT[$t]}" "$ORIGIN_PORT" "$(free_port)" 4096
  case "$t" in
    features) write_features "$conf" 0 ;;
    one_on) write_features "$conf" 1 ;;
  esac
  "$TIDEGATE" -c "$conf" --check >/dev/null || die "$t: invalid generated config $conf"
  start_tidegate "$t" "$TIDEGATE" "$conf"
  PID[$t]="$LAST_PID"
  HOLDER[$t]="$LAST_PID"
  wait_http "http://127.0.0.1:${PORT[$t]}/tiny.html" 15 "$LAST_PID" ||
    die "$t did not start: $(tail -n 20 "$WORK/$t.log")"
  log "$t on 127.0.0.1:${PORT[$t]} (pid ${PID[$t]})"
done

# Pre-flight: the bench page passes everywhere; the feature under maintenance
# really answers 503 on one_on (so the gate is active there).
for t in "${TARGETS[@]}"; do
  code="$(curl -s -o "$WORK/check.body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:${PORT[$t]}/small.html" || true)"
  [[ "$code" == 200 ]] || die "$t answered $code for /small.html"
  cmp -s "$WORK/check.body" "$WORK/www/small.html" || die "$t returned a different /small.html"
done
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${PORT[one_on]}/Shop/F0/checkout" || true)"
[[ "$code" == 503 ]] || die "one_on: the feature under maintenance answered $code, not 503"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${PORT[features]}/shop/f0/checkout" || true)"
[[ "$code" != 503 ]] || die "features: a feature answered 503 without maintenance"
log "pre-flight ok"

parse_wrk() {
  awk '
    function us(v) {
      if (v ~ /us$/) return v + 0;
      if (v ~ /ms$/) return v * 1000;
      if (v ~ /s$/) return v * 1e6;
      return v * 1e6;
    }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    /Socket errors:/ { gsub(/,/, ""); serr = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non = $NF }
    END { printf "%s,%s,%s,%d,%d\n", rps, p50, p99, serr, non }
  ' "$1"
}

wrk_run() {
  timeout --kill-after=5 $(($2 + 20)) ${WRK_PREFIX[@]+"${WRK_PREFIX[@]}"} \
    wrk -t1 -c"$CONNECTIONS" -d"$2"s --latency "http://127.0.0.1:${PORT[$1]}/small.html" >"$3" 2>&1
}

if ((WARMUP > 0)); then
  for t in "${TARGETS[@]}"; do
    wrk_run "$t" "$WARMUP" "$WORK/warmup.txt" || die "warm-up of $t failed"
  done
fi

RAW="$WORK/raw.csv"
echo "round,target,rps,p50_us,p99_us,cpu_us_per_req,ok" >"$RAW"
CLK_TCK="$(getconf CLK_TCK)"
failed=0
for ((r = 1; r <= ROUNDS; r++)); do
  for ((i = 0; i < n; i++)); do
    t="${TARGETS[$(((i + r - 1) % n))]}"
    out="$WORK/wrk-r$r-$t.txt"
    ticks0="$(cpu_ticks "${HOLDER[$t]}" 2>/dev/null || echo 0)"
    wrk_ok=1
    wrk_run "$t" "$DURATION" "$out" || wrk_ok=0
    ticks1="$(cpu_ticks "${HOLDER[$t]}" 2>/dev/null || echo 0)"
    IFS=, read -r rps p50 p99 serr non <<<"$(parse_wrk "$out")"
    requests="$(awk '/requests in/ {print $1}' "$out")"
    cpu_us="$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v n="${requests:-0}" \
      'BEGIN { if (n > 0) printf "%.2f", t * 1e6 / hz / n }')"
    ok=1
    if ((!wrk_ok)) || [[ -z "$rps" ]] || ((serr > 0 || non > 0)) || ! kill -0 "${PID[$t]}" 2>/dev/null; then
      ok=0
      failed=1
      log "round $r $t: FAILED"
      sed 's/^/    /' "$out" >&2
    else
      log "round $r $t: $rps req/s, p50 ${p50}us, p99 ${p99}us, ${cpu_us}us CPU/request"
    fi
    echo "$r,$t,$rps,$p50,$p99,$cpu_us,$ok" >>"$RAW"
  done
done

echo "## Maintenance gate overhead (200 features, 1,000 path patterns)"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit)"
echo "- $(machine_info | paste -sd ';' | sed 's/;/; /g')"
echo "- wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency on the 1 KiB page; $ROUNDS interleaved rounds;" \
  "pinning: $( ((PIN)) && echo 'wrk on CPU 0, servers on CPU 1' || echo none)"
echo
python3 - "$RAW" <<'EOF'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["ok"] == "1"]
def med(t, k):
    v = [float(r[k]) for r in rows if r["target"] == t and r[k]]
    return statistics.median(v) if v else None
names = {"plain": "pass-through (no features)",
         "features": "200 features, none under maintenance",
         "one_on": "200 features, one under maintenance (not this path)"}
base = {k: med("plain", k) for k in ("rps", "p50_us", "p99_us", "cpu_us_per_req")}
print("| tidegate | req/s | p50 | p99 | CPU/request | req/s vs pass-through | CPU/request vs pass-through |")
print("|---|---|---|---|---|---|---|")
for t in ("plain", "features", "one_on"):
    rps, p50, p99, cpu = (med(t, k) for k in ("rps", "p50_us", "p99_us", "cpu_us_per_req"))
    if rps is None:
        print(f"| {names[t]} | failed | | | | | |")
        continue
    r_ratio = f"{rps / base['rps']:.3f}" if base["rps"] else "-"
    c_ratio = f"{cpu / base['cpu_us_per_req']:.3f}" if cpu and base["cpu_us_per_req"] else "-"
    cpu_s = f"{cpu:.2f} µs" if cpu is not None else "-"
    print(f"| {names[t]} | {rps:,.0f} | {p50/1000:.3f} ms | {p99/1000:.3f} ms | {cpu_s} | {r_ratio} | {c_ratio} |")
print()
print("Target: overhead <= 3 % (req/s ratio >= 0.97, CPU/request ratio <= 1.03).")
EOF
exit "$failed"
