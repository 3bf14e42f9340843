#!/usr/bin/env bash
# Runs clang-tidy with the repository's .clang-tidy over the SDK's C++ sources, using the
# compile commands of a configured build (the dev preset's unless -p says otherwise), and fails
# when it reports anything.
#
#   scripts/clang-tidy.sh [-p BUILD_DIR] [-j JOBS] [PATH...]     (default paths: src examples)
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/dev
jobs="$(nproc)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -p) build="$2"; shift 2 ;;
    -j) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
paths=("$@")
[[ ${#paths[@]} -gt 0 ]] || paths=(src examples)

tidy="$(command -v clang-tidy || true)"
[[ -n "$tidy" ]] || { echo "clang-tidy not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
if [[ ! -f "$build/compile_commands.json" ]]; then
  echo "==> configuring $build for its compile commands"
  cmake --preset "$(basename "$build")" >/dev/null
fi

# The sources the build compiles, below the given paths.
mapfile -t files < <(git ls-files -- "${paths[@]}" | grep -E '\.cpp$' |
  while read -r file; do
    if grep -qF "\"$PWD/$file\"" "$build/compile_commands.json"; then echo "$file"; fi
  done)
[[ ${#files[@]} -gt 0 ]] || { echo "no compiled sources under: ${paths[*]}" >&2; exit 2; }
echo "==> clang-tidy over ${#files[@]} files under ${paths[*]} ($("$tidy" --version | grep -o 'version [0-9.]*'))"

# The compile commands are GCC's: clang does not know some of its warning options, and where
# CMake adds no -std (GCC's default already is C++17) clang's older default would apply.
# A run that fails (a crash, a source that does not compile) is a failure too, not a clean file.
report="$(mktemp)"
errors="$(mktemp)"
failed="$(mktemp)"
trap 'rm -f "$report" "$errors" "$failed"' EXIT
printf '%s\0' "${files[@]}" |
  xargs -0 -n 1 -P "$jobs" sh -c '
    "$0" -p "$1" --quiet --extra-arg-before=-std=c++17 --extra-arg=-Wno-unknown-warning-option \
      "$4" 2>>"$2" || echo "$4 (exit status $?)" >>"$3"' "$tidy" "$build" "$errors" "$failed" \
    >"$report" || true

findings="$(grep -cE '(warning|error): .*\[[a-z0-9.,-]+\]$' "$report" || true)"
if [[ "$findings" -gt 0 ]]; then
  cat "$report"
  echo "==> clang-tidy: $findings findings" >&2
  exit 1
fi
if [[ -s "$failed" ]]; then
  cat "$errors" >&2
  echo "==> clang-tidy failed on:" >&2
  sed 's/^/    /' "$failed" >&2
  exit 1
fi
echo "==> clang-tidy: no findings"
