// Bundles the terminal page's browser code at build time (no CDN): xterm.js, its fit addon and CSS, beside our page.
import { cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'public');
const require = createRequire(import.meta.url);
const xterm = dirname(dirname(require.resolve('@xterm/xterm/package.json')));
mkdirSync(join(out, 'vendor'), { recursive: true });
cpSync(join(here, '..', 'public'), out, { recursive: true });
cpSync(join(xterm, 'xterm', 'lib', 'xterm.js'), join(out, 'vendor', 'xterm.js'));
cpSync(join(xterm, 'xterm', 'css', 'xterm.css'), join(out, 'vendor', 'xterm.css'));
cpSync(join(xterm, 'addon-fit', 'lib', 'addon-fit.js'), join(out, 'vendor', 'addon-fit.js'));
