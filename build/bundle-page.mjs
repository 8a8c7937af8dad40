// node build/bundle-page.mjs <page script> <out file>: a page's script and the browser libraries it imports in one
// minified file, written beside the page in dist/public (pages load nothing from a CDN).
import { build } from 'rolldown';

const [input, file] = process.argv.slice(2);
if (!input || !file) throw new Error('usage: node build/bundle-page.mjs <page script> <out file>');
await build({
  input,
  platform: 'browser',
  logLevel: 'warn',
  output: { file, format: 'iife', minify: true },
});
