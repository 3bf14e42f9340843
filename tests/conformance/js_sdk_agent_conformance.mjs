// Conformance: the official JavaScript SDK's headless Agent (@inferencesh/sdk 0.6.54, loaded as
// in js_sdk_conformance.mjs) against infsh-local's agent and chat API, with agents whose core is
// infsh/scripted-llm: a template agent (`--agent`), an ad-hoc agent with a client tool answered
// from onToolCall through submitToolResult, in streaming and in polling mode, run() returning
// the finish tool's output, stopChat, getChat and reset.
//
//   node --import ./tests/conformance/register_esm_hook.mjs \
//        tests/conformance/js_sdk_agent_conformance.mjs build/dev/src/local/infsh-local

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { loadSdk } from './load_sdk.mjs';
import { killRuntime, startRuntime } from './runtime_process.mjs';

const runtimePath = process.argv[2];
if (!runtimePath) {
  console.error('usage: node --import ./register_esm_hook.mjs js_sdk_agent_conformance.mjs ' +
                '<infsh-local>');
  process.exit(2);
}

const {Inference} = await loadSdk();
const apiKey = `sk-conformance-${randomBytes(12).toString('hex')}`;
const POLL_MS = 20;  // the SDK's default (2 s) only slows the polling scenarios down

// ---- agents ------------------------------------------------------------------------------------

const weatherTool = {
  name: 'get_weather',
  display_name: 'Weather',
  description: 'The weather in a city',
  type: 'client',
  client: {input_schema: {type: 'object', properties: {city: {type: 'string'}},
                          required: ['city']}},
};

// Answers each turn with a greeting naming the turn and the user's text, in small pieces.
const greeterConfig = {
  system_prompt: 'You greet people.',
  core_app: {ref: 'infsh/scripted-llm', setup: {chunk_size: 4, steps: [], default: {
    text: 'Hello from turn {{turn}}: {{user_text}}',
  }}},
};

// Asks the client for the weather, then quotes the result.
const weatherConfig = {
  name: 'conformance-weather',
  system_prompt: 'You tell the weather.',
  core_app: {ref: 'infsh/scripted-llm', setup: {chunk_size: 5, steps: [
    {when: {user_text_contains: 'weather'}, text: 'Let me check.',
     tool_calls: [{name: 'get_weather', arguments: {city: 'Paris'}}]},
    {when: {tool_result_of: 'get_weather'}, text: 'It is {{last_tool_result}} in Paris.'},
  ]}},
  tools: [weatherTool],
};

// Finishes with a structured output that run() returns.
const finisherConfig = {
  name: 'conformance-finisher',
  system_prompt: 'You answer with a structured result.',
  core_app: {ref: 'infsh/scripted-llm', setup: {steps: [], default: {
    text: 'Done.', finish: {answer: 'the answer to {{user_text}}'},
  }}},
  internal_tools: {finish: true},
  output_schema: {type: 'object', properties: {answer: {type: 'string'}}, required: ['answer']},
};

// Streams a long text slowly, so a stop lands mid-turn.
const slowConfig = {
  name: 'conformance-slow',
  core_app: {ref: 'infsh/scripted-llm', setup: {chunk_size: 2, delay_ms: 50, steps: [], default: {
    text: 'This answer is streamed very slowly so that it can be stopped midway through.',
  }}},
};

// ---- the runtime -------------------------------------------------------------------------------

let runtime;
let client;
let scratch;

before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'js-sdk-agents-'));
  const greeterFile = path.join(scratch, 'greeter.json');
  const weatherFile = path.join(scratch, 'weather.json');
  writeFileSync(greeterFile, JSON.stringify(greeterConfig));
  writeFileSync(weatherFile, JSON.stringify(weatherConfig));
  runtime = await startRuntime(runtimePath, [
    '--api-key', apiKey,
    '--agent', `conformance/greeter=${greeterFile}`,
    '--agent', `conformance/weather=${weatherFile}`,
  ]);
  client = new Inference({apiKey, baseUrl: runtime.url});
});

