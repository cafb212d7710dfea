#!/usr/bin/env bash
# Surge simulation: a shop with a fixed capacity meets ~10x more shoppers than
# it can serve, three ways in the same run:
#   direct    the shoppers hit the demo shop itself (no proxy);
#   haproxy   HAProxy in front, `maxconn CAPACITY` on the server (requests
#             queue inside HAProxy);
#   tidegate  tidegate in front with a waiting room (mode auto, limits derived
#             from the capacity) — skipped, with a clear message, for a
#             binary without one (/.tidegate/queue answers 404).
# "Limits guessed wrong" (--scenario guessed-wrong, issue 13): the same room
# with its limits ten times too high and ten times too low, with
# auto-protection ([rooms.shop.protect]) on, beside the correctly configured
# room and HAProxy maxconn:
#   tidegate_high      limits x10, protection on (the controller finds the shop's capacity)
#   tidegate_high_off  limits x10, protection off (what the merchant's guess does alone)
#   tidegate_low       limits /10, protection on (the ceiling is the merchant's: stays low)
# The demo shop runs in capacity mode (demo/capacity.h); benches/surge/shoppers.py
# simulates the shoppers (cookies, queue polling, home → product → cart →
# checkout with think times). Prints a Markdown table, writes per-second CSVs,
# JSON summaries and a PNG plot (gnuplot) into --out.
#
# See benches/README.md ("Surge simulation").
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: $0 [options]
  --capacity N        shop workers (concurrent requests) (default 10)
  --service-time MS   milliseconds per request (default 100)
  --factor F          arrivals = F x the visits per second the shop can serve (default 10)
  --duration S        seconds of arrivals per set-up (default 60)
  --drain S           seconds left to shoppers inside after arrivals stop (default 30)
  --setups LIST       comma-separated subset of direct,haproxy,tidegate,tidegate_high,
                      tidegate_high_off,tidegate_low (default direct,haproxy,tidegate)
  --scenario NAME     guessed-wrong: setups haproxy,tidegate,tidegate_high,
                      tidegate_high_off,tidegate_low (unless --setups is given)
  --target-latency MS [rooms.shop.protect] target_latency (default 3 x service time)
  --tidegate PATH     tidegate binary (default: build-bench, build, build-ops …)
  --demo PATH         demo_shop binary (default: the first with --capacity support)
  --out DIR           results directory (default /tmp/tidegate-surge-YYYYmmdd-HHMMSS)
  --max-time S        hard time limit for the whole script (default: computed)
EOF
}

CAPACITY=10
SERVICE_MS=100
FACTOR=10
DURATION=60
DRAIN=30
SETUPS=""
SCENARIO=""
TARGET_LATENCY_MS=""
TIDEGATE=""
DEMO=""
OUT=""
MAX_TIME=""
# A visit = 5 shop requests (home, product, POST cart, checkout form, POST checkout).
readonly REQUESTS_PER_VISIT=5
# Mean think time between pages (shoppers.py --think 0.5 1.5), seconds.
readonly THINK_MEAN=1

while (($#)); do
  case "$1" in
    --capacity) CAPACITY="$2"; shift 2 ;;
    --service-time) SERVICE_MS="${2%ms}"; shift 2 ;;
    --factor) FACTOR="$2"; shift 2 ;;
    --duration) DURATION="${2%s}"; shift 2 ;;
    --drain) DRAIN="${2%s}"; shift 2 ;;
    --setups) SETUPS="$2"; shift 2 ;;
    --scenario) SCENARIO="$2"; shift 2 ;;
    --target-latency) TARGET_LATENCY_MS="${2%ms}"; shift 2 ;;
    --tidegate) TIDEGATE="$2"; shift 2 ;;
    --demo) DEMO="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --max-time) MAX_TIME="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

case "$SCENARIO" in
  "") [[ -n "$SETUPS" ]] || SETUPS="direct,haproxy,tidegate" ;;
  guessed-wrong)
    [[ -n "$SETUPS" ]] || SETUPS="haproxy,tidegate,tidegate_high,tidegate_high_off,tidegate_low"
    ;;
  *) die "unknown scenario: $SCENARIO (known: guessed-wrong)" ;;
esac
[[ -n "$TARGET_LATENCY_MS" ]] || TARGET_LATENCY_MS=$((3 * SERVICE_MS))

