import { describe, expect, it } from 'vitest';
import { frameCostProblem } from '../src/index.js';

const limits = { maxKeys: 100, maxDepth: 8, maxArrayLength: 50 };

describe('frameCostProblem', () => {
  it('lets ordinary frames through, strings of any content included', () => {
    const frame = JSON.stringify({
      method: 'hello',
      user: { name: 'a:b,[c]{d}"e' },
      data: { list: Array.from({ length: 50 }, (_, i) => i), text: 'x'.repeat(100_000) },
    });
    expect(frameCostProblem(frame, limits)).toBeUndefined();
    expect(frameCostProblem('{"method":"x","data":[]}', limits)).toBeUndefined();
    expect(frameCostProblem('{"a":"\\\\\\"{{{{{{{{{{{{{"}', limits)).toBeUndefined();
  });

  it('names the first bound a frame crosses: keys, depth, array length', () => {
    const keys = JSON.stringify({ method: 'x', data: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) });
    expect(frameCostProblem(keys, limits)).toBe('frame has more than 100 keys');
    let deep: unknown = 1;
    for (let i = 0; i < 9; i++) deep = [deep];
    expect(frameCostProblem(JSON.stringify({ method: 'x', data: deep }), limits)).toBe('frame nests deeper than 8');
    expect(frameCostProblem(JSON.stringify({ method: 'x', data: Array.from({ length: 51 }, () => 0) }), limits)).toBe('frame has an array longer than 50');
    expect(frameCostProblem(JSON.stringify({ method: 'x', data: Array.from({ length: 51 }, () => ({})) }), limits)).toBe('frame has an array longer than 50');
    expect(frameCostProblem(JSON.stringify({ method: 'x', data: Array.from({ length: 50 }, () => []) }), limits)).toBeUndefined();
  });
});
