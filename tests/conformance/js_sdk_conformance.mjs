// Conformance: the official JavaScript SDK from npm (@inferencesh/sdk, pinned to 0.6.54 by
// package.json and package-lock.json beside this file) against infsh-local, asserting what the
// SDK returns to its user in each scenario.
//
//   npm ci --no-audit --no-fund --prefix tests/conformance
//   node --import ./tests/conformance/register_esm_hook.mjs \
//        tests/conformance/js_sdk_conformance.mjs build/dev/src/local/infsh-local
//
// ESM resolution: 0.6.54 is published as ESM whose relative imports have no file extension
// (`from './http/client'`), which Node 20's loader rejects with ERR_MODULE_NOT_FOUND. We do not
// patch or bundle the package: `--import register_esm_hook.mjs` calls module.register() with
// the resolve hook in esm_extension_hook.mjs, which retries such specifiers with ".js" and
// "/index.js". load_sdk.mjs finds the installed package (INFSH_JS_SDK_PREFIX, as CTest installs
// it in the build tree) and checks its version.
//
// The script starts the runtime itself (`--port 0 --api-key <random>`, URL read from its first
// line of stdout), runs the scenarios one after another with node:test, and ends by stopping it
// with SIGTERM, expecting exit status 0.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

import { loadSdk } from './load_sdk.mjs';

const runtimePath = process.argv[2];
if (!runtimePath) {
  console.error('usage: node --import ./register_esm_hook.mjs js_sdk_conformance.mjs <infsh-local>');
  process.exit(2);
}

const sdk = await loadSdk();
const {
  Inference,
  InferenceError,
  inference,
  isInferenceError,
  isTerminalStatus,
  parseStatus,
  TaskStatusCancelled,
  TaskStatusCompleted,
  TaskStatusFailed,
  TaskStatusRunning,
} = sdk;

const apiKey = `sk-conformance-${randomBytes(12).toString('hex')}`;
const HEARTBEAT_MS = 100;  // shorter than the progress steps below, so heartbeats interleave

// ---- the runtime -------------------------------------------------------------------------------

let runtime;        // ChildProcess
let runtimeExit;    // Promise<{code, signal}>
let runtimeStderr = '';
let baseUrl;

async function startRuntime() {
  runtime = spawn(runtimePath,
                  ['--port', '0', '--api-key', apiKey, '--heartbeat', `${HEARTBEAT_MS}ms`],
                  {stdio: ['ignore', 'pipe', 'pipe']});
  runtimeExit = new Promise((resolve) => {
    runtime.on('exit', (code, signal) => resolve({code, signal}));
  });
  runtime.stderr.setEncoding('utf8');
  runtime.stderr.on('data', (chunk) => { runtimeStderr += chunk; });
  const spawnError = new Promise((_, reject) => runtime.on('error', reject));
  const lines = createInterface({input: runtime.stdout});
  const firstLine = new Promise((resolve, reject) => {
    lines.once('line', resolve);
    lines.once('close', () => reject(new Error(`infsh-local exited before printing its URL:\n${
                                         runtimeStderr}`)));
  });
  const timeout = new Promise((_, reject) => setTimeout(
      () => reject(new Error('infsh-local printed no URL within 10 s')), 10000).unref());
  const url = await Promise.race([firstLine, spawnError, timeout]);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'first line of infsh-local is its URL');
  return url;
}

// Every request the SDK makes, recorded by wrapping the global fetch it calls.
const requests = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const url = new URL(input instanceof Request ? input.url : String(input));  // string or URL
  requests.push({method: (init.method || 'GET').toUpperCase(), path: url.pathname,
                 headers: new Headers(init.headers)});
  return realFetch(input, init);
};
const requestsFor = (taskId) => requests.filter((r) => r.path.startsWith(`/tasks/${taskId}`));

let client;

before(async () => {
  baseUrl = await startRuntime();
  client = new Inference({apiKey, baseUrl});
});

after(() => {
  if (runtime && runtime.exitCode === null && runtime.signalCode === null) runtime.kill('SIGKILL');
});

// ---- helpers -----------------------------------------------------------------------------------

// Resolves with the task id the first time onUpdate reports a running task.
function runningSignal() {
  let resolveRunning;
  const running = new Promise((resolve) => { resolveRunning = resolve; });
  const updates = [];
  const onUpdate = (update) => {
    updates.push(structuredClone(update));
    if (parseStatus(update.status) === TaskStatusRunning) resolveRunning(update.id);
  };
  return {running, updates, onUpdate};
}

