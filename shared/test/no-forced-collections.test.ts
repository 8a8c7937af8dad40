import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Memory is bounded by how transfers are written (buffer sizes, backpressure), never by calling the collector: a forced
// collection pauses every agent of a process (the bus, the terminals, 10 ms audio frames), and exposing it is a flag
// no agent needs.
const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
}

describe('no forced garbage collection', () => {
  it('no agent starts with the collector exposed', () => {
    const starts = ['broadcast', 'spawner', 'webshell', 'filer', 'printerfile', 'sound']
      .map((name) => join(root, 'agents', name, 'package.json'))
      .concat(join(root, 'multi', 'package.json'), join(root, 'package.json'))
      .map((file) => [file, JSON.stringify((JSON.parse(readFileSync(file, 'utf8')) as { scripts?: unknown }).scripts ?? {})]);
    starts.push([join(root, 'images', 'start-agents'), readFileSync(join(root, 'images', 'start-agents'), 'utf8')]);
    expect(starts.filter(([, text]) => text?.includes('--expose-gc')).map(([file]) => file)).toEqual([]);
  });

  it('no source of an agent, the kit or the runner calls the collector', () => {
    const files = [
      join(root, 'shared', 'src'),
      join(root, 'multi', 'src'),
      ...['broadcast', 'spawner', 'webshell', 'filer', 'printerfile', 'sound'].map((n) => join(root, 'agents', n, 'src')),
    ].flatMap(sources);
    expect(files.filter((file) => /\bgc\??\.?\(/.test(readFileSync(file, 'utf8')))).toEqual([]);
  });
});
