import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '@desktop-agents/tools/harness';
import { auth, file, TOKEN, upload, uploadedPath } from './helpers.js';

const SECRET = 'TOP-SECRET-OUTSIDE-HOME';
const OUTSIDE_MARKER = 'outside-marker-7f3a';
const SIBLING_MARKER = 'sibling-marker-91c2';
const base = mkdtempSync(join(tmpdir(), 'filer-jail-'));
// nested, so that `..` and `../..` still land in this test's own folder
const home = join(base, 'jail', 'user');
// a sibling sharing the home's prefix: the original's startsWith check let it through
const sibling = join(base, 'jail', 'user2');
const outside = join(base, 'jail', 'outside');
let agent: RunningAgent;

beforeAll(async () => {
  for (const d of [home, sibling, outside, join(home, 'docs')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeFileSync(join(sibling, 'secret.txt'), SECRET);
  writeFileSync(join(outside, OUTSIDE_MARKER), '');
  writeFileSync(join(sibling, SIBLING_MARKER), '');
  writeFileSync(join(home, 'docs', 'inside.txt'), 'inside');
  symlinkSync(join(outside, 'secret.txt'), join(home, 'link-to-secret'));
  symlinkSync(outside, join(home, 'link-to-outside'));
  symlinkSync('../../outside', join(home, 'docs', 'relative-link'));
  symlinkSync('/', join(home, 'link-to-root'));
  symlinkSync(join(home, 'docs', 'inside.txt'), join(home, 'link-inside'));
  agent = await startAgent('filer', { env: { AUTH_TOKEN: TOKEN, HOME: home } });
});
afterAll(async () => {
  await agent?.stop();
  rmSync(base, { recursive: true, force: true });
});

/** ≥ 200 crafted paths: every trick × every way of writing a path. */
function corpus(): string[] {
  const targets = [
    '..',
    '../..',
    '../outside/secret.txt',
    '../user2/secret.txt',
    '../../../../../../etc/passwd',
    '/etc/passwd',
    '/etc/shadow',
    `${outside}/secret.txt`,
    `${sibling}/secret.txt`,
    `${home}/../outside/secret.txt`,
    `${home}2/secret.txt`,
    'docs/../../outside/secret.txt',
    'docs/../../../etc/passwd',
    './../outside/secret.txt',
    'docs/./../../user2/secret.txt',
    'link-to-secret',
    'link-to-outside/secret.txt',
    'link-to-outside',
    'docs/relative-link/secret.txt',
    'docs/relative-link',
    'link-to-root/etc/passwd',
    'link-to-root',
    'link-to-outside/../outside/secret.txt',
    '~root',
    '~root/.bashrc',
    '~nobody',
    '~nobody/secret.txt',
    '~/../outside/secret.txt',
    '~/../user2/secret.txt',
    '~/link-to-secret',
    '~/link-to-outside/secret.txt',
    '~/docs/relative-link/secret.txt',
    '~/..',
    '~//..//outside/secret.txt',
    'docs/inside.txt\0../../outside/secret.txt',
    '\0',
    'secret.txt\0',
    '..\\outside\\secret.txt',
    '%2e%2e/outside/secret.txt',
    '..%2foutside%2fsecret.txt',
    '%252e%252e/outside/secret.txt',
    '....//outside/secret.txt',
    '..;/outside/secret.txt',
    '/proc/self/environ',
    '/proc/self/cwd/secret.txt',
    `${home}/link-to-root/etc/passwd`,
    `${home}/link-to-outside/secret.txt`,
    '//etc/passwd',
    '///etc//passwd',
    `${base}/outside/secret.txt`,
    'docs/../link-to-secret',
    'docs/../../user/link-to-secret',
  ];
  const variants = (p: string) => [p, `./${p}`, `docs/../${p}`, `${p}/`, `${p}/.`];
  return [...new Set(targets.flatMap(variants))];
}

/**
 * DELETE is sent only for paths that, even if confinement were broken, would land in this test's own folder: a
 * bug must fail the test, never delete system files on the machine running it.
 */
function safeToDelete(path: string): boolean {
  if (path.includes('\0') || path.includes('link-to-root') || (path.startsWith('~') && !path.startsWith('~/'))) return false;
  const p = path.startsWith('~/') ? path.slice(2) : path;
  const naive = isAbsolute(p) ? resolve(p) : resolve(home, p);
  return naive.startsWith(`${base}/`);
}

describe('confinement to home', () => {
  const paths = corpus();

  it(`has at least 200 crafted paths (${paths.length})`, () => {
    expect(paths.length).toBeGreaterThanOrEqual(200);
  });

  it('never serves, lists, deletes or writes anything outside home for any of them', async () => {
    const escapes: string[] = [];
    for (const path of paths) {
      const get = await fetch(`${agent.url}/filer?file=${encodeURIComponent(path)}`, { headers: auth });
      // zips are stored uncompressed, so an outside file inside one would show its bytes too
      const body = Buffer.from(await get.arrayBuffer()).toString('latin1');
      if (body.includes(SECRET) || body.includes('root:x:0:0')) escapes.push(`GET ${path}`);
      const list = await fetch(`${agent.url}/filer/directory/list?directory=${encodeURIComponent(path)}`, { headers: auth });
      if (list.status === 200) {
        const names = (await list.json()) as string[];
        // markers only the outside folders hold (uploads may plant `etc`, `user2`... inside home, legitimately)
        const isOutsideListing =
          names.includes(OUTSIDE_MARKER) ||
          names.includes(SIBLING_MARKER) ||
          names.includes('os-release') ||
          (names.includes('boot') && names.includes('dev') && names.includes('usr'));
        if (isOutsideListing) escapes.push(`LIST ${path}`);
      }
      const up = await upload(agent, {
        fullPath: path.endsWith('/') || path.endsWith('.') ? `${path}/planted.txt` : `${path}-planted`,
        file: file('planted', 'p.txt'),
      });
      if (up.status === 200) {
        const written = uploadedPath(up) ?? '';
        if (written.split('/')[0] === '..' || isAbsolute(written)) escapes.push(`UPLOAD ${path} → ${written}`);
      }
      if (safeToDelete(path))
        await fetch(`${agent.url}/filer`, {
          method: 'DELETE',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ file: path, recursive: true }),
        });
    }
    expect(escapes).toEqual([]);
    // nothing outside home changed: the secrets are there, nothing was planted next to them
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(readFileSync(join(sibling, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(readdirSync(outside).sort()).toEqual([OUTSIDE_MARKER, 'secret.txt']);
    expect(readdirSync(sibling).sort()).toEqual(['secret.txt', SIBLING_MARKER]);
    expect(readdirSync(join(base, 'jail')).sort()).toEqual(['outside', 'user', 'user2']);
    expect(existsSync('/etc/passwd-planted')).toBe(false);
    expect(existsSync(join(tmpdir(), 'planted.txt'))).toBe(false);
  });

  it('still serves a symlink that stays inside home', async () => {
    const res = await fetch(`${agent.url}/filer?file=${encodeURIComponent('~/link-inside')}`, { headers: auth });
    expect(await res.text()).toBe('inside');
    expect(basename(home)).toBe('user');
  });
});
