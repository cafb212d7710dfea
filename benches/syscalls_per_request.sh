#!/usr/bin/env bash
# System calls per proxied request: tidegate, nginx and HAProxy side by side.
#
# A proxy on a small page spends most of its time in the kernel, so the number
# of system calls per request is the first thing to compare. For each proxy
# (one worker/thread, same nginx origin), wrk -t1 -c64 loads it while
# `perf stat -e raw_syscalls:sys_enter -e syscalls:sys_enter_<name>,… -p PID`
# counts the calls of the process that holds the connections (for nginx: its
# worker). Prints calls per request, total and by call (the named calls below;
# the rest is shown as "other"). The wildcard `syscalls:sys_enter_*` is not
# used: attaching its ~350 tracepoints took longer than the load run, and the
# table then read 0.00. Needs perf with tracepoint access.
# Every process is stopped by the EXIT trap. See benches/README.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: $0 [options]
  --duration S      seconds of load per proxy and page (default 3)
  --pages LIST      subset of small,large (default small,large)
  --targets LIST    subset of tidegate,nginx,haproxy (default all)
  --tidegate PATH   tidegate binary (default: build-bench/tidegate, build/tidegate, …)
EOF
}

DURATION=3
PAGES="small,large"
TARGETS="tidegate,nginx,haproxy"
TIDEGATE=""
while (($#)); do
  case "$1" in
    --duration) DURATION="${2%s}"; shift 2 ;;
    --pages) PAGES="$2"; shift 2 ;;
    --targets) TARGETS="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive number of seconds"
IFS=, read -r -a PAGE_LIST <<<"$PAGES"
IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for p in "${PAGE_LIST[@]}"; do [[ "$p" =~ ^(small|large)$ ]] || die "unknown page: $p"; done
for t in "${TARGET_LIST[@]}"; do [[ "$t" =~ ^(tidegate|nginx|haproxy)$ ]] || die "unknown target: $t"; done
for tool in nginx haproxy wrk curl python3 perf; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
if [[ ",$TARGETS," == *,tidegate,* ]]; then
  if [[ -z "$TIDEGATE" ]]; then
    TIDEGATE="$(find_tidegate)" || die "no tidegate binary found; build it or pass --tidegate PATH"
  fi
  [[ -x "$TIDEGATE" ]] || die "not executable: $TIDEGATE"
fi

bench_init syscalls
start_watchdog $((60 + ${#TARGET_LIST[@]} * ${#PAGE_LIST[@]} * (DURATION + 30)))
start_origin

# The calls a proxy makes per request, and the ones worth seeing when they appear.
SYSCALLS=(read write readv writev recvfrom sendto recvmsg sendmsg sendfile64 splice
  epoll_wait epoll_pwait epoll_ctl accept accept4 close shutdown connect socket
  setsockopt getsockopt getsockname getpeername ioctl fcntl clock_gettime
  gettimeofday futex mmap munmap brk madvise mprotect timerfd_settime openat)
EVENTS="raw_syscalls:sys_enter"
for c in "${SYSCALLS[@]}"; do EVENTS+=",syscalls:sys_enter_$c"; done

ROWS=()
for t in "${TARGET_LIST[@]}"; do
  start_proxy "$t" 4096
  pid="$LAST_PID"
  holder="$(holder_pid "$t" "$pid")"
  for p in "${PAGE_LIST[@]}"; do
    url="http://127.0.0.1:$PROXY_PORT/$p.html"
    wrk -t1 -c64 -d1s "$url" >/dev/null 2>&1 || true # warm-up: fill the upstream pool
    start_bg "perf-$t-$p" perf stat -x, -o "$WORK/stat-$t-$p.csv" -e "$EVENTS" -p "$holder"
    perf_pid="$LAST_PID"
    sleep 2 # perf attaches asynchronously
    timeout $((DURATION + 20)) wrk -t1 -c64 -d"$DURATION"s "$url" >"$WORK/wrk-$t-$p.txt" 2>&1 || true
    kill -INT "$perf_pid" 2>/dev/null || true # perf stat prints its counts on SIGINT
    for ((i = 0; i < 100; i++)); do
      kill -0 "$perf_pid" 2>/dev/null || break
      sleep 0.1
    done
    stop_bg "$perf_pid"
    requests="$(awk '/requests in/ {print $1}' "$WORK/wrk-$t-$p.txt")"
    [[ -n "$requests" && "$requests" -gt 0 ]] || die "wrk against $t gave no result: $(cat "$WORK/wrk-$t-$p.txt")"
    grep -q 'Non-2xx' "$WORK/wrk-$t-$p.txt" && log "warning: $t answered non-2xx/3xx on $p"
    row="$(awk -F, -v n="$requests" '
      $3 == "raw_syscalls:sys_enter" && $1 ~ /^[0-9]+$/ { total = $1 }
      $3 ~ /^syscalls:sys_enter_/ && $1 ~ /^[0-9]+$/ && $1 > 0 {
        name = $3; sub(/^syscalls:sys_enter_/, "", name); count[name] = $1; named += $1
      }
      END {
        if (total > named) count["other"] = total - named
        top = ""
        for (k = 0; k < 8; k++) {
          best = ""; for (c in count) if (best == "" || count[c] > count[best]) best = c
          if (best == "" || count[best] / n < 0.05) break
          top = top sprintf("%s%s %.2f", top == "" ? "" : ", ", best, count[best] / n)
          delete count[best]
        }
        printf "%.2f | %s", total / n, top
      }' "$WORK/stat-$t-$p.csv")"
    ROWS+=("| $p | $t | $requests | $row |")
    log "$t $p: $row"
  done
  stop_bg "$pid"
done

echo "## System calls per request (wrk -t1 -c64 -d${DURATION}s, perf stat -e raw_syscalls:sys_enter,syscalls:sys_enter_<name>)"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit)"
echo "- counted in the process holding the client connections (nginx: its worker); ≥ 0.05 per request shown"
echo
echo "| page | proxy | requests | syscalls / request | largest (per request) |"
echo "|---|---|---:|---:|---|"
printf '%s\n' "${ROWS[@]}"
