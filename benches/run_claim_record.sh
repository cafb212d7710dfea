#!/usr/bin/env bash
# The claim record's cost per queued request (benches/claim_record_bench.cc):
# compiles the pure room arithmetic with Google Benchmark (Debian package
# libbenchmark-dev) and runs it. Usage: benches/run_claim_record.sh [benchmark flags]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
inc=(-I"$root")
# config/config.h needs toml++ only through its own headers.
g++ -std=c++20 -O2 -DNDEBUG "${inc[@]}" "$root/benches/claim_record_bench.cc" \
  "$root/queue/room_logic.cc" "$root/queue/room_integrity.cc" \
  -o "$out/claim_record_bench" -lbenchmark -lpthread -lcrypto
"$out/claim_record_bench" --benchmark_min_time=0.5 "$@"
