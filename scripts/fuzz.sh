#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan + UBSan) in build-fuzz/
# and runs each one for a bounded time on its corpus.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS   time per target (default 60)
# TARGET    http1, config, token, banner (default: all four, one after the other)
#
# Seeds are read from fuzz/corpus/<target>/ (never written: new inputs go to
# build-fuzz/corpus/<target>/, which later runs reuse). A crash leaves its
# input in build-fuzz/artifacts/<target>/ and makes the script exit 1; the
# last line is "fuzz: N passed, N failed". Environment: TIDEGATE_FUZZ_NICE
# (nice level, default 10), TIDEGATE_FUZZ_RSS_MB (default 2048).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(http1 config token banner)
build_dir="$root/build-fuzz"
nice_level="${TIDEGATE_FUZZ_NICE:-10}"

cmake_args=(-DTIDEGATE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
if command -v ccache >/dev/null 2>&1; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
fi
echo "fuzz: building in $build_dir"
cmake -S "$root" -B "$build_dir" -G Ninja "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)" -- $(printf 'fuzz_%s ' "${targets[@]}")

passed=0
failed=0
for target in "${targets[@]}"; do
  corpus="$build_dir/corpus/$target"
  artifacts="$build_dir/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  args=(-max_total_time="$seconds" -rss_limit_mb="${TIDEGATE_FUZZ_RSS_MB:-2048}"
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/")
  [[ -f "$root/fuzz/$target.dict" ]] && args+=(-dict="$root/fuzz/$target.dict")
  echo
  echo "==== fuzz_$target: ${seconds}s ===="
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice -n "$nice_level" "$build_dir/fuzz/fuzz_$target" "${args[@]}" \
    "$corpus" "$root/fuzz/corpus/$target"; then
    passed=$((passed + 1))
  else
    echo "fuzz: fuzz_$target FAILED (inputs in $artifacts)"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
