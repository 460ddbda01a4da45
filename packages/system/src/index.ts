export * from './assemble.js';
export * from './calibration.js';
export * from './errors.js';
export * from './load.js';
export * from './result.js';
export * from './runner.js';
export * from './schema.js';
