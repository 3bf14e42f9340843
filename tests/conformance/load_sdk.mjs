// Finds and imports the pinned @inferencesh/sdk for the conformance test and the JS benchmark.
//
// ESM resolves bare specifiers from the importing file's folder, not from NODE_PATH or the
// working directory, and CTest installs the package into the build tree. So the package is
// looked up under INFSH_JS_SDK_PREFIX (the folder holding node_modules; default: this folder),
// then imported by its file URL. The SDK's own extension-less imports still need the resolve
// hook: run node with `--import <this folder>/register_esm_hook.mjs`.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const PINNED_SDK_VERSION = '0.6.54';

export async function loadSdk() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const prefix = path.resolve(process.env.INFSH_JS_SDK_PREFIX || here);
  const require = createRequire(path.join(prefix, 'package.json'));
  let entry;
  try {
    entry = require.resolve('@inferencesh/sdk');
  } catch {
    throw new Error(
      `@inferencesh/sdk is not installed under ${prefix}; install the pinned version with ` +
        `\`npm ci --no-audit --no-fund --prefix ${prefix}\` (package.json and package-lock.json ` +
        `from tests/conformance) or set INFSH_JS_SDK_PREFIX`);
  }
  // dist/index.js → the package root
  const manifest = JSON.parse(
    readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8'));
  if (manifest.version !== PINNED_SDK_VERSION) {
    throw new Error(`expected @inferencesh/sdk ${PINNED_SDK_VERSION}, found ${manifest.version} ` +
                    `under ${prefix}`);
  }
  try {
    return await import(pathToFileURL(entry).href);
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') {
      error.message += `\n(load the resolve hook: node --import ${
          path.join(here, 'register_esm_hook.mjs')} ...)`;
    }
    throw error;
  }
}
