export * from './pod.js';
export * from './status.js';
