#!/usr/bin/env bash
# Installs the Debian packages tidegate needs to build, test, run the demo and
# the benches. Installs only what is missing (apt-get update runs only then),
# so a second run does nothing. Needs root for the install: run as root, or
# as a user who may use sudo.
#
# Package postinst scripts must not start nginx, redis or haproxy services
# (the benches and tests start their own on free ports): while installing, a
# temporary /usr/sbin/policy-rc.d answers 101 ("action not allowed"). It is
# removed afterwards, but only if this script created it.
set -euo pipefail

readonly PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl
  libevent-dev libssl-dev libtomlplusplus-dev nlohmann-json3-dev
  node-llhttp  # llhttp's C sources (/usr/share/llhttp): the proxy's HTTP/1 parser
  libhttp-parser-dev  # the integration tests' reader (a parser independent of the proxy's)
  libhiredis-dev libre2-dev libgtest-dev zlib1g-dev libkainjow-mustache-dev
  libdeflate-dev  # banner/gzip_whole_body.cc: small gzip pages recoded in one piece
  libcurl4-openssl-dev  # tidegate ctl's HTTP client
  openssl redis-server nginx haproxy wrk clang-format
  redis-sentinel  # tests/integration/redis_sentinel_test.cc
  gnuplot-nox  # benches/run_surge.sh plots only
  libbenchmark-dev  # benches/run_claim_record.sh only
  chromium chromium-driver  # tests/integration/queue_browser_test.cc (headless)
  nodejs  # npm: axe-core for tests/integration/pages_a11y_test.cc (tests/integration/a11y/)
  clang libclang-rt-dev  # fuzz/ (libFuzzer runtime: scripts/fuzz.sh)
)
readonly POLICY=/usr/sbin/policy-rc.d

missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

# npm packages the tests use (axe-core, pinned by its package-lock.json),
# into tests/integration/a11y/node_modules; only when missing.
install_npm_packages() {
  local dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/a11y"
  [[ -f "$dir/node_modules/axe-core/axe.min.js" ]] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    # Debian's nodejs comes without npm (other builds of nodejs bundle it).
    ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
      --no-install-recommends npm
  fi
  echo "setup: installing npm packages in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages are installed"
  install_npm_packages
  exit 0
fi
echo "setup: installing ${missing[*]}"

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: root is needed to install: ${missing[*]}" >&2
  echo "setup: run this script as root, or install sudo" >&2
  exit 1
fi

created_policy=0
remove_policy() {
  if ((created_policy)); then
    "${as_root[@]}" rm -f "$POLICY"
  fi
}
trap remove_policy EXIT

if [[ ! -e "$POLICY" ]]; then
  printf '#!/bin/sh\n# Written by tidegate scripts/setup.sh while installing packages.\nexit 101\n' |
    "${as_root[@]}" tee "$POLICY" >/dev/null
  created_policy=1
  "${as_root[@]}" chmod 755 "$POLICY"
fi

apt_get=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o Dpkg::Use-Pty=0)
"${apt_get[@]}" update
"${apt_get[@]}" install -y --no-install-recommends "${missing[@]}"
install_npm_packages
echo "setup: done"
