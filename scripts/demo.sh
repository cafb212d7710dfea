#!/usr/bin/env bash
# The demo: installs what is missing, builds the release build, then runs
# demo_shop on 127.0.0.1:9000 and tidegate (configured by conf.d/) on
# 127.0.0.1:8080 in front of it, until Ctrl-C.
#
#   sudo bash scripts/demo.sh      (or: bash scripts/demo.sh as root)
#
# Both processes are stopped when this script exits, however it exits.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SHOP_ADDR=127.0.0.1
readonly SHOP_PORT=9000
readonly PROXY_ADDR=127.0.0.1
readonly PROXY_PORT=8080
readonly STARTUP_SECONDS=15

shop_pid=""
proxy_pid=""
run_dir="$(mktemp -d "${TMPDIR:-/tmp}/tidegate-demo.XXXXXX")"

stop_all() {
  local pid
  for pid in "$proxy_pid" "$shop_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in "$proxy_pid" "$shop_pid"; do
    [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$run_dir"
}
trap stop_all EXIT
trap 'echo; echo "demo: stopping"; exit 0' INT TERM

die() {
  echo "demo: $*" >&2
  exit 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" release

shop_bin="$root/build/demo/demo_shop"
proxy_bin="$root/build/tidegate"
[[ -x "$shop_bin" ]] || die "$shop_bin was not built"
[[ -x "$proxy_bin" ]] || proxy_bin="$root/build/app/tidegate"
[[ -x "$proxy_bin" ]] || die "the tidegate binary was not built"

port_in_use "$SHOP_PORT" && die "port $SHOP_PORT is taken (the demo shop needs it); stop whatever listens there"
port_in_use "$PROXY_PORT" && die "port $PROXY_PORT is taken (tidegate needs it, see conf.d/00-server.toml); stop whatever listens there"

"$proxy_bin" -c "$root/conf.d" --check >/dev/null || die "conf.d does not validate (see above)"

# A demo operator, for this run only: a copy of conf.d plus a random admin
# token and a signing key (conf.d itself ships without secrets), so that
# `tidegate ctl` can switch checkout off, set the banner or start the queue
# while you browse.
demo_conf="$run_dir/conf.d"
cp -r "$root/conf.d" "$demo_conf"
rm -f "$demo_conf/audit.log"
mkdir -p "$demo_conf/keys"
head -c 32 /dev/urandom | base64 | tr -d '\n' >"$run_dir/ops.token"
head -c 48 /dev/urandom | base64 >"$demo_conf/keys/demo"
token_sha="$(sha256sum <"$run_dir/ops.token" | cut -d' ' -f1)"
cat >"$demo_conf/99-demo-operator.toml" <<EOF
# Written by scripts/demo.sh for one demo run; never use this in production.
[admin]
tokens = [{ name = "demo-operator", token_sha256 = "$token_sha", role = "operator" }]

[secrets]
token_keys = [{ id = "demo", secret_file = "keys/demo" }]
EOF
"$proxy_bin" -c "$demo_conf" --check >/dev/null || die "the demo configuration does not validate (see above)"

# demo_shop prints "demo_shop listening on HOST:PORT" once it accepts.
"$shop_bin" --listen "$SHOP_ADDR:$SHOP_PORT" >"$run_dir/shop.out" 2>"$run_dir/shop.err" &
shop_pid=$!
for ((i = 0; i < STARTUP_SECONDS * 10; i++)); do
  grep -q '^demo_shop listening on ' "$run_dir/shop.out" && break
  kill -0 "$shop_pid" 2>/dev/null || die "demo_shop did not start: $(cat "$run_dir/shop.err")"
  sleep 0.1
done
grep -q '^demo_shop listening on ' "$run_dir/shop.out" || die "demo_shop did not start within ${STARTUP_SECONDS}s"
echo "demo: $(head -n 1 "$run_dir/shop.out")"

# tidegate logs to stdout (access log) and stderr (error log): show both.
(cd "$root" && exec "$proxy_bin" -c "$demo_conf") &
proxy_pid=$!
for ((i = 0; i < STARTUP_SECONDS * 10; i++)); do
  port_in_use "$PROXY_PORT" && break
  kill -0 "$proxy_pid" 2>/dev/null || die "tidegate did not start (see its messages above)"
  sleep 0.1
done
port_in_use "$PROXY_PORT" || die "tidegate is not listening on $PROXY_PORT after ${STARTUP_SECONDS}s"

echo
echo "Open http://$PROXY_ADDR:$PROXY_PORT/"
echo "(the shop itself is on http://$SHOP_ADDR:$SHOP_PORT/; press Ctrl-C to stop both)"
echo
echo "Try the operator side in another terminal:"
echo "  export TIDEGATE_ADMIN_TOKEN_FILE=$run_dir/ops.token"
echo "  $proxy_bin ctl maintenance on checkout --message \"Checkout is paused for a few minutes.\" --until 10m"
echo "  $proxy_bin ctl banner set --severity warning --message \"We are seeing high demand.\" --next-update 30m"
echo "  $proxy_bin ctl room set shop mode=queue_all new_users_per_minute=6"
echo "  $proxy_bin ctl state"
echo "and see http://$PROXY_ADDR:$PROXY_PORT/.tidegate/status"
echo

# Run until Ctrl-C or until one of the two stops on its own.
status=0
wait -n "$shop_pid" "$proxy_pid" || status=$?
kill -0 "$shop_pid" 2>/dev/null || echo "demo: demo_shop exited: $(cat "$run_dir/shop.err")" >&2
kill -0 "$proxy_pid" 2>/dev/null || echo "demo: tidegate exited" >&2
exit $((status == 0 ? 1 : status))
