#!/usr/bin/env bash
# Would io_uring reach issue 15's pass-through CPU target (<= 0.8x the better
# of nginx and HAProxy)? wrk (-t1 -c64) -> proxy -> nginx origin on 127.0.0.1,
# 1 KiB and 24 KiB pages, where the proxy is nginx, HAProxy, tidegate (shipped
# conf.d, lib.sh write_tidegate_shipped) or uring_relay_bench (benches/
# uring_relay/: a keep-alive relay with no HTTP work beyond finding the head's
# end and Content-Length) on epoll or on io_uring. One worker/thread each.
# Interleaved rounds with a rotating order; medians of CPU per request (utime +
# stime of the serving process, /proc; each also alone: user space and kernel)
# and req/s, ratios to the better peer.
# Then one more wrk run per relay under `perf stat` counts system calls per
# request (io_uring_enter, epoll_wait, all).
#
# Targets (--targets, comma-separated): nginx, haproxy, tidegate, epoll, and
# uring-SETUP-RECV[-pf] with SETUP plain|coop|single|defer (ring set-up flags,
# relay.h), RECV oneshot|multishot, -pf = IORING_RECVSEND_POLL_FIRST on
# upstream recvs (oneshot only).
#
# Usage: benches/run_uring_relay.sh [--rounds N] [--duration S] [--pages small,large]
#          [--targets LIST] [--tidegate PATH] [--pin] [--no-syscalls] [--max-time S]
# Installs liburing-dev (apt-get, as root) when its header is missing. Bounded:
# every wrk run has a timeout, a watchdog stops everything after --max-time
# seconds, and the EXIT trap stops every process the script started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=5
DURATION=4
CONNECTIONS=64
PAGES="small,large"
TARGETS="nginx,haproxy,tidegate,epoll,uring-defer-oneshot"
TIDEGATE=""
PIN=0
SYSCALLS=1
MAX_TIME=""
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --pages) PAGES="$2"; shift 2 ;;
    --targets) TARGETS="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --pin) PIN=1; shift ;;
    --no-syscalls) SYSCALLS=0; shift ;;
    --max-time) MAX_TIME="$2"; shift 2 ;;
    *) die "unknown argument: $1 (see the header of $0)" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ && "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "bad --rounds/--duration"
IFS=, read -r -a PAGE_LIST <<<"$PAGES"
IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for t in "${TARGET_LIST[@]}"; do
  [[ "$t" =~ ^(nginx|haproxy|tidegate|epoll|uring-(plain|coop|single|defer)-(oneshot|multishot)(-pf)?)$ ]] ||
    die "unknown target: $t"
done
if [[ ",$TARGETS," == *,tidegate,* ]]; then
  [[ -n "$TIDEGATE" ]] || TIDEGATE="$(find_tidegate)" || die "no tidegate binary; pass --tidegate PATH"
  [[ -x "$TIDEGATE" ]] || die "--tidegate $TIDEGATE is not an executable"
fi
for tool in nginx haproxy wrk curl python3 g++; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
if ((SYSCALLS)) && ! command -v perf >/dev/null; then
  log "perf is missing: no system-call counts"
  SYSCALLS=0
fi
if [[ ! -f /usr/include/liburing.h ]]; then
  [[ "$(id -u)" == 0 ]] || die "liburing-dev is missing (apt-get install liburing-dev, as root)"
  log "installing liburing-dev"
  timeout 300 apt-get install -y liburing-dev >/dev/null || die "apt-get install liburing-dev failed"
fi
WRK_PREFIX=()
PIN_SERVER=()
if ((PIN)); then
  WRK_PREFIX=(taskset -c 0)
  PIN_SERVER=(taskset -c 1)
