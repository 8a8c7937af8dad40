import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podmanMissing, podmanPeerAddress, startContainerPod, type ContainerPod, type PodmanPeerAddress } from '@desktop-agents/tools/container-pod';
import { containerDesktop, describeBehindRouter, routerDeployment } from './behind-router.js';

// abcdesktop's own pod layout (compose/desktop-pod.abcdesktop.yaml, generated from the descriptors): our four
// in-desktop agents layered onto the desktop image (images/abcdesktop) under its supervisord, printer, filer and sound
// (pulseaudio inside) as containers; AUTH_MODE=abcdesktop with only the router's host set, as abcdesktop sets it.
// The router reaches the pod from an address of its own on podman's network.
const missing = podmanMissing();

describe.skipIf(missing !== undefined)(`abcdesktop's pod layout on podman${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let pod: ContainerPod;
  let router: PodmanPeerAddress;
  const deployment = routerDeployment();

  beforeAll(async () => {
    router = await podmanPeerAddress();
    pod = await startContainerPod({
      layout: 'abcdesktop',
      name: `desktop-abc-${randomBytes(3).toString('hex')}`,
      readyTimeoutMs: 120_000,
      env: { AUTH_MODE: 'abcdesktop', NGINX_SERVICE_HOST: router.address },
    });
    await router.attach();
  }, 1_800_000);
  afterAll(async () => {
    await router?.detach().catch(() => undefined);
    await pod?.stop();
  }, 60_000);

  it("runs the four agents in the desktop image as one process of its supervisord, and the originals' services not at all", async () => {
    const processes = await pod.exec('graphical', ['ps', '-eo', 'args']);
    expect(processes).toMatch(/supervisord --nodaemon/);
    // the one-process runner (multi's start script, run from its folder): only it takes agent names
    expect(processes).toMatch(/ dist\/src\/main\.bundle\.mjs broadcast spawner webshell printerfile$/m);
    const programs = await pod.exec('graphical', ['ls', '/etc/supervisor/conf.d']);
    expect(programs.split('\n').filter(Boolean).sort()).toEqual(['desktop-agents.conf', 'openbox.conf', 'session-bus.conf', 'xserver.conf']);
    // the sound image has no ps (oc.pulseaudio's place is a slim one): the process table read from /proc
    const sound = await pod.exec('sound', ['sh', '-c', 'for f in /proc/[0-9]*/cmdline; do tr "\\000" " " < "$f"; echo; done']);
    expect(sound).toMatch(/pulseaudio -n/);
    // (the pod shares one process table: what runs pulseaudio and the agent there is the sound image's start-sound)
    expect(sound).toMatch(/\/opt\/desktop-agents\/bin\/start-sound/);
  });

  describeBehindRouter('behind the router, AUTH_MODE=abcdesktop with only NGINX_SERVICE_HOST', deployment, async () =>
    containerDesktop(pod, 'abcdesktop', router.address),
  );
});