function assertNonDecreasing(statuses) {
  for (let i = 1; i < statuses.length; ++i) {
    assert.ok(statuses[i] >= statuses[i - 1], `statuses go backwards: ${statuses.join(', ')}`);
  }
}

// A plain Error from the task follower, not an HTTP error.
const taskError = (message) => (error) => {
  assert.ok(error instanceof Error, 'rejected with an Error');
  assert.ok(!isInferenceError(error), `not an InferenceError: ${error.message}`);
  assert.equal(error.message, message);
  return true;
};

// ---- scenarios ---------------------------------------------------------------------------------

test('run waits and resolves with the completed task (infsh/echo)', {timeout: 30000}, async () => {
  const input = {text: 'héllo, wörld ✓', n: 42, list: [1, 2.5, {nested: null}], flag: true};
  const task = await client.run({app: 'infsh/echo', input});
  assert.equal(typeof task.id, 'string');
  assert.ok(task.id.length > 0);
  assert.equal(task.status, TaskStatusCompleted);
  assert.deepEqual(task.output, input);
  assert.deepEqual(task.input, input);
  assert.ok(!Number.isNaN(Date.parse(task.created_at)), `created_at: ${task.created_at}`);
  assert.ok(!Number.isNaN(Date.parse(task.updated_at)), `updated_at: ${task.updated_at}`);
  // The default transport is the NDJSON stream, asked for without X-API-Version (0.6.54).
  const stream = requestsFor(task.id).find((r) => r.path === `/tasks/${task.id}/stream`);
  assert.ok(stream, 'run followed the task on /tasks/{id}/stream');
  assert.equal(stream.headers.get('accept'), 'application/x-ndjson');
  assert.equal(stream.headers.get('x-api-version'), null);
});

test('wait:false returns the queued task; tasks.get returns {data, messages}', {timeout: 30000},
     async () => {
       const created = await client.run({app: 'infsh/progress', input: {steps: 3, delay_ms: 150}},
                                        {wait: false});
       assert.equal(typeof created.id, 'string');
       assert.ok(!isTerminalStatus(created.status), `created status ${created.status}`);
       assert.deepEqual(created.input, {steps: 3, delay_ms: 150});
       assert.equal(requestsFor(created.id).length, 0, 'wait:false makes no further request');

       // 0.6.54's namespace methods resolve to the V3 envelope's {data, messages}, not the DTO.
       const got = await client.tasks.get(created.id);
       assert.deepEqual(Object.keys(got).sort(), ['data', 'messages']);
       assert.deepEqual(got.messages, []);
       assert.equal(got.data.id, created.id);
       assert.deepEqual(got.data.input, {steps: 3, delay_ms: 150});
       const viaGetTask = await client.getTask(created.id);
       assert.equal(viaGetTask.data.id, created.id);

       const done = await client.tasks.watch(created).done;
       assert.equal(done.status, TaskStatusCompleted);
       assert.deepEqual(done.output, {steps_done: 3});

       const final = (await client.tasks.get(created.id)).data;
       assert.equal(final.status, TaskStatusCompleted);
       assert.deepEqual(final.output, {steps_done: 3});
       const logText = JSON.stringify(final.logs);
       for (const line of ['step 1/3', 'step 2/3', 'step 3/3']) {
         assert.ok(logText.includes(line), `logs carry "${line}": ${logText}`);
       }

       // Following a task that has already ended settles at once: the stream starts with the
       // current (terminal) state, and the first poll sees a status other than the stale one.
       const stale = {id: created.id, status: created.status};
       assert.deepEqual((await client.tasks.watch(stale).done).output, {steps_done: 3});
       assert.deepEqual(
           (await client.tasks.watch(stale, {stream: false, pollIntervalMs: 40}).done).output,
           {steps_done: 3});
     });

