#!/usr/bin/env bash
# Sourced by run_queue.sh (--perf or --callgrind) once its tidegate runs:
# profiles that tidegate answering the queue page to cookie-less visitors.
# Uses run_queue.sh's variables (WORK, TG_PID, TG_PORT, TIDEGATE, DURATION,
# CONNECTIONS, TOP). Not meant to be run alone.

# perf_profile NAME PID PORT: perf record of PID under wrk on PORT, then its
# split by shared object and its top symbols.
perf_profile() {
  local name="$1" pid="$2" url="http://127.0.0.1:$3$PAGE_PATH" perf_pid i
  wrk -t1 -c"$CONNECTIONS" -d1s "$url" >/dev/null 2>&1 || true # warm-up
  start_bg "perf-$name" perf record -e cpu-clock -F 2000 -o "$WORK/perf-$name.data" -p "$pid"
  perf_pid="$LAST_PID"
  sleep 0.5 # perf attaches asynchronously
  timeout $((DURATION + 20)) wrk -t1 -c"$CONNECTIONS" -d"$DURATION"s "$url" >"$WORK/wrk-$name.txt" 2>&1 || true
  kill -INT "$perf_pid" 2>/dev/null || true # perf writes its data on SIGINT
  for ((i = 0; i < 100; i++)); do
    kill -0 "$perf_pid" 2>/dev/null || break
    sleep 0.1
  done
  stop_bg "$perf_pid"
  [[ -s "$WORK/perf-$name.data" ]] || die "perf recorded nothing: $(cat "$WORK/perf-$name.log")"
  echo "### $name"
  echo
  grep -E 'Requests/sec|Non-2xx' "$WORK/wrk-$name.txt" | sed 's/^ */- wrk: /'
  echo
  echo '```'
  perf report -i "$WORK/perf-$name.data" --stdio --no-children --sort dso 2>/dev/null |
    awk '!/^#/ && NF && n++ < 12' || true
  echo
  perf report -i "$WORK/perf-$name.data" --stdio --no-children --sort dso,symbol 2>/dev/null |
    awk -v top="$TOP" '!/^#/ && NF && n++ < top { sub(/[ \t]+-[ \t]+-[ \t]*$/, ""); print }' || true
  echo '```'
  echo
}

if [[ "$PROFILE" == perf ]]; then
  command -v perf >/dev/null || die "perf is not installed"
  echo "## perf profile, queue page to cookie-less visitors (perf record -e cpu-clock -p PID)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit); wrk -t1 -c$CONNECTIONS -d${DURATION}s, path $PAGE_PATH"
  echo
  perf_profile tidegate "$TG_PID" "$TG_PORT"
  perf_profile nginx "$NG_WORKER" "$NG_PORT"
  return 0
fi

