/**
 * Benchmark of the dataspace hot paths, side by side:
 * - translation-cache hits (`tc.lookup`, no IPC) vs misses (`tc.lookup` + `tc.refill`, one IPC
 *   round trip to the manager on the sim engine), in translations per wall-clock second and in
 *   virtual cycles per translation on the simulated 2.66 GHz machine;
 * - buffer-reference validation (`session.validate`) in ns per buffer;
 * - counter increments on a plain object, the old in-place binding and `CountersPage.bind`
 *   (`bench/counters.ts`).
 *
 * Run: `node --import tsx bench/index.ts` (from packages/dataspace).
 */
import { performance } from 'node:perf_hooks';
import { RW, SimEngine, type Sys } from '../../l4-kernel/src/index.js';
import {
  AnonymousManager,
  DS_RIGHTS_ALL,
  dsClient,
  ENTRY_VALID,
  PAGE_SIZE,
  PinPolicy,
  Session,
  TranslationCache,
  TranslationTable,
  ValidationStatus,
} from '../src/index.js';
import { printCounters } from './counters.js';

const POOL_VADDR = 0x1000_0000;
const TC_VADDR = 0x2000_0000;
const PAGES = 64;

interface SimResult {
  readonly ops: number;
  readonly wallMs: number;
  readonly cycles: number;
}

/** Run `ops` translations on the sim engine; `miss` invalidates the entry before each one. */
function simTranslations(ops: number, miss: boolean): SimResult {
  const sim = new SimEngine({ memoryBytes: 16 << 20 });
  const k = sim.kernel;
  const ms = k.createSpace('manager');
  const pool = k.allocateFrames(1 << 20, 1 << 20);
  k.mapPhysical(ms, POOL_VADDR, pool, 1 << 20, RW);
  const manager = new AnonymousManager({ pool: { vaddr: POOL_VADDR, bytes: 1 << 20 } });
  const managerId = k.createThread({
    name: 'manager',
    space: ms,
    priority: 200,
    body: manager.body,
  });
  const box: { dsId: number } = { dsId: 0 };
  let done = 0;
  let startCycles = 0;
  let endCycles = 0;
  let wall0 = 0;
  let wall1 = 0;
  const driverId = k.createThread({
    name: 'driver',
    space: k.createSpace('driver'),
    body: function* (sys) {
      while (box.dsId === 0) yield* sys.sleep(1_000);
      const tc = yield* TranslationCache.open(sys, managerId, { vaddr: TC_VADDR, entries: PAGES });
      yield* tc.add(box.dsId);
      for (let p = 0; p < PAGES; p++) yield* tc.refill(sys, box.dsId, p * PAGE_SIZE);
      const flags = tc.table.words;
      yield* sys.yieldCpu();
      startCycles = sys.now();
      wall0 = performance.now();
      let sink = 0;
      for (let i = 0; i < ops; i++) {
        const offset = ((i * 1531) % PAGES) * PAGE_SIZE + (i & 1023);
        if (miss) Atomics.and(flags, 8 + ((offset >>> 12) << 2), ~ENTRY_VALID); // a revocation
        let paddr = tc.lookup(box.dsId, offset);
        if (paddr < 0) paddr = yield* tc.refill(sys, box.dsId, offset);
        sink += paddr;
        if ((i & 4095) === 4095) yield* sys.yieldCpu(); // let charged cycles be consumed
      }
      yield* sys.yieldCpu();
      endCycles = sys.now();
      wall1 = performance.now();
      done = sink === 0 ? -1 : ops;
    },
  });
  k.createThread({
    name: 'client',
    space: k.createSpace('client'),
    body: function* (sys) {
      const ds = yield* dsClient.open(sys, managerId, PAGES * PAGE_SIZE);
      yield* dsClient.share(sys, ds, driverId, DS_RIGHTS_ALL);
      box.dsId = ds.id;
    },
  });
  while (done === 0) {
    sim.runFor(100_000_000);
    if (k.failures.length > 0) throw k.failures[0]!.error;
  }
  return { ops, wallMs: wall1 - wall0, cycles: endCycles - startCycles };
}

