// The JavaScript half of bench/runtime_tasks_bench.cpp: tasks per second of `infsh/echo`
// run-and-wait through the official JS SDK (@inferencesh/sdk 0.6.54, `client.run(params)`,
// which creates the task and follows its NDJSON stream to the end), against a running
// infsh-local. Sequential (one task after another) and with C concurrent callers (C promises
// looping on one SDK client). Prints one JSON line; runtime_tasks_bench spawns this script in
// each of its rounds so both SDKs are measured in the same run against the same runtime.
//
//   npm ci --no-audit --no-fund --prefix tests/conformance      # the pinned SDK, once
//   INFSH_JS_SDK_PREFIX=tests/conformance \
//   node --import ./tests/conformance/register_esm_hook.mjs bench/js_tasks_bench.mjs \
//        <base-url> <api-key> [sequential=1000] [concurrent=4000] [callers=64]
//
// The resolve hook is needed because 0.6.54's ESM build imports its own files without
// extensions, which Node rejects; see tests/conformance/esm_extension_hook.mjs.

import { performance } from 'node:perf_hooks';

import { loadSdk, PINNED_SDK_VERSION } from '../tests/conformance/load_sdk.mjs';

const [baseUrl, apiKey, sequentialArg = '1000', concurrentArg = '4000', callersArg = '64'] =
    process.argv.slice(2);
if (!baseUrl || !apiKey) {
  console.error('usage: js_tasks_bench.mjs <base-url> <api-key> [sequential] [concurrent] [callers]');
  process.exit(2);
}
const sequentialTasks = Number(sequentialArg);
const concurrentTasks = Number(concurrentArg);
const callers = Number(callersArg);

const {Inference, TaskStatusCompleted} = await loadSdk();
const client = new Inference({apiKey, baseUrl});

async function runEcho(i) {
  const task = await client.run({app: 'infsh/echo', input: {i}});
  if (task.status !== TaskStatusCompleted || task.output?.i !== i) {
    throw new Error(`unexpected task: ${JSON.stringify(task)}`);
  }
}

async function sequential(n) {
  const start = performance.now();
  for (let i = 0; i < n; ++i) await runEcho(i);
  return (performance.now() - start) / 1000;
}

async function concurrent(n, width) {
  let next = 0;
  const caller = async () => {
    for (let i = next++; i < n; i = next++) await runEcho(i);
  };
  const start = performance.now();
  await Promise.all(Array.from({length: width}, caller));
  return (performance.now() - start) / 1000;
}

// Warm-up: JIT, connection pool, the runtime's warm instance.
await sequential(100);
await concurrent(callers * 2, callers);

const sequentialSeconds = await sequential(sequentialTasks);
const concurrentSeconds = await concurrent(concurrentTasks, callers);
console.log(JSON.stringify({
  sdk: `@inferencesh/sdk ${PINNED_SDK_VERSION}`,
  node: process.version,
  sequential: {tasks: sequentialTasks, seconds: sequentialSeconds},
  concurrent: {tasks: concurrentTasks, callers, seconds: concurrentSeconds},
}));
