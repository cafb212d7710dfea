#!/usr/bin/env bash
# Banner injection: tidegate against nginx sub_filter, in the same run.
#
# One nginx origin serves large.html (24 KiB, <body class="shop">) and a
# 50 MB HTML page, gzip-encoded when asked (gzip_comp_level 1). In front of
# it, ONE worker each:
#   tidegate  [banner] enabled, its default `compressed` (since issue 15
#             "compress": identity from the origin, gzip level recode_level
#             = 1 towards the client, like nginx; a --baseline binary uses
#             its own default, "recode" before that)
#   nginx     proxy_pass + sub_filter '<body class="shop">' '<body class="shop">BANNER'
#             (Accept-Encoding "" towards the origin, as sub_filter needs;
#             `gzip on; gzip_comp_level 1` towards the client in the gzip case)
# wrk -t1 -cC runs each (target, encoding) in interleaved rounds; medians and
# tidegate/nginx ratios are printed as Markdown, with the CPU per request of
# the proxy, of its origin and of wrk itself: on a machine where the three
# share the cores, req/s follows their sum, not the proxy's CPU alone.
# --baseline PATH adds a second tidegate (another build, same config) to the
# same interleaved rounds, to measure a change against its parent. Then tidegate's RSS is
# sampled while one client streams the 50 MB page through the banner filter.
# Every process is started here on free loopback ports and stopped by the
# EXIT trap (benches/lib.sh).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=3
DURATION=4
CONNECTIONS=64
TIDEGATE=""
BASELINE=""
STREAM=1
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="${2%s}"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --baseline) BASELINE="$2"; shift 2 ;;
    --no-stream) STREAM=0; shift ;;  # skip the 50 MB streaming RSS check (benches/run_targets.sh)
    -h | --help)
      echo "usage: $0 [--rounds N] [--duration S] [--connections C] [--tidegate PATH] [--baseline PATH] [--no-stream]"
      exit 0
      ;;
    *) die "unknown argument: $1" ;;
  esac
done
for tool in nginx wrk curl python3 awk; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -n "$TIDEGATE" ]] || TIDEGATE="$(find_tidegate)" || die "no tidegate binary; pass --tidegate"

bench_init banner
start_watchdog $((ROUNDS * 6 * (DURATION + 3) + 180))

BANNER='<div class="tidegate-banner tidegate-banner--warning" role="status" lang="en" data-tidegate-banner><link rel="stylesheet" href="/.tidegate/assets/banner.css"><p class="tidegate-banner__message">We are seeing very high demand. Orders are safe.</p></div>'

write_pages "$WORK/www"
((STREAM)) && python3 - "$WORK/www/big.html" <<'EOF'
import sys
line = '<p>The tide waits for no one; neither does a shopper at checkout.</p>\n'
with open(sys.argv[1], 'w') as f:
    f.write('<!DOCTYPE html>\n<html><head><title>big</title></head>\n<body class="shop">\n')
    f.write(line * (50 * 1024 * 1024 // len(line)))
    f.write('</body></html>\n')
EOF

# Origin: static files, gzip when the client asks.
ORIGIN_PORT="$(free_port)"
mkdir -p "$WORK/origin/tmp"
{
  nginx_common_head "$WORK/origin"
  cat <<EOF
http {
$(nginx_http_common "$WORK/origin")
  types { text/html html; }
  default_type text/html;
  # gzip_proxied: tidegate's requests carry Via, which nginx otherwise never compresses.
  gzip on; gzip_comp_level 1; gzip_min_length 0; gzip_types text/html; gzip_proxied any;
  server {
    listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
    root $WORK/www;
    location / { }
  }
}
EOF
} >"$WORK/origin/nginx.conf"
start_nginx origin "$WORK/origin"
ORIGIN_PID="$LAST_PID"
wait_http "http://127.0.0.1:$ORIGIN_PORT/tiny.html" 10 "$LAST_PID" || die "origin did not start"

# nginx with sub_filter (+ gzip towards the client when it asks).
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/nginx/tmp"
{
  nginx_common_head "$WORK/nginx"
  cat <<EOF
http {
$(nginx_http_common "$WORK/nginx")
  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 64; }
  gzip on; gzip_comp_level 1; gzip_min_length 0; gzip_types text/html;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Accept-Encoding "";
      sub_filter '<body class="shop">' '<body class="shop">$BANNER';
      sub_filter_once on;
    }
  }
}
EOF
} >"$WORK/nginx/nginx.conf"
start_nginx nginx "$WORK/nginx"
NGINX_PID="$LAST_PID"
wait_http "http://127.0.0.1:$NGINX_PORT/tiny.html" 10 "$NGINX_PID" || die "nginx did not start"

