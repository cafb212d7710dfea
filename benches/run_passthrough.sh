#!/usr/bin/env bash
# Pass-through throughput and latency: tidegate against nginx and HAProxy.
#
# One nginx origin serves a 1 KiB and a 24 KiB HTML page. In front of it, each
# with ONE worker/thread and upstream keep-alive: tidegate, nginx (reverse proxy)
# and HAProxy. tidegate runs the shipped conf.d (addresses changed, one worker:
# benches/lib.sh write_tidegate_shipped), access log and all; --config tuned
# runs the hand-tuned file instead (no access log, keepalive = 64). wrk (-t1 -c64 --latency) measures the origin directly and each
# proxy, for each page, in interleaved rounds with a rotating order; the medians
# and tidegate's ratios to the peers are printed as Markdown (benches/summarize.py).
# Every process is started here, on 127.0.0.1 and probed free ports, and stopped
# by the EXIT trap. Exit status 1 when any run failed (non-2xx/3xx, socket errors).
#
# See benches/README.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: $0 [options]
  --rounds N         interleaved rounds per page and target (default 3, minimum 1)
  --duration S       seconds per wrk run (default 4)
  --warmup S         seconds of unrecorded wrk warm-up per target and page (default 1, 0 = none)
  --connections C    wrk connections (default 64); wrk always runs with -t1
  --tidegate PATH    tidegate binary (default: build-bench/tidegate, build/tidegate, …)
  --baseline PATH    a second tidegate binary (e.g. main's build), run as target
                     tidegate_base in the same interleaved rounds, same configuration
  --config C         tidegate's configuration: shipped (conf.d, default) or tuned
  --targets LIST     comma-separated subset of origin,tidegate,nginx,haproxy (default all)
  --pages LIST       comma-separated subset of small,large (default both)
  --pin              pin wrk to CPU 0 and the origin and proxies to CPU 1 (default: no pinning)
  --raw FILE         also copy the raw per-run CSV to FILE
  --per-run          also print every run in the summary
  --max-time S       hard time limit for the whole script (default: computed from the above)
EOF
}

ROUNDS=3
DURATION=4
WARMUP=1
CONNECTIONS=64
TIDEGATE=""
TIDEGATE_BASE=""
TARGETS="origin,tidegate,nginx,haproxy"
PAGES="small,large"
PIN=0
RAW_OUT=""
PER_RUN=0
MAX_TIME=""

while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="${2%s}"; shift 2 ;;
    --warmup) WARMUP="${2%s}"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --baseline) TIDEGATE_BASE="$2"; shift 2 ;;
    --config) TIDEGATE_CONFIG="$2"; shift 2 ;;
    --targets) TARGETS="$2"; shift 2 ;;
    --pages) PAGES="$2"; shift 2 ;;
    --pin) PIN=1; shift ;;
    --raw) RAW_OUT="$2"; shift 2 ;;
    --per-run) PER_RUN=1; shift ;;
    --max-time) MAX_TIME="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive number of seconds"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "--warmup must be a number of seconds"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "--connections must be a positive integer"
TIDEGATE_CONFIG="${TIDEGATE_CONFIG:-shipped}"
[[ "$TIDEGATE_CONFIG" =~ ^(shipped|tuned)$ ]] || die "--config must be shipped or tuned"
if [[ -n "${TIDEGATE_BASE:-}" && ",$TARGETS," != *,tidegate_base,* ]]; then
  TARGETS="$TARGETS,tidegate_base"
fi
IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
IFS=, read -r -a PAGE_LIST <<<"$PAGES"
for t in "${TARGET_LIST[@]}"; do
  [[ "$t" =~ ^(origin|tidegate|tidegate_base|nginx|haproxy)$ ]] || die "unknown target: $t"
done
if [[ ",$TARGETS," == *,tidegate_base,* ]]; then
  [[ -x "${TIDEGATE_BASE:-}" ]] || die "tidegate_base needs --baseline PATH to an executable"
