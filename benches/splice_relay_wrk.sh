#!/usr/bin/env bash
# The copy-vs-splice question under the pass-through benchmark's own load:
# wrk (-t1 -c64) -> proxy -> nginx origin on 127.0.0.1, where the proxy is
# splice_relay_bench in serve mode (a relay with no HTTP work beyond finding
# the head and its Content-Length: the kernel's floor for a proxy) copying
# (relay_copy, 32 KiB reads as tidegate) or splicing (relay_splice: a 4 KiB
# first read, the rest of the body spliced), beside HAProxy and, with
# --tidegate PATH, tidegate (shipped conf.d). Interleaved rounds, medians of
# CPU per request (utime + stime of the process from /proc) and req/s, on
# the 1 KiB, 24 KiB and a 256 KiB page. Only GET with Content-Length
# responses (static files): the relay is a measuring device, not a proxy.
# Usage: benches/splice_relay_wrk.sh [--rounds N] [--duration S]
#          [--pages small,large,huge] [--tidegate PATH] [--max-time S]
# Bounded: every wrk run has a timeout; a watchdog stops everything after
# --max-time seconds; the EXIT trap stops every process it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=5
DURATION=3
CONNECTIONS=64
PAGES="small,large,huge"
TIDEGATE=""
MAX_TIME=""
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --pages) PAGES="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --max-time) MAX_TIME="$2"; shift 2 ;;
    *) die "unknown argument: $1 (see the header of $0)" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ && "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "bad --rounds/--duration"
[[ -z "$TIDEGATE" || -x "$TIDEGATE" ]] || die "--tidegate $TIDEGATE is not an executable"
IFS=, read -r -a PAGE_LIST <<<"$PAGES"
TARGETS=(relay_copy relay_splice haproxy)
[[ -z "$TIDEGATE" ]] || TARGETS+=(tidegate)
MAX_TIME="${MAX_TIME:-$((90 + ROUNDS * ${#PAGE_LIST[@]} * ${#TARGETS[@]} * (DURATION + 2)))}"

bench_init splice-relay-wrk
start_watchdog "$MAX_TIME"
g++ -std=c++20 -O2 -DNDEBUG -I"$REPO_DIR" "$BENCH_DIR/splice_relay/splice_relay_bench.cc" \
  "$BENCH_DIR/splice_relay/relay.cc" -o "$WORK/splice_relay_bench" -lpthread
write_pages "$WORK/www"
head -c 262144 /dev/zero | tr '\0' 'x' >"$WORK/www/huge.html"
start_origin

declare -A PORT PID PAGE_PATH=([small]=/small.html [large]=/large.html [huge]=/huge.html)
for t in "${TARGETS[@]}"; do
  case "$t" in
    relay_copy | relay_splice)
      PORT[$t]="$(free_port)"
      mode=copy
      [[ "$t" == relay_copy ]] || mode=splice:4096
      start_bg "$t" "$WORK/splice_relay_bench" --serve "${PORT[$t]}" --origin-port "$ORIGIN_PORT" \
        --modes "$mode" --cork
      ;;
    *)
      start_proxy "$t" 1024
      PORT[$t]="$PROXY_PORT"
      ;;
  esac
  PID[$t]="$LAST_PID"
  wait_http "http://127.0.0.1:${PORT[$t]}/tiny.html" 15 "$LAST_PID" || die "$t did not start: $(cat "$WORK/$t.log")"
done
log "kernel $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg); targets ${TARGETS[*]}"

CLK_TCK="$(getconf CLK_TCK)"
RAW="$WORK/raw.csv"
for p in "${PAGE_LIST[@]}"; do
  for t in "${TARGETS[@]}"; do  # warm-up, unrecorded
    timeout 20 wrk -t1 -c"$CONNECTIONS" -d1s "http://127.0.0.1:${PORT[$t]}${PAGE_PATH[$p]}" >/dev/null 2>&1 ||
      die "warm-up of $t on $p failed"
  done
done
n=${#TARGETS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  for p in "${PAGE_LIST[@]}"; do
    for ((i = 0; i < n; i++)); do
      t="${TARGETS[$(((i + r) % n))]}"  # rotating order
      out="$WORK/wrk-$r-$p-$t.txt"
      t0="$(cpu_ticks "${PID[$t]}")"
      timeout --kill-after=5 $((DURATION + 20)) wrk -t1 -c"$CONNECTIONS" -d"$DURATION"s \
        "http://127.0.0.1:${PORT[$t]}${PAGE_PATH[$p]}" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
      t1="$(cpu_ticks "${PID[$t]}")"
      kill -0 "${PID[$t]}" 2>/dev/null || die "$t exited: $(tail -5 "$WORK/$t.log")"
      ! grep -q -E "Non-2xx|Socket errors" "$out" || die "$t: errors on $p: $(cat "$out")"
      requests="$(awk '/requests in/ {print $1}' "$out")"
      rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
      cpu="$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
      echo "$p,$t,$cpu,$rps" >>"$RAW"
      log "round $r $p $t: $rps req/s, $cpu us CPU/request"
    done
  done
done

echo
echo "| page | target | CPU us/request | vs relay_copy | req/s |"
echo "|---|---|---|---|---|"
python3 - "$RAW" "${PAGE_LIST[@]}" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
for page in sys.argv[2:]:
    targets = list(dict.fromkeys(r[1] for r in rows if r[0] == page))
    med = lambda t, i: statistics.median(float(r[i]) for r in rows if r[0] == page and r[1] == t)
    base = med('relay_copy', 2)
    for t in targets:
        print(f"| {page} | {t} | {med(t, 2):.2f} | {med(t, 2) / base:.2f}x | {med(t, 3):,.0f} |")
PY