after(() => {
  killRuntime(runtime);
  if (scratch) rmSync(scratch, {recursive: true, force: true});
});

// ---- helpers -----------------------------------------------------------------------------------

const textOf = (message) =>
    (message?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');

// Callbacks recording what the SDK hands its user during one sendMessage.
function recorder() {
  const seen = {chats: [], messages: [], deltas: [], toolCalls: []};
  return {
    seen,
    onChat: (chat) => seen.chats.push(structuredClone(chat)),
    onMessage: (message) => seen.messages.push(structuredClone(message)),
    onDelta: (delta) => seen.deltas.push(structuredClone(delta)),
  };
}

// The last version of each message the callbacks saw, by id.
function latestById(messages) {
  const byId = new Map();
  for (const message of messages) byId.set(message.id, message);
  return byId;
}

async function assertIdleChat(agent, expectedRoles) {
  const chat = await agent.getChat();
  assert.equal(chat.id, agent.currentChatId);
  assert.equal(chat.status, 'idle', 'the chat is idle once sendMessage resolved');
  const orders = chat.chat_messages.map((m) => m.order);
  assert.deepEqual(orders, [...orders].sort((a, b) => a - b), 'chat_messages in order');
  assert.deepEqual(chat.chat_messages.map((m) => m.role), expectedRoles);
  for (const message of chat.chat_messages) assert.equal(message.chat_id, chat.id);
  return chat;
}

// ---- scenarios ---------------------------------------------------------------------------------

test('template agent, streaming: deltas grow the text, onChat ends idle, the chat keeps both turns',
     {timeout: 30000}, async () => {
       const agent = client.agent('conformance/greeter@latest');
       assert.equal(agent.currentChatId, null);

       const first = recorder();
       const {userMessage, assistantMessage} = await agent.sendMessage('hi there', first);
       assert.equal(userMessage.role, 'user');
       assert.equal(textOf(userMessage), 'hi there');
       assert.equal(assistantMessage.role, 'assistant');
       assert.ok(agent.currentChatId?.startsWith('chat_'), `a chat id: ${agent.currentChatId}`);
       assert.equal(assistantMessage.chat_id, agent.currentChatId);

       const answer = 'Hello from turn 0: hi there';
       const last = latestById(first.seen.messages).get(assistantMessage.id);
       assert.equal(last?.status, 'ready', 'onMessage saw the answer ready');
       assert.equal(textOf(last), answer);
       // At least one delta; how many depends on timing (pieces made before the stream is
       // written arrive as one), but the text they carry only grows, to the whole answer.
       assert.ok(first.seen.deltas.length >= 1, 'onDelta was called');
       for (const delta of first.seen.deltas) assert.equal(delta.messageId, assistantMessage.id);
       const grown = first.seen.deltas.map((d) => d.output.response);
       for (let i = 1; i < grown.length; ++i) assert.ok(grown[i].startsWith(grown[i - 1]), grown);
       assert.equal(grown.at(-1), answer);
       assert.equal(first.seen.chats.at(-1)?.status, 'idle', 'the last onChat is idle');

       // The second message goes to the same chat (the SDK opens the stream before it posts).
       const chatId = agent.currentChatId;
       const second = recorder();
       const next = await agent.sendMessage('again', second);
       assert.equal(agent.currentChatId, chatId);
       assert.equal(next.assistantMessage.chat_id, chatId);
       assert.equal(textOf(latestById(second.seen.messages).get(next.assistantMessage.id)),
                    'Hello from turn 1: again');
       assert.ok(second.seen.chats.some((c) => c.status === 'busy'), 'onChat saw the turn busy');
       assert.equal(second.seen.chats.at(-1)?.status, 'idle');

       const chat = await assertIdleChat(agent, ['user', 'assistant', 'user', 'assistant']);
       assert.equal(textOf(chat.chat_messages[3]), 'Hello from turn 1: again');
       agent.disconnect();
     });

// The client tool round trip through onToolCall and submitToolResult, in both waiting modes.
for (const mode of ['streaming', 'polling']) {
  test(`ad-hoc agent, ${mode}: onToolCall once, submitToolResult, the result in the answer`,
       {timeout: 30000}, async () => {
         const agent = client.agent(weatherConfig);
         const calls = [];
         const submissions = [];
         const seen = recorder();
         const options = {
           ...seen,
           stream: mode === 'streaming',
           pollIntervalMs: POLL_MS,
           onToolCall: (call) => {
             calls.push(call);
             submissions.push(agent.submitToolResult(call.id, 'sunny'));
           },
         };
         if (mode === 'polling') delete options.onDelta;
         const {assistantMessage} = await agent.sendMessage('What is the weather?', options);
         await Promise.all(submissions);

         assert.equal(calls.length, 1, `one tool call: ${JSON.stringify(calls)}`);
         assert.equal(calls[0].name, 'get_weather');
         assert.deepEqual(calls[0].args, {city: 'Paris'});
         assert.match(calls[0].id, /^\S+$/);

         const chat = await assertIdleChat(agent, ['user', 'assistant', 'assistant']);
         assert.equal(chat.chat_messages[1].id, assistantMessage.id);
         const invocation = chat.chat_messages[1].tool_invocations?.[0];
         assert.equal(invocation?.id, calls[0].id);
         assert.equal(invocation.type, 'client');
         assert.equal(invocation.status, 'completed');
         assert.equal(invocation.result, 'sunny');
         assert.equal(textOf(chat.chat_messages[2]), 'It is sunny in Paris.');
         const shown = latestById(seen.seen.messages).get(chat.chat_messages[2].id);
         assert.equal(textOf(shown), 'It is sunny in Paris.', 'onMessage saw the final answer');
         assert.ok(seen.seen.chats.some((c) => c.status === 'awaiting_input' ||
                                              c.status === 'busy'), 'onChat saw the turn');
         assert.equal(seen.seen.chats.at(-1)?.status, 'idle');
         agent.disconnect();
       });
}

test('template agent with a client tool: a widget action is submitted as its JSON text',
     {timeout: 30000}, async () => {
       const agent = client.agent('conformance/weather@v1');
       const submissions = [];
       await agent.sendMessage('weather please', {
         onToolCall: (call) => submissions.push(agent.submitToolResult(
             call.id, {action: {type: 'confirm', payload: {sky: 'clear'}}, form_data: {unit: 'C'}})),
       });
       await Promise.all(submissions);
       assert.equal(submissions.length, 1);
       const chat = await assertIdleChat(agent, ['user', 'assistant', 'assistant']);
       const result = chat.chat_messages[1].tool_invocations[0].result;
       assert.deepEqual(JSON.parse(result),
                        {action: {type: 'confirm', payload: {sky: 'clear'}}, form_data: {unit: 'C'}});
       assert.equal(textOf(chat.chat_messages[2]), `It is ${result} in Paris.`);
       agent.disconnect();
     });

test('a tool result for an invocation that is not waiting is refused with 409',
     {timeout: 30000}, async () => {
       const agent = client.agent(weatherConfig);
       let callId;
       await agent.sendMessage('weather?', {
         // In polling mode 0.6.54 dispatches tool calls only when onMessage is given too.
         stream: false, pollIntervalMs: POLL_MS, onMessage: () => {},
         onToolCall: (call) => {
           callId = call.id;
           agent.submitToolResult(call.id, 'rainy');
         },
       });
       await assert.rejects(agent.submitToolResult(callId, 'again'), (error) => {
         assert.equal(error.statusCode, 409, error.message);
         return true;
       });
     });

test('run() polls to the end of the turn and returns the finish tool\'s output',
     {timeout: 30000}, async () => {
       const agent = client.agent(finisherConfig);
       const output = await agent.run('life', {pollIntervalMs: POLL_MS});
       assert.deepEqual(output, {answer: 'the answer to life'});
       const chat = await agent.getChat();
       assert.equal(chat.status, 'idle');
       assert.deepEqual(chat.output, {answer: 'the answer to life'});

       // An agent that never calls finish: run() gives null.
       const plain = client.agent('conformance/greeter@latest');
       assert.equal(await plain.run('no finish', {pollIntervalMs: POLL_MS}), null);
     });

test('stopChat mid-stream: sendMessage resolves, the answer ends cancelled, the chat idle',
     {timeout: 30000}, async () => {
       const agent = client.agent(slowConfig);
       let stopping = null;
       const seen = recorder();
       const {assistantMessage} = await agent.sendMessage('go', {
         ...seen,
         onDelta: (delta) => {
           seen.onDelta(delta);
           stopping ??= agent.stopChat();
         },
       });
       assert.ok(stopping, 'a delta arrived before the stop');
       await stopping;
       const chat = await assertIdleChat(agent, ['user', 'assistant']);
       const answer = chat.chat_messages[1];
       assert.equal(answer.id, assistantMessage.id);
       assert.equal(answer.status, 'cancelled');
       assert.ok(textOf(answer).length < slowConfig.core_app.setup.default.text.length,
                 `stopped midway: ${textOf(answer)}`);
       assert.equal(seen.seen.chats.at(-1)?.status, 'idle');
       agent.disconnect();
     });

test('getChat with and without a chat; reset starts a new chat and stopChat then asks nothing',
     {timeout: 30000}, async () => {
       const agent = client.agent('conformance/greeter@latest');
       assert.equal(await agent.getChat(), null, 'no chat before the first message');
       await agent.stopChat();  // no chat: nothing to stop, no request

       await agent.sendMessage('one', {stream: false, pollIntervalMs: POLL_MS});
       const firstId = agent.currentChatId;
       await assertIdleChat(agent, ['user', 'assistant']);

       agent.reset();
       assert.equal(agent.currentChatId, null);
       assert.equal(await agent.getChat(), null);
       await agent.stopChat();

       await agent.sendMessage('two', {stream: false, pollIntervalMs: POLL_MS});
       assert.ok(agent.currentChatId && agent.currentChatId !== firstId, 'a new chat');
       const chat = await assertIdleChat(agent, ['user', 'assistant']);
       assert.equal(textOf(chat.chat_messages[1]), 'Hello from turn 0: two');

       // The first chat is still there, by id.
       const old = await agent.getChat(firstId);
       assert.equal(old.id, firstId);
       assert.equal(textOf(old.chat_messages[1]), 'Hello from turn 0: one');
     });

test('sendMessage without callbacks returns at once; the turn still runs to idle',
     {timeout: 30000}, async () => {
       const agent = client.agent('conformance/greeter@latest');
       const {assistantMessage} = await agent.sendMessage('quick');
       assert.equal(assistantMessage.status, 'pending');
       // Wait for the turn with a stream opened afterwards (the runtime waits for it).
       await agent.sendMessage('and more', {stream: false, pollIntervalMs: POLL_MS});
       const chat = await assertIdleChat(agent, ['user', 'assistant', 'user', 'assistant']);
       assert.equal(textOf(chat.chat_messages[1]), 'Hello from turn 0: quick');
       assert.equal(textOf(chat.chat_messages[3]), 'Hello from turn 1: and more');
     });

test('the runtime exits 0 on SIGTERM with agent streams open', {timeout: 30000}, async () => {
  const agent = client.agent('conformance/greeter@latest');
  await agent.sendMessage('bye', {onMessage: () => {}});
  runtime.process.kill('SIGTERM');
  const {code, signal} = await runtime.exit;
  agent.disconnect();
  assert.equal(signal, null, `no signal: ${runtime.stderr()}`);
  assert.equal(code, 0, runtime.stderr());
});
