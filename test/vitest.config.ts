import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'security/**/*.test.ts', 'conformance/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own daemons; two at a time suits a 2-core machine. The image builds (tests/images.test.ts)
    // and the container pod (tests/pod-containers.test.ts) run after the rest, one after the other (the test script):
    // beside them the host-process pod tests starved for CPU.
    maxWorkers: 2,
  },
});
