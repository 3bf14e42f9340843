// Preloaded with `node --import ./register_esm_hook.mjs ...`: installs the resolve hook in
// esm_extension_hook.mjs (module.register, Node >= 20.6) before any script imports
// @inferencesh/sdk 0.6.54, whose extension-less relative imports Node rejects otherwise.
import { register } from 'node:module';

register('./esm_extension_hook.mjs', import.meta.url);
