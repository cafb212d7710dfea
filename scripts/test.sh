#!/usr/bin/env bash
# Installs what is missing, builds the release and the sanitizer builds, and
# runs every test (unit and integration) in both with ctest.
#
#   scripts/test.sh
#
# Ends with one line "N passed, N failed" summed over both runs, and exits
# non-zero when any test failed, a build failed or ctest could not report.
# Environment knobs (all optional):
#   TIDEGATE_TEST_JOBS      parallel ctest jobs (default: number of CPUs)
#   TIDEGATE_TEST_TIMEOUT   seconds per test without its own limit (default 120)
#   TIDEGATE_SUITE_TIMEOUT  seconds for a whole ctest run (default 1800)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

jobs="${TIDEGATE_TEST_JOBS:-$(nproc)}"
test_timeout="${TIDEGATE_TEST_TIMEOUT:-120}"
suite_timeout="${TIDEGATE_SUITE_TIMEOUT:-1800}"
log_dir="$(mktemp -d "${TMPDIR:-/tmp}/tidegate-test.XXXXXX")"
trap 'rm -rf "$log_dir"' EXIT

total_passed=0
total_failed=0
problems=()

bash scripts/setup.sh

# run_suite MODE BUILD_DIR [ENV=VALUE...]: builds MODE, runs ctest in
# BUILD_DIR with the given environment, adds its counts to the totals.
run_suite() {
  local mode="$1" build_dir="$2"
  shift 2
  echo
  echo "==== $mode: build ===="
  # --keep-going: a target that does not build shows up in ctest as a failed
  # *_NOT_BUILT test instead of hiding every other test.
  if ! bash scripts/build.sh "$mode" --keep-going; then
    problems+=("$mode build failed")
  fi
  if [[ ! -f "$build_dir/CTestTestfile.cmake" ]]; then
    problems+=("$mode: no test list (configure failed)")
    return
  fi

  echo
  echo "==== $mode: tests ===="
  local log="$log_dir/$mode.log" rc=0
  (cd "$build_dir" && env "$@" timeout --kill-after=30 "$suite_timeout" \
    ctest --output-on-failure --no-tests=error --timeout "$test_timeout" \
    --parallel "$jobs") 2>&1 | tee "$log" || rc=$?
  ((rc == 124)) && problems+=("$mode: ctest exceeded ${suite_timeout}s and was stopped")

  # ctest's summary: "97% tests passed, 2 tests failed out of 60".
  local summary
  summary="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
  if [[ -z "$summary" ]]; then
    problems+=("$mode: ctest printed no summary (exit status $rc)")
    return
  fi
  local failed total
  failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")"
  total="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")"
  total_passed=$((total_passed + total - failed))
  total_failed=$((total_failed + failed))
  if ((failed == 0 && rc != 0)); then
    problems+=("$mode: ctest exited with status $rc")
  fi
}

run_suite release "$root/build"
run_suite sanitize "$root/build-sanitize" \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo
for problem in "${problems[@]}"; do
  echo "test: $problem"
done
echo "$total_passed passed, $total_failed failed"
if ((total_failed > 0 || ${#problems[@]} > 0)); then
  exit 1
fi
