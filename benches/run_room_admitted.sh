#!/usr/bin/env bash
# Admitted traffic through a waiting room against plain pass-through.
#
# Two tidegates (one worker each) in front of the same nginx origin:
#   plain — no room;
#   room  — a room on every path ("^/"), mode auto, limits far above the load,
#           so the shopper is admitted and stays inside.
# The pass cookie is obtained first through a real admission (a cookie-less
# GET on the room, which answers the page and Set-Cookie tg_pass_shop=…).
# wrk -t1 -cC then sends it on every request (benches/room/keep_pass.lua keeps
# the renewed pass, as a browser would; the same script runs on both sides).
# Interleaved rounds, rotating order; medians of req/s, p99 and server CPU
# per request; ratio room / plain (target >= 0.95).
#
# With --backend redis (default: both local and redis when redis-server is
# installed) the room's state is in a redis-server started here, and the
# Redis commands per admitted request are counted from INFO commandstats
# before/after each room round (target 0), next to the commands Redis saw
# during an idle period of the same length (the instances' periodic resync).
#
# Every process is started here on probed free ports and stopped by the EXIT
# trap (benches/lib.sh). Results: stdout and benches/results/room_admitted-*.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=3
DURATION=4
CONNECTIONS=64
TIDEGATE=""
BACKENDS=""
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="${2%s}"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --backend) BACKENDS="$2"; shift 2 ;;
    -h | --help)
      echo "usage: $0 [--rounds N] [--duration S] [--connections C] [--tidegate PATH] [--backend local|redis|local,redis]"
      exit 0
      ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive integer"
for tool in nginx wrk curl awk; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
if [[ -z "$BACKENDS" ]]; then
  BACKENDS=local
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && BACKENDS=local,redis
fi
IFS=, read -r -a BACKEND_LIST <<<"$BACKENDS"
[[ -n "$TIDEGATE" ]] || TIDEGATE="$(find_tidegate)" || die "no tidegate binary; pass --tidegate PATH"
PIN_SERVER=()

