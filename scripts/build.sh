#!/usr/bin/env bash
# Configures (CMake + Ninja) and builds tidegate, its tests and demo_shop.
#
#   scripts/build.sh [release|sanitize] [--keep-going]
#
#   release   build/           CMAKE_BUILD_TYPE=Release (the default)
#   sanitize  build-sanitize/  RelWithDebInfo with AddressSanitizer + UBSan
#
# --keep-going builds every target that can be built even when another one
# fails (the exit status still reports the failure). Works from any folder;
# running it again only rebuilds what changed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=release
keep_going=0
for arg in "$@"; do
  case "$arg" in
    release | sanitize) mode="$arg" ;;
    --keep-going) keep_going=1 ;;
    -h | --help)
      sed -n '2,12p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *)
      echo "build: unknown argument '$arg' (use release, sanitize, --keep-going)" >&2
      exit 2
      ;;
  esac
done

case "$mode" in
  release)
    build_dir="$root/build"
    cmake_args=(-DCMAKE_BUILD_TYPE=Release -DTIDEGATE_SANITIZE=OFF)
    ;;
  sanitize)
    build_dir="$root/build-sanitize"
    cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDEGATE_SANITIZE=ON)
    ;;
esac

# A build folder made by another generator cannot be reused by Ninja; it only
# holds generated files, so start it afresh.
cache="$build_dir/CMakeCache.txt"
if [[ -f "$cache" ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$cache"; then
  echo "build: $build_dir was not made by Ninja; recreating it"
  rm -rf "$build_dir"
fi

# ccache, when the machine has it, makes rebuilds of other trees (worktrees,
# a clean clone) cheap; paths under the tree are hashed relative to it.
if command -v ccache >/dev/null 2>&1; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
  # The tests' precompiled headers (tests/CMakeLists.txt) are cached only
  # with these (ccache's manual, "Precompiled headers").
  export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
fi

jobs="$(nproc)"
echo "build: $mode in $build_dir with $jobs jobs"
cmake -S "$root" -B "$build_dir" -G Ninja "${cmake_args[@]}"
ninja_args=()
((keep_going)) && ninja_args=(-k 0)
cmake --build "$build_dir" --parallel "$jobs" -- "${ninja_args[@]}"
echo "build: $mode build ok"
