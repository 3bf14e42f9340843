#!/usr/bin/env bash
# The tour: builds the SDK, starts the local runtime (infsh-local) on a free port with an API
# key, runs every example against it and stops the runtime. Works on a fresh Debian 12 machine
# as root (missing packages are installed first). Usage: scripts/tour.sh [preset] (default dev)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"
build="build/$preset"

scripts/install-deps.sh

echo "==> configuring (preset $preset)"
cmake --preset "$preset" >/dev/null
echo "==> building infsh-local and the examples"
cmake --build --preset "$preset" -j "$(nproc)" --target infsh-local examples

key="tour-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
log="$(mktemp)"
echo "==> starting infsh-local, hosting the example apps examples/hello and examples/image-generator"
"$build/src/local/infsh-local" --port 0 --api-key "$key" --heartbeat 5 \
  --app "examples/hello=$build/examples/hello" \
  --app "examples/image-generator=$build/examples/image_generator" >"$log" 2>&1 &
runtime_pid=$!
stop_runtime() {
  if kill -0 "$runtime_pid" 2>/dev/null; then
    kill -TERM "$runtime_pid"
    wait "$runtime_pid" || true
  fi
  rm -f "$log"
}
trap stop_runtime EXIT

url=""
for _ in $(seq 1 100); do
  url="$(head -n 1 "$log" | grep -o 'http://[^ ]*' || true)"
  [[ -n "$url" ]] && break
  kill -0 "$runtime_pid" 2>/dev/null || { cat "$log"; echo "infsh-local did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$url" ]] || { echo "infsh-local printed no URL" >&2; exit 1; }
echo "    listening on $url"

export INFERENCE_API_BASE_URL="$url"
export INFERENCE_API_KEY="$key"

examples=(run_and_wait setup_parameters run_without_waiting stream_updates stream_existing_task
          upload_file sessions)
for example in "${examples[@]}"; do
  echo
  echo "==> examples/$example.cpp"
  "$build/examples/$example"
done

echo
echo "==> examples/run_app_programs.cpp (apps written in C++: examples/apps/)"
"$build/examples/run_app_programs" "$build/tour-output"

echo
echo "==> examples/apps/hello is a program of its own too: hello run --input '{\"name\": \"Ada\"}'"
"$build/examples/hello" run --input '{"name": "Ada"}'
echo "    the image generator's schema files, written by the build:"
ls "$build/examples/apps/image_generator/"*.json | sed 's/^/    /'

echo
echo "==> stopping infsh-local"
stop_runtime
trap - EXIT
echo "==> tour finished"