for v in CAPACITY SERVICE_MS FACTOR DURATION DRAIN TARGET_LATENCY_MS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "${v,,} must be a positive integer (got '${!v}')"
done
IFS=, read -r -a SETUP_LIST <<<"$SETUPS"
for s in "${SETUP_LIST[@]}"; do
  [[ "$s" =~ ^(direct|haproxy|tidegate|tidegate_high|tidegate_high_off|tidegate_low)$ ]] ||
    die "unknown set-up: $s"
done
for tool in haproxy curl python3 awk; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

if [[ -z "$DEMO" ]]; then
  for c in "$REPO_DIR"/build-bench/demo/demo_shop "$REPO_DIR"/build/demo/demo_shop \
    "$REPO_DIR"/build-*/demo/demo_shop; do
    if [[ -x "$c" ]] && { "$c" --help 2>&1 || true; } | grep -q -- --capacity; then
      DEMO="$c"
      break
    fi
  done
  [[ -n "$DEMO" ]] || die "no demo_shop with --capacity found; build the demo_shop target"
fi
if [[ ",$SETUPS," == *,tidegate* && -z "$TIDEGATE" ]]; then
  TIDEGATE="$(find_tidegate || true)"
  [[ -n "$TIDEGATE" ]] || TIDEGATE="$(ls "$REPO_DIR"/build-*/app/tidegate 2>/dev/null | head -n 1)"
  [[ -n "$TIDEGATE" ]] || die "no tidegate binary found; use --tidegate PATH"
fi

# Derived figures (integer arithmetic).
SHOP_RPS=$((CAPACITY * 1000 / SERVICE_MS))                        # requests/s at capacity
VISITS_PER_MIN=$((SHOP_RPS * 60 / REQUESTS_PER_VISIT))            # visits/min at capacity
RATE=$(awk -v v="$VISITS_PER_MIN" -v f="$FACTOR" 'BEGIN { printf "%.2f", v * f / 60 }')
NEW_PER_MIN=$((VISITS_PER_MIN * 8 / 10))
# Shoppers inside at capacity ≈ visits/s × visit length (4 think times + 5 requests).
VISIT_MS=$((4 * THINK_MEAN * 1000 + REQUESTS_PER_VISIT * SERVICE_MS))
TOTAL_ACTIVE=$((VISITS_PER_MIN * VISIT_MS / 60000 * 8 / 10))
((TOTAL_ACTIVE >= 1)) || TOTAL_ACTIVE=1
BACKLOG=$((CAPACITY * 20))

