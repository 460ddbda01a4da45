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
  // a device in the device worker, mapped into the client's domain
  const devModule = pathToFileURL(join(__dirname, 'dist-device.mjs')).href;
  const dev = engine.createDevice({
    name: 'scratch',
    component: { module: devModule, export: 'scratch', config: { irqLine: 2 } },
    mmioBytes: 16,
  });
  engine.mapDevice(a, dev, 0x1000);
  const devOut = new SharedArrayBuffer(32);
  const drv = engine.createThread({
    domain: a,
    name: 'driver',
    component: {
      module: devModule,
      export: 'driver',
      config: { regs: 0x1000, irqLine: 2, out: devOut },
    },
  });
  const client = engine.createThread({
    domain: a,
    name: 'ping',
    component: { module, export: 'ping', config: { server, rounds, out } },
  });
  await engine.start();
  try {
    await engine.join([client, drv], 20_000);
  } finally {
    await engine.stop();
  }
  const r = new Float64Array(out);
  const d = new Float64Array(devOut);
  if (r[0] !== 1 || r[1] !== rounds || d[0] !== 1 || engine.failures.length > 0) {
    console.error('failed', r, d, engine.failures);
    process.exit(1);
  }
  console.log(`ok ${r[1]} device ${d[1]} irq ${d[2]}`);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
