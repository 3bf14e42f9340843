#!/usr/bin/env bash
# Builds the SDK and runs the whole test suite: unit tests, tests over real sockets against the
# scripted server and the local runtime, the official JS SDK's conformance run, the install
# test and short fuzz runs. Ends with CTest's summary. Usage: scripts/test.sh [preset]
# (default "dev"; "asan-ubsan" and "tsan" run the same suite under sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"
jobs="$(nproc)"

scripts/install-deps.sh

echo "==> configuring (preset $preset)"
cmake --preset "$preset"
echo "==> building with $jobs jobs"
cmake --build --preset "$preset" -j "$jobs"
echo "==> running the test suite"
ctest --preset "$preset" -j "$jobs"
