#!/usr/bin/env bash
# Memory held by idle keep-alive client connections: tidegate, nginx, HAProxy.
#
# An nginx origin serves a tiny page. Each server under test (one worker/thread,
# limits high enough) is started in turn; benches/idle_clients.py opens N client
# connections to it, each sending one complete GET and reading the 200 response,
# then keeping the socket open and silent. VmRSS (/proc/PID/status; for nginx the
# master plus its worker) is read before and once all N are idle; the helper then
# checks how many connections the server still holds open. For nginx the figure
# is the worker's (the process holding the connections); the master's few MB
# are not counted.
# Every process is started here on 127.0.0.1 and probed free ports and stopped by
# the EXIT trap. See benches/README.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: $0 [options]
  --connections N    idle client connections per server (default 10000)
  --tidegate PATH    tidegate binary (default: build-bench/tidegate, build/tidegate, …)
  --targets LIST     comma-separated subset of tidegate,nginx,haproxy (default all)
  --setup-time S     seconds allowed to open the connections, per server (default 90)
  --max-time S       hard time limit for the whole script (default: computed)
EOF
}

COUNT=10000
TIDEGATE=""
TARGETS="tidegate,nginx,haproxy"
SETUP_TIME=90
MAX_TIME=""
while (($#)); do
  case "$1" in
    --connections) COUNT="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --targets) TARGETS="$2"; shift 2 ;;
    --setup-time) SETUP_TIME="${2%s}"; shift 2 ;;
    --max-time) MAX_TIME="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$COUNT" =~ ^[1-9][0-9]*$ ]] || die "--connections must be a positive integer"
[[ "$SETUP_TIME" =~ ^[1-9][0-9]*$ ]] || die "--setup-time must be a positive number of seconds"
IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for t in "${TARGET_LIST[@]}"; do
  [[ "$t" =~ ^(tidegate|nginx|haproxy)$ ]] || die "unknown target: $t"
done
for tool in nginx haproxy curl python3 awk; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
if [[ ",$TARGETS," == *,tidegate,* ]]; then
  if [[ -z "$TIDEGATE" ]]; then
    TIDEGATE="$(find_tidegate)" || die "no tidegate binary found; build it or pass --tidegate PATH"
  fi
  [[ -x "$TIDEGATE" ]] || die "not executable: $TIDEGATE"
fi

# Servers and the helper each need COUNT descriptors plus a margin.
ulimit -n "$(ulimit -Hn)"
NOFILE="$(ulimit -n)"
((NOFILE >= COUNT + 200)) || die "ulimit -n hard limit $NOFILE is too low for $COUNT connections"
NGINX_NOFILE="$NOFILE"
NGINX_CONNECTIONS=$((NOFILE - 100))
HAPROXY_MAXCONN=$((COUNT + 100)) # its config says "no strict-limits" (see lib.sh)

[[ -n "$MAX_TIME" ]] || MAX_TIME=$((60 + ${#TARGET_LIST[@]} * (SETUP_TIME + 40)))
bench_init idle
start_watchdog "$MAX_TIME"
log "work dir $WORK; $COUNT connections per server; ulimit -n $NOFILE; time limit ${MAX_TIME}s"

start_origin

mb() { awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'; }

RESULTS=()
FAILED=0
for t in "${TARGET_LIST[@]}"; do
  maxconn=$((COUNT + 1000))
  [[ "$t" != haproxy ]] || maxconn="$HAPROXY_MAXCONN"
  start_proxy "$t" "$maxconn"
  port="$PROXY_PORT"
  pid="$LAST_PID"
  sleep 1 # let the freshly started server settle before the first reading
  holder="$(holder_pid "$t" "$pid")"
  before="$(vmrss_kb "$holder")"

  coproc HELPER {
    exec python3 "$BENCH_DIR/idle_clients.py" --port "$port" --path /tiny.html \
      --count "$COUNT" --timeout "$SETUP_TIME" 2>"$WORK/helper-$t.log"
  }
  # shellcheck disable=SC2153 # HELPER_PID is set by coproc
  helper_pid="$HELPER_PID"
  STARTED_PIDS+=("$helper_pid")
  helper_in="${HELPER[1]}"
  helper_out="${HELPER[0]}"
  ready=""
  read -r -t $((SETUP_TIME + 30)) -u "$helper_out" ready || true
  [[ "$ready" == READY* ]] || die "idle helper for $t did not report: $(cat "$WORK/helper-$t.log")"
  opened="$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$ready")"
  failed="$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$ready")"
  secs="$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$ready")"
  sleep 2 # idle period: nothing is sent; the reading below is the steady idle state
  after="$(vmrss_kb "$holder")"
  echo check >&"$helper_in"
  alive=""
  read -r -t 30 -u "$helper_out" alive || true
  alive="${alive#ALIVE }"
  exec {helper_in}>&-
  wait "$helper_pid" 2>/dev/null || true
  stop_bg "$helper_pid"
  stop_bg "$pid"

  per_conn="-"
  ((opened > 0)) && per_conn="$(awk -v d=$((after - before)) -v n="$opened" 'BEGIN { printf "%.2f kB", d / n }')"
  status=ok
  if ((failed > 0)) || [[ "$alive" != "$opened" ]]; then
    status="FAILED ($failed failed to open, ${alive:-?} of $opened still open)"
    FAILED=1
    sed 's/^/    /' "$WORK/helper-$t.log" >&2
  fi
  log "$t: before $(mb "$before"), with $opened idle $(mb "$after"), $per_conn per connection, opened in ${secs}s, $status"
  RESULTS+=("| $t | $(mb "$before") | $(mb "$after") | $(mb $((after - before))) | $per_conn | $opened/$COUNT | ${alive:-?} | $status |")
done

echo "## Idle keep-alive connections"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit)"
echo "- $(machine_info | paste -sd ';' | sed 's/;/; /g')"
echo "- $(tool_versions | paste -sd ';' | sed 's/;/; /g')"
echo "- $COUNT connections per server, each after one GET /tiny.html (200, keep-alive); one worker/thread each; VmRSS of the process holding the connections (for nginx: its worker)"
echo
echo "| server | RSS before | RSS with idle connections | delta | delta per connection | opened | still open at the end | status |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${RESULTS[@]}"
exit "$FAILED"
