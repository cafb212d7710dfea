#!/usr/bin/env bash
# Copy vs splice(2) vs MSG_ZEROCOPY for relaying response bodies on loopback
# (issue 15, pass-through CPU): compiles benches/splice_relay/ and runs it.
# Only the relay thread's CPU (user + system, getrusage RUSAGE_THREAD) per
# relayed response is measured; modes run in interleaved rounds, medians.
# Usage: benches/run_splice_relay.sh [splice_relay_bench flags]
#   e.g. --sizes 24576,262144 --modes copy,splice:4096,splice:32768,copy:262144 \
#        --rounds 7 --duration 1.5 --cork   (ratios are to the first mode)
# Bounded: each run lasts warmup + duration; the whole script is killed
# after --max-time seconds (default 600).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
max_time=600
args=()
while (($#)); do
  case "$1" in
    --max-time) max_time="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
g++ -std=c++20 -O2 -g -DNDEBUG -Wall -Wextra -I"$root" \
  "$root/benches/splice_relay/splice_relay_bench.cc" "$root/benches/splice_relay/relay.cc" \
  -o "$out/splice_relay_bench" -lpthread
echo "kernel $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
timeout "$max_time" "$out/splice_relay_bench" "${args[@]}"
