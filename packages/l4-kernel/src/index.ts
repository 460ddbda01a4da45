export * from './machine/device-host.js';
export * from './sys.js';
