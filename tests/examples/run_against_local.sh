#!/usr/bin/env bash
# Runs one program against a fresh infsh-local, as scripts/tour.sh runs the examples, and fails
# when the program fails or the runtime does not shut down cleanly after it.
#   run_against_local.sh INFSH_LOCAL [infsh-local option...] -- PROGRAM [ARG...]
set -euo pipefail
source "$(dirname "$0")/../../scripts/local-runtime.sh"

runtime="$1"
shift
options=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
  options+=("$1")
  shift
done
[[ $# -ge 2 ]] || { echo "usage: $0 INFSH_LOCAL [OPTION...] -- PROGRAM [ARG...]" >&2; exit 2; }
shift

start_infsh_local "$runtime" "${options[@]}"
trap 'stop_infsh_local || true' EXIT
"$@"
trap - EXIT
stop_infsh_local
