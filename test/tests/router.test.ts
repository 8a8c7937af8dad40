import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startPod } from '@desktop-agents/tools/pod';
import { describeBehindRouter, ROUTER_PEER, routerDeployment, upstreamOf, type RoutedDesktop } from './behind-router.js';

// The host pod behind nginx shaped like abcdesktop's router: the router listens on its own address and reaches the
// agents from another (127.0.0.3), which is what NGINX_SERVICE_HOST names, as abcdesktop's pod is told.
async function hostPod(env: Record<string, string>, mode: RoutedDesktop['mode']): Promise<RoutedDesktop> {
  const pod = await startPod({ env });
  const failed = pod.agents.filter((a) => a.failure);
  if (failed.length > 0) throw new Error(`agents did not start: ${failed.map((a) => `${a.name}: ${a.failure}`).join('; ')}`);
  const port = (name: string) => pod.agents.find((a) => a.name === name)?.port ?? 0;
  for (const agent of pod.agents) await agent.running?.get('/readyz');
  return {
    mode,
    cookie: pod.cookie,
    bind: ROUTER_PEER,
    ...(pod.components.cups ? { printer: pod.components.cups.printer } : {}),
    upstream: upstreamOf('127.0.0.1', port, Number(pod.env['SOUND_SPEAKER_TCP_PORT']), Number(pod.env['SOUND_MICROPHONE_TCP_PORT'])),
    async postFromThePod(port, path, headers) {
      return (await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers })).status;
    },
    async writeHome(path, text) {
      await mkdir(dirname(join(pod.home, path)), { recursive: true });
      await writeFile(join(pod.home, path), text);
    },
    stop: () => pod.stop(),
  };
}

// what abcdesktop sets in its pod: the router's host, no ALLOWED_ORIGINS, no token
describeBehindRouter('the host pod behind the router, AUTH_MODE=abcdesktop with only the router host set', routerDeployment(), () =>
  hostPod({ AUTH_MODE: 'abcdesktop', NGINX_SERVICE_HOST: ROUTER_PEER }, 'abcdesktop'),
);

// token mode with the operator's own desktop signing key (1024 bits, as abcdesktop's guides make it) and the public origin
const tokenMode = routerDeployment();
describeBehindRouter('the host pod behind the router, token mode with the desktop signing key and ALLOWED_ORIGINS', tokenMode, async () =>
  hostPod({ AUTH_MODE: 'token', JWT_PUBLIC_KEY: tokenMode.key.publicKey, JWT_ANY_DESKTOP: 'true', ALLOWED_ORIGINS: await tokenMode.publicOrigin() }, 'token'),
);
