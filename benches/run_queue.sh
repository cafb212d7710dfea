#!/usr/bin/env bash
# Queue page to cookie-less visitors: tidegate (one worker, a room in
# queue_all with new_users_per_minute = 1, so every request is a newcomer who
# gets a ticket, a signed wait cookie and the pre-rendered page) against nginx
# (one worker) answering the same page bytes from memory with `return 200`
# and the same head fields (add_header ... always: the cookie a constant of
# the same length, adjusted so that both heads have the same length, which
# the output prints).
# wrk -t1 -cC on both, interleaved rounds; medians of req/s, p50, p99 and
# server CPU per request. Target: tidegate >= 1.0x nginx req/s.
# Every process is started here on probed free ports and stopped by the EXIT
# trap (benches/lib.sh).
#
# Profiling the same set-up instead of comparing (one of them, then exit):
#   --perf       perf record -e cpu-clock on tidegate under wrk for --duration
#                seconds: the top symbols by self time (and by shared object)
#   --callgrind  tidegate, then nginx (one process, no master), under valgrind
#                --tool=callgrind, counting only while wrk runs: user-space
#                instructions per request of both (deterministic, unlike
#                wall-clock figures on a loaded machine) and tidegate's top
#                functions in instructions per request, inclusive and self
#                (nginx's self), and allocations per request of both (malloc,
#                calloc and realloc calls); QUEUE_PROFILE_KEEP=DIR keeps
#                both callgrind outputs there for callgrind_annotate
#   --syscalls   system calls per request of tidegate and of the nginx worker
#                (perf stat -e 'syscalls:sys_enter_*'), by call
# --compare PATH adds a second tidegate binary (same configuration, its own
# ports) to the interleaved rounds: before/after figures of one run. The
# table also gives user-space CPU per request, which a loaded machine
# disturbs less than the total (the kernel's share follows the scheduler).
# --path /URL-PATH: the path every visitor asks for (default /small.html;
# the page's "check again" link repeats it, so it is part of the page).
# --method fifo|random: the room's queueing_method (default fifo). With
# random, every queued answer shows a position taken from the order of the
# visitor's shuffle block of 64 tickets (queue/waiting_room.h BlockOrderOf).
# --pin: wrk on CPU 0, tidegate and nginx on CPU 1 (default: no pinning).
# Unpinned, a round's CPU per page depends on where the scheduler put the
# processes (rounds of one binary fall around two values, e.g. 9.2 and
# 10.9 us): pin for a before/after --compare.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=3
DURATION=4
CONNECTIONS=64
TIDEGATE=""
PROFILE=""
TOP=40
COMPARE=""
PAGE_PATH=/small.html
PIN=0
METHOD=fifo
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="${2%s}"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --perf) PROFILE=perf; shift ;;
    --callgrind) PROFILE=callgrind; shift ;;
    --syscalls) PROFILE=syscalls; shift ;;
    --top) TOP="$2"; shift 2 ;;
    --compare) COMPARE="$2"; shift 2 ;;
    --path) PAGE_PATH="$2"; shift 2 ;;
    --pin) PIN=1; shift ;;
    --method) METHOD="$2"; shift 2 ;;
    -h | --help) echo "usage: $0 [--rounds N] [--duration S] [--connections C] [--tidegate PATH] [--perf | --callgrind | --syscalls] [--top N] [--compare PATH] [--path /URL-PATH] [--method fifo|random] [--pin]"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ "$METHOD" == fifo || "$METHOD" == random ]] || die "--method is fifo or random"
for tool in nginx wrk curl awk; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[[ -n "$TIDEGATE" ]] || TIDEGATE="$(find_tidegate)" || die "no tidegate binary; pass --tidegate PATH"
WRK_PREFIX=()
PIN_SERVER=()
if ((PIN)); then
  (($(nproc) >= 2)) || die "--pin needs at least 2 CPUs"
  WRK_PREFIX=(taskset -c 0)
  PIN_SERVER=(taskset -c 1)
fi

bench_init queue
# (three targets per round with --compare)
start_watchdog $((60 + ROUNDS * (${COMPARE:+1} + 2) * (DURATION + 10)))
write_pages "$WORK/www"
start_origin

# tidegate with an always-queueing room.
head -c 32 /dev/urandom | base64 >"$WORK/k1"
TG_PORT="$(free_port)"
write_tidegate "$WORK/tidegate.toml" "$TG_PORT" "$ORIGIN_PORT" "$(free_port)" 4096
cat >>"$WORK/tidegate.toml" <<EOF

[secrets]
token_keys = [{ id = "k1", secret_file = "$WORK/k1" }]

