export * from './manifest.js';
export * from './variant.js';
export * from './podman.js';
export * from './container-pod.js';
export * from './layout.js';
export * from './cgroup-sample.js';
