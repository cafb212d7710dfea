#!/usr/bin/env bash
# Differential run of the HTTP/1 codec adapter: builds tests/tools/http1_diff.cc
# against two source trees (e.g. a worktree of main, with the http_parser
# adapter, and this one, with llhttp) and compares their transcripts over the
# given inputs (fuzz-format files: see http1_diff.cc). Not part of the build.
#
#   tests/tools/http1_diff.sh BASE_TREE NEW_TREE OUT_DIR [--big-limits] FILE...
#
# Links common/ from NEW_TREE/build (common/ is the same in both trees).
# Prints the diff of the transcripts; exit status 1 when they differ.
set -euo pipefail
base="$1" new="$2" out="$3"
shift 3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$out"
build() {  # tree output extra-sources...
  local tree="$1" exe="$2"
  shift 2
  local libs=()
  [[ "$tree" == "$base" ]] && libs=(-lhttp_parser)
  g++ -std=c++20 -O1 -I"$tree" "$@" "$here/http1_diff.cc" "$tree/proxy/http_message.cc" \
    "$tree"/proxy/http1_*.cc "$new/build/common/libtidegate_common.a" "${libs[@]}" -o "$exe"
}
if [[ ! -x "$out/diff_base" || "$here/http1_diff.cc" -nt "$out/diff_base" ]]; then
  build "$base" "$out/diff_base"
fi
if [[ ! -f "$out/llhttp.o" ]]; then
  for f in llhttp api http; do
    gcc -O2 -w -c -I/usr/share/include/llhttp /usr/share/llhttp/$f.c -o "$out/$f.o"
  done
fi
build "$new" "$out/diff_new" -I/usr/share/include/llhttp "$out/llhttp.o" "$out/api.o" "$out/http.o"
"$out/diff_base" "$@" >"$out/base.txt"
"$out/diff_new" "$@" >"$out/new.txt"
diff "$out/base.txt" "$out/new.txt" >"$out/diff.txt" && echo "no differences" && exit 0
grep -c '^[<>]' "$out/diff.txt" || true
exit 1