PER_SETUP=$((DURATION + DRAIN + 100))
[[ -n "$MAX_TIME" ]] || MAX_TIME=$((${#SETUP_LIST[@]} * PER_SETUP + 60))
[[ -n "$OUT" ]] || OUT="/tmp/tidegate-surge-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"

bench_init surge
start_watchdog "$MAX_TIME"
# Every shopper holds a connection (and one more on a proxy).
ulimit -n "$(ulimit -H -n)" 2>/dev/null || true
MAX_SHOPPERS=$(($(ulimit -n) / 2 - 100))
((MAX_SHOPPERS > 100)) || die "ulimit -n is too low ($(ulimit -n))"
((MAX_SHOPPERS <= 20000)) || MAX_SHOPPERS=20000

log "shop: $CAPACITY workers x ${SERVICE_MS} ms = $SHOP_RPS req/s = $VISITS_PER_MIN visits/min;" \
  "backlog $BACKLOG, max wait 10 s"
log "shoppers: $RATE arrivals/s (${FACTOR}x) for ${DURATION} s, drain ${DRAIN} s"
log "room: new_users_per_minute $NEW_PER_MIN, total_active_users $TOTAL_ACTIVE" \
  "(x10 / 10 in tidegate_high* / tidegate_low; protection target ${TARGET_LATENCY_MS} ms)"
log "results in $OUT"

fill() { # fill TEMPLATE OUT KEY=VALUE…
  local template="$1" out="$2" text kv
  shift 2
  text="$(cat "$template")"
  for kv in "$@"; do
    text="${text//@${kv%%=*}@/${kv#*=}}"
  done
  printf '%s\n' "$text" >"$out"
}

start_shop() {
  SHOP_PORT="$(free_port)"
  start_bg "shop-$1" "$DEMO" --listen "127.0.0.1:$SHOP_PORT" --capacity "$CAPACITY" \
    --service-time "${SERVICE_MS}ms" --backlog "$BACKLOG" --max-wait 10s
  SHOP_PID="$LAST_PID"
  wait_http "http://127.0.0.1:$SHOP_PORT/health" 15 "$SHOP_PID" ||
    die "demo_shop did not start: $(tail -n 5 "$WORK/shop-$1.log")"
}

run_shoppers() { # run_shoppers LABEL PORT [TARGET_PER_MIN]
  local label="$1" port="$2" target="${3:-}" extra=()
  [[ -z "$target" ]] || extra=(--target-per-min "$target")
  log "[$label] $RATE shoppers/s for ${DURATION} s …"
  timeout --signal=TERM $((DURATION + DRAIN + 90)) python3 "$BENCH_DIR/surge/shoppers.py" \
    --port "$port" --rate "$RATE" --duration "$DURATION" --drain "$DRAIN" \
    --max-shoppers "$MAX_SHOPPERS" --label "$label" --csv "$OUT/$label.csv" \
    --summary-json "$OUT/$label.json" "${extra[@]}" | tee "$OUT/$label.txt" >&2 ||
    die "[$label] the load generator failed"
}

SKIPPED=()
for setup in "${SETUP_LIST[@]}"; do
  case "$setup" in
    direct)
      start_shop direct
      run_shoppers direct "$SHOP_PORT"
      stop_bg "$SHOP_PID"
      ;;
    haproxy)
      start_shop haproxy
      PROXY_PORT="$(free_port)"
      fill "$BENCH_DIR/surge/haproxy.cfg.in" "$WORK/haproxy.cfg" PORT="$PROXY_PORT" \
        ORIGIN_PORT="$SHOP_PORT" CAPACITY="$CAPACITY" QUEUE_TIMEOUT=10s
      start_bg haproxy haproxy -db -f "$WORK/haproxy.cfg"
      HAPROXY_PID="$LAST_PID"
      wait_http "http://127.0.0.1:$PROXY_PORT/health" 15 "$HAPROXY_PID" ||
        die "haproxy did not start: $(tail -n 5 "$WORK/haproxy.log")"
      run_shoppers haproxy "$PROXY_PORT"
      stop_bg "$HAPROXY_PID"
      stop_bg "$SHOP_PID"
      ;;
    tidegate*)
      # The room's limits for this set-up, and its protection.
      room_active="$TOTAL_ACTIVE" room_new="$NEW_PER_MIN" protect=""
      case "$setup" in
        tidegate_high | tidegate_high_off)
          room_active=$((TOTAL_ACTIVE * 10))
          room_new=$((NEW_PER_MIN * 10))
          ;;
        tidegate_low)
          room_active=$((TOTAL_ACTIVE / 10))
          room_new=$((NEW_PER_MIN / 10))
          ;;
      esac
      ((room_active >= 1)) || room_active=1
      ((room_new >= 1)) || room_new=1
      if [[ "$setup" == tidegate_high || "$setup" == tidegate_low ]]; then
        protect=$'[rooms.shop.protect]\nenabled = true\n'
        protect+="target_latency = \"${TARGET_LATENCY_MS}ms\""$'\nmax_error_rate = 0.01'
      fi
      # Each set-up starts with an empty room: the local state file lives
      # beside the config ($WORK/state) and would carry the previous set-up's
      # tickets and sessions into this one.
      rm -rf "$WORK/state"
      start_shop "$setup"
      PROXY_PORT="$(free_port)"
      ADMIN_PORT="$(free_port)"
      mkdir -p "$WORK/keys"
      head -c 32 /dev/urandom | base64 >"$WORK/keys/k1"
      chmod 600 "$WORK/keys/k1"
      fill "$BENCH_DIR/surge/tidegate.toml.in" "$WORK/$setup.toml" PORT="$PROXY_PORT" \
        ORIGIN_PORT="$SHOP_PORT" ADMIN_PORT="$ADMIN_PORT" WORK="$WORK" \
        TOTAL_ACTIVE="$room_active" NEW_PER_MIN="$room_new" PROTECT="$protect"
      "$TIDEGATE" -c "$WORK/$setup.toml" --check >&2 || die "generated tidegate config refused"
      start_bg "$setup" "$TIDEGATE" -c "$WORK/$setup.toml"
      TIDEGATE_PID="$LAST_PID"
      wait_http "http://127.0.0.1:$PROXY_PORT/.tidegate/health" 15 "$TIDEGATE_PID" ||
        die "tidegate did not start: $(tail -n 5 "$WORK/$setup.log")"
      queue_code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        "http://127.0.0.1:$PROXY_PORT/.tidegate/queue" || true)"
      if [[ "$queue_code" == 404 ]]; then
        last_queue_commit="$(git -C "$REPO_DIR" log -1 --format='%h %s' -- queue/ 2>/dev/null || true)"
        log "[$setup] SKIPPED: the waiting room is not built into $TIDEGATE" \
          "(/.tidegate/queue answers 404; last queue/ commit: ${last_queue_commit:-none})"
        SKIPPED+=("$setup")
      else
        # The admission target the shoppers compare with is the room's.
        run_shoppers "$setup" "$PROXY_PORT" "$room_new"
        # What the controller ended with (protection gauges; /metrics is
        # open on loopback).
        curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
          grep -E '^tidegate_room_(protect|effective)' >"$OUT/$setup.metrics.txt" || true
      fi
      stop_bg "$TIDEGATE_PID"
      stop_bg "$SHOP_PID"
      ;;
  esac
