#!/usr/bin/env bash
# Builds the SDK and runs the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (preset asan-ubsan) and then under ThreadSanitizer (preset tsan); fails when either build or
# either suite fails. Usage: scripts/sanitizers.sh [extra ctest arguments, e.g. -R async]
# Environment: JOBS (default: nproc), INFERENCESH_PEERS_DIR (passed to the configure step).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-$(nproc)}"
configure_args=()
if [[ -n "${INFERENCESH_PEERS_DIR:-}" ]]; then
  configure_args+=("-DINFERENCESH_PEERS_DIR=${INFERENCESH_PEERS_DIR}")
fi
for preset in asan-ubsan tsan; do
  echo "==> configuring (preset $preset)"
  cmake --preset "$preset" "${configure_args[@]}"
  echo "==> building with $jobs jobs"
  cmake --build --preset "$preset" -j "$jobs"
  echo "==> running the test suite under $preset"
  ctest --preset "$preset" -j "$jobs" "$@"
done
