// The JavaScript half of bench/runtime_chats_bench.cpp: the same agent turns through the
// official JS SDK's headless Agent (@inferencesh/sdk 0.6.54), against a running infsh-local that
// serves the bench's templates (acme/plain: answers in pieces; acme/tool: calls the client tool
// `ask` first, then answers). With a tool config (the acme/tool template's JSON file), the
// client-tool turns use an ad-hoc agent of that config, as the C++ side must to give its tool a
// handler, so both send the same turns.
//
// - per turn, one after another: a new chat's first turn (`sendMessage(text, {onMessage})` in
//   streaming mode: POST /agents/run, then the chat's NDJSON stream, resolved on the idle chat),
//   its next turn (the stream opened before the POST), and a new chat's client-tool turn
//   (onToolCall answered with submitToolResult), each in milliseconds, with this process's CPU
//   time per turn;
// - concurrent: N agents (one chat each) send their first message at once, all N streams open
//   together; the wall time until the last has ended.
//
// Prints one JSON line (with this process's peak RSS and threads); runtime_chats_bench spawns
// this script after its own turns and the C++ client's, so all are measured in the same run
// against the same runtime.
//
//   INFSH_JS_SDK_PREFIX=build/dev/tests/conformance \
//   node --import ./tests/conformance/register_esm_hook.mjs bench/js_chats_bench.mjs \
//        <base-url> <api-key> [concurrent=1000] [turns=200] [tool-config.json]

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { loadSdk, PINNED_SDK_VERSION } from '../tests/conformance/load_sdk.mjs';

const [baseUrl, apiKey, concurrentArg = '1000', turnsArg = '200', toolConfigPath] =
    process.argv.slice(2);
if (!baseUrl || !apiKey) {
  console.error('usage: js_chats_bench.mjs <base-url> <api-key> [concurrent] [turns] [tool-config]');
  process.exit(2);
}
const concurrent = Number(concurrentArg);
const turns = Number(turnsArg);

const {Inference} = await loadSdk();
const client = new Inference({apiKey, baseUrl});

const toolConfig = toolConfigPath ? JSON.parse(readFileSync(toolConfigPath, 'utf8')) : null;
const toolAgent = () => toolConfig ? client.agent(toolConfig, {name: 'bench-tool-js'}) :
                                     client.agent('acme/tool@1');

// A field of /proc/self/status, in its unit (kB for memory).
const statusField = (name) => {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return line ? Number.parseInt(line.slice(name.length + 1), 10) : -1;
};

const textOf = (message) =>
    (message?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');

// One first turn of a new chat of acme/plain, streamed; checks the answer.
async function plainTurn(agent) {
  let answer = null;
  const {assistantMessage} = await agent.sendMessage('hello', {
    onMessage: (message) => {
      if (message.role === 'assistant' && message.status === 'ready') answer = message;
    },
  });
  if (answer?.id !== assistantMessage.id || textOf(answer) !== 'The answer, streamed in pieces.') {
    throw new Error(`unexpected answer: ${JSON.stringify(answer)}`);
  }
}

// One first turn of a new chat of acme/tool: the call answered, then the core's answer.
async function toolTurn(agent) {
  let answer = null;
  const submitted = [];
  await agent.sendMessage('hello', {
    onToolCall: (call) => submitted.push(agent.submitToolResult(call.id, 'yes')),
    onMessage: (message) => {
      if (message.role === 'assistant' && message.status === 'ready' && textOf(message) !== 'Asking.') {
        answer = message;
      }
    },
  });
  await Promise.all(submitted);
  if (submitted.length !== 1 || textOf(answer) !== 'You said yes.') {
    throw new Error(`unexpected tool turn: ${submitted.length} calls, ${JSON.stringify(answer)}`);
  }
}

function summary(millis, cpuMicros) {
  millis.sort((a, b) => a - b);
  const at = (q) => millis[Math.floor(q * (millis.length - 1))];
  return {
    turns: millis.length,
    median_ms: at(0.5),
    p90_ms: at(0.9),
    min_ms: millis[0],
    cpu_ms_per_turn: cpuMicros / 1000 / millis.length,
  };
}

// n turns, each of a new agent: its first turn, and with `next`, its second as well (the
// chat's stream opened before the POST). CPU: every thread of this process.
async function timedTurns(n, makeAgent, turn, next = false) {
  const first = [];
  const second = [];
  const cpu = [0, 0];
  for (let i = 0; i < n; ++i) {
    const agent = makeAgent();
    for (const [k, millis] of (next ? [first, second] : [first]).entries()) {
      const cpuBefore = process.cpuUsage();
      const start = performance.now();
      await turn(agent);
      millis.push(performance.now() - start);
      const used = process.cpuUsage(cpuBefore);
      cpu[k] += used.user + used.system;
    }
    agent.disconnect();
  }
  return {first: summary(first, cpu[0]), next: next ? summary(second, cpu[1]) : null};
}

// Warm-up: JIT, the connection pool, the core's warm instance.
const plainAgent = () => client.agent('acme/plain@1');
await timedTurns(20, plainAgent, plainTurn, true);
await timedTurns(20, toolAgent, toolTurn);

// Per turn first; the burst last, so its aftermath in the runtime falls in no timed turn.
const plain = await timedTurns(turns, plainAgent, plainTurn, true);
const tool = (await timedTurns(turns, toolAgent, toolTurn)).first;

const agents = Array.from({length: concurrent}, plainAgent);
const start = performance.now();
await Promise.all(agents.map(plainTurn));
const concurrentSeconds = (performance.now() - start) / 1000;
for (const agent of agents) agent.disconnect();
console.log(JSON.stringify({
  sdk: `@inferencesh/sdk ${PINNED_SDK_VERSION}, node ${process.version}`,
  concurrent: {chats: concurrent, seconds: concurrentSeconds},
  plain: plain.first,
  next: plain.next,
  tool,
  client: {peak_rss_kib: statusField('VmHWM'), peak_threads: statusField('Threads')},
}));
