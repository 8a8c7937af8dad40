import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_PORTS, ownPortVariable, type AgentName } from '@desktop-agents/kit';
import { buildImages, podmanMissing, projectPodman } from '@desktop-agents/tools/container-pod';
import { freePort, waitFor } from '@desktop-agents/tools/harness';

// The images are built into the project's podman store (IMAGES_WORKDIR, as images/build-images and `npm run pod`
// use it): its layers are the cache the container pod test and the next run start from.
const missing = podmanMissing();
const podman = (...args: string[]) => projectPodman()(args);

/** The settings every agent container of these tests gets, as `-e` arguments, plus extra ones. */
function envArgs(extra: Record<string, string> = {}): string[] {
  const env = {
    AUTH_TOKEN: 'images-test-token-0001',
    CONTAINER_IP_ADDR: '127.0.0.1',
    HOME: '/tmp',
    WATCHDIR: '/tmp',
    SPAWNER_PID_FILE: '/tmp/spawner.pid',
    ...extra,
  };
  return Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
}

/** Runs an image detached on the host network, waits for each port's /healthz, then runs check and stops it. */
async function withContainer(name: string, runArgs: string[], ports: Record<string, number>, check: () => Promise<void> = async () => {}): Promise<void> {
  await podman('run', '-d', '--rm', '--name', name, '--network', 'host', ...runArgs);
  try {
    for (const [agent, port] of Object.entries(ports)) {
      await waitFor(`${agent} /healthz`, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 30_000, 250);
    }
    await check();
  } finally {
    await podman('stop', '-t', '10', name).catch(() => undefined);
  }
}

afterAll(async () => {
  // containers a failed test left behind (the images stay: they are the cache)
  if (!missing) await podman('rm', '-f', '--filter', 'name=^t-').catch(() => undefined);
});

// Without podman (or debootstrap, or root) the images cannot be built here: said, not hidden.
describe.skipIf(missing !== undefined)(`images built with podman from a local Debian base${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const agents = Object.keys(AGENT_PORTS) as AgentName[];

  it('builds every agent image and the printer, graphical and pulseaudio images', async () => {
    await buildImages([]);
    const stdout = await podman('images', '--format', '{{.Repository}}');
    for (const name of [...agents, 'printer', 'graphical', 'pulseaudio', 'all-in-one', 'abcdesktop-graphical', 'abcdesktop-sound'])
      expect(stdout).toContain(`localhost/desktop-agents/${name}`);
  }, 1_600_000);

  it.each(agents)(
    '%s: runs as 4096:4096, declares its port and health check, and answers /healthz in a podman run',
    async (agent) => {
      const image = `localhost/desktop-agents/${agent}`;
      const stdout = await podman('image', 'inspect', image, '--format', '{{.Config.User}} {{json .Config.ExposedPorts}} {{json .Config.Healthcheck.Test}}');
      expect(stdout).toContain('4096:4096');
      expect(stdout).toContain(`${AGENT_PORTS[agent].port}/tcp`);
      expect(stdout).toContain('healthcheck.js');
      const port = await freePort();
      await withContainer(`t-${agent}-${port}`, [...envArgs({ [AGENT_PORTS[agent].env]: String(port) }), image], { [agent]: port });
    },
    120_000,
  );

  it('runs an init as PID 1 that reaps orphans (a background job of a shell leaves no zombie)', async () => {
    const port = await freePort();
    await withContainer(`t-init-${port}`, [...envArgs({ PORT: String(port) }), 'localhost/desktop-agents/webshell'], { webshell: port }, async () => {
      const name = `t-init-${port}`;
      const init = await podman('exec', name, 'cat', '/proc/1/comm');
      expect(init.trim()).toBe('tini');
      // the subshell exits at once, so sleep is re-parented to PID 1 and must be reaped there when it ends
      const stdout = await podman('exec', name, 'sh', '-c', '(sleep 1 &); sleep 2.5; cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z " || true');
      expect(stdout.trim()).toBe('0');
    });
  }, 120_000);

  it.each(['spawner', 'webshell'])(
    "%s: is layered onto the desktop image, so what it starts finds the desktop's programs",
    async (agent) => {
      const found = await podman(
        'run',
        '--rm',
        '--entrypoint',
        '/bin/sh',
        `localhost/desktop-agents/${agent}`,
        '-c',
        'for c in xeyes xterm lp bash; do command -v $c; done',
      );
      expect(found.trim().split('\n')).toEqual(['/usr/bin/xeyes', '/usr/bin/xterm', '/usr/bin/lp', '/usr/bin/bash']);
    },
    60_000,
  );

  it.each([
    { agent: 'webshell' as const, path: '/' },
    { agent: 'filer' as const, path: '/filer/panel' },
  ])(
    '$agent: serves its page from the image ($path)',
    async ({ agent, path }) => {
      const port = await freePort();
      await withContainer(
        `t-page-${agent}-${port}`,
        [...envArgs({ [AGENT_PORTS[agent].env]: String(port) }), `localhost/desktop-agents/${agent}`],
        { [agent]: port },
        async () => {
          const page = await fetch(`http://127.0.0.1:${port}${path}`);
          expect(page.status).toBe(200);
          expect(page.headers.get('content-type')).toContain('text/html');
        },
      );
    },
    120_000,
  );
});

describe.skipIf(missing !== undefined)('the all-in-one image (every agent on the desktop image)', () => {
  it('starts every agent from start-agents in one process, each on its port', async () => {
    const ports = Object.fromEntries(await Promise.all(Object.entries(AGENT_PORTS).map(async ([name]) => [name, await freePort()] as const)));
    const portEnv = Object.fromEntries((Object.keys(AGENT_PORTS) as AgentName[]).map((agent) => [ownPortVariable(agent), String(ports[agent])]));
    const name = `t-all-${ports['broadcast']}`;
    await withContainer(name, [...envArgs(portEnv), 'localhost/desktop-agents/all-in-one'], ports, async () => {
      // one Node process for the six (npm run agents), not six
      expect((await podman('exec', name, 'sh', '-c', 'cat /proc/[0-9]*/comm | grep -c "^node$"')).trim()).toBe('1');
    });
  }, 180_000);
});

describe.skipIf(missing !== undefined)('the two agent containers of the two-container pod', () => {
  it.each([
    { image: 'agents', agents: ['broadcast', 'filer', 'printerfile', 'sound'] as AgentName[] },
    { image: 'desktop-agents', agents: ['spawner', 'webshell'] as AgentName[] },
  ])(
    '$image: runs $agents in one process, each on its port',
    async ({ image, agents }) => {
      const ports = Object.fromEntries(await Promise.all(agents.map(async (agent) => [agent, await freePort()] as const)));
      const portEnv = Object.fromEntries(
        agents.map((agent) => {
          const entry: { env: string; override?: string } = AGENT_PORTS[agent];
          return [entry.override ?? entry.env, String(ports[agent])];
        }),
      );
      const name = `t-${image}-${ports[agents[0] ?? 'broadcast']}`;
      await withContainer(name, [...envArgs(portEnv), `localhost/desktop-agents/${image}`], ports, async () => {
        expect((await podman('exec', name, 'sh', '-c', 'cat /proc/[0-9]*/comm | grep -c "^node$"')).trim()).toBe('1');
      });
    },
    120_000,
  );
});
