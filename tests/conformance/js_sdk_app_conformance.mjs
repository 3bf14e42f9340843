// Conformance: the official JavaScript SDK (@inferencesh/sdk 0.6.54, loaded as in
// js_sdk_conformance.mjs) runs the example apps written with the C++ app library, hosted by
// infsh-local as worker processes:
//
//   node --import ./tests/conformance/register_esm_hook.mjs \
//        tests/conformance/js_sdk_app_conformance.mjs <infsh-local> <image_generator> <hello>

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';

import { loadSdk } from './load_sdk.mjs';
import { killRuntime, startRuntime } from './runtime_process.mjs';

const [runtimePath, imageGeneratorPath, helloPath] = process.argv.slice(2);
if (!runtimePath || !imageGeneratorPath || !helloPath) {
  console.error('usage: node --import ./register_esm_hook.mjs js_sdk_app_conformance.mjs ' +
                '<infsh-local> <image_generator> <hello>');
  process.exit(2);
}

const {Inference, isInferenceError, parseStatus, TaskStatusCompleted} = await loadSdk();
const apiKey = `sk-conformance-${randomBytes(12).toString('hex')}`;

let runtime;
let client;

before(async () => {
  runtime = await startRuntime(runtimePath, [
    '--api-key', apiKey,
    '--app', `examples/image-generator=${imageGeneratorPath}`,
    '--app', `examples/hello=${helloPath}`,
  ]);
  client = new Inference({apiKey, baseUrl: runtime.url});
});

after(() => killRuntime(runtime));

// An output File as the runtime returns it: its uri (a string, or an object holding one).
const uriOf = (file) => (typeof file === 'string' ? file : file?.uri);

// Width and height from a PNG's IHDR chunk, after checking the signature.
function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
                   'a PNG signature');
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR');
  return {width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20)};
}

async function fetchPng(file) {
  const uri = uriOf(file);
  assert.ok(uri?.startsWith(`${runtime.url}/files/`), `a file of this runtime: ${uri}`);
  const response = await fetch(uri);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'image/png');
  return pngSize(Buffer.from(await response.arrayBuffer()));
}

test('hello: run resolves with the greeting, and the app\'s log is in the task logs',
     {timeout: 30000}, async () => {
       const task = await client.run({app: 'examples/hello', input: {name: 'Ada', excited: true}});
       assert.equal(task.status, TaskStatusCompleted);
       assert.equal(task.output.greeting, 'Hello, Ada!');
       const logs = (await client.tasks.get(task.id)).data.logs;
       assert.ok(JSON.stringify(logs).includes('greeting Ada'), JSON.stringify(logs));
     });

test('image generator: a PNG of the requested size, a preview first, output_meta at the end',
     {timeout: 60000}, async () => {
       const updates = [];
       const task = await client.run(
           {app: 'examples/image-generator',
            input: {width: 96, height: 64, iterations: 60, palette: 'ocean', preview: true}},
           {onUpdate: (update) => updates.push(structuredClone(update))});
       assert.equal(task.status, TaskStatusCompleted);
       assert.equal(task.output.width, 96);
       assert.equal(task.output.height, 64);
       assert.deepEqual(await fetchPng(task.output.image), {width: 96, height: 64});
       const meta = task.output.output_meta;
       assert.equal(meta.outputs[0].type, 'image');
       assert.equal(meta.outputs[0].width, 96);

       // The preview: a partial output with a smaller image, before the final status.
       const previews = updates.filter((u) => parseStatus(u.status) !== TaskStatusCompleted &&
                                              u.output?.image !== undefined);
       assert.ok(previews.length >= 1, `a partial output among ${updates.length} updates`);
       assert.deepEqual(await fetchPng(previews[0].output.image), {width: 16, height: 16});
     });

test('image generator: setup parameters reach setup; a second function answers',
     {timeout: 60000}, async () => {
       const task = await client.run({app: 'examples/image-generator', setup: {palette_size: 16},
                                      input: {width: 16, height: 16, iterations: 5}});
       const logs = JSON.stringify((await client.tasks.get(task.id)).data.logs);
       assert.ok(logs.includes('palettes ready with 16 colours'), logs);

       const palettes = await client.run(
           {app: 'examples/image-generator', function: 'palettes', input: {}});
       assert.deepEqual(palettes.output.palettes, ['sunset', 'ocean', 'forest', 'grayscale']);
     });

test('image generator: an input its model refuses fails, naming the field and the rule',
     {timeout: 30000}, async () => {
       await assert.rejects(
           client.run({app: 'examples/image-generator', input: {width: 8}}), (error) => {
             const text = isInferenceError(error) ? JSON.stringify(error.response ?? error.message)
                                                  : error.message;
             assert.match(text, /width/);
             assert.match(text, /16/);
             return true;
           });
     });
