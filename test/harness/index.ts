export * from './components.js';
export * from './process.js';
export * from './xvfb.js';
export * from './pulse.js';
export * from './cups.js';
export * from './agent.js';
export * from './websocket.js';
export * from './chromium.js';
