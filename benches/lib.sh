# shellcheck shell=bash
# Shared helpers for the tidegate benchmark scripts (sourced, not executed).
#
# Contract:
#   bench_init NAME    creates $WORK (mktemp -d) and installs traps that stop every
#                      process started through start_bg and remove $WORK on exit.
#   start_bg NAME CMD…  starts CMD in the background (stdout/stderr → $WORK/NAME.log),
#                      remembers its PID; LAST_PID holds it afterwards.
#   stop_pid PID [S]   TERM, wait up to S seconds (default 5), then KILL — only PIDs
#                      we started. A process under valgrind writes its output at
#                      exit and needs longer (60).
#   free_port          prints a free 127.0.0.1 TCP port outside the ephemeral range
#                      (so wrk's and the idle helper's own client ports never collide).
#   wait_http URL S    waits up to S seconds for URL to answer 200; fails otherwise.
#   write_* …          generate the configs of the origin and of the peers.
# Everything listens on 127.0.0.1 only. Nothing here uses fixed ports.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"

STARTED_PIDS=()
USED_PORTS=()
WATCHDOG_PID=""
WORK=""
LAST_PID=""

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

stop_pid() {
  local pid="$1" grace="${2:-5}" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop after TERM; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  if [[ -n "$WATCHDOG_PID" ]]; then
    kill -TERM "$WATCHDOG_PID" 2>/dev/null || true
    wait "$WATCHDOG_PID" 2>/dev/null || true
  fi
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${STARTED_PIDS[i]}"
  done
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then
      log "kept work dir $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}

bench_init() {
  WORK="$(mktemp -d -t "tidegate-$1.XXXXXX")"
  chmod 755 "$WORK"
  trap bench_cleanup EXIT
  trap 'log "interrupted"; exit 130' INT
  trap 'log "terminated (time limit or signal)"; exit 124' TERM
}

# Sends TERM to this script after S seconds; bench_cleanup then stops everything.
start_watchdog() {
  local seconds="$1" self=$$
  (
    sleeper=""
    trap '[[ -z "$sleeper" ]] || { kill "$sleeper" 2>/dev/null; wait "$sleeper"; }; exit 0' TERM
    sleep "$seconds" &
    sleeper=$!
    wait "$sleeper"
    echo "watchdog: time limit of ${seconds}s reached" >&2
    kill -TERM "$self" 2>/dev/null
  ) &
  WATCHDOG_PID=$!
}

start_bg() {
  local name="$1"
  shift
  "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

# Stops a PID started by start_bg and forgets it.
stop_bg() {
  local pid="$1" grace="${2:-5}" kept=() p
  stop_pid "$pid" "$grace"
  for p in "${STARTED_PIDS[@]}"; do
    [[ "$p" == "$pid" ]] || kept+=("$p")
  done
  STARTED_PIDS=("${kept[@]}")
}

free_port() {
  local port
  port="$(
    python3 - "${USED_PORTS[@]}" <<'EOF'
import random, socket, sys
used = {int(p) for p in sys.argv[1:]}
for _ in range(200):
    port = random.randrange(20000, 32000)  # below the usual ephemeral range
    if port in used:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    sys.exit("no free port found")
EOF
  )" || die "could not probe a free port"
  USED_PORTS+=("$port")
  echo "$port"
}

# wait_http URL SECONDS [PID]: 200 within SECONDS, and PID (if given) still alive.
wait_http() {
  local url="$1" seconds="$2" pid="${3:-}" deadline code
  deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
    [[ "$code" == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# vmrss_kb PID: resident set size in kB from /proc/PID/status.
vmrss_kb() {
  awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks (getconf CLK_TCK).
cpu_ticks() {
  # Fields after the ")" of the command name: utime is the 12th, stime the 13th.
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# child_pids PID: direct children (nginx master → worker).
child_pids() {
  local f ppid
  for f in /proc/[0-9]*/stat; do
    ppid="$(awk '{print $4}' "$f" 2>/dev/null || true)"
    if [[ "$ppid" == "$1" ]]; then
      f="${f#/proc/}"
      echo "${f%/stat}"
    fi
  done
}

find_tidegate() {
  local c
  for c in "$REPO_DIR/build-bench/tidegate" "$REPO_DIR/build-bench/app/tidegate" \
    "$REPO_DIR/build/tidegate" "$REPO_DIR/build/app/tidegate"; do
    if [[ -x "$c" ]]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

# write_pages DIR: small.html (1 KiB), large.html (24 KiB), tiny.html (~100 B), each with <body>.
write_pages() {
  mkdir -p "$1"
  python3 - "$1" <<'EOF'
import sys, os
root = sys.argv[1]
def page(size, title):
    head = ('<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
            f'<title>{title}</title></head>\n<body class="shop">\n')
    tail = '</body>\n</html>\n'
    para = '<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.</p>\n'
    body = ''
    while len(head) + len(body) + len(para) + len(tail) <= size:
        body += para
    filler = size - len(head) - len(body) - len(tail)
    body += '<!--' + 'x' * max(filler - 8, 0) + '-->\n' if filler >= 8 else ' ' * filler
    text = head + body + tail
    assert len(text) == size, (len(text), size)
    return text
pages = {'small.html': page(1024, 'small'), 'large.html': page(24576, 'large'),
         'tiny.html': '<!DOCTYPE html>\n<html><head><title>t</title></head>\n<body>ok</body></html>\n'}
for name, text in pages.items():
    with open(os.path.join(root, name), 'w') as f:
        f.write(text)
EOF
}

nginx_common_head() {
  # $1 = dir
  local user_line=""
  [[ "$(id -u)" == 0 ]] && user_line="user root;"
  cat <<EOF
$user_line
worker_processes 1;
worker_rlimit_nofile ${NGINX_NOFILE:-4096};
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections ${NGINX_CONNECTIONS:-4096}; }
EOF
}

nginx_http_common() {
  # $1 = dir
  cat <<EOF
  access_log off;
  client_body_temp_path $1/tmp/body;
  proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi;
  scgi_temp_path $1/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
EOF
}

# write_nginx_origin DIR PORT WWW
write_nginx_origin() {
  mkdir -p "$1/tmp"
  {
    nginx_common_head "$1"
    cat <<EOF
http {
$(nginx_http_common "$1")
  types { text/html html; }
  default_type text/html;
  open_file_cache max=64 inactive=600s;
  server {
    listen 127.0.0.1:$2 backlog=4096;
    server_name origin;
    root $3;
    location / { }
  }
}
EOF
  } >"$1/nginx.conf"
}

# write_nginx_proxy DIR PORT ORIGIN_PORT
write_nginx_proxy() {
  mkdir -p "$1/tmp"
  {
    nginx_common_head "$1"
    cat <<EOF
http {
$(nginx_http_common "$1")
  upstream origin {
    server 127.0.0.1:$3;
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$2 backlog=4096;
    server_name proxy;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  } >"$1/nginx.conf"
}

# start_nginx NAME DIR: nginx in the foreground with its own prefix and config.
start_nginx() {
  start_bg "$1" ${PIN_SERVER[@]+"${PIN_SERVER[@]}"} nginx -p "$2" -e "$2/error.log" -c "$2/nginx.conf" -g 'daemon off;'
}

# write_haproxy FILE PORT ORIGIN_PORT MAXCONN
write_haproxy() {
  cat >"$1" <<EOF
global
  nbthread 1
  maxconn $4
  # HAProxy reserves ~2 descriptors per maxconn; a setrlimit it cannot get is a
  # warning, not a fatal error (the idle benchmark needs maxconn > limit / 2).
  no strict-limits

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-request 10s
  timeout http-keep-alive 300s

frontend fe
  bind 127.0.0.1:$2
  default_backend origin

backend origin
  server origin 127.0.0.1:$3
EOF
}

start_haproxy() {
  # $1 = name, $2 = config file
  start_bg "$1" ${PIN_SERVER[@]+"${PIN_SERVER[@]}"} haproxy -db -f "$2"
}

# write_tidegate FILE PORT ORIGIN_PORT ADMIN_PORT MAX_CONNECTIONS
write_tidegate() {
  cat >"$1" <<EOF
# Generated by benches/: one worker, no access log, upstream keep-alive.
[server]
listen = ["127.0.0.1:$2"]
workers = 1
max_connections = $5
keepalive_timeout = "300s"
access_log = ""
log_level = "warn"

[upstream]
servers = ["127.0.0.1:$3"]
keepalive = 64

[admin]
listen = "127.0.0.1:$4"
EOF
}

# write_tidegate_shipped DIR PORT ORIGIN_PORT ADMIN_PORT MAX_CONNECTIONS: the
# shipped conf.d copied into DIR, changed only where a benchmark must: the
# addresses (listen, upstream servers, admin), one worker (as the peers), and
# max_connections when the benchmark needs more than the default 10000. The
# access log, pool, rooms, features, banner and state file stay as shipped;
# the access log's stdout goes to $WORK/NAME.log (start_bg).
write_tidegate_shipped() {
  rm -rf "$1"
  mkdir -p "$1"
  cp "$REPO_DIR"/conf.d/*.toml "$1"/
  python3 - "$1" "$2" "$3" "$4" "$5" <<'PY'
import re, sys
folder, port, origin, admin, maxconn = sys.argv[1:]
def edit(name, pairs):
    path = f"{folder}/{name}"
    text = open(path).read()
    for pattern, repl in pairs:
        text, n = re.subn(pattern, repl, text, count=1, flags=re.M)
        if n != 1:
            sys.exit(f"{path}: no line matches {pattern!r} (conf.d changed?)")
    open(path, "w").write(text)
server = [(r'^listen = \[.*\]', f'listen = ["127.0.0.1:{port}"]'),
          (r'^workers = \d+', 'workers = 1')]
if int(maxconn) > 10000:
    server.append((r'^# max_connections += *\d+', f'max_connections = {maxconn}'))
edit("00-server.toml", server)
edit("10-upstream.toml", [(r'^servers = \[.*\]', f'servers = ["127.0.0.1:{origin}"]')])
edit("50-admin.toml", [(r'^listen = ".*"', f'listen = "127.0.0.1:{admin}"')])
PY
}

# tidegate_config_for DIR_OR_FILE_BASE …: writes the configuration start_proxy
# uses for tidegate, by $TIDEGATE_CONFIG: "shipped" (default; conf.d as
# shipped, see write_tidegate_shipped) or "tuned" (write_tidegate: no access
# log, keepalive = 64). Prints the path to pass to -c.
tidegate_config_for() {
  # $1 base path (without extension), $2 port, $3 origin port, $4 admin port, $5 max connections
  case "${TIDEGATE_CONFIG:-shipped}" in
    shipped)
      write_tidegate_shipped "$1.d" "$2" "$3" "$4" "$5" || die "cannot adapt conf.d"
      echo "$1.d"
      ;;
    tuned)
      write_tidegate "$1.toml" "$2" "$3" "$4" "$5"
      echo "$1.toml"
      ;;
    *) die "TIDEGATE_CONFIG must be shipped or tuned" ;;
  esac
}

start_tidegate() {
  # $1 = name, $2 = binary, $3 = config
  start_bg "$1" ${PIN_SERVER[@]+"${PIN_SERVER[@]}"} "$2" -c "$3"
}

# start_origin: the nginx origin serving write_pages' files from $WORK/www.
# Sets ORIGIN_PORT and ORIGIN_PID.
start_origin() {
  [[ -f "$WORK/www/tiny.html" ]] || write_pages "$WORK/www"
  ORIGIN_PORT="$(free_port)"
  mkdir -p "$WORK/origin"
  write_nginx_origin "$WORK/origin" "$ORIGIN_PORT" "$WORK/www"
  start_nginx origin "$WORK/origin"
  ORIGIN_PID="$LAST_PID"
  wait_http "http://127.0.0.1:$ORIGIN_PORT/tiny.html" 10 "$ORIGIN_PID" ||
    die "origin nginx did not start: $(cat "$WORK/origin.log" "$WORK/origin/error.log" 2>/dev/null)"
}

# start_proxy NAME MAXCONN: tidegate | nginx | haproxy in front of the origin
# ($ORIGIN_PORT), one worker/thread, on a free port; waits until it proxies
# /tiny.html with a 200. Needs $TIDEGATE for tidegate, $TIDEGATE_BASE for
# tidegate_base (a second binary to compare with). Sets PROXY_PORT, LAST_PID.
start_proxy() {
  PROXY_PORT="$(free_port)"
  case "$1" in
    tidegate)
      local conf admin_port
      admin_port="$(free_port)"
      conf="$(tidegate_config_for "$WORK/tidegate" "$PROXY_PORT" "$ORIGIN_PORT" "$admin_port" "$2")" ||
        die "cannot write the tidegate configuration"
      start_tidegate tidegate "$TIDEGATE" "$conf"
      ;;
    tidegate_base)
      # A second tidegate binary (run_passthrough.sh --baseline), same configuration.
      local conf admin_port
      admin_port="$(free_port)"
      conf="$(tidegate_config_for "$WORK/tidegate_base" "$PROXY_PORT" "$ORIGIN_PORT" "$admin_port" "$2")" ||
        die "cannot write the tidegate configuration"
      start_tidegate tidegate_base "$TIDEGATE_BASE" "$conf"
      ;;
    nginx)
      mkdir -p "$WORK/nginx-proxy"
      write_nginx_proxy "$WORK/nginx-proxy" "$PROXY_PORT" "$ORIGIN_PORT"
      start_nginx nginx "$WORK/nginx-proxy"
      ;;
    haproxy)
      write_haproxy "$WORK/haproxy.cfg" "$PROXY_PORT" "$ORIGIN_PORT" "$2"
      start_haproxy haproxy "$WORK/haproxy.cfg"
      ;;
    *) die "unknown proxy: $1" ;;
  esac
  wait_http "http://127.0.0.1:$PROXY_PORT/tiny.html" 15 "$LAST_PID" ||
    die "$1 did not start or does not proxy: $(tail -n 20 "$WORK/$1.log")"
}

# holder_pid NAME PID: the process that holds the client connections — nginx's
# single worker (a child of the master we started), else PID itself.
holder_pid() {
  local children
  if [[ "$1" == nginx || "$1" == origin ]]; then
    mapfile -t children < <(child_pids "$2")
    ((${#children[@]} == 1)) || die "expected one nginx worker under $2, found ${#children[@]}"
    echo "${children[0]}"
  else
    echo "$2"
  fi
}

tool_versions() {
  echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //')"
  echo "haproxy: $(haproxy -v 2>&1 | head -1)"
  echo "wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
}

# The commit measured: $BENCH_COMMIT when the binary was built from another tree
# (e.g. a `git archive` of a commit), else the repository's HEAD.
bench_commit() {
  if [[ -n "${BENCH_COMMIT:-}" ]]; then
    echo "$BENCH_COMMIT"
  else
    git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown
  fi
}

machine_info() {
  echo "nproc: $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "kernel: $(uname -srm)"
}
