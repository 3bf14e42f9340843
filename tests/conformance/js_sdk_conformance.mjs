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
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';

import { loadSdk } from './load_sdk.mjs';
import { killRuntime, startRuntime } from './runtime_process.mjs';

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

let runtime;  // {process, url, exit, stderr()} from startRuntime
let baseUrl;

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
  runtime = await startRuntime(runtimePath,
                               ['--api-key', apiKey, '--heartbeat', `${HEARTBEAT_MS}ms`]);
  baseUrl = runtime.url;
  client = new Inference({apiKey, baseUrl});
});

after(() => killRuntime(runtime));

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

// ---- files --------------------------------------------------------------------------------------

const uploadsSince = (count) => requests.slice(count).filter((r) => r.method === 'PUT');

// GET of a file's uri by a plain HTTP client: no key, as a signed URL.
async function fetchUri(uri) {
  const response = await realFetch(uri);
  return {response, bytes: Buffer.from(await response.arrayBuffer())};
}

test('files.upload: a data URI, base64 text and a Blob, PUT without the key, served at the uri',
     {timeout: 30000}, async () => {
       const before = requests.length;
       const fromDataUri = await client.files.upload('data:text/plain;base64,aGVsbG8gZnJvbSBKUw==');
       const fromBase64 =
           await client.files.upload(Buffer.from('raw base64 bytes').toString('base64'),
                                     {filename: 'raw.bin'});
       const pixel = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
       const fromBlob = await client.files.upload(new Blob([pixel], {type: 'image/png'}),
                                                  {filename: 'pixel.png'});

       // upload() resolves with the created FileDTO itself (not {data, messages}), as created:
       // before its bytes arrived. Only the Blob's size is declared by the SDK.
       for (const file of [fromDataUri, fromBase64, fromBlob]) {
         assert.match(file.id, /^file_[0-9a-z]{20}$/);
         assert.ok(file.uri.startsWith(`${baseUrl}/files/${file.id}/content?token=`), file.uri);
         assert.ok(file.upload_url.startsWith(`${baseUrl}/_upload/${file.id}?token=`));
         assert.equal(file.uploaded, false);
       }
       assert.equal(fromDataUri.content_type, 'text/plain');
       assert.equal(fromBase64.content_type, 'application/octet-stream');
       assert.equal(fromBase64.filename, 'raw.bin');
       assert.equal(fromBlob.content_type, 'image/png');
       assert.equal(fromBlob.size, pixel.length);
       assert.equal(fromBlob.filename, 'pixel.png');

       const puts = uploadsSince(before);
       assert.equal(puts.length, 3);
       for (const put of puts) {
         assert.ok(put.path.startsWith('/_upload/file_'), put.path);
         assert.equal(put.headers.get('authorization'), null, 'the PUT never carries the key');
       }

       const text = await fetchUri(fromDataUri.uri);
       assert.equal(text.response.status, 200);
       assert.equal(text.response.headers.get('content-type'), 'text/plain');
       assert.equal(text.bytes.toString(), 'hello from JS');
       assert.equal((await fetchUri(fromBase64.uri)).bytes.toString(), 'raw base64 bytes');
       const image = await fetchUri(fromBlob.uri);
       assert.equal(image.response.headers.get('content-type'), 'image/png');
       assert.equal(image.response.headers.get('content-length'), String(pixel.length));
       assert.deepEqual(image.bytes, pixel);

       // files.get resolves {data, messages}; now the bytes are there.
       const got = await client.files.get(fromBlob.id);
       assert.deepEqual(got.messages, []);
       assert.equal(got.data.uploaded, true);
       assert.equal(got.data.size, pixel.length);
       const sized = (await client.files.get(fromDataUri.id)).data;
       assert.equal(sized.size, 'hello from JS'.length, 'the size is known once uploaded');
     });

test('files.upload of a data URI without a type: octet-stream kept though text/plain is PUT',
     {timeout: 30000}, async () => {
       const before = requests.length;
       const file = await client.files.upload('data:;base64,AAEC');
       assert.equal(file.content_type, 'application/octet-stream');
       const [put] = uploadsSince(before);
       assert.equal(put.headers.get('content-type'), 'text/plain');
       const stored = (await client.files.get(file.id)).data;
       assert.equal(stored.content_type, 'application/octet-stream');
       assert.deepEqual((await fetchUri(file.uri)).bytes, Buffer.from([0, 1, 2]));
       // A malformed data URI fails in the SDK before any request (0.6.54 decodes first).
       const count = requests.length;
       await assert.rejects(client.files.upload('data:text/plain;base64'), /Invalid data URI/);
       assert.equal(requests.length, count);
     });