done

# Markdown summary on stdout.
python3 - "$OUT" "${SETUP_LIST[@]}" <<'EOF'
import json, os, sys
out, setups = sys.argv[1], sys.argv[2:]
cols = [("arrivals", "shoppers"), ("admitted", "admitted"), ("origin_errors", "origin 5xx"),
        ("origin_error_pct", "5xx %"), ("timeouts", "timeouts"),
        ("latency_p50_ms", "p50 ms"), ("latency_p99_ms", "p99 ms (admitted)"),
        ("checkouts_per_min", "checkouts/min"),
        ("admission_per_min_while_queued", "admitted/min while queued"),
        ("target_admission_per_min", "target/min"), ("queue_wait_p50_s", "queue wait p50 s"),
        ("eta_abs_error_p50_s", "ETA |err| p50 s"), ("eta_in_range_pct", "wait in ETA range %")]
print("| set-up | " + " | ".join(c[1] for c in cols) + " |")
print("|---|" + "---|" * len(cols))
for s in setups:
    path = os.path.join(out, s + ".json")
    if not os.path.exists(path):
        print(f"| {s} | " + " | ".join(["skipped"] + [""] * (len(cols) - 1)) + " |")
        continue
    d = json.load(open(path))
    cell = lambda v: "n/a" if v is None else str(v)
    print(f"| {s} | " + " | ".join(cell(d.get(k)) for k, _ in cols) + " |")

# "Limits guessed wrong" targets (issue 13): with limits ten times too high
# and protection on, >= 90 % of the correctly configured room's checkouts
# per minute and <= 1 % origin errors.
def load(s):
    path = os.path.join(out, s + ".json")
    return json.load(open(path)) if os.path.exists(path) else None
right, high = load("tidegate"), load("tidegate_high")
if right and high and right.get("checkouts_per_min"):
    share = 100.0 * (high.get("checkouts_per_min") or 0) / right["checkouts_per_min"]
    errors = high.get("origin_error_pct") or 0
    print()
    print(f"limits x10 with protection: {share:.0f} % of the correct room's checkouts/min "
          f"(target >= 90 %), origin errors {errors} % (target <= 1 %)")
EOF

if command -v gnuplot >/dev/null; then
  files=""
  for s in "${SETUP_LIST[@]}"; do
    [[ -s "$OUT/$s.csv" ]] && files+="$OUT/$s.csv "
  done
  if [[ -n "$files" ]]; then
    gnuplot -e "files='${files% }'; out='$OUT/surge.png'; capacity_rps=$SHOP_RPS" \
      "$BENCH_DIR/surge/plot.gp" && log "plot: $OUT/surge.png"
  fi
else
  log "gnuplot is not installed (Debian package gnuplot-nox): no plot"
fi
((${#SKIPPED[@]} == 0)) || log "skipped: ${SKIPPED[*]} (see above)"
log "results in $OUT"