TG_PORT="$(free_port)"
write_tidegate "$WORK/tidegate.toml" "$TG_PORT" "$ORIGIN_PORT" "$(free_port)" 10000
cat >>"$WORK/tidegate.toml" <<EOF

[banner]
enabled = true
message = "We are seeing very high demand. Orders are safe."
severity = "warning"
recode_level = 1
EOF
start_tidegate tidegate "$TIDEGATE" "$WORK/tidegate.toml"
TG_PID="$LAST_PID"
wait_http "http://127.0.0.1:$TG_PORT/tiny.html" 15 "$TG_PID" || die "tidegate did not start: $(tail "$WORK/tidegate.log")"
TARGETS=(tidegate nginx)
if [[ -n "$BASELINE" ]]; then
  BASE_PORT="$(free_port)"
  sed -e "s/127.0.0.1:$TG_PORT/127.0.0.1:$BASE_PORT/" \
    -e "s/^listen = \"127.0.0.1:[0-9]*\"$/listen = \"127.0.0.1:$(free_port)\"/" \
    "$WORK/tidegate.toml" >"$WORK/baseline.toml"
  start_tidegate baseline "$BASELINE" "$WORK/baseline.toml"
  BASE_PID="$LAST_PID"
  wait_http "http://127.0.0.1:$BASE_PORT/tiny.html" 15 "$BASE_PID" || die "baseline did not start"
  TARGETS=(tidegate baseline nginx)
fi

port_of() {
  case "$1" in
    tidegate) echo "$TG_PORT" ;;
    baseline) echo "$BASE_PORT" ;;
    *) echo "$NGINX_PORT" ;;
  esac
}
pid_of() {
  case "$1" in
    tidegate) echo "$TG_PID" ;;
    baseline) echo "$BASE_PID" ;;
    *) holder_pid nginx "$NGINX_PID" ;;
  esac
}

# Each inserts exactly one banner, identity and gzip; each answers gzip when asked.
for t in "${TARGETS[@]}"; do
  ce="$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "http://127.0.0.1:$(port_of "$t")/large.html" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-encoding" {print $2}')"
  [[ "$ce" == gzip ]] || die "$t: no gzip answer to Accept-Encoding: gzip (got '$ce')"
  n="$(curl -s "http://127.0.0.1:$(port_of "$t")/large.html" | grep -o 'data-tidegate-banner' | wc -l)"
  [[ "$n" == 1 ]] || die "$t: $n banners in large.html (identity)"
  n="$(curl -s --compressed -H 'Accept-Encoding: gzip' "http://127.0.0.1:$(port_of "$t")/large.html" | grep -o 'data-tidegate-banner' | wc -l)"
  [[ "$n" == 1 ]] || die "$t: $n banners in large.html (gzip)"
done

RAW="$WORK/raw.csv"
# The origin's CPU per request too: behind nginx (and tidegate's "compress")
# it serves identity, behind a recoding tidegate it gzips every page.
ORIGIN_WORKER="$(holder_pid origin "$ORIGIN_PID")"
echo "round,encoding,target,rps,p99_ms,cpu_us_per_req,origin_cpu_us_per_req,wrk_cpu_us_per_req" >"$RAW"
for ((r = 1; r <= ROUNDS; r++)); do
  for enc in identity gzip; do
    order=("${TARGETS[@]}")
    ((r % 2 == 0)) && order=($(printf '%s\n' "${TARGETS[@]}" | tac))
    for t in "${order[@]}"; do
      hdr=()
      [[ "$enc" == gzip ]] && hdr=(-H "Accept-Encoding: gzip")
      pid="$(pid_of "$t")"
      c0="$(cpu_ticks "$pid")"
      o0="$(cpu_ticks "$ORIGIN_WORKER")"
      /usr/bin/time -f '%U %S' -o "$WORK/wrk.time" wrk -t1 -c"$CONNECTIONS" -d"$DURATION"s --latency "${hdr[@]}" \
        "http://127.0.0.1:$(port_of "$t")/large.html" >"$WORK/wrk.txt" 2>&1 || die "wrk failed: $(cat "$WORK/wrk.txt")"
      c1="$(cpu_ticks "$pid")"
      o1="$(cpu_ticks "$ORIGIN_WORKER")"
      grep -q "Non-2xx\|Socket errors" "$WORK/wrk.txt" && log "warning: $t $enc: $(grep 'Non-2xx\|Socket errors' "$WORK/wrk.txt")"
      rps="$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.txt")"
      reqs="$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")"
      p99="$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$WORK/wrk.txt")"
      cpu="$(awk -v t0="$c0" -v t1="$c1" -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (t1 - t0) / hz * 1e6 / n}')"
      ocpu="$(awk -v t0="$o0" -v t1="$o1" -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (t1 - t0) / hz * 1e6 / n}')"
      wcpu="$(awk -v n="$reqs" '{printf "%.1f", ($1 + $2) * 1e6 / n}' "$WORK/wrk.time")"
      echo "$r,$enc,$t,$rps,$p99,$cpu,$ocpu,$wcpu" >>"$RAW"
      log "round $r $enc $t: $rps req/s, p99 $p99 ms, $cpu us CPU/req"
    done
  done
