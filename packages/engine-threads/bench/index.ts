// Ping-pong round trips per second on the threads engine: client and server in two domains
// (two workers: every round trip crosses threads twice), with the domains blocking on their
// doorbells at once vs spinning first; and both threads in one domain (no crossing) as the
// reference. Run: pnpm --filter @udf/engine-threads bench
import { availableParallelism, loadavg } from 'node:os';
import { ThreadsEngine } from '../src/index.js';

const MODULE = new URL('../test/ping-pong.mjs', import.meta.url).href;

async function pingPong(options: { spinMicros: number; sameDomain: boolean; rounds: number }) {
  const engine = new ThreadsEngine({ spinMicros: options.spinMicros });
  const a = engine.createDomain('client');
  const b = options.sameDomain ? a : engine.createDomain('server');
  const server = engine.createThread({
    domain: b,
    name: 'pong',
    component: { module: MODULE, export: 'pong' },
  });
  const out = new SharedArrayBuffer(32);
  const client = engine.createThread({
    domain: a,
    name: 'ping',
    component: { module: MODULE, export: 'ping', config: { server, rounds: options.rounds, out } },
  });
  await engine.start();
  try {
    await engine.join([client], 120_000);
  } finally {
    await engine.stop();
  }
  const r = new Float64Array(out);
  if (r[1] !== options.rounds) throw new Error(`only ${r[1]} of ${options.rounds} rounds correct`);
  const seconds = r[2]! / 1000;
  let sleeps = 0;
  for (const c of Object.values(engine.counters)) sleeps += c.sleeps ?? 0;
  return {
    perSecond: options.rounds / seconds,
    microsPerRound: (seconds * 1e6) / options.rounds,
    sleepsPerRound: sleeps / options.rounds,
  };
}

const cases = [
  { name: 'two domains, block at once', spinMicros: 0, sameDomain: false, rounds: 20_000 },
  {
    name: 'two domains, spin 20 µs then block',
    spinMicros: 20,
    sameDomain: false,
    rounds: 200_000,
  },
  {
    name: 'two domains, spin 200 µs then block',
    spinMicros: 200,
    sameDomain: false,
    rounds: 200_000,
  },
  { name: 'one domain (no thread crossing)', spinMicros: 0, sameDomain: true, rounds: 200_000 },
];

console.log(
  `threads engine ping-pong (call / replyWait), ${availableParallelism()} CPUs, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}`,
);
console.log(
  'case                                   round trips/s   µs/round trip   worker sleeps/round trip',
);
for (const c of cases) {
  await pingPong({ ...c, rounds: Math.min(c.rounds, 2000) }); // warm-up: JIT, worker start
  const r = await pingPong(c);
  console.log(
    `${c.name.padEnd(38)} ${Math.round(r.perSecond).toString().padStart(13)}   ${r.microsPerRound.toFixed(2).padStart(13)}   ${r.sleepsPerRound.toFixed(2).padStart(24)}`,
  );
}
console.log(
  `load average after: ${loadavg()[0]!.toFixed(1)} (spinning only pays when each domain has a CPU to itself)`,
);

// ---------------------------------------------------------------- the device worker

const DEVICE = new URL('../test/dist-device.mjs', import.meta.url).href;
const BENCH = new URL('../test/bench-device.mjs', import.meta.url).href;

async function deviceCase(exp: 'mmioWrites' | 'mmioReads' | 'statusReads' | 'irqLoop', n: number) {
  const engine = new ThreadsEngine();
  const d = engine.createDomain('driver');
  const dev = engine.createDevice({
    name: 'scratch',
    component: { module: DEVICE, export: 'statusScratch', config: { irqLine: 1 } },
    mmioBytes: 16,
  });
  engine.mapDevice(d, dev, 0x1000);
  const out = new SharedArrayBuffer(16);
  const t = engine.createThread({
    domain: d,
    name: exp,
    component: { module: BENCH, export: exp, config: { regs: 0x1000, irqLine: 1, n, out } },
  });
  await engine.start();
  try {
    await engine.join([t], 120_000);
  } finally {
    await engine.stop();
  }
  const r = new Float64Array(out);
  if (r[1] !== 1) throw new Error(`${exp} did not finish: ${engine.failures.join('; ')}`);
  return (r[0]! * 1000) / n; // µs per operation
}

console.log('');
console.log('device worker (a trivial register device; one driver domain)');
console.log('case                                       µs/operation    operations/s');
const perOp: Record<string, number> = {};
for (const [name, exp, n] of [
  ['posted register write', 'mmioWrites', 1_000_000],
  ['register read (waits for the device)', 'mmioReads', 100_000],
  ['status-word read (no wait)', 'statusReads', 1_000_000],
  ['interrupt (raise, IPC, lower + read, ack)', 'irqLoop', 20_000],
] as const) {
  await deviceCase(exp, Math.min(n, 2000)); // warm-up
  const us = await deviceCase(exp, n);
  perOp[exp] = us;
  console.log(
    `${name.padEnd(42)} ${us.toFixed(3).padStart(12)}   ${Math.round(1e6 / us)
      .toString()
      .padStart(13)}`,
  );
}
console.log(
  `a status-word read costs ${(perOp.mmioReads! / perOp.statusReads!).toFixed(0)}× less than a register read through the ring (same run)`,
);

// ---------------------------------------------------------------- the kernel slow path

const MEMORY = new URL('../test/memory-components.ts', import.meta.url).href;