if [[ "$PROFILE" == syscalls ]]; then
  echo "## System calls per request, queue page (wrk -t1 -c$CONNECTIONS -d${DURATION}s)"
  echo
  # The calls a server makes on this path (every sys_enter_* together with
  # the software events takes perf too long to set up).
  EVENTS=()
  for c in read readv recvfrom recvmsg write writev sendto sendmsg sendfile64 epoll_wait \
    epoll_ctl accept4 close setsockopt getsockopt ioctl futex clock_gettime; do
    EVENTS+=(-e "syscalls:sys_enter_$c")
  done
  for t in tidegate nginx; do
    pid="$TG_PID" port="$TG_PORT"
    [[ "$t" == nginx ]] && pid="$NG_WORKER" port="$NG_PORT"
    start_bg "perf-$t" perf stat -x, -o "$WORK/stat-$t.csv" \
      "${EVENTS[@]}" -e context-switches -e task-clock -p "$pid"
    perf_pid="$LAST_PID"
    sleep 0.5 # perf attaches asynchronously
    timeout $((DURATION + 20)) wrk -t1 -c"$CONNECTIONS" -d"$DURATION"s \
      "http://127.0.0.1:$port$PAGE_PATH" >"$WORK/wrk-$t.txt" 2>&1 || true
    kill -INT "$perf_pid" 2>/dev/null || true # perf stat prints its counts on SIGINT
    for ((i = 0; i < 100; i++)); do
      kill -0 "$perf_pid" 2>/dev/null || break
      sleep 0.1
    done
    stop_bg "$perf_pid"
    n="$(awk '/requests in/ {print $1}' "$WORK/wrk-$t.txt")"
    [[ -n "$n" && "$n" -gt 0 ]] || die "wrk against $t gave no result"
    awk -F, -v n="$n" -v t="$t" '
      $3 ~ /^syscalls:sys_enter_/ && $1 ~ /^[0-9]+$/ && $1 > 0 {
        name = $3; sub(/^syscalls:sys_enter_/, "", name); count[name] = $1; total += $1
      }
      $3 == "context-switches" { switches = $1 }
      $3 == "task-clock" { ms = $1 }
      END {
        line = sprintf("- %s: %.2f us CPU, %.3f context switches, %.2f calls per request:",
                       t, ms * 1000 / n, switches / n, total / n)
        for (c in count) if (count[c] / n >= 0.01) line = line sprintf(" %s %.2f", c, count[c] / n)
        print line
      }' "$WORK/stat-$t.csv"
  done
  return 0
fi

command -v valgrind >/dev/null || die "valgrind is not installed"
# callgrind_run NAME PID PORT: counts PID's user-space instructions while wrk
# runs against PORT (PID runs under valgrind --instr-atstart=no); leaves
# $WORK/wrk-NAME.txt and, once PID was stopped, $WORK/callgrind-NAME.out.
callgrind_run() {
  local url="http://127.0.0.1:$3$PAGE_PATH"
  timeout 60 wrk -t1 -c"${CALLGRIND_CONNECTIONS:-8}" -d2s "$url" >/dev/null 2>&1 || true # warm-up (caches, pools)
  callgrind_control -i on "$2" >/dev/null
  timeout $((DURATION + 30)) wrk -t1 -c"${CALLGRIND_CONNECTIONS:-8}" -d"$DURATION"s "$url" >"$WORK/wrk-$1.txt" 2>&1 || true
  callgrind_control -i off "$2" >/dev/null
  # callgrind writes its output at exit, which under valgrind can take
  # longer than stop_bg's 5 s before KILL (then nothing is written):
  # TERM first and wait up to 60 s.
  kill -TERM "$2" 2>/dev/null || true
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  stop_bg "$2"
}
# per_request NAME: instructions per request of NAME's run.
per_request() {
  local n ir
  n="$(awk '/requests in/ {print $1}' "$WORK/wrk-$1.txt")"
  ir="$(callgrind_annotate "$WORK/callgrind-$1.out" 2>/dev/null |
    awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }' || true)"
  echo "- $1: $n requests, $ir user-space instructions, $(awk -v ir="$ir" -v n="$n" \
    'BEGIN { if (n > 0) printf "%.0f", ir / n }') per request"
}
# allocations NAME: calls of malloc, calloc and realloc per request in
# NAME's run (from the call counts in the callgrind output; operator new
# goes through malloc).
allocations() {
  local n
  n="$(awk '/requests in/ {print $1}' "$WORK/wrk-$1.txt")"
  awk -v n="$n" -v name="$1" '
    /^c?fn=\(/ {
      id = $1; sub(/^c?fn=/, "", id)
      rest = $0; sub(/^[^)]*\) ?/, "", rest)
      if (rest != "") names[id] = rest
      if ($0 ~ /^cfn=/) callee = names[id]
      next
    }
    /^calls=/ {
      c = $1; sub(/^calls=/, "", c)
      if (callee == "malloc" || callee == "calloc" || callee == "realloc") total += c
    }
    END { if (n > 0) printf "- %s: %.2f allocations per request (malloc, calloc, realloc calls)\n", name, total / n }
  ' "$WORK/callgrind-$1.out"
}
# by_function NAME INCLUSIVE: the top functions, in instructions per request.
by_function() {
  local n
  n="$(awk '/requests in/ {print $1}' "$WORK/wrk-$1.txt")"
  callgrind_annotate --inclusive="$2" "$WORK/callgrind-$1.out" 2>/dev/null |
    awk -v n="$n" -v top="$TOP" '
      /^ *[0-9,]+ \( *[0-9.]+%\)  [^*]/ && !/PROGRAM TOTALS/ && shown < top {
        ir = $1; gsub(",", "", ir)
        name = $0; sub(/^[^)]*\)  /, "", name); sub(/^[^:]*:/, "", name); gsub(/\(anonymous namespace\)/, "{anon}", name)
        sub(/ \[[^]]*\]$/, "", name); sub(/\(.*/, "", name)
        printf "%8.0f  %s\n", ir / n, substr(name, 1, 110); shown++
      }'
}

