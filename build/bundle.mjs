// node build/bundle.mjs <entry.js>: the built agent and everything it imports in one ESM file beside its entry
// (<entry>.bundle.mjs, with a chunk for each module imported on first use), so that start-up reads one file
// instead of resolving and loading hundreds of modules (the startup cost bench: module loading was most of an
// agent's start). Native addons stay outside. The file sits in the entry's own folder, so the agent's paths
// relative to import.meta.url (its public pages) resolve as before.
import { basename, dirname } from 'node:path';
import { build } from 'rolldown';

const entry = process.argv[2];
if (!entry) throw new Error('usage: node build/bundle.mjs <entry.js>');
const banner = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  "import { dirname as __dirnameOf } from 'node:path';",
  // what CommonJS dependencies expect in their scope
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  'const __dirname = __dirnameOf(__filename);',
].join('\n');
await build({
  input: entry,
  platform: 'node',
  // usocket: dbus-next's optional native socket, required in a try (plain sockets serve a unix path without it);
  // opusscript: loads its WebAssembly file from beside its own module
  external: [/\.node$/, 'node-pty', 'usocket', 'opusscript'],
  logLevel: 'warn',
  // what the agent imports on first use (decoders, tus, zip, jose, prom-client) stays a chunk of its own, loaded then
  output: {
    dir: dirname(entry),
    entryFileNames: `${basename(entry, '.js')}.bundle.mjs`,
    chunkFileNames: 'bundle-[name]-[hash].mjs',
    format: 'esm',
    banner,
  },
});
