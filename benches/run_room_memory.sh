#!/usr/bin/env bash
# Redis memory of a waiting room with 1,000 and with 1,000,000 queued visitors.
#
# One tidegate (one worker) with its rooms in a redis-server started here
# ([state] backend = "redis"), a room "shop" in queue_all with
# new_users_per_minute = 1 and total_active_users = 1, so every cookie-less
# request is a newcomer who gets a ticket and stays in line. Tickets are
# issued through real HTTP by wrk (-t1, no cookies; benches/room/stop_after.lua
# stops a run after N responses; runs of 5 s until /metrics room_queued
# reaches N), first 1,000, then up to 1,000,000 in total
# (bounded by --max-seconds for that phase; the table says how many were
# really queued, from /metrics room_queued).
# After each phase: the room's keys (SCAN *shop}*, e.g. tidegate:{room:shop}:…), the sum of their
# MEMORY USAGE, INFO memory used_memory, and tidegate's VmRSS.
# Target: the same memory for 1,000 and 1,000,000 (O(1) per room).
#
# --backend local measures the in-process store instead (tidegate VmRSS only).
# Every process is started here on probed free ports and stopped by the EXIT
# trap (benches/lib.sh). Results: stdout and benches/results/room_memory-*.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SMALL=1000
BIG=1000000
MAX_SECONDS=180
CONNECTIONS=64
BACKEND=redis
TIDEGATE=""
while (($#)); do
  case "$1" in
    --small) SMALL="$2"; shift 2 ;;
    --big) BIG="$2"; shift 2 ;;
    --max-seconds) MAX_SECONDS="${2%s}"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --backend) BACKEND="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    -h | --help)
      echo "usage: $0 [--small N] [--big N] [--max-seconds S] [--connections C] [--backend redis|local] [--tidegate PATH]"
      exit 0
      ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ "$BACKEND" =~ ^(redis|local)$ ]] || die "--backend is redis or local"
((BIG > SMALL)) || die "--big must be above --small"
tools=(wrk curl awk)
[[ "$BACKEND" == redis ]] && tools+=(redis-server redis-cli)
for tool in "${tools[@]}"; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[[ -n "$TIDEGATE" ]] || TIDEGATE="$(find_tidegate)" || die "no tidegate binary; pass --tidegate PATH"
PIN_SERVER=()

bench_init room-memory
start_watchdog $((120 + 2 * MAX_SECONDS))
write_pages "$WORK/www"
start_origin
head -c 32 /dev/urandom | base64 >"$WORK/k1"

TG_PORT="$(free_port)"
ADMIN_PORT="$(free_port)"
write_tidegate "$WORK/tidegate.toml" "$TG_PORT" "$ORIGIN_PORT" "$ADMIN_PORT" 4096
REDIS_PORT=""
redis_cmd() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
if [[ "$BACKEND" == redis ]]; then
  REDIS_PORT="$(free_port)"
  start_bg redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$WORK" --protected-mode no --loglevel warning
  for ((i = 0; i < 100; i++)); do
    [[ "$(redis_cmd PING 2>/dev/null)" == PONG ]] && break
    sleep 0.05
  done
  [[ "$(redis_cmd PING 2>/dev/null)" == PONG ]] || die "redis-server did not start"
  cat >>"$WORK/tidegate.toml" <<EOT

[state]
backend = "redis"
redis = "127.0.0.1:$REDIS_PORT"
EOT
fi
cat >>"$WORK/tidegate.toml" <<EOT

[secrets]
token_keys = [{ id = "k1", secret_file = "$WORK/k1" }]

[rooms.shop]
match = ["^/"]
mode = "queue_all"
total_active_users = 1
new_users_per_minute = 1
session_duration = "30m"
max_tickets_per_ip_per_minute = 0   # the load comes from one address
EOT
"$TIDEGATE" -c "$WORK/tidegate.toml" --check >/dev/null || die "invalid generated config"
start_tidegate tidegate "$TIDEGATE" "$WORK/tidegate.toml"
TG_PID="$LAST_PID"
wait_http "http://127.0.0.1:$TG_PORT/.tidegate/health" 15 "$TG_PID" || die "tidegate did not start"

queued() {
  curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk '/^tidegate_room_queued\{room="shop"\}/ { print $2 }'
}

# issue TOTAL: cookie-less requests until room_queued reaches TOTAL, in wrk
# runs of at most 5 s (a wrk thread stopped by the script still waits for
# -d), bounded by MAX_SECONDS in all.
issue() {
  local total="$1" deadline=$((SECONDS + MAX_SECONDS)) have left out requests=0 t0=$SECONDS
  while :; do
    have="$(queued)"
    left=$((total - ${have:-0}))
    ((left > 0 && SECONDS < deadline)) || break
    out="$WORK/wrk.txt"
    TG_REQUESTS="$left" timeout 30 wrk -t1 -c"$CONNECTIONS" -d5s \
      -s "$BENCH_DIR/room/stop_after.lua" "http://127.0.0.1:$TG_PORT/" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
    requests=$((requests + $(awk '/requests in/ {print $1}' "$out")))
  done
  log "issued $requests requests in $((SECONDS - t0)) s; room_queued $(queued) (wanted $total)"
}

KEYS_NOTE=""
measure() {
  local label="$1" keys=0 bytes=0 used="-" k
  if [[ "$BACKEND" == redis ]]; then
    while read -r k; do
      [[ -n "$k" ]] || continue
      keys=$((keys + 1))
      bytes=$((bytes + $(redis_cmd MEMORY USAGE "$k" SAMPLES 0)))
      KEYS_NOTE+="$label: $k $(redis_cmd TYPE "$k") $(redis_cmd MEMORY USAGE "$k" SAMPLES 0) B"$'\n'
    done < <(redis_cmd --scan --pattern '*shop}*')
    used="$(redis_cmd INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }')"
  fi
  echo "| $label | $(queued) | $keys | $bytes | $used | $(vmrss_kb "$TG_PID") |" >>"$WORK/rows"
}

: >"$WORK/rows"
measure "empty room"
curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$TG_PORT/"
issue "$SMALL"
measure "$SMALL tickets"
issue "$BIG"
measure "$BIG tickets"

RESULTS_DIR="$BENCH_DIR/results"
mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/room_memory-$BACKEND-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "## Memory of a room by number of queued visitors ($BACKEND store)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit); tickets issued through HTTP by wrk -t1 -c$CONNECTIONS (cookie-less, queue_all); phase bound ${MAX_SECONDS} s"
  echo
  echo "| phase | room_queued (/metrics) | room keys in Redis | MEMORY USAGE of the keys (bytes) | used_memory (bytes) | tidegate VmRSS (kB) |"
  echo "|---|---|---|---|---|---|"
  cat "$WORK/rows"
  if [[ -n "$KEYS_NOTE" ]]; then
    echo
    echo "Keys (type, MEMORY USAGE):"
    echo
    echo '```'
    printf '%s' "$KEYS_NOTE"
    echo '```'
  fi
  if [[ "$BACKEND" == redis && -z "$KEYS_NOTE" ]]; then
    echo "Note: no room key (*shop}*) in Redis: this binary keeps rooms in the process (Redis room store not built)."
  fi
} >"$OUT"
cat "$OUT"
log "written to $OUT"
