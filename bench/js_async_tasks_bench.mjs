// The JavaScript side of bench/async_tasks_bench.cpp: N concurrent `infsh/echo` run-and-wait
// tasks through the official JS SDK (@inferencesh/sdk 0.6.54, `client.run(params)`, which creates
// the task and follows its NDJSON stream to the end), all started at once and awaited with
// Promise.all on one SDK client, against a running infsh-local. Prints one JSON line with the
// wall time, the peak RSS (VmHWM) and the peak thread count (sampled every 5 ms), as the C++
// sides do; async_tasks_bench spawns this script as its third side.
//
//   npm ci --no-audit --no-fund --prefix tests/conformance      # the pinned SDK, once
//   INFSH_JS_SDK_PREFIX=tests/conformance \
//   node --import ./tests/conformance/register_esm_hook.mjs bench/js_async_tasks_bench.mjs \
//        <base-url> <api-key> [tasks=10000]

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { loadSdk, PINNED_SDK_VERSION } from '../tests/conformance/load_sdk.mjs';

const [baseUrl, apiKey, tasksArg = '10000'] = process.argv.slice(2);
if (!baseUrl || !apiKey) {
  console.error('usage: js_async_tasks_bench.mjs <base-url> <api-key> [tasks]');
  process.exit(2);
}
const tasks = Number(tasksArg);

function statusField(name) {
  const match = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${name}:\\s*(\\d+)`, 'm'));
  return match ? Number(match[1]) : -1;
}

let peakThreads = statusField('Threads');
const sampler = setInterval(() => {
  peakThreads = Math.max(peakThreads, statusField('Threads'));
}, 5);

const {Inference, TaskStatusCompleted} = await loadSdk();
const client = new Inference({apiKey, baseUrl});

async function runEcho(i) {
  const task = await client.run({app: 'infsh/echo', input: {i}});
  if (task.status !== TaskStatusCompleted || task.output?.i !== i) {
    throw new Error(`unexpected task: ${JSON.stringify(task)}`);
  }
}

const start = performance.now();
await Promise.all(Array.from({length: tasks}, (_, i) => runEcho(i)));
const seconds = (performance.now() - start) / 1000;
clearInterval(sampler);
peakThreads = Math.max(peakThreads, statusField('Threads'));
console.log(JSON.stringify({
  seconds,
  peak_rss_kib: statusField('VmHWM'),
  peak_threads: peakThreads,
  cpu_seconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  sdk: `@inferencesh/sdk ${PINNED_SDK_VERSION}`,
  node: process.version,
}));