/** A Sys stand-in for raw (engine-free) measurement: charging is a no-op, as on the threads engine. */
function rawSys(): Sys {
  return { now: () => 0, charge: () => {} } as unknown as Sys;
}

function rawLookups(ops: number): number {
  const entries = PAGES;
  const buf = new SharedArrayBuffer(TranslationTable.bytesFor(entries));
  const table = new TranslationTable(buf, 0, entries);
  table.format(PinPolicy.PIN_BIT);
  for (let e = 0; e < entries; e++) table.install(e, 0x1000 + e, Number.POSITIVE_INFINITY, true);
  const tc = new TranslationCache(rawSys(), 1, 1, table, PinPolicy.PIN_BIT);
  // Install the segment as `add` would, without a manager.
  (tc as unknown as { segments: Map<number, { first: number; pages: number }> }).segments.set(7, {
    first: 0,
    pages: entries,
  });
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) sink += tc.lookup(7, ((i * 1531) % PAGES) * PAGE_SIZE + (i & 1023));
  const ns = ((performance.now() - t0) * 1e6) / ops;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

function validation(ops: number, badEvery: number): number {
  const s = new Session();
  s.add({ id: 1, size: 64 * PAGE_SIZE });
  s.add({ id: 2, size: 16 * PAGE_SIZE });
  // Pre-built references (as read from descriptors): the loop itself allocates nothing.
  const n = 1024;
  const ids = new Float64Array(n);
  const offs = new Float64Array(n);
  const lens = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const bad = badEvery > 0 && i % badEvery === 0;
    ids[i] = bad && i % 3 === 0 ? 99 : 1 + (i & 1);
    offs[i] = bad && i % 3 === 1 ? 2 ** 32 - 8 : (i * 2048) % (16 * PAGE_SIZE - 2048);
    lens[i] = bad && i % 3 === 2 ? -1 : 1514;
  }
  let ok = 0;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const j = i & (n - 1);
    if (s.validate(ids[j]!, offs[j]!, lens[j]!) === ValidationStatus.OK) ok++;
  }
  const ns = ((performance.now() - t0) * 1e6) / ops;
  if (ok === 0) throw new Error('unreachable');
  return ns;
}

function fmt(x: number, digits = 1): string {
  return x.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

// Warm up the JIT on every path, then measure.
simTranslations(20_000, false);
simTranslations(5_000, true);
rawLookups(1_000_000);
validation(1_000_000, 0);

const hit = simTranslations(1_000_000, false);
const miss = simTranslations(100_000, true);
const rawNs = rawLookups(20_000_000);
const validNs = validation(20_000_000, 0);
const mixedNs = validation(20_000_000, 4);

const hitRate = (hit.ops / hit.wallMs) * 1e3;
const missRate = (miss.ops / miss.wallMs) * 1e3;
const rows: Array<[string, string, string, string]> = [
  ['translation hit, raw lookup', fmt(1e9 / rawNs, 0), fmt(rawNs), '-'],
  [
    'translation hit, sim driver thread',
    fmt(hitRate, 0),
    fmt(1e6 / (hitRate / 1e3)),
    fmt(hit.cycles / hit.ops),
  ],
  [
    'translation miss + refill IPC, sim',
    fmt(missRate, 0),
    fmt(1e6 / (missRate / 1e3)),
    fmt(miss.cycles / miss.ops),
  ],
  ['validate, all valid', fmt(1e9 / validNs, 0), fmt(validNs), '-'],
  ['validate, 25% bad (counted drops)', fmt(1e9 / mixedNs, 0), fmt(mixedNs), '-'],
];
const header: [string, string, string, string] = [
  'operation',
  'ops/wall s',
  'wall ns/op',
  'virtual cycles/op',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: readonly string[]) =>
  r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(`@udf/dataspace bench (node ${process.version})`);
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log('');
console.log(
  `hit vs miss, wall:    ${fmt(hitRate / missRate)}x more translations per second on hits`,
);
console.log(
  `hit vs miss, virtual: ${fmt(miss.cycles / miss.ops / (hit.cycles / hit.ops))}x fewer cycles per translation on hits`,
);
console.log(
  `validation vs raw hit: ${fmt(validNs / rawNs, 2)}x the cost of a translation-cache hit`,
);
console.log('');
printCounters();
