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

async function deviceCase(exp: 'mmioWrites' | 'mmioReads' | 'irqLoop', n: number) {
  const engine = new ThreadsEngine();
  const d = engine.createDomain('driver');
  const dev = engine.createDevice({
    name: 'scratch',
    component: { module: DEVICE, export: 'scratch', config: { irqLine: 1 } },
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
for (const [name, exp, n] of [
  ['posted register write', 'mmioWrites', 1_000_000],
  ['register read (waits for the device)', 'mmioReads', 100_000],
  ['interrupt (raise, IPC, lower + read, ack)', 'irqLoop', 20_000],
] as const) {
  await deviceCase(exp, Math.min(n, 2000)); // warm-up
  const us = await deviceCase(exp, n);
  console.log(
    `${name.padEnd(42)} ${us.toFixed(3).padStart(12)}   ${Math.round(1e6 / us)
      .toString()
      .padStart(13)}`,
  );
}
