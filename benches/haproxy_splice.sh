#!/usr/bin/env bash
# A peer's answer to "does splice(2) cut a proxy's CPU per response on
# loopback?": HAProxy (one thread) with and without `option splice-response`
# in front of the same nginx origin, in interleaved rounds, on the 1 KiB,
# 24 KiB and a 256 KiB page. Prints the medians of HAProxy's CPU per request
# (utime + stime from /proc, per wrk request) and req/s, and how many
# splice() calls HAProxy made in a short strace sample per page (whether it spliced).
# Companion of benches/run_splice_relay.sh (the same question on a bare relay).
# Usage: benches/haproxy_splice.sh [--rounds N] [--duration S] [--pages LIST]
# Bounded: a watchdog stops everything after --max-time seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=5
DURATION=3
CONNECTIONS=64
PAGES="small,large,huge"
MAX_TIME=""
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --pages) PAGES="$2"; shift 2 ;;
    --max-time) MAX_TIME="$2"; shift 2 ;;
    *) die "unknown argument: $1 (see the header of $0)" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ && "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "bad --rounds/--duration"
IFS=, read -r -a PAGE_LIST <<<"$PAGES"
MAX_TIME="${MAX_TIME:-$((60 + ROUNDS * ${#PAGE_LIST[@]} * 2 * (DURATION + 2)))}"

bench_init haproxy-splice
start_watchdog "$MAX_TIME"
write_pages "$WORK/www"
head -c 262144 /dev/zero | tr '\0' 'x' >"$WORK/www/huge.html"
start_origin

declare -A PORT PID PAGE_PATH=([small]=/small.html [large]=/large.html [huge]=/huge.html)
for t in haproxy haproxy_splice; do
  PORT[$t]="$(free_port)"
  write_haproxy "$WORK/$t.cfg" "${PORT[$t]}" "$ORIGIN_PORT" 1024
  if [[ "$t" == haproxy_splice ]]; then
    sed -i 's/^defaults$/defaults\n  option splice-response/' "$WORK/$t.cfg"
  fi
  start_haproxy "$t" "$WORK/$t.cfg"
  PID[$t]="$LAST_PID"
  wait_http "http://127.0.0.1:${PORT[$t]}/tiny.html" 15 "$LAST_PID" || die "$t did not start: $(cat "$WORK/$t.log")"
done
log "$(haproxy -v 2>&1 | head -1); kernel $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"

CLK_TCK="$(getconf CLK_TCK)"
RAW="$WORK/raw.csv"
for p in "${PAGE_LIST[@]}"; do
  for t in haproxy haproxy_splice; do  # warm-up, unrecorded
    wrk -t1 -c"$CONNECTIONS" -d1s "http://127.0.0.1:${PORT[$t]}${PAGE_PATH[$p]}" >/dev/null 2>&1
  done
done
for ((r = 1; r <= ROUNDS; r++)); do
  for p in "${PAGE_LIST[@]}"; do
    order=(haproxy haproxy_splice)
    ((r % 2)) || order=(haproxy_splice haproxy)
    for t in "${order[@]}"; do
      out="$WORK/wrk-$r-$p-$t.txt"
      t0="$(cpu_ticks "${PID[$t]}")"
      timeout --kill-after=5 $((DURATION + 20)) wrk -t1 -c"$CONNECTIONS" -d"$DURATION"s \
        "http://127.0.0.1:${PORT[$t]}${PAGE_PATH[$p]}" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
      t1="$(cpu_ticks "${PID[$t]}")"
      grep -q "Non-2xx" "$out" && die "$t answered non-2xx on $p"
      n="$(awk '/requests in/ {print $1}' "$out")"
      rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
      cpu="$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
      echo "$p,$t,$cpu,$rps" >>"$RAW"
      log "round $r $p $t: $rps req/s, $cpu us CPU/request"
    done
  done
done

# Proof that HAProxy spliced (or not): system calls in 2 s of load per page.
for p in "${PAGE_LIST[@]}"; do
  for t in haproxy haproxy_splice; do
    timeout 10 wrk -t1 -c"$CONNECTIONS" -d4s "http://127.0.0.1:${PORT[$t]}${PAGE_PATH[$p]}" >/dev/null 2>&1 &
    wrk_pid=$!
    sleep 1
    calls="$(timeout 10 strace -c -f -e trace=splice,recvfrom,sendto,readv,writev -p "${PID[$t]}" 2>&1 >/dev/null &
      sp=$!; sleep 2; kill -INT $sp 2>/dev/null; wait $sp 2>/dev/null)" || true
    wait "$wrk_pid" || true
    echo "$p page, $t, system calls in a 2 s sample under strace:" \
      "$(echo "$calls" | awk '$NF ~ /^(splice|recvfrom|sendto|readv|writev)$/ {printf "%s %s  ", $NF, $4}')"
  done
done
echo
echo "| page | haproxy CPU us/req | splice-response CPU us/req | ratio | haproxy req/s | splice-response req/s |"
echo "|---|---|---|---|---|---|"
for p in "${PAGE_LIST[@]}"; do
  python3 - "$RAW" "$p" <<'PY'
import csv, statistics, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if r[0] == sys.argv[2]]
med = lambda t, i: statistics.median(float(r[i]) for r in rows if r[1] == t)
a, b = med('haproxy', 2), med('haproxy_splice', 2)
print(f"| {sys.argv[2]} | {a:.2f} | {b:.2f} | {b / a:.2f}x | {med('haproxy', 3):,.0f} | {med('haproxy_splice', 3):,.0f} |")
PY
done