fi
n=${#TARGET_LIST[@]}
MAX_TIME="${MAX_TIME:-$((120 + (ROUNDS + 1) * ${#PAGE_LIST[@]} * n * (DURATION + 3)))}"

bench_init uring-relay
start_watchdog "$MAX_TIME"
nice g++ -std=c++20 -O2 -DNDEBUG -I"$REPO_DIR" "$BENCH_DIR"/uring_relay/*.cc \
  -o "$WORK/uring_relay_bench" -luring
write_pages "$WORK/www"
start_origin

declare -A PORT PID HOLDER PAGE_PATH=([small]=/small.html [large]=/large.html)
for t in "${TARGET_LIST[@]}"; do
  case "$t" in
    epoll | uring-*)
      PORT[$t]="$(free_port)"
      args=(--port "${PORT[$t]}" --origin-port "$ORIGIN_PORT")
      if [[ "$t" == epoll ]]; then
        args+=(--mode epoll)
      else
        IFS=- read -r _ setup recv pf <<<"$t"
        args+=(--mode uring --setup "$setup" --recv "$recv")
        [[ -z "$pf" ]] || args+=(--poll-first)
      fi
      start_bg "$t" ${PIN_SERVER[@]+"${PIN_SERVER[@]}"} "$WORK/uring_relay_bench" "${args[@]}"
      wait_http "http://127.0.0.1:${PORT[$t]}/tiny.html" 15 "$LAST_PID" ||
        die "$t did not start: $(cat "$WORK/$t.log")"
      ;;
    *)
      start_proxy "$t" 1024
      PORT[$t]="$PROXY_PORT"
      ;;
  esac
  PID[$t]="$LAST_PID"
  HOLDER[$t]="$(holder_pid "$t" "$LAST_PID")"
done
for t in "${TARGET_LIST[@]}"; do  # every target returns the exact pages
  for p in "${PAGE_LIST[@]}"; do
    curl -s --max-time 5 -o "$WORK/check.body" "http://127.0.0.1:${PORT[$t]}${PAGE_PATH[$p]}" ||
      die "$t does not answer ${PAGE_PATH[$p]}"
    cmp -s "$WORK/check.body" "$WORK/www${PAGE_PATH[$p]}" || die "$t returned another body for $p"
  done
done
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "kernel $(uname -r); load average $LOAD_BEFORE; targets ${TARGET_LIST[*]}"

wrk_run() {  # target page seconds output
  timeout --kill-after=5 $(($3 + 20)) ${WRK_PREFIX[@]+"${WRK_PREFIX[@]}"} \
    wrk -t1 -c"$CONNECTIONS" -d"$3"s "http://127.0.0.1:${PORT[$1]}${PAGE_PATH[$2]}" >"$4" 2>&1
}

CLK_TCK="$(getconf CLK_TCK)"
# user_sys_ticks PID: "utime stime" of PID so far, in clock ticks (lib.sh cpu_ticks, split).
user_sys_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12, $13}'; }
RAW="$WORK/raw.csv"
: >"$RAW"
for p in "${PAGE_LIST[@]}"; do
  for t in "${TARGET_LIST[@]}"; do  # warm-up, unrecorded
    wrk_run "$t" "$p" 1 "$WORK/warmup.txt" || die "warm-up of $t on $p failed"
  done
done
for ((r = 1; r <= ROUNDS; r++)); do
  for p in "${PAGE_LIST[@]}"; do
    for ((i = 0; i < n; i++)); do
      t="${TARGET_LIST[$(((i + r) % n))]}"  # rotating order
      out="$WORK/wrk-$r-$p-$t.txt"
      read -r u0 s0 <<<"$(user_sys_ticks "${HOLDER[$t]}")"
      wrk_run "$t" "$p" "$DURATION" "$out" || die "wrk failed: $(cat "$out")"
      read -r u1 s1 <<<"$(user_sys_ticks "${HOLDER[$t]}")"
      kill -0 "${PID[$t]}" 2>/dev/null || die "$t exited: $(tail -5 "$WORK/$t.log")"
      ! grep -q -E "Non-2xx|Socket errors" "$out" || die "$t: errors on $p: $(cat "$out")"
      requests="$(awk '/requests in/ {print $1}' "$out")"
      rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
      per_request() { awk -v t="$1" -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }'; }
      cpu="$(per_request $((u1 + s1 - u0 - s0)))"
      echo "$p,$t,$cpu,$rps,$(per_request $((u1 - u0))),$(per_request $((s1 - s0)))" >>"$RAW"
      log "round $r $p $t: $rps req/s, $cpu us CPU/request (load $(cut -d' ' -f1 /proc/loadavg))"
    done
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "## uring relay probe"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit); kernel $(uname -r), $(nproc) CPUs"
echo "- $(tool_versions | paste -sd ';' | sed 's/;/; /g'); liburing $(dpkg-query -W -f='${Version}' liburing-dev 2>/dev/null || echo '?')"
echo "- wrk -t1 -c$CONNECTIONS -d${DURATION}s, $ROUNDS interleaved rounds, medians; pinning:" \
  "$( ((PIN)) && echo 'wrk on CPU 0, servers on CPU 1' || echo none); load average before $LOAD_BEFORE, after $LOAD_AFTER"
[[ -z "$TIDEGATE" ]] || echo "- tidegate: $TIDEGATE, shipped conf.d (workers = 1)"
echo
echo "| page | target | CPU µs/request | user | system | vs better peer | req/s | vs better peer |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
python3 - "$RAW" "${PAGE_LIST[@]}" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
for page in sys.argv[2:]:
    targets = list(dict.fromkeys(r[1] for r in rows if r[0] == page))
    med = lambda t, i: statistics.median(float(r[i]) for r in rows if r[0] == page and r[1] == t)
    peers = [t for t in ('nginx', 'haproxy') if t in targets]
    cpu_peer = min((med(t, 2) for t in peers), default=None)
    rps_peer = max((med(t, 3) for t in peers), default=None)
    for t in targets:
        c, q = med(t, 2), med(t, 3)
        cr = f"{c / cpu_peer:.2f}x" if cpu_peer else "-"
        qr = f"{q / rps_peer:.2f}x" if rps_peer else "-"
        u, k = med(t, 4), med(t, 5)
        print(f"| {page} | {t} | {c:.2f} | {u:.2f} | {k:.2f} | {cr} | {q:,.0f} | {qr} |")
PY

if ((SYSCALLS)); then
  echo
  echo "System calls per request (one more ${DURATION}s wrk run each, \`perf stat -p\` on the serving process):"
  echo
  echo "| page | target | all | io_uring_enter | epoll_wait | recv, recvmsg, read(v) | send, sendmsg, write(v) |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  events="raw_syscalls:sys_enter,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_epoll_wait"
  events+=",syscalls:sys_enter_recvfrom,syscalls:sys_enter_recvmsg,syscalls:sys_enter_read,syscalls:sys_enter_readv"
  events+=",syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_write,syscalls:sys_enter_writev"
  for p in "${PAGE_LIST[@]}"; do
    for t in "${TARGET_LIST[@]}"; do
      out="$WORK/sys-$p-$t.txt"
      timeout $((DURATION + 20)) perf stat -x, -e "$events" -p "${HOLDER[$t]}" -o "$WORK/perf-$p-$t.csv" \
        -- sleep $((DURATION + 1)) &
      perf_pid=$!
      sleep 0.5
      wrk_run "$t" "$p" "$DURATION" "$out" || die "wrk failed: $(cat "$out")"
      wait "$perf_pid" || true
      requests="$(awk '/requests in/ {print $1}' "$out")"
      python3 - "$WORK/perf-$p-$t.csv" "$requests" "$p" "$t" <<'PY'
import sys
counts = {}
for line in open(sys.argv[1]):
    f = line.strip().split(",")
    if len(f) > 2 and f[0].replace(".", "").isdigit():
        counts[f[2].split(":")[-1]] = float(f[0])
n = float(sys.argv[2])
g = lambda *k: sum(counts.get(x, 0) for x in k) / n
print(f"| {sys.argv[3]} | {sys.argv[4]} | {g('sys_enter'):.2f} | {g('sys_enter_io_uring_enter'):.2f} | "
      f"{g('sys_enter_epoll_wait'):.2f} | {g('sys_enter_recvfrom', 'sys_enter_recvmsg', 'sys_enter_read', 'sys_enter_readv'):.2f} | "
      f"{g('sys_enter_sendto', 'sys_enter_sendmsg', 'sys_enter_write', 'sys_enter_writev'):.2f} |")
PY
    done
  done
fi
