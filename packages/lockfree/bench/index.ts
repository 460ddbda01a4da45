// Benchmark of @udf/lockfree. Run: pnpm --filter @udf/lockfree bench
import { loadavg } from 'node:os';
import { MessageChannel, type TransferListItem, Worker } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { type NotifyPolicy, SpscRing } from '../src/index.js';
import { type CompareJob, type PostJob, type RingJob, ringLayout, SLOT_WORDS } from './shared.js';

const BOOTSTRAP = new URL('../test/ts-worker.mjs', import.meta.url);
const ENTRY = new URL('./worker.ts', import.meta.url).href;

function run<T>(
  job: RingJob | PostJob | CompareJob,
  transfer: TransferListItem[] = [],
): Promise<T> {
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

// ---- @udf/lockfree vs ringbuf.js ---------------------------------------------------------------
async function compareTransfer(impl: 'udf' | 'ringbuf', items: number, batch: number) {
  const capacity = 1024; // descriptors: 1024 slots of 8 words, or 8192 ringbuf.js elements
  const sab =
    impl === 'udf'
      ? new SharedArrayBuffer(SpscRing.byteLength(capacity, SLOT_WORDS))
      : RingBuffer.getStorageForCapacity(capacity * SLOT_WORDS, Uint32Array);
  const base = { impl, sab, capacity, items, batch } as const;
  const consumer = run<{ end: number; errors: number }>({ ...base, kind: 'cmp-consumer' });
  const producer = run<{ start: number }>({ ...base, kind: 'cmp-producer' });
  const [p, c] = await Promise.all([producer, consumer]);
  if (c.errors) throw new Error(`${impl} transfer lost or reordered descriptors`);
  return items / ((c.end - p.start) / 1000);
}

/** One thread pushes then pops the same descriptors: the cost of each ring's code path alone. */
function sameThreadCompare(impl: 'udf' | 'ringbuf', batch: number, seconds: number): number {
  const capacity = 1024;
  const words = batch * SLOT_WORDS;
  const src = new Uint32Array(words);
  const out = new Uint32Array(words);
  let step: () => void;
  if (impl === 'udf') {
    const ring = new SpscRing(
      new SharedArrayBuffer(SpscRing.byteLength(capacity, SLOT_WORDS)),
      0,
      capacity,
      SLOT_WORDS,
    );
    step =
      batch === 1
        ? () => {
            ring.push(src);
            ring.pop(out);
          }
        : () => {
            ring.pushBatch(src, batch);
            ring.popBatch(out, batch);
          };
  } else {
    const rb = new RingBuffer(
      RingBuffer.getStorageForCapacity(capacity * SLOT_WORDS, Uint32Array),
      Uint32Array,
    );
    step = () => {
      rb.push(src, words);
      rb.pop(out, words);
    };
  }
  let items = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    for (let i = 0; i < 10_000; i++) step();
    items += 10_000 * batch;
    t = performance.now();
  }
  return items / ((t - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Both rings, alternated ROUNDS times per mode in this one run; the medians are compared. */
async function versusRingbuf(): Promise<void> {
  const ROUNDS = 5;
  const same: string[][] = [];
  for (const [label, batch] of [
    ['push + pop, one at a time', 1],
    ['push + pop, batches of 32', 32],
  ] as const) {
    const udf: number[] = [];
    const rb: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      udf.push(sameThreadCompare('udf', batch, 0.2));
      rb.push(sameThreadCompare('ringbuf', batch, 0.2));
    }
    same.push([
      label,
      fmt(median(udf)),
      fmt(median(rb)),
      `${(median(udf) / median(rb)).toFixed(2)}×`,
    ]);
  }
  table(
    `Same thread vs ringbuf.js: descriptors/s (median of ${ROUNDS} alternated rounds)`,
    ['operation', '@udf/lockfree', 'ringbuf.js', 'ratio'],
    same,
  );

  const rows: string[][] = [];
  for (const [label, batch, items] of [
    ['one at a time', 1, 1_000_000],
    ['batches of 32', 32, 8_000_000],
  ] as const) {
    const udf: number[] = [];
    const rb: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // alternate the order so that neither always runs on a warmer (or busier) machine
      if (r % 2 === 0) {
        udf.push(await compareTransfer('udf', items, batch));
        rb.push(await compareTransfer('ringbuf', items, batch));
      } else {
        rb.push(await compareTransfer('ringbuf', items, batch));
        udf.push(await compareTransfer('udf', items, batch));
      }
    }
    const ratios = udf.map((u, i) => u / rb[i]!);
    rows.push([
      label,
      fmt(median(udf)),
      fmt(median(rb)),
      `${(median(udf) / median(rb)).toFixed(2)}×`,
      `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×`,
    ]);
  }
  table(
    `Cross thread vs ringbuf.js: 32-byte descriptors, spinning ends, no notification (median of ${ROUNDS} alternated rounds)`,
    ['transfer', '@udf/lockfree', 'ringbuf.js', 'ratio of medians', 'per-round ratios'],
    rows,
  );
}

async function main() {
  const began = performance.now();
  console.log(
    `@udf/lockfree bench — node ${process.version}, 32-byte descriptors (${SLOT_WORDS} words), ring of 1024`,
  );
  console.log(
    `load average before the run: ${loadavg()[0]!.toFixed(2)} (2 vCPUs: spinning suffers first)`,
  );

  await versusRingbuf();
  if (process.argv.includes('--compare-only')) return;

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
