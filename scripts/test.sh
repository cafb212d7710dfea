#!/usr/bin/env bash
# Installs what is missing, builds the release and the sanitizer builds, and
# runs every test (unit and integration) in both with ctest, then a short
# bounded run of each libFuzzer target (scripts/fuzz.sh; a target that
# crashes counts as one failed test).
#
#   scripts/test.sh
#
# Ends with one line "N passed, N failed" summed over both runs, and exits
# non-zero when any test failed, a build failed or ctest could not report.
# Environment knobs (all optional):
#   TIDEGATE_TEST_JOBS      parallel ctest jobs (default: number of CPUs)
#   TIDEGATE_TEST_TIMEOUT   seconds per test without its own limit (default 120)
#   TIDEGATE_SUITE_TIMEOUT  seconds for a whole ctest run (default 1800)
#   TIDEGATE_FUZZ_SECONDS   seconds per fuzz target (default 20; 0 = skip)
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
  # ctest lists the failures after its summary ("\t12 - Name (Failed)");
  # repeat them at the very end, where a truncated CI log still shows them.
  local name
  while IFS= read -r name; do
    problems+=("$mode: failed: $name")
  done < <(sed -n '/^The following tests FAILED:/,/^$/p' "$log" |
    grep -E '^[[:space:]]+[0-9]+ - ' | sed -E 's/^[[:space:]]+//' || true)
}

run_suite release "$root/build"
run_suite sanitize "$root/build-sanitize" \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# run_fuzz: builds the fuzz targets (build-fuzz/, only common/, config/ and
# the fuzzed sources) and runs each for a bounded time; each target counts
# as one test.
run_fuzz() {
  local seconds="${TIDEGATE_FUZZ_SECONDS:-20}"
  ((seconds > 0)) || return 0
  echo
  echo "==== fuzz: ${seconds}s per target ===="
  local log="$log_dir/fuzz.log" rc=0
  timeout --kill-after=30 $((seconds * 4 + 900)) bash scripts/fuzz.sh "$seconds" 2>&1 |
    tee "$log" | grep -E '^(====|fuzz:|stat::number_of_executed_units|SUMMARY|==[0-9]+==ERROR)' ||
    true
  local summary
  summary="$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)"
  if [[ -z "$summary" ]]; then
    problems+=("fuzz: no summary (build failed or timed out; see scripts/fuzz.sh)")
    tail -n 30 "$log"
    return
  fi
  local passed failed
  passed="$(sed -E 's/fuzz: ([0-9]+) passed, ([0-9]+) failed/\1/' <<<"$summary")"
  failed="$(sed -E 's/fuzz: ([0-9]+) passed, ([0-9]+) failed/\2/' <<<"$summary")"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  if ((failed > 0)); then
    grep -E -A40 'ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error' \
      "$log" | head -n 120 || true
  fi
}
run_fuzz

echo
for problem in "${problems[@]}"; do
  echo "test: $problem"
done
echo "$total_passed passed, $total_failed failed"
if ((total_failed > 0 || ${#problems[@]} > 0)); then
  exit 1
fi