async function slowPath(items: boolean, rounds: number) {
  const engine = new ThreadsEngine();
  const srv = engine.createDomain('server');
  const cli = engine.createDomain('client');
  engine.mapAnonymous(cli, 0x10000, 0x1000, { read: true, write: true, execute: false });
  const window = {
    base: 0x4000_0000,
    sizeLog2: 24,
    rights: { read: true, write: true, execute: false },
  };
  const so = new SharedArrayBuffer(16);
  const server = engine.createThread({
    domain: srv,
    name: 'server',
    component: { module: MEMORY, export: 'mapServer', config: { window, out: so } },
  });
  const out = new SharedArrayBuffer(32);
  const t = engine.createThread({
    domain: cli,
    name: 'mapper',
    component: {
      module: MEMORY,
      export: 'mapLoop',
      config: { to: server, base: 0x10000, value: 7, sendBase: 0, rounds, items, out },
    },
  });
  await engine.start();
  try {
    await engine.join([t], 120_000);
  } finally {
    await engine.stop();
  }
  const o = new Float64Array(out);
  if (o[0] !== rounds || o[1] !== 0 || new Float64Array(so)[1] !== 0) {
    throw new Error('slow-path bench: wrong results');
  }
  return (o[3]! * 1000) / rounds; // µs per round
}

console.log('');
console.log('kernel slow path (client and server in two domains, blocking at once)');
console.log('case                                                   µs/round');
for (const [name, items] of [
  ['call without items (fast path only)', false],
  ['call with a map item + server access + unmap (slow path)', true],
] as const) {
  await slowPath(items, 200); // warm-up
  console.log(`${name.padEnd(56)} ${(await slowPath(items, 5000)).toFixed(1).padStart(8)}`);
}

// ---------------------------------------------------------------- UDP echo: NIC reflector vs plain dgram

const DEVICES = new URL('../test/devices.ts', import.meta.url).href;
const NIC = new URL('../test/nic-components.ts', import.meta.url).href;
const { udpEchoLoad } = await import('../test/udp-load.js');
const { testFrame } = await import('../test/nic-components.js');
const { Worker } = await import('node:worker_threads');
const NIC_MAC = [2, 0, 0, 0, 0, 1];
const CLIENT_MAC = [2, 0, 0, 0, 0, 0x99];

async function reflectorEcho(count: number, window: number, size: number, spin = 0) {
  const engine = new ThreadsEngine({ interruptLines: 4, spinMicros: spin, deviceSpinMicros: spin });
  const drv = engine.createDomain('driver');
  const nic = engine.createDevice({
    name: 'nic0',
    component: {
      module: DEVICES,
      export: 'dp83820',
      config: { irqLine: 2, mac: '02:00:00:00:00:01' },
    },
    wire: { kind: 'udp' },
  });
  engine.mapDevice(drv, nic, 0x1000_0000);
  const ring = 64;
  engine.grantRegion(drv, 0x2000_0000, engine.createRegion(0x1_0000 + 2 * ring * 2048));
  const out = new SharedArrayBuffer(32);
  engine.createThread({
    domain: drv,
    name: 'reflector',
    component: {
      module: NIC,
      export: 'reflector',
      config: { regs: 0x1000_0000, mem: 0x2000_0000, irqLine: 2, ring, out },
    },
  });
  await engine.start();
  try {
    const o = new Float64Array(out);
    while (o[0] !== 1) await new Promise((r) => setTimeout(r, 2));
    const frame = testFrame(NIC_MAC, CLIENT_MAC, size, 1);
    const r = await udpEchoLoad(
      engine.wires.nic0!,
      count,
      window,
      () => frame,
      () => true,
    );
    return { ...r, irqs: o[3]! };
  } finally {
    await engine.stop();
  }
}

async function plainEcho(count: number, window: number, size: number) {
  const w = new Worker(
    `const s = require('node:dgram').createSocket('udp4');
     s.on('message', (m, r) => s.send(m, r.port, r.address));
     s.bind(0, '127.0.0.1', () => require('node:worker_threads').parentPort.postMessage(s.address().port));`,
    { eval: true },
  );
  const port = await new Promise<number>((r) => w.once('message', r));
  try {
    const frame = testFrame(NIC_MAC, CLIENT_MAC, size, 1);
    return {
      ...(await udpEchoLoad(
        { address: '127.0.0.1', port },
        count,
        window,
        () => frame,
        () => true,
      )),
      irqs: 0,
    };
  } finally {
    await w.terminate();
  }
}

console.log('');
console.log('UDP echo, 1024-byte frames, closed loop (window 32), client in the main thread');
console.log('  (the reflector is a driver without a stack: the NIC path only, not lwip-lite)');
console.log(
  'case                                           frames/s    µs/frame   interrupts/frame',
);
for (const [name, f] of [
  ['plain node:dgram echo (one worker)', plainEcho],
  ['Dp83820 + reflector driver on threads', reflectorEcho],
  [
    'same, domain and device worker spin 50 µs',
    (c: number, w: number, s: number) => reflectorEcho(c, w, s, 50),
  ],
] as const) {
  await f(2000, 32, 1024); // warm-up
  const r = await f(50_000, 32, 1024);
  if (r.returned < 50_000) console.log(`  (only ${r.returned} of 50000 returned within the limit)`);
  console.log(
    `${name.padEnd(44)} ${Math.round(r.returned / r.seconds)
      .toString()
      .padStart(
        10,
      )}   ${((r.seconds * 1e6) / r.returned).toFixed(2).padStart(8)}   ${(r.irqs / r.returned).toFixed(3).padStart(16)}`,
  );
}