# A second tidegate, the same configuration on another port, under callgrind
# with instrumentation off until the load starts.
CG_PORT="$(free_port)"
sed -e "s/127.0.0.1:$TG_PORT\"/127.0.0.1:$CG_PORT\"/" "$WORK/tidegate.toml" >"$WORK/callgrind.toml"
sed -i -e "/^\[admin\]/,/^listen/ s/127.0.0.1:[0-9]*/127.0.0.1:$(free_port)/" "$WORK/callgrind.toml"
start_bg callgrind valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$WORK/callgrind-tidegate.out" "$TIDEGATE" -c "$WORK/callgrind.toml"
CG_PID="$LAST_PID"
wait_http "http://127.0.0.1:$CG_PORT$PAGE_PATH" 90 "$CG_PID" ||
  die "tidegate under valgrind did not start: $(tail "$WORK/callgrind.log")"
callgrind_run tidegate "$CG_PID" "$CG_PORT"
# The peer: nginx answering the same bytes, one process (no master) so that
# callgrind sees the worker.
CGN_PORT="$(free_port)"
mkdir -p "$WORK/nginx-cg/tmp"
sed -e "s#$WORK/nginx/#$WORK/nginx-cg/#g" -e "s/127.0.0.1:$NG_PORT /127.0.0.1:$CGN_PORT /" \
  "$WORK/nginx/nginx.conf" >"$WORK/nginx-cg/nginx.conf"
start_bg callgrind-nginx valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$WORK/callgrind-nginx.out" nginx -p "$WORK/nginx-cg" \
  -e "$WORK/nginx-cg/error.log" -c "$WORK/nginx-cg/nginx.conf" -g 'daemon off; master_process off;'
CGN_PID="$LAST_PID"
wait_http "http://127.0.0.1:$CGN_PORT$PAGE_PATH" 90 "$CGN_PID" ||
  die "nginx under valgrind did not start: $(tail "$WORK/callgrind-nginx.log")"
callgrind_run nginx "$CGN_PID" "$CGN_PORT"

echo "## callgrind profile, queue page to cookie-less visitors"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit); wrk -t1 -c8 -d${DURATION}s under valgrind, path $PAGE_PATH, queueing_method $METHOD"
per_request tidegate
per_request nginx
allocations tidegate
allocations nginx
# QUEUE_PROFILE_KEEP=DIR keeps both callgrind outputs (callgrind_annotate).
if [[ -n "${QUEUE_PROFILE_KEEP:-}" ]]; then
  mkdir -p "$QUEUE_PROFILE_KEEP"
  cp "$WORK/callgrind-tidegate.out" "$WORK/callgrind-nginx.out" "$WORK"/wrk-*.txt "$QUEUE_PROFILE_KEEP/"
fi
echo
echo "### tidegate, instructions per request by function (inclusive: with callees)"
echo
echo '```'
by_function tidegate yes
echo '```'
echo
echo "### tidegate, instructions per request by function (self)"
echo
echo '```'
by_function tidegate no
echo '```'
echo
echo "### nginx, instructions per request by function (self)"
echo
echo '```'
by_function nginx no
echo '```'