fi
for p in "${PAGE_LIST[@]}"; do
  [[ "$p" =~ ^(small|large)$ ]] || die "unknown page: $p"
done
for tool in nginx haproxy wrk curl python3 awk; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
if [[ ",$TARGETS," == *,tidegate,* ]]; then
  if [[ -z "$TIDEGATE" ]]; then
    TIDEGATE="$(find_tidegate)" || die "no tidegate binary found; build it or pass --tidegate PATH"
  fi
  [[ -x "$TIDEGATE" ]] || die "not executable: $TIDEGATE"
fi

WRK_PREFIX=()
PIN_SERVER=()
if ((PIN)); then
  (($(nproc) >= 2)) || die "--pin needs at least 2 CPUs"
  WRK_PREFIX=(taskset -c 0)
  PIN_SERVER=(taskset -c 1)
fi

n_runs=$((ROUNDS * ${#TARGET_LIST[@]} * ${#PAGE_LIST[@]}))
n_warm=$((${#TARGET_LIST[@]} * ${#PAGE_LIST[@]}))
[[ -n "$MAX_TIME" ]] || MAX_TIME=$((60 + n_runs * (DURATION + 5) + n_warm * (WARMUP + 5)))

bench_init passthrough
start_watchdog "$MAX_TIME"
log "work dir $WORK; $n_runs runs of ${DURATION}s; time limit ${MAX_TIME}s"

write_pages "$WORK/www"
declare -A PAGE_PATH=([small]=/small.html [large]=/large.html)
declare -A PORT=()
declare -A PID=()

# --- origin and proxies ---------------------------------------------------------
start_origin
PORT[origin]="$ORIGIN_PORT"
PID[origin]="$ORIGIN_PID"
declare -A HOLDER=([origin]="$(holder_pid origin "$ORIGIN_PID")")
log "origin nginx on 127.0.0.1:${PORT[origin]}"
for t in "${TARGET_LIST[@]}"; do
  [[ "$t" != origin ]] || continue
  start_proxy "$t" 4096
  PORT[$t]="$PROXY_PORT"
  PID[$t]="$LAST_PID"
  HOLDER[$t]="$(holder_pid "$t" "$LAST_PID")"
  log "$t on 127.0.0.1:${PORT[$t]} (pid ${PID[$t]})"
done

# --- pre-flight: every target answers 200 with the exact page bytes -----------
for t in "${TARGET_LIST[@]}"; do
  for p in "${PAGE_LIST[@]}"; do
    code="$(curl -s -o "$WORK/check.body" -w '%{http_code}' --max-time 5 \
      "http://127.0.0.1:${PORT[$t]}${PAGE_PATH[$p]}" || true)"
    [[ "$code" == 200 ]] || die "$t answered $code for ${PAGE_PATH[$p]}"
    cmp -s "$WORK/check.body" "$WORK/www${PAGE_PATH[$p]}" ||
      die "$t returned a body that differs from ${PAGE_PATH[$p]}"
  done
done
log "pre-flight ok: every target returns 200 and the exact page for ${PAGES}"

# --- wrk ----------------------------------------------------------------------
# parse_wrk FILE → "rps,p50_us,p99_us,socket_errors,non2xx" (empty fields if absent)
parse_wrk() {
  awk '
    function us(v) {
      if (v ~ /us$/) return v + 0;
      if (v ~ /ms$/) return v * 1000;
      if (v ~ /m$/) return v * 60e6;
      if (v ~ /h$/) return v * 3600e6;
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
  # $1 target, $2 page, $3 seconds, $4 output file
  local url="http://127.0.0.1:${PORT[$1]}${PAGE_PATH[$2]}"
  timeout --kill-after=5 $(($3 + 20)) ${WRK_PREFIX[@]+"${WRK_PREFIX[@]}"} \
    wrk -t1 -c"$CONNECTIONS" -d"$3"s --latency "$url" >"$4" 2>&1
}

RAW="$WORK/raw.csv"
echo "round,page,target,rps,p50_us,p99_us,socket_errors,non2xx,ok,note,requests,cpu_us_per_req" >"$RAW"
CLK_TCK="$(getconf CLK_TCK)"

if ((WARMUP > 0)); then
  for p in "${PAGE_LIST[@]}"; do
    for t in "${TARGET_LIST[@]}"; do
      wrk_run "$t" "$p" "$WARMUP" "$WORK/warmup.txt" || die "warm-up of $t failed: $(cat "$WORK/warmup.txt")"
    done
  done
  log "warm-up done"
fi

n=${#TARGET_LIST[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  pi=0
  for p in "${PAGE_LIST[@]}"; do
    order=()
    for ((i = 0; i < n; i++)); do
      order+=("${TARGET_LIST[$(((i + r - 1 + pi) % n))]}")
    done
    pi=$((pi + 1))
    for t in "${order[@]}"; do
      out="$WORK/wrk-r$r-$p-$t.txt"
      note=""
      ticks0="$(cpu_ticks "${HOLDER[$t]}" 2>/dev/null || echo 0)"
      if ! wrk_run "$t" "$p" "$DURATION" "$out"; then
        note="wrk exited non-zero"
      fi
      ticks1="$(cpu_ticks "${HOLDER[$t]}" 2>/dev/null || echo 0)"
      IFS=, read -r rps p50 p99 serr non <<<"$(parse_wrk "$out")"
      # CPU time of the server process per request: robust to a loaded machine,
      # where req/s mostly measures the CPU share the scheduler gave the server.
      requests="$(awk '/requests in/ {print $1}' "$out")"
      cpu_us=""
      if [[ -n "$requests" && "$requests" -gt 0 ]]; then
        cpu_us="$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
      fi
      if [[ -z "$rps" || -z "$p50" || -z "$p99" ]]; then
        note="${note:-no wrk result}"
      elif ((non > 0)); then
        note="$non non-2xx/3xx responses"
      elif ((serr > 0)); then
        note="$serr socket errors"
      fi
      if ! kill -0 "${PID[$t]}" 2>/dev/null; then
        note="${note:+$note; }$t process exited"
      fi
      ok=1
      [[ -z "$note" ]] || ok=0
      echo "$r,$p,$t,${rps:-},${p50:-},${p99:-},${serr:-0},${non:-0},$ok,$note,${requests:-},$cpu_us" >>"$RAW"
      if ((ok)); then
        log "round $r $p $t: $rps req/s, p50 ${p50}us, p99 ${p99}us, ${cpu_us}us CPU/request"
      else
        log "round $r $p $t: FAILED ($note)"
        sed 's/^/    /' "$out" >&2
      fi
    done
  done
done

[[ -z "$RAW_OUT" ]] || cp "$RAW" "$RAW_OUT"

echo "## Pass-through benchmark"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit)"
echo "- $(machine_info | paste -sd ';' | sed 's/;/; /g')"
echo "- $(tool_versions | paste -sd ';' | sed 's/;/; /g')"
echo "- wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency; $ROUNDS interleaved rounds; warm-up ${WARMUP}s;" \
  "pinning: $( ((PIN)) && echo 'wrk on CPU 0, servers on CPU 1' || echo none)"
[[ -z "$TIDEGATE" ]] || echo "- tidegate binary: $TIDEGATE; configuration: $TIDEGATE_CONFIG ($([[ "$TIDEGATE_CONFIG" == shipped ]] && echo 'conf.d as shipped, addresses changed, workers = 1' || echo 'benches/lib.sh write_tidegate: no access log, keepalive = 64'))"
echo
summary_args=("$RAW")
((PER_RUN)) && summary_args+=(--per-run)
python3 "$BENCH_DIR/summarize.py" "${summary_args[@]}"
