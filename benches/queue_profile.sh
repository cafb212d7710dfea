#!/usr/bin/env bash
# Sourced by run_queue.sh (--perf or --callgrind) once its tidegate runs:
# profiles that tidegate answering the queue page to cookie-less visitors.
# Uses run_queue.sh's variables (WORK, TG_PID, TG_PORT, TIDEGATE, DURATION,
# CONNECTIONS, TOP). Not meant to be run alone.

# perf_profile NAME PID PORT: perf record of PID under wrk on PORT, then its
# split by shared object and its top symbols.
perf_profile() {
  local name="$1" pid="$2" url="http://127.0.0.1:$3/small.html" perf_pid i
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
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit); wrk -t1 -c$CONNECTIONS -d${DURATION}s"
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
      "http://127.0.0.1:$port/small.html" >"$WORK/wrk-$t.txt" 2>&1 || true
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
# A second tidegate, the same configuration on another port, under callgrind
# with instrumentation off until the load starts.
CG_PORT="$(free_port)"
sed -e "s/127.0.0.1:$TG_PORT\"/127.0.0.1:$CG_PORT\"/" "$WORK/tidegate.toml" >"$WORK/callgrind.toml"
sed -i -e "/^\[admin\]/,/^listen/ s/127.0.0.1:[0-9]*/127.0.0.1:$(free_port)/" "$WORK/callgrind.toml"
start_bg callgrind valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$WORK/callgrind.out" "$TIDEGATE" -c "$WORK/callgrind.toml"
CG_PID="$LAST_PID"
URL="http://127.0.0.1:$CG_PORT/small.html"
wait_http "$URL" 90 "$CG_PID" || die "tidegate under valgrind did not start: $(tail "$WORK/callgrind.log")"
timeout 60 wrk -t1 -c8 -d2s "$URL" >/dev/null 2>&1 || true # warm-up (caches, pools)
callgrind_control -i on "$CG_PID" >/dev/null
timeout $((DURATION + 30)) wrk -t1 -c8 -d"$DURATION"s "$URL" >"$WORK/wrk.txt" 2>&1 || true
callgrind_control -i off "$CG_PID" >/dev/null
stop_bg "$CG_PID" # callgrind writes its output at exit
N="$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")"
IR="$(callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }' || true)"
echo "## callgrind profile of tidegate, queue page to cookie-less visitors"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit); wrk -t1 -c8 -d${DURATION}s under valgrind"
echo "- requests: $N; user-space instructions: $IR"
awk -v ir="$IR" -v n="$N" 'BEGIN { if (n > 0) printf "- instructions per request: %.0f\n", ir / n }'
echo
echo '```'
callgrind_annotate --inclusive=yes "$WORK/callgrind.out" 2>/dev/null | awk -v max=$((TOP + 20)) 'n++ < max' || true
echo
callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | awk -v max=$((TOP + 20)) 'n++ < max' || true
echo '```'