test('files.list pages newest first; files.delete removes the file and its bytes',
     {timeout: 30000}, async () => {
       const names = ['a.txt', 'b.txt', 'c.txt'];
       const files = [];
       for (const name of names) {
         files.push(await client.files.upload(new Blob([name], {type: 'text/plain'}),
                                              {filename: name}));
       }
       const page = await client.files.list({limit: 2});
       assert.deepEqual(page.messages, []);
       assert.deepEqual(page.data.items.map((f) => f.filename), ['c.txt', 'b.txt']);
       assert.equal(page.data.has_next, true);
       const next = await client.files.list({limit: 2, cursor: page.data.next_cursor});
       assert.equal(next.data.items[0].filename, 'a.txt');
       assert.ok(page.data.total_items >= 3);
       const all = await client.files.list();  // no body at all
       assert.ok(all.data.items.length >= 3);

       assert.deepEqual(await client.files.delete(files[1].id), {data: null, messages: []});
       await assert.rejects(client.files.get(files[1].id),
                            (e) => e instanceof InferenceError && e.statusCode === 404);
       assert.equal((await fetchUri(files[1].uri)).response.status, 404);
       assert.equal((await fetchUri(files[0].uri)).bytes.toString(), 'a.txt');
     });

test('run uploads data URIs and Blobs in input (processInput); the app reads them',
     {timeout: 30000}, async () => {
       const task = await client.run({
         app: 'infsh/file-info',
         input: {file: 'data:text/plain;base64,b25lCnR3bwo='},  // "one\ntwo\n"
       });
       assert.equal(task.status, TaskStatusCompleted);
       assert.ok(task.input.file.startsWith(`${baseUrl}/files/`), 'input holds the uploaded uri');
       assert.equal(task.output.size, 8);
       assert.equal(task.output.lines, 2);
       const reversed = await fetchUri(task.output.reversed);
       assert.equal(reversed.bytes.toString(), '\nowt\neno');

       const echoed = await client.run(
           {app: 'infsh/echo', input: {doc: new Blob(['blob input'], {type: 'text/plain'})}});
       assert.ok(echoed.output.doc.startsWith(`${baseUrl}/files/`));
       assert.equal((await fetchUri(echoed.output.doc)).bytes.toString(), 'blob input');
     });

// ---- sessions -----------------------------------------------------------------------------------

const isHttpError = (status, pattern) => (error) => {
  assert.ok(error instanceof InferenceError, `InferenceError, got ${error}`);
  assert.equal(error.statusCode, status);
  assert.match(error.message, pattern);
  return true;
};

test('sessions: "new" gives a real id; calls share the instance; get, list, keepalive, end',
     {timeout: 30000}, async () => {
       const first = await client.run(
           {app: 'infsh/counter', input: {}, session: 'new', session_timeout: 30});
       assert.match(first.session_id, /^sess_[0-9a-z]{20}$/);
       assert.deepEqual(first.output, {calls: 1});
       const id = first.session_id;
       const updates = [];
       const second = await client.run({app: 'infsh/counter', input: {}, session: id},
                                       {onUpdate: (u) => updates.push(u.session_id)});
       assert.deepEqual(second.output, {calls: 2});
       assert.equal(second.session_id, id);
       assert.ok(updates.length > 0 && updates.every((s) => s === id), updates.join(' '));

       const info = await client.sessions.get(id);
       assert.deepEqual(info.messages, []);
       assert.equal(info.data.id, id);
       assert.equal(info.data.status, 'active');
       assert.equal(info.data.call_count, 2);
       assert.equal(info.data.idle_timeout, 30);
       assert.equal(info.data.app_id, 'infsh/counter');
       assert.ok(Date.parse(info.data.expires_at) > Date.now());

       const listed = await client.sessions.list();
       assert.ok(Array.isArray(listed.data));
       assert.equal(listed.data[0].id, id, 'newest first');

       const kept = await client.sessions.keepalive(id);
       assert.equal(kept.data.status, 'active');
       assert.ok(kept.data.expires_at >= info.data.expires_at);

       assert.deepEqual(await client.sessions.end(id), {data: null, messages: []});
       assert.equal((await client.sessions.get(id)).data.status, 'ended');
       // The SDK declares SessionEndedError and friends but never throws them: an
       // InferenceError carries the status, and the body the code.
       await assert.rejects(client.run({app: 'infsh/counter', input: {}, session: id}),
                            (error) => {
                              isHttpError(410, /was ended/)(error);
                              assert.equal(JSON.parse(error.responseBody).error.code,
                                           'SESSION_ENDED');
                              return true;
                            });
       await assert.rejects(client.sessions.keepalive(id), isHttpError(410, /was ended/));
       await assert.rejects(client.sessions.get('sess_missing'),
                            isHttpError(404, /sess_missing/));
     });

test('a session expires after its idle timeout; calls then fail with 410', {timeout: 30000},
     async () => {
       const first = await client.run(
           {app: 'infsh/counter', input: {}, session: 'new', session_timeout: 1});
       const id = first.session_id;
       const deadline = Date.now() + 5000;
       let status = 'active';
       while (status === 'active' && Date.now() < deadline) {
         await new Promise((resolve) => setTimeout(resolve, 50));
         status = (await client.sessions.get(id)).data.status;
       }
       assert.equal(status, 'expired');
       await assert.rejects(client.run({app: 'infsh/counter', input: {}, session: id}),
                            (error) => {
                              isHttpError(410, /expired/)(error);
                              assert.equal(JSON.parse(error.responseBody).error.code,
                                           'SESSION_EXPIRED');
                              return true;
                            });
       await assert.rejects(
           client.run({app: 'infsh/counter', input: {}, session: 'new', session_timeout: 0}),
           isHttpError(422, /session_timeout/));
     });