test('stream: onUpdate sees statuses rise through running to completed, with partial output',
     {timeout: 30000}, async () => {
       const updates = [];
       const task = await client.run(
           {app: 'infsh/progress', input: {steps: 4, delay_ms: 2 * HEARTBEAT_MS}},
           {onUpdate: (update) => updates.push(structuredClone(update))});
       assert.equal(task.status, TaskStatusCompleted);
       assert.deepEqual(task.output, {steps_done: 4});

       assert.ok(updates.length >= 3, `${updates.length} updates`);
       for (const update of updates) assert.equal(update.id, task.id, 'no heartbeat reached onUpdate');
       const statuses = updates.map((u) => parseStatus(u.status));
       assertNonDecreasing(statuses);
       assert.ok(statuses.includes(TaskStatusRunning), `statuses: ${statuses.join(', ')}`);
       assert.equal(statuses.at(-1), TaskStatusCompleted);
       assert.equal(statuses.filter((s) => s === TaskStatusCompleted).length, 1);
       const steps = updates.map((u) => u.output?.step).filter((s) => s !== undefined);
       assert.ok(steps.length >= 1, 'partial outputs {step: i} reach onUpdate');
       assertNonDecreasing(steps);
       assert.deepEqual(updates.at(-1), task, 'the resolved task is the last update');
     });

test('the deprecated tasks.stream(id) EventSource (SSE) delivers updates up to completed',
     {timeout: 30000}, async () => {
       const created = await client.run(
           {app: 'infsh/progress', input: {steps: 2, delay_ms: 2 * HEARTBEAT_MS}}, {wait: false});
       const source = await client.tasks.stream(created.id);
       const updates = [];
       await new Promise((resolve, reject) => {
         const timer = setTimeout(() => reject(new Error(`no final event: ${
                                      JSON.stringify(updates)}`)), 10000);
         source.onmessage = (event) => {
           const update = JSON.parse(event.data);
           updates.push(update);
           if (isTerminalStatus(update.status)) {
             clearTimeout(timer);
             resolve();
           }
         };
       }).finally(() => source.close());
       const statuses = updates.map((u) => parseStatus(u.status));
       assertNonDecreasing(statuses);
       assert.equal(statuses.at(-1), TaskStatusCompleted);
       assert.deepEqual(updates.at(-1).output, {steps_done: 2});
       const sse = requestsFor(created.id).find((r) => r.path === `/tasks/${created.id}/stream`);
       assert.ok(sse, 'EventSource requested /tasks/{id}/stream');
       assert.match(sse.headers.get('accept') ?? '', /text\/event-stream/);
     });

test('cancel: tasks.cancel resolves {data: null}; the waiting run rejects "task cancelled"',
     {timeout: 30000}, async () => {
       const {running, updates, onUpdate} = runningSignal();
       const run = client.run({app: 'infsh/progress', input: {steps: 1000, delay_ms: 50}},
                              {onUpdate});
       const rejected = assert.rejects(run, taskError('task cancelled'));  // handled from now on
       const id = await running;
       const answer = await client.tasks.cancel(id);
       assert.deepEqual(answer, {data: null, messages: []});
       await rejected;

       const statuses = updates.map((u) => parseStatus(u.status));
       assertNonDecreasing(statuses);
       assert.equal(statuses.at(-1), TaskStatusCancelled);
       const final = (await client.tasks.get(id)).data;
       assert.equal(final.status, TaskStatusCancelled);
       assert.ok(final.logs.length < 1000, `cancelled after ${final.logs.length} of 1000 steps`);
     });

test("a failed task rejects with the app's error message, and tasks.get shows it",
     {timeout: 30000}, async () => {
       const message = 'the model ran out of ideas (code 42) — ünïcode';
       let id;
       await assert.rejects(
           client.run({app: 'infsh/fail', input: {message}}, {onUpdate: (u) => { id = u.id; }}),
           taskError(message));
       assert.ok(id, 'onUpdate saw the task');
       const final = (await client.tasks.get(id)).data;
       assert.equal(final.status, TaskStatusFailed);
       assert.equal(final.error, message);
     });

test('polling (client config stream:false): /status polls, full fetch on change, no stream',
     {timeout: 30000}, async () => {
       const polling = inference({apiKey, baseUrl, stream: false, pollIntervalMs: 40});
       const updates = [];
       const task = await polling.run({app: 'infsh/progress', input: {steps: 3, delay_ms: 120}},
                                      {onUpdate: (u) => updates.push(structuredClone(u))});
       assert.equal(task.status, TaskStatusCompleted);
       assert.deepEqual(task.output, {steps_done: 3});
       const statuses = updates.map((u) => parseStatus(u.status));
       assertNonDecreasing(statuses);
       assert.equal(statuses.at(-1), TaskStatusCompleted);

       const paths = requestsFor(task.id).map((r) => r.path);
       assert.ok(paths.filter((p) => p === `/tasks/${task.id}/status`).length >= 2,
                 `status polls: ${paths.join(' ')}`);
       assert.ok(paths.includes(`/tasks/${task.id}`), 'full fetch after a status change');
       assert.ok(!paths.includes(`/tasks/${task.id}/stream`), 'polling never opens the stream');

       // Failure and cancellation surface the same way when polling (per-call stream:false).
       const message = 'failed while being polled';
       await assert.rejects(client.run({app: 'infsh/fail', input: {message}},
                                       {stream: false, pollIntervalMs: 40}),
                            taskError(message));
       const {running, onUpdate} = runningSignal();
       const run = polling.run({app: 'infsh/progress', input: {steps: 1000, delay_ms: 50}},
                               {onUpdate});
       const rejected = assert.rejects(run, taskError('task cancelled'));
       await polling.cancel(await running);
       await rejected;
     });