[rooms.shop]
match = ["^/"]
mode = "queue_all"
new_users_per_minute = 1
total_active_users = 1
max_tickets_per_ip_per_minute = 0   # wrk joins from one address
queueing_method = "$METHOD"
EOF
"$TIDEGATE" -c "$WORK/tidegate.toml" --check >/dev/null || die "invalid generated config"
start_tidegate tidegate "$TIDEGATE" "$WORK/tidegate.toml"
TG_PID="$LAST_PID"
wait_http "http://127.0.0.1:$TG_PORT/.tidegate/health" 15 "$TG_PID" || die "tidegate did not start"

# The page tidegate serves, answered by nginx from memory with the same head
# fields: Set-Cookie (the visitor's signed ticket; for nginx a constant of
# the same length), Content-Security-Policy, nosniff, Referrer-Policy,
# Cache-Control and Content-Type, so that both servers' kernels copy the
# same bytes. nginx also sends `Server: nginx` and `Connection: keep-alive`,
# which tidegate does not: its cookie constant is shortened by their length
# so the heads come out the same length (both printed below).
curl -s --max-time 5 -D "$WORK/tg-head.txt" -o "$WORK/page.html" "http://127.0.0.1:$TG_PORT$PAGE_PATH"
grep -q 'id="tg-queue"' "$WORK/page.html" || die "tidegate did not answer the queue page"
grep -q '\$' "$WORK/page.html" "$WORK/tg-head.txt" && die "the page or its head contains \$ (nginx would expand it)"
TG_HEAD_BYTES="$(wc -c <"$WORK/tg-head.txt")"
TG_CONTENT_TYPE="$(awk -F': ' 'tolower($1) == "content-type" { sub(/\r$/, "", $2); print $2 }' "$WORK/tg-head.txt")"
# nginx_add_headers PAD: tidegate's end-to-end fields as add_header lines
# (quoted for nginx), the first Set-Cookie value lengthened (PAD > 0) or
# shortened (PAD < 0) by PAD bytes.
nginx_add_headers() {
  awk -v pad="$1" '
    NR == 1 { next }
    {
      sub(/\r$/, "")
      if ($0 == "") exit
      colon = index($0, ":")
      name = substr($0, 1, colon - 1); value = substr($0, colon + 2)
      lname = tolower(name)
      if (lname ~ /^(date|content-length|content-type|connection|server|transfer-encoding)$/) next
      if (lname == "set-cookie" && !padded) {
        padded = 1
        eq = index(value, "="); semi = index(value, ";"); if (semi == 0) semi = length(value) + 1
        token = substr(value, eq + 1, semi - eq - 1)
        if (pad < 0) token = substr(token, 1, length(token) + pad)
        for (i = 0; i < pad; i++) token = token "x"
        value = substr(value, 1, eq) token substr(value, semi)
      }
      gsub(/\\/, "\\\\", value); gsub(/"/, "\\\"", value)
      printf "    add_header \"%s\" \"%s\" always;\n", name, value
    }' "$WORK/tg-head.txt"
}
# write_nginx_queue PAD
write_nginx_queue() {
  {
    nginx_common_head "$WORK/nginx"
    echo "http {"
    nginx_http_common "$WORK/nginx"
    echo "  server_tokens off;"
    # "text/html; charset=utf-8": nginx writes the charset part itself.
    echo "  default_type \"${TG_CONTENT_TYPE%%;*}\";"
    [[ "$TG_CONTENT_TYPE" == *charset=* ]] && echo "  charset ${TG_CONTENT_TYPE##*charset=};"
    echo "  server {"
    echo "    listen 127.0.0.1:$NG_PORT backlog=4096;"
    nginx_add_headers "$1"
    # The page through sed, not $(...): a command substitution would drop
    # its last newline, and nginx would answer one byte less.
    printf "    location / { return 200 '"
    sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g" "$WORK/page.html"
    echo "'; }"
    echo "  }"
    echo "}"
  } >"$WORK/nginx/nginx.conf"
}
# start_nginx_queue PAD: starts nginx with that padding; sets NG_PID and
# NG_HEAD_BYTES (the length of its head, as curl received it).
start_nginx_queue() {
  write_nginx_queue "$1"
  start_nginx nginx "$WORK/nginx"
  NG_PID="$LAST_PID"
  wait_http "http://127.0.0.1:$NG_PORT/" 15 "$NG_PID" || die "nginx did not start"
  curl -s --max-time 5 -D "$WORK/ng-head.txt" -o "$WORK/ng-page.html" "http://127.0.0.1:$NG_PORT$PAGE_PATH"
  cmp -s "$WORK/page.html" "$WORK/ng-page.html" || die "nginx does not answer tidegate's page bytes"
  NG_HEAD_BYTES="$(wc -c <"$WORK/ng-head.txt")"
}
NG_PORT="$(free_port)"
mkdir -p "$WORK/nginx/tmp"
start_nginx_queue 0
pad=$((TG_HEAD_BYTES - NG_HEAD_BYTES))
if ((pad != 0)); then
  stop_bg "$NG_PID"
  start_nginx_queue "$pad"
