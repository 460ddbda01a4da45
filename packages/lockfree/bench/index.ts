// Benchmark of @udf/lockfree. Run: pnpm --filter @udf/lockfree bench
import { loadavg } from 'node:os';
import { MessageChannel, type TransferListItem, Worker } from 'node:worker_threads';
import { type NotifyPolicy, SpscRing } from '../src/index.js';
import { type PostJob, type RingJob, ringLayout, SLOT_WORDS } from './shared.js';

const BOOTSTRAP = new URL('../test/ts-worker.mjs', import.meta.url);
const ENTRY = new URL('./worker.ts', import.meta.url).href;

function run<T>(job: RingJob | PostJob, transfer: TransferListItem[] = []): Promise<T> {
  const worker = new Worker(BOOTSTRAP, {
    workerData: { entry: ENTRY, job },
    transferList: transfer,
  });
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (m: T) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

const fmt = (n: number, digits = 2) =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(digits)} M`
    : n >= 1e3
      ? `${(n / 1e3).toFixed(digits)} k`
      : n.toFixed(digits);

function table(title: string, head: string[], rows: (string | number)[][]): void {
  console.log(`\n${title}`);
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  for (const [k, r] of cells.entries()) {
    console.log(
      `  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`,
    );
    if (k === 0) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  }
}

// ---- same thread ------------------------------------------------------------------------------
function sameThread(batch: number, seconds: number): number {
  const ring = new SpscRing(
    new SharedArrayBuffer(SpscRing.byteLength(1024, SLOT_WORDS)),
    0,
    1024,
    SLOT_WORDS,
  );
  const buf = new Uint32Array(batch * SLOT_WORDS);
  let items = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    for (let i = 0; i < 10_000; i++) {
      if (batch === 1) {
        ring.push(buf);
        ring.pop(buf);
      } else {
        ring.pushBatch(buf, batch);
        ring.popBatch(buf, batch);
      }
    }
    items += 10_000 * batch;
    t = performance.now();
  }
  return items / ((t - t0) / 1000);
}

// ---- cross thread -----------------------------------------------------------------------------
interface RingResult {
  perSecond: number;
  notifications: number;
  woken: number;
  sleeps: number;
  errors: number;
}
async function ringTransfer(
  items: number,
  batch: number,
  mode: 'spin' | 'block',
  policy: NotifyPolicy,
  rate = 0,
): Promise<RingResult> {
  const capacity = 1024;
  const sab = new SharedArrayBuffer(ringLayout(new SharedArrayBuffer(1 << 20), capacity).bytes);
  const base = { sab, capacity, items, batch, mode, policy, rate };
  const consumer = run<{ end: number; errors: number; sleeps: number }>({
    ...base,
    kind: 'ring-consumer',
  });
  const producer = run<{ start: number; woken: number; notifications: number }>({
    ...base,
    kind: 'ring-producer',
  });
  const [p, c] = await Promise.all([producer, consumer]);
  return {
    perSecond: items / ((c.end - p.start) / 1000),
    notifications: p.notifications,
    woken: p.woken,
    sleeps: c.sleeps,
    errors: c.errors,
  };
}

async function postTransfer(items: number, batch: number): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const consumer = run<{ end: number; errors: number }>(
    { kind: 'post-consumer', port: port2, items, batch },
    [port2],
  );
  await new Promise((r) => setTimeout(r, 300)); // let the consumer start listening
  const producer = run<{ start: number }>({ kind: 'post-producer', port: port1, items, batch }, [
    port1,
  ]);
  const [p, c] = await Promise.all([producer, consumer]);
  if (c.errors) throw new Error('postMessage transfer reordered or lost messages');
  return items / ((c.end - p.start) / 1000);
}

async function main() {
  const began = performance.now();
  console.log(
    `@udf/lockfree bench — node ${process.version}, 32-byte descriptors (${SLOT_WORDS} words), ring of 1024`,
  );
  console.log(
    `load average before the run: ${loadavg()[0]!.toFixed(2)} (2 vCPUs: spinning suffers first)`,
  );

  const st1 = sameThread(1, 1);
  const st32 = sameThread(32, 1);
  table(
    'Same thread: enqueue + dequeue',
    ['operation', 'descriptors/s'],
    [
      ['push + pop (single)', fmt(st1)],
      ['pushBatch + popBatch (32)', fmt(st32)],
    ],
  );

  const spin1 = await ringTransfer(3_000_000, 1, 'spin', { kind: 'when-asleep' });
  const spin32 = await ringTransfer(20_000_000, 32, 'spin', { kind: 'when-asleep' });
  const block1 = await ringTransfer(2_000_000, 1, 'block', { kind: 'when-asleep' });
  const block32 = await ringTransfer(10_000_000, 32, 'block', { kind: 'when-asleep' });
  const post1 = await postTransfer(300_000, 1);
  const post32 = await postTransfer(3_000_000, 32);
  for (const r of [spin1, spin32, block1, block32])
    if (r.errors) throw new Error('ring transfer lost or reordered items');
  table(
    'Cross thread (worker → worker), descriptors/s',
    ['transfer', 'single', 'batch 32', 'single ÷ postMessage', 'batch ÷ postMessage'],
    [
      [
        'ring, spinning consumer',
        fmt(spin1.perSecond),
        fmt(spin32.perSecond),
        `${(spin1.perSecond / post1).toFixed(1)}×`,
        `${(spin32.perSecond / post32).toFixed(1)}×`,
      ],
      [
        'ring, blocking (when-asleep)',
        fmt(block1.perSecond),
        fmt(block32.perSecond),
        `${(block1.perSecond / post1).toFixed(1)}×`,
        `${(block32.perSecond / post32).toFixed(1)}×`,
      ],
      ['postMessage (1 or 32 per message)', fmt(post1), fmt(post32), '1.0×', '1.0×'],
    ],
  );

  const policies: NotifyPolicy[] = [
    { kind: 'always' },
    { kind: 'when-asleep' },
    { kind: 'deferred', batch: 32 },
  ];
  const rows: string[][] = [];
  for (const [label, rate, items] of [
    ['low (20 k/s offered)', 20_000, 10_000],
    ['high (unpaced)', 0, 1_000_000],
  ] as const) {
    for (const policy of policies) {
      const r = await ringTransfer(items, 1, 'block', policy, rate);
      if (r.errors) throw new Error('ring transfer lost or reordered items');
      rows.push([
        label,
        policy.kind === 'deferred' ? `deferred(${policy.batch})` : policy.kind,
        fmt(r.perSecond),
        (r.notifications / items).toFixed(4),
        (r.woken / items).toFixed(4),
        (r.sleeps / items).toFixed(4),
      ]);
    }
  }
  table(
    'Notification policies (single enqueue, blocking consumer)',
    ['offered rate', 'policy', 'items/s', 'notifies/item', 'wake-ups/item', 'sleeps/item'],
    rows,
  );
  console.log(
    '\n  notifies/item: Atomics.notify calls the policy made; wake-ups/item: those that found the consumer',
  );
  console.log(
    '  blocked in Atomics.wait; sleeps/item: times the consumer found the ring empty and slept.',
  );
  console.log(`\nTotal bench time ${((performance.now() - began) / 1000).toFixed(1)} s`);
}

await main();
