#!/usr/bin/env bash
# The tour: builds the SDK, starts the local runtime (infsh-local) on a free port with an API
# key, runs every example against it and stops the runtime. Works on a fresh Debian 12 machine
# as root (missing packages are installed first). Usage: scripts/tour.sh [preset] (default dev)
# The test suite runs this script too (test tour_script), so it only uses what it builds here.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"
build="build/$preset"

scripts/install-deps.sh

echo "==> configuring (preset $preset)"
cmake --preset "$preset" >/dev/null
echo "==> building infsh-local and the examples"
cmake --build --preset "$preset" -j "$(nproc)" --target infsh-local examples

source scripts/local-runtime.sh
echo "==> starting infsh-local, hosting the example apps examples/hello, examples/image-generator"
echo "    and examples/echo-llm (a core for agents)"
start_infsh_local "$build/src/local/infsh-local" --heartbeat 5 \
  --app "examples/hello=$build/examples/hello" \
  --app "examples/image-generator=$build/examples/image_generator" \
  --app "examples/echo-llm=$build/examples/echo_llm" \
  --agent "my-org/assistant=examples/agents/assistant.json"
trap 'stop_infsh_local || true' EXIT
echo "    listening on $INFERENCE_API_BASE_URL"

examples=(run_and_wait setup_parameters run_without_waiting stream_updates stream_existing_task
          async_tasks upload_file sessions agent_template agent_tools async_agent)
for example in "${examples[@]}"; do
  echo
  echo "==> examples/$example.cpp"
  "$build/examples/$example"
done

echo
echo "==> examples/agent_chat.cpp (interactive; here with typed-in lines)"
printf 'hello\nwhat time is it?\nquit\n' | "$build/examples/agent_chat"

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
trap - EXIT
stop_infsh_local
echo "==> tour finished"
