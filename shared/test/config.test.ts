import { describe, expect, it } from 'vitest';
import { agentPort, busUrl, ConfigError, loadConfig, SCHEMAS_CHECKED } from '../src/index.js';

describe('loadConfig', () => {
  it('applies abcdesktop defaults and the agent schema', () => {
    const config = loadConfig({ MAX_THINGS: { type: 'integer', default: 5 } } as const, { AUTH_TOKEN: 'x'.repeat(16) });
    expect(config.CONTAINER_IP_ADDR).toBe('127.0.0.1');
    expect(config.AUTH_MODE).toBe('token');
    expect(config.BROADCAST_SERVICE_TCP_PORT).toBe(29784);
    expect(config.MAX_THINGS).toBe(5);
    expect(busUrl(config)).toBe('ws://127.0.0.1:29784/');
  });

  it('reads numbers from env text and reports bad values', () => {
    const config = loadConfig({ MAX_THINGS: { type: 'integer', default: 5 } } as const, { AUTH_TOKEN: 'x'.repeat(16), MAX_THINGS: '9' });
    expect(config.MAX_THINGS).toBe(9);
    expect(() => loadConfig({ MAX_THINGS: { type: 'integer' } } as const, { AUTH_TOKEN: 'x'.repeat(16), MAX_THINGS: 'lots' })).toThrow(ConfigError);
    expect(() => loadConfig({}, { AUTH_TOKEN: 'x'.repeat(16), AUTH_MODE: 'none' })).toThrow(/AUTH_MODE/);
  });

  it('reads each type from its text as documented, and reports every problem at once', () => {
    const env = {
      N: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
      B: { type: 'boolean', default: false },
      S: { type: 'string', enum: ['a', 'b'], default: 'a' },
      L: { type: 'string', minLength: 3 },
    } as const;
    const token = { AUTH_TOKEN: 'x'.repeat(16) };
    expect(loadConfig(env, { ...token, N: ' 7', B: 'true', S: 'b', L: 'long' })).toMatchObject({ N: 7, B: true, S: 'b', L: 'long' });
    const defaults = loadConfig(env, { ...token, N: '', B: '' });
    expect(defaults).toMatchObject({ N: 3, B: false, S: 'a' });
    expect(defaults.L).toBeUndefined();
    for (const [text, problem] of [
      ['1.5', 'N must be integer'],
      ['0x10', 'N must be integer'],
      ['0', 'N must be >= 1'],
      ['11', 'N must be <= 10'],
    ] as const)
      expect(() => loadConfig(env, { ...token, N: text })).toThrow(`invalid environment: ${problem}`);
    expect(() => loadConfig(env, { ...token, B: 'yes', S: 'c', L: 'ab', AUTH_MODE: 'none' })).toThrow(
      'invalid environment: AUTH_MODE must be one of token, abcdesktop; B must be boolean (true or false); S must be one of a, b; L must NOT have fewer than 3 characters',
    );
  });

  it('refuses token mode without a secret or key, and accepts abcdesktop mode without one', () => {
    expect(() => loadConfig({}, {})).toThrow(/AUTH_TOKEN/);
    expect(() => loadConfig({}, { AUTH_TOKEN: 'short' })).toThrow(ConfigError);
    expect(loadConfig({}, { AUTH_MODE: 'abcdesktop' }).AUTH_MODE).toBe('abcdesktop');
  });

  it('takes each agent port from its abcdesktop variable', () => {
    expect(agentPort('spawner', {})).toBe(29786);
    expect(agentPort('webshell', { PORT: '3000' })).toBe(3000);
    expect(agentPort('filer', { FILE_SERVICE_TCP_PORT: '1' })).toBe(1);
    expect(() => agentPort('broadcast', { BROADCAST_SERVICE_TCP_PORT: '70000' })).toThrow(ConfigError);
    expect(agentPort('printerfile', { FILE_SERVICE_TCP_PORT: '5000' })).toBe(5000);
    expect(agentPort('printerfile', { FILE_SERVICE_TCP_PORT: '5000', PRINTERFILE_SERVICE_TCP_PORT: '5001' })).toBe(5001);
  });
});

describe('schemas', () => {
  it('route schemas are checked against the meta-schema under test (vitest sets NODE_ENV=test; the agents it starts inherit it)', () => {
    expect(SCHEMAS_CHECKED).toBe(true);
  });

  it('an env schema with a mistake fails every start, naming the setting', () => {
    const typo = { SOME_SETTING: { type: 'strnig' } } as unknown as Parameters<typeof loadConfig>[0];
    expect(() => loadConfig(typo, { AUTH_TOKEN: 'a-token-of-enough-length' })).toThrow(/schema is invalid: SOME_SETTING has type "strnig"/);
    const misspelt = { SOME_SETTING: { type: 'integer', minimun: 1 } } as unknown as Parameters<typeof loadConfig>[0];
    expect(() => loadConfig(misspelt, { AUTH_TOKEN: 'a-token-of-enough-length' })).toThrow(/SOME_SETTING has minimun 1/);
  });
});
