export * from './descriptors.js';
export * from './pod.js';
export * from './kubernetes.js';
export * from './abcdesktop.js';
export * from './compose.js';
export * from './od-config.js';
export * from './files.js';
