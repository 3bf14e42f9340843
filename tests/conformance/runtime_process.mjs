// Starts infsh-local for a conformance script: `--port 0` plus the given arguments, the URL
// read from its first line of stdout, stderr collected for failure messages.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// Resolves with {process, url, exit: Promise<{code, signal}>, stderr(): string}.
export async function startRuntime(runtimePath, args) {
  const child = spawn(runtimePath, ['--port', '0', ...args], {stdio: ['ignore', 'pipe', 'pipe']});
  let stderr = '';
  const exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({code, signal}));
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const spawnError = new Promise((_, reject) => child.on('error', reject));
  const lines = createInterface({input: child.stdout});
  const firstLine = new Promise((resolve, reject) => {
    lines.once('line', resolve);
    lines.once('close', () => reject(new Error(`infsh-local exited before printing its URL:\n${
                                         stderr}`)));
  });
  const timeout = new Promise((_, reject) => setTimeout(
      () => reject(new Error('infsh-local printed no URL within 10 s')), 10000).unref());
  const url = await Promise.race([firstLine, spawnError, timeout]);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'first line of infsh-local is its URL');
  return {process: child, url, exit, stderr: () => stderr};
}

// Kills the runtime if it still runs (for `after` hooks).
export function killRuntime(runtime) {
  const child = runtime?.process;
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
