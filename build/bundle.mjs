// node build/bundle.mjs <entry.js>: the built agent and everything it imports in one ESM file beside its entry
// (<entry>.bundle.mjs, with a chunk for each module imported on first use), so that start-up reads one file
// instead of resolving and loading hundreds of modules (the startup cost bench: module loading was most of an
// agent's start). Native addons stay outside. The file sits in the entry's own folder (an agent's dist/src, or multi's
// for the agents in one process).
import { readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
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
// fastify, fast-json-stringify and ajv-formats each hold their own copy of ajv 8 (npm cannot hoist it past eslint's
// ajv 6): every import of it is resolved to the kit's, so an agent parses and loads ajv once
const kitRequire = createRequire(join(import.meta.dirname, '..', 'shared', 'package.json'));
// the compilers fastify builds when it is given none: the kit gives it its own (shared/src/compilers.ts), so these never run
const unused = ['@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler'];
const ownCompilersOnly = {
  name: 'one-ajv-and-own-compilers',
  resolveId(source) {
    if (unused.includes(source)) return `\0unused:${source}`;
    if (source === 'ajv' || source.startsWith('ajv/')) return kitRequire.resolve(source);
    return null;
  },
  load(id) {
    if (!id.startsWith('\0unused:')) return null;
    const name = JSON.stringify(id.slice('\0unused:'.length));
    return `module.exports = function unused() { throw new Error(${name} + ' is left out of the bundle: the kit gives fastify its own compilers'); };`;
  },
};
// A module of ours that finds its files from import.meta.url (an agent's public pages) keeps finding them from its own
// place when it is bundled into another package's folder (multi/, the agents in one process): its import.meta.url
// becomes its original file's address, written relative to the bundle so that the installed tree can move.
const outDir = dirname(entry);
const bundleDir = resolve(outDir);
const ownFilesFromOwnPlace = {
  name: 'import-meta-url-of-the-original-module',
  transform(code, id) {
    // files of ours only: not a dependency, nor rolldown's own modules (ids such as \0rolldown/runtime.js)
    if (!isAbsolute(id) || id.includes(`${sep}node_modules${sep}`) || !code.includes('import.meta.url') || dirname(id) === bundleDir) return null;
    const fromBundle = relative(bundleDir, id).split(sep).join('/');
    return { code: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), map: null };
  },
};
// chunks of an earlier build go first: their names carry a hash, so a new build would leave them beside its own
for (const name of await readdir(outDir)) if (/^bundle-.*\.mjs$|\.bundle\.mjs$/.test(name)) await rm(join(outDir, name));
await build({
  input: entry,
  platform: 'node',
  plugins: [ownCompilersOnly, ownFilesFromOwnPlace],
  // usocket: dbus-next's optional native socket, required in a try (plain sockets serve a unix path without it);
  // opusscript: loads its WebAssembly file from beside its own module; x11: requires each extension, its keysym table
  // and its X server only when asked, where a chunk would hold them all (~580 KB to parse at start); loaded from
  // node_modules, it is also one copy for the spawner and dbus-next (which reads a D-Bus address from X);
  // light-my-request: what fastify's inject() requires on its first call (the kit's status page), ~80 KB otherwise
  // parsed at every start
  external: [/\.node$/, 'node-pty', 'usocket', 'opusscript', 'x11', 'light-my-request'],
  logLevel: 'warn',
  // what the agent imports on first use (decoders, tus, zip, jose, prom-client) stays a chunk of its own, loaded then
  output: {
    dir: outDir,
    entryFileNames: `bundle-${basename(entry, '.js')}.mjs`,
    chunkFileNames: 'bundle-[name]-[hash].mjs',
    format: 'esm',
    banner,
    // V8 keeps every chunk's source for lazy compilation: comments and white space out (less to hold and to scan at
    // start), and only ASCII (one character beyond Latin-1 makes V8 hold a whole chunk in two bytes per character);
    // names and code as written, so stack traces still name their functions; licences kept at the end
    minify: { compress: false, mangle: false, codegen: { removeWhitespace: true, asciiOnly: true, legalComments: 'eof' } },
  },
});

// What the start scripts run: a few lines that take SIGUSR1 before anything else is parsed or loaded, then the bundle.
// Node opens its inspector on SIGUSR1 while no JavaScript listens for it, and any process of the pod (one process
// namespace) may send it: before this, the window lasted until every module had loaded (about half a second).
await writeFile(
  join(outDir, `${basename(entry, '.js')}.bundle.mjs`),
  [
    '// generated by build/bundle.mjs: SIGUSR1 is taken before the agent loads (the kit listens again once it has)',
    "process.on('SIGUSR1', () => undefined);",
    `await import('./bundle-${basename(entry, '.js')}.mjs');`,
    '',
  ].join('\n'),
);