bench_init room-admitted
MAX_TIME=$((90 + ${#BACKEND_LIST[@]} * ROUNDS * 2 * (DURATION + 10) + ${#BACKEND_LIST[@]} * DURATION))
start_watchdog "$MAX_TIME"
write_pages "$WORK/www"
start_origin
head -c 32 /dev/urandom | base64 >"$WORK/k1"
LUA="$BENCH_DIR/room/keep_pass.lua"
CLK_TCK="$(getconf CLK_TCK)"

# The plain pass-through tidegate.
PLAIN_PORT="$(free_port)"
write_tidegate "$WORK/plain.toml" "$PLAIN_PORT" "$ORIGIN_PORT" "$(free_port)" 4096
start_tidegate plain "$TIDEGATE" "$WORK/plain.toml"
PLAIN_PID="$LAST_PID"
wait_http "http://127.0.0.1:$PLAIN_PORT/tiny.html" 15 "$PLAIN_PID" || die "plain tidegate did not start"

REDIS_PORT=""
redis_cmd() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
# Sum of calls= over INFO commandstats, INFO itself excluded (that is us).
redis_calls() {
  redis_cmd INFO commandstats | tr -d '\r' |
    awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" { s += $3 } END { print s + 0 }'
}
redis_breakdown() {
  redis_cmd INFO commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" { printf "%s=%s ", substr($1, 9), $3 }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

RESULTS_DIR="$BENCH_DIR/results"
mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/room_admitted-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "## Admitted traffic through a room vs plain pass-through"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit); wrk -t1 -c$CONNECTIONS -d${DURATION}s, $ROUNDS interleaved rounds, /small.html (1 KiB), one worker each"
  echo "- $(machine_info | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
  echo
  echo "| backend | plain req/s | room req/s | ratio (target >= 0.95) | plain CPU us/req | room CPU us/req | room p99 | Redis commands/request (target 0) |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$OUT.head"
: >"$OUT.rows"
: >"$OUT.notes"

for backend in "${BACKEND_LIST[@]}"; do
  ROOM_PORT="$(free_port)"
  write_tidegate "$WORK/room-$backend.toml" "$ROOM_PORT" "$ORIGIN_PORT" "$(free_port)" 4096
  if [[ "$backend" == redis ]]; then
    REDIS_PORT="$(free_port)"
    start_bg redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$WORK" --protected-mode no --loglevel warning
    REDIS_PID="$LAST_PID"
    for ((i = 0; i < 100; i++)); do
      [[ "$(redis_cmd PING 2>/dev/null)" == PONG ]] && break
      sleep 0.05
    done
    [[ "$(redis_cmd PING 2>/dev/null)" == PONG ]] || die "redis-server did not start"
    cat >>"$WORK/room-$backend.toml" <<EOF

[state]
backend = "redis"
redis = "127.0.0.1:$REDIS_PORT"
EOF
  fi
  cat >>"$WORK/room-$backend.toml" <<EOF

[secrets]
token_keys = [{ id = "k1", secret_file = "$WORK/k1" }]

[rooms.shop]
match = ["^/"]
mode = "auto"
total_active_users = 1000000
new_users_per_minute = 1000000
session_duration = "30m"
max_tickets_per_ip_per_minute = 0   # the load comes from one address
EOF
  "$TIDEGATE" -c "$WORK/room-$backend.toml" --check >/dev/null || die "invalid generated config ($backend)"
  start_tidegate "room-$backend" "$TIDEGATE" "$WORK/room-$backend.toml"
  ROOM_PID="$LAST_PID"
  wait_http "http://127.0.0.1:$ROOM_PORT/.tidegate/health" 15 "$ROOM_PID" || die "room tidegate ($backend) did not start"

  # A real admission: the first visit answers the page and sets the pass.
  curl -s --max-time 5 -D "$WORK/admit.headers" -o "$WORK/admit.body" "http://127.0.0.1:$ROOM_PORT/small.html"
  COOKIE="$(tr -d '\r' <"$WORK/admit.headers" | sed -n 's/^[Ss]et-[Cc]ookie: \(tg_pass_shop=[^;]*\).*/\1/p' | head -n 1)"
  [[ -n "$COOKIE" ]] || die "no pass cookie from the room ($backend): $(cat "$WORK/admit.headers")"
  cmp -s "$WORK/admit.body" "$WORK/www/small.html" || die "the admitted visit did not get the page ($backend)"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Cookie: $COOKIE" "http://127.0.0.1:$ROOM_PORT/small.html")"
  [[ "$code" == 200 ]] || die "the pass does not let in ($backend): $code"
  if [[ "$backend" == redis ]]; then
    keys="$(redis_cmd --scan --pattern '*shop}*' | wc -l)"
    if ((keys == 0)); then
      echo "- redis: no room key (*shop}*) in Redis after an admission: this binary keeps rooms in the process (Redis room store not built); commands per request are not meaningful" >>"$OUT.notes"
    fi
    # Idle: commands Redis sees without any shop traffic (periodic resync).
    c0="$(redis_calls)"
    sleep "$DURATION"
    c1="$(redis_calls)"
    IDLE_CALLS=$((c1 - c0))
  fi
  log "$backend: room on :$ROOM_PORT, plain on :$PLAIN_PORT, cookie ${COOKIE:0:40}…"

  declare -A PORT=([plain]=$PLAIN_PORT [room]=$ROOM_PORT) PID=([plain]=$PLAIN_PID [room]=$ROOM_PID)
  echo "round,target,rps,p99,cpu_us_per_req,requests,redis_calls" >"$WORK/raw-$backend.csv"
  for ((r = 1; r <= ROUNDS; r++)); do
    for t in $( ((r % 2)) && echo "plain room" || echo "room plain"); do
      out="$WORK/wrk-$backend-$r-$t.txt"
      calls0=0
      [[ "$backend" == redis && "$t" == room ]] && calls0="$(redis_calls)"
      ticks0="$(cpu_ticks "${PID[$t]}")"
      TG_COOKIE="$COOKIE" timeout $((DURATION + 20)) wrk -t1 -c"$CONNECTIONS" -d"$DURATION"s --latency \
        -s "$LUA" "http://127.0.0.1:${PORT[$t]}/small.html" >"$out" 2>&1 || die "wrk failed on $t"
      ticks1="$(cpu_ticks "${PID[$t]}")"
      calls=0
      [[ "$backend" == redis && "$t" == room ]] && calls=$(($(redis_calls) - calls0))
      grep -q "Non-2xx" "$out" && die "$t answered non-2xx: $(cat "$out")"
      rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
      p99="$(awk '/^ +99%/ { v = $2; if (v ~ /us$/) x = v + 0; else if (v ~ /ms$/) x = v * 1000; else x = v * 1e6; printf "%.0f", x }' "$out")"
      n="$(awk '/requests in/ {print $1}' "$out")"
      cpu="$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
      log "$backend round $r $t: $rps req/s, p99 ${p99}us, ${cpu}us CPU/request${calls:+, redis calls $calls}"
      echo "$r,$t,$rps,$p99,$cpu,$n,$calls" >>"$WORK/raw-$backend.csv"
    done
  done
  col() { awk -F, -v t="$1" -v c="$2" 'NR > 1 && $2 == t { print $c }' "$WORK/raw-$backend.csv" | median; }
  P_RPS="$(col plain 3)"
  R_RPS="$(col room 3)"
  ratio="$(awk -v a="$R_RPS" -v b="$P_RPS" 'BEGIN { printf "%.2f", a / b }')"
  per_req="n/a"
  if [[ "$backend" == redis ]]; then
    total_calls="$(awk -F, 'NR > 1 && $2 == "room" { s += $7 } END { print s + 0 }' "$WORK/raw-$backend.csv")"
    total_reqs="$(awk -F, 'NR > 1 && $2 == "room" { s += $6 } END { print s + 0 }' "$WORK/raw-$backend.csv")"
    per_req="$(awk -v c="$total_calls" -v n="$total_reqs" 'BEGIN { printf "%.6f", c / n }')"
    echo "- redis: $total_calls commands during $total_reqs admitted requests (${ROUNDS} × ${DURATION} s); idle for ${DURATION} s (no traffic): $IDLE_CALLS commands; all commands since start: $(redis_breakdown)" >>"$OUT.notes"
  fi
  echo "| $backend | $P_RPS | $R_RPS | ${ratio}x | $(col plain 5) | $(col room 5) | $(col room 4) us | $per_req |" >>"$OUT.rows"
  stop_bg "$ROOM_PID"
  if [[ "$backend" == redis ]]; then stop_bg "$REDIS_PID"; fi
done

cat "$OUT.head" "$OUT.rows" >"$OUT"
if [[ -s "$OUT.notes" ]]; then
  echo >>"$OUT"
  cat "$OUT.notes" >>"$OUT"
fi
rm -f "$OUT.head" "$OUT.rows" "$OUT.notes"
cat "$OUT"
log "written to $OUT"
