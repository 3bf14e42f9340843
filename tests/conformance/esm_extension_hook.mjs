// Node module-customization hook (run on Node's loader thread; registered by
// register_esm_hook.mjs).
//
// Why: `@inferencesh/sdk` 0.6.54 is published as ESM ("type": "module") compiled by tsc with
// extension-less relative imports (`export ... from './http/client'`). Node's ESM loader does
// no extension probing, so importing the package fails with ERR_MODULE_NOT_FOUND on Node 20.
// This resolve hook retries such a specifier with ".js" and then "/index.js", which is what a
// bundler would do. It only touches relative specifiers imported from inside node_modules, so a
// mistake in our own scripts still fails loudly.

const kSuffixes = ['.js', '/index.js'];

function isRelative(specifier) {
  return specifier.startsWith('./') || specifier.startsWith('../');
}

function hasExtension(specifier) {
  const last = specifier.slice(specifier.lastIndexOf('/') + 1);
  return /\.[cm]?js$|\.json$|\.node$/.test(last);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const fromPackage = context.parentURL?.includes('/node_modules/') ?? false;
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' && error?.code !== 'ERR_UNSUPPORTED_DIR_IMPORT') {
      throw error;
    }
    if (!fromPackage || !isRelative(specifier) || hasExtension(specifier)) throw error;
    for (const suffix of kSuffixes) {
      try {
        return await nextResolve(specifier + suffix, context);
      } catch {
        // try the next suffix
      }
    }
    throw error;
  }
}
