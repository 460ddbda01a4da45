export * from './load.js';
export * from './result.js';
export * from './runner.js';
export * from './schema.js';
