// Runs a ping-pong across two domains with the BUILT package, loaded by its name the way a user
// loads it: `node test/dist-smoke.cjs esm|cjs`. Prints "ok <rounds>" or exits non-zero.
const { pathToFileURL } = require('node:url');
const { join } = require('node:path');

async function main() {
  const mode = process.argv[2];
  const api = mode === 'cjs' ? require('@udf/engine-threads') : await import('@udf/engine-threads');
  const engine = new api.ThreadsEngine();
  const module = pathToFileURL(join(__dirname, 'ping-pong.mjs')).href;
  const a = engine.createDomain('client');
  const b = engine.createDomain('server');
  const server = engine.createThread({
    domain: b,
    name: 'pong',
    component: { module, export: 'pong' },
  });
  const out = new SharedArrayBuffer(32);
  const rounds = 1000;
  const client = engine.createThread({
    domain: a,
    name: 'ping',
    component: { module, export: 'ping', config: { server, rounds, out } },
  });
  await engine.start();
  try {
    await engine.join([client], 20_000);
  } finally {
    await engine.stop();
  }
  const r = new Float64Array(out);
  if (r[0] !== 1 || r[1] !== rounds || engine.failures.length > 0) {
    console.error('failed', r, engine.failures);
    process.exit(1);
  }
  console.log(`ok ${r[1]}`);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