test('setup parameters reach the app and a warm instance is reused', {timeout: 30000},
     async () => {
       const model = `model-${randomBytes(4).toString('hex')}`;
       const params = {app: 'infsh/setup-counter', setup: {model}, input: {}};
       const first = await client.run(params);
       const second = await client.run(params);
       assert.deepEqual(first.output, {setup_calls: 1, model});
       assert.deepEqual(second.output, {setup_calls: 1, model});
     });

test('tasks.run(params) sends no input (the SDK footgun); the runtime takes it as {}',
     {timeout: 30000}, async () => {
       const task = await client.tasks.run({app: 'infsh/echo', input: {lost: true}});
       assert.equal(task.status, TaskStatusCompleted);
       assert.deepEqual(task.output, {});
     });

test('64 concurrent runs on one client each get their own output', {timeout: 60000}, async () => {
  const tasks = await Promise.all(Array.from(
      {length: 64}, (_, i) => client.run({app: 'infsh/echo', input: {i}})));
  tasks.forEach((task, i) => {
    assert.equal(task.status, TaskStatusCompleted);
    assert.deepEqual(task.output, {i});
  });
  assert.equal(new Set(tasks.map((t) => t.id)).size, 64);
});

test('a wrong API key is refused with 401 (InferenceError, statusCode 401)', {timeout: 30000},
     async () => {
       const wrongKey = `${apiKey}-wrong`;
       const intruder = new Inference({apiKey: wrongKey, baseUrl});
       const isUnauthorized = (error) => {
         assert.ok(error instanceof InferenceError, `InferenceError, got ${error}`);
         assert.equal(error.statusCode, 401);
         assert.match(error.message, /^HTTP 401: \S/);
         assert.ok(!error.message.includes(wrongKey), 'the key is not echoed in the message');
         assert.ok(!String(error.responseBody).includes(wrongKey), 'nor in the body');
         return true;
       };
       await assert.rejects(intruder.run({app: 'infsh/echo', input: {}}), isUnauthorized);
       await assert.rejects(intruder.tasks.get('task_anything'), isUnauthorized);
       const withoutKey = new Inference({getToken: () => null, baseUrl});
       await assert.rejects(withoutKey.run({app: 'infsh/echo', input: {}}),
                            (e) => e instanceof InferenceError && e.statusCode === 401);
     });

test('unknown task and unknown app: InferenceError 404 naming them', {timeout: 30000},
     async () => {
       await assert.rejects(client.tasks.get('task_does_not_exist'), (error) => {
         assert.ok(error instanceof InferenceError);
         assert.equal(error.statusCode, 404);
         assert.match(error.message, /^HTTP 404: .*task_does_not_exist/);
         return true;
       });
       await assert.rejects(client.run({app: 'nobody/nothing', input: {}}), (error) => {
         assert.ok(error instanceof InferenceError);
         assert.equal(error.statusCode, 404);
         assert.match(error.message, /^HTTP 404: .*nobody\/nothing/);
         return true;
       });
     });

test('SIGTERM cancels a waiting run ("task cancelled") and the runtime exits 0',
     {timeout: 30000}, async () => {
       const {running, onUpdate} = runningSignal();
       const run = client.run({app: 'infsh/progress', input: {steps: 1000, delay_ms: 50}},
                              {onUpdate});
       const rejected = assert.rejects(run, taskError('task cancelled'));
       await running;
       runtime.kill('SIGTERM');
       await rejected;
       const {code, signal} = await runtimeExit;
       assert.equal(signal, null, `infsh-local died of ${signal}:\n${runtimeStderr}`);
       assert.equal(code, 0, `infsh-local exit status:\n${runtimeStderr}`);
     });