// ---- the platform apps the SDK's integration suites call, and webhooks ----------------------------

test('text-templating and session-test behave as the SDK\'s integration suites assert',
     {timeout: 30000}, async () => {
       const TEST_APP = 'infsh/text-templating@53bk0yzk';
       const done = await client.run({app: TEST_APP, input: {template: 'Hello {1}!', strings: ['Jest']}});
       assert.equal(done.status, TaskStatusCompleted);
       assert.deepEqual(done.output, {text: 'Hello Jest!'});
       const created = await client.run(
           {app: TEST_APP, input: {template: '{1}', strings: ['Fire and forget']}}, {wait: false});
       assert.ok(created.status !== TaskStatusCompleted && created.status !== TaskStatusFailed);

       const APP = 'infsh/session-test';
       const first = await client.run(
           {app: APP, function: 'set_value', input: {key: 'k', value: 'v'}, session: 'new'});
       assert.match(first.session_id, /^sess_/);
       assert.deepEqual(first.output, {success: true, key: 'k', value: 'v'});
       const session = first.session_id;
       const got = await client.run(
           {app: APP, function: 'get_value', input: {key: 'k'}, session});
       assert.equal(got.session_id, session);
       assert.deepEqual(got.output, {found: true, key: 'k', value: 'v'});
       const counted = await client.run(
           {app: APP, function: 'increment', input: {key: 'cnt', amount: 10}, session});
       assert.deepEqual(counted.output, {key: 'cnt', previous: 0, current: 10});
       const all = await client.run({app: APP, function: 'get_all', input: {}, session});
       assert.deepEqual(all.output, {state: {k: 'v', cnt: 10}, call_count: 4});
       assert.ok((await client.sessions.get(session)).data.call_count >= 1);
       await client.sessions.end(session);
       await assert.rejects(
           client.run({app: APP, function: 'get_value', input: {key: 'k'}, session}),
           isHttpError(410, /was ended/));
       await assert.rejects(client.run({app: APP, function: 'get_value', input: {key: 'foo'},
                                        session: 'sess_invalid_does_not_exist_12345'}),
                            isHttpError(404, /sess_invalid_does_not_exist_12345/));
     });

test('a run with a webhook: the receiver gets the final task; one at the runtime is refused',
     {timeout: 30000}, async () => {
       const {createServer} = await import('node:http');
       const received = [];
       let notify;
       const arrived = new Promise((resolve) => { notify = resolve; });
       const receiver = createServer((request, response) => {
         let body = '';
         request.on('data', (chunk) => { body += chunk; });
         request.on('end', () => {
           received.push({method: request.method, url: request.url, headers: request.headers, body});
           response.writeHead(204).end();
           notify();
         });
       });
       await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
       try {
         const url = `http://127.0.0.1:${receiver.address().port}/hook?token=abc`;
         const task = await client.run({
           app: 'infsh/text-templating@53bk0yzk',
           input: {template: 'Webhook test {1}', strings: ['hello']},
           webhook: url,
         });
         assert.equal(task.status, TaskStatusCompleted);
         await arrived;
         assert.equal(received.length, 1);
         const [hook] = received;
         assert.equal(hook.method, 'POST');
         assert.equal(hook.url, '/hook?token=abc');
         assert.equal(hook.headers['content-type'], 'application/json');
         assert.equal(hook.headers.authorization, undefined);
         const payload = JSON.parse(hook.body);
         assert.equal(payload.event, 'task.completed');
         assert.equal(payload.data.id, task.id);
         assert.deepEqual(payload.data.output, {text: 'Webhook test hello'});
       } finally {
         receiver.close();
       }
       await assert.rejects(
           client.run({app: 'infsh/echo', input: {}, webhook: `${baseUrl}/apps/run`}, {wait: false}),
           isHttpError(400, /'webhook'/));
     });

test('SIGTERM cancels a waiting run ("task cancelled") and the runtime exits 0',
     {timeout: 30000}, async () => {
       const {running, onUpdate} = runningSignal();
       const run = client.run({app: 'infsh/progress', input: {steps: 1000, delay_ms: 50}},
                              {onUpdate});
       const rejected = assert.rejects(run, taskError('task cancelled'));
       await running;
       runtime.process.kill('SIGTERM');
       await rejected;
       const {code, signal} = await runtime.exit;
       assert.equal(signal, null, `infsh-local died of ${signal}:\n${runtime.stderr()}`);
       assert.equal(code, 0, `infsh-local exit status:\n${runtime.stderr()}`);
     });
