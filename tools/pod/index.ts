export * from './pod.js';
export * from './status.js';
export * from './components.js';
