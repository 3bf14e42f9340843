# infsh-local on a free loopback port with a fresh API key, for programs that read
# INFERENCE_API_BASE_URL and INFERENCE_API_KEY. Sourced by scripts/tour.sh and by the tests that
# run the examples (tests/examples/run_against_local.sh).
#
#   start_infsh_local PROGRAM [OPTION...]   starts it, exports both variables
#   stop_infsh_local                        stops it; fails, showing its log, unless it exits 0

infsh_local_pid=""
infsh_local_log=""

start_infsh_local() {
  local program="$1"
  shift
  INFERENCE_API_KEY="local-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  infsh_local_log="$(mktemp)"
  "$program" --port 0 --api-key "$INFERENCE_API_KEY" "$@" >"$infsh_local_log" 2>&1 &
  infsh_local_pid=$!
  # The first line names the URL once the port is bound; waiting is bounded, not timed.
  local url="" tries
  for ((tries = 0; tries < 600; ++tries)); do
    url="$(head -n 1 "$infsh_local_log" | grep -o 'http://[^ ]*' || true)"
    [[ -n "$url" ]] && break
    if ! kill -0 "$infsh_local_pid" 2>/dev/null; then
      cat "$infsh_local_log" >&2
      echo "infsh-local did not start" >&2
      return 1
    fi
    sleep 0.1
  done
  [[ -n "$url" ]] || { echo "infsh-local printed no URL within a minute" >&2; return 1; }
  export INFERENCE_API_BASE_URL="$url" INFERENCE_API_KEY
}

stop_infsh_local() {
  [[ -n "$infsh_local_pid" ]] || return 0
  local status=0
  kill -TERM "$infsh_local_pid" 2>/dev/null || true
  wait "$infsh_local_pid" || status=$?
  if [[ $status -ne 0 ]]; then
    cat "$infsh_local_log" >&2
    echo "infsh-local exited with status $status" >&2
  fi
  rm -f "$infsh_local_log"
  infsh_local_pid=""
  return "$status"
}