fi
NG_WORKER="$(child_pids "$NG_PID" | head -n 1)"
[[ -n "$NG_WORKER" ]] || die "no nginx worker process found"
HEADS="head bytes: tidegate $TG_HEAD_BYTES, nginx $NG_HEAD_BYTES (nginx's cookie constant ${pad} bytes against tidegate's ticket, for its Server and Connection fields)"
log "$HEADS"
log "page $(wc -c <"$WORK/page.html") bytes; tidegate :$TG_PORT, nginx :$NG_PORT"

if [[ -n "$PROFILE" ]]; then
  source "$(dirname "${BASH_SOURCE[0]}")/queue_profile.sh"
  exit 0
fi

declare -A PORT=([tidegate]=$TG_PORT [nginx]=$NG_PORT) PID=([tidegate]=$TG_PID [nginx]=$NG_WORKER)
TARGETS=(tidegate nginx)
if [[ -n "$COMPARE" ]]; then
  [[ -x "$COMPARE" ]] || die "not executable: $COMPARE"
  PORT[other]="$(free_port)"
  sed -e "s/127.0.0.1:$TG_PORT\"/127.0.0.1:${PORT[other]}\"/" "$WORK/tidegate.toml" >"$WORK/other.toml"
  sed -i -e "/^\[admin\]/,/^listen/ s/127.0.0.1:[0-9]*/127.0.0.1:$(free_port)/" "$WORK/other.toml"
  start_tidegate other "$COMPARE" "$WORK/other.toml"
  PID[other]="$LAST_PID"
  wait_http "http://127.0.0.1:${PORT[other]}/.tidegate/health" 15 "${PID[other]}" ||
    die "the compared tidegate did not start"
  TARGETS=(tidegate other nginx)
fi
# user_ticks PID: user-space CPU time of PID so far, in clock ticks.
user_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12}'; }
CLK_TCK="$(getconf CLK_TCK)"
echo "round,target,rps,p99,cpu_us_per_req,user_us_per_req" >"$WORK/raw.csv"
for ((r = 1; r <= ROUNDS; r++)); do
  # Each round rotates the order, so that no target always runs first.
  order=()
  for ((i = 0; i < ${#TARGETS[@]}; i++)); do order+=("${TARGETS[(i + r) % ${#TARGETS[@]}]}"); done
  for t in "${order[@]}"; do
    out="$WORK/wrk-$r-$t.txt"
    ticks0="$(cpu_ticks "${PID[$t]}")"
    user0="$(user_ticks "${PID[$t]}")"
    timeout $((DURATION + 20)) ${WRK_PREFIX[@]+"${WRK_PREFIX[@]}"} wrk -t1 -c"$CONNECTIONS" -d"$DURATION"s --latency \
      "http://127.0.0.1:${PORT[$t]}$PAGE_PATH" >"$out" 2>&1 || die "wrk failed on $t"
    ticks1="$(cpu_ticks "${PID[$t]}")"
    user1="$(user_ticks "${PID[$t]}")"
    rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
    p99="$(awk '/^ +99%/ {print $2}' "$out")"
    n="$(awk '/requests in/ {print $1}' "$out")"
    cpu="$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
    user="$(awk -v t=$((user1 - user0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
    grep -q "Non-2xx" "$out" && die "$t answered non-2xx: $(cat "$out")"
    log "round $r $t: $rps req/s, p99 $p99, ${cpu}us CPU/request (${user}us user)"
    echo "$r,$t,$rps,$p99,$cpu,$user" >>"$WORK/raw.csv"
  done
done
echo "## Queue page to cookie-less visitors vs nginx return 200 (same bytes)"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit); wrk -t1 -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds, path $PAGE_PATH, queueing_method $METHOD; pinning: $( ((PIN)) && echo 'wrk on CPU 0, servers on CPU 1' || echo none)"
echo "- same page bytes and same head fields; $HEADS"
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -F, -v t="$1" -v c="$2" 'NR > 1 && $2 == t { print $c }' "$WORK/raw.csv" | median; }
T_RPS="$(col tidegate 3)"; N_RPS="$(col nginx 3)"
echo
echo "| target | req/s (median) | CPU us/request (median) | user-space CPU us/request (median) |"
echo "|---|---|---|---|"
echo "| tidegate queue page | $T_RPS | $(col tidegate 5) | $(col tidegate 6) |"
[[ -n "$COMPARE" ]] && echo "| compared tidegate ($COMPARE) | $(col other 3) | $(col other 5) | $(col other 6) |"
echo "| nginx return 200 | $N_RPS | $(col nginx 5) | $(col nginx 6) |"
echo
awk -v t="$T_RPS" -v n="$N_RPS" 'BEGIN { printf "ratio tidegate / nginx: %.2fx req/s (target >= 1.0x)\n", t / n }'
awk -v t="$(col tidegate 5)" -v n="$(col nginx 5)" 'BEGIN { printf "CPU per request tidegate / nginx: %.2fx (lower is better)\n", t / n }'