done

# RSS while streaming 50 MB through the banner filter (identity, then gzip).
rss_run() {
  local hdr=() peak=0 v base
  [[ "$1" == gzip ]] && hdr=(-H "Accept-Encoding: gzip")
  base="$(vmrss_kb "$TG_PID")"
  curl -s "${hdr[@]}" --limit-rate 100M -o "$WORK/big.out" "http://127.0.0.1:$TG_PORT/big.html" &
  local cpid=$!
  while kill -0 "$cpid" 2>/dev/null; do
    v="$(vmrss_kb "$TG_PID")"
    ((v > peak)) && peak=$v
    sleep 0.1
  done
  wait "$cpid" || die "curl of big.html failed"
  local banners
  if [[ "$1" == gzip ]]; then
    # (gzip is cut off by head: its SIGPIPE is expected)
    banners="$( (gzip -dc "$WORK/big.out" 2>/dev/null || true) | head -c 4096 | grep -o 'data-tidegate-banner' | wc -l)"
  else
    banners="$(head -c 4096 "$WORK/big.out" | grep -o 'data-tidegate-banner' | wc -l)"
  fi
  echo "| 50 MB page, $1 | $base | $peak | $((peak - base)) | $(stat -c %s "$WORK/big.out") | $banners |"
}

echo
echo "## Banner: tidegate vs nginx sub_filter ($(bench_commit), $(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "24 KiB page, wrk -t1 -c$CONNECTIONS -d${DURATION}s, $ROUNDS interleaved rounds, medians; one worker each."
echo
python3 - "$RAW" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
keys = ("rps", "p99_ms", "cpu_us_per_req", "origin_cpu_us_per_req", "wrk_cpu_us_per_req")
for enc in ("identity", "gzip"):
    for t in dict.fromkeys(r["target"] for r in rows):
        sel = [r for r in rows if r["encoding"] == enc and r["target"] == t]
        med[enc, t] = {k: statistics.median(float(r[k]) for r in sel) for k in keys}
print("| encoding | target | req/s | p99 ms | CPU µs/req | its origin's CPU µs/req | wrk's CPU µs/req |")
print("|---|---|---|---|---|---|---|")
for (enc, t), m in med.items():
    print(f"| {enc} | {t} | {m['rps']:.0f} | {m['p99_ms']:.2f} | {m['cpu_us_per_req']:.1f} | {m['origin_cpu_us_per_req']:.1f} | {m['wrk_cpu_us_per_req']:.1f} |")
print()
print("| encoding | tidegate/nginx req/s | nginx/tidegate CPU per request | same, proxy + its origin |")
print("|---|---|---|---|")
for enc in ("identity", "gzip"):
    a, b = med[enc, "tidegate"], med[enc, "nginx"]
    both = lambda m: m['cpu_us_per_req'] + m['origin_cpu_us_per_req']
    print(f"| {enc} | {a['rps'] / b['rps']:.2f}x | {b['cpu_us_per_req'] / a['cpu_us_per_req']:.2f}x | {both(b) / both(a):.2f}x |")
if any(t == "baseline" for (_, t) in med):
    print()
    print("| encoding | tidegate/baseline req/s | tidegate/baseline CPU per request |")
    print("|---|---|---|")
    for enc in ("identity", "gzip"):
        a, b = med[enc, "tidegate"], med[enc, "baseline"]
        print(f"| {enc} | {a['rps'] / b['rps']:.2f}x | {a['cpu_us_per_req'] / b['cpu_us_per_req']:.2f}x |")
EOF
((STREAM)) || exit 0
echo
echo "| streaming | RSS before (kB) | peak RSS (kB) | growth (kB) | bytes received | banners |"
echo "|---|---|---|---|---|---|"
rss_run identity
rss_run gzip
