import { ThreadsEngine } from '@udf/engine-threads';

// components are plain-data references: module URL, export name, structured-clone-safe config
const module = new URL('./ping-pong.mjs', import.meta.url).href;
const engine = new ThreadsEngine(); // hz defaults to the sim's 2.66 GHz: same seconds per cycle
const client = engine.createDomain('client');
const server = engine.createDomain('server');
const pong = engine.createThread({
  domain: server,
  name: 'pong',
  component: { module, export: 'pong' },
});
const out = new SharedArrayBuffer(8);
const ping = engine.createThread({
  domain: client,
  name: 'ping',
  priority: 100,
  component: { module, export: 'ping', config: { server: pong, rounds: 1000, out } },
});
await engine.start(); // one worker per domain; each imports and builds its components
try {
  await engine.join([ping], 10_000); // rejects if ping has not finished in 10 s
} finally {
  await engine.stop(); // terminates the workers
}
console.log(`last answer ${new Float64Array(out)[0]}, failures ${engine.failures.length}`);
