// A producer or consumer of the cross-thread stress test (run with `--import tsx`).
import { parentPort, workerData } from 'node:worker_threads';
import { Notifier, sleepUntil, wake } from '../src/index.js';
import { attach, mix, type StressConfig, writeDescriptor } from './stress-layout.js';

const { role, sab, config } = workerData as {
  role: 'producer' | 'consumer';
  sab: SharedArrayBuffer;
  config: StressConfig;
};
// With the producer pausing for at most ~0.5 ms, no correct sleep lasts anywhere near this long:
// a sleep that runs into this timeout means a wake-up was lost (and the timeout masked it).
const STUCK_MS = 3_000;
let lostWakeups = 0;
function sleepOrReport(bit: Parameters<typeof sleepUntil>[0], hasWork: () => boolean): boolean {
  const t0 = performance.now();
  const found = sleepUntil(bit, hasWork, STUCK_MS);
  if (performance.now() - t0 >= STUCK_MS) lostWakeups++;
  return found;
}
const { ring, dataBit, spaceBit } = attach(sab, config);
const W = config.slotWords;
let rng = config.seed >>> 0 || 1;
function random(): number {
  rng ^= rng << 13;
  rng >>>= 0;
  rng ^= rng >>> 17;
  rng ^= rng << 5;
  rng >>>= 0;
  return rng;
}
const pauser = new Int32Array(new SharedArrayBuffer(4));

function produce() {
  const notifier = new Notifier(dataBit, config.policy);
  const batch = new Uint32Array(config.maxBatch * W);
  let woken = 0;
  let seq = 0;
  let stuck = false;
  while (seq < config.items && !stuck) {
    const k = Math.min(1 + (random() % config.maxBatch), config.items - seq);
    for (let i = 0; i < k; i++) writeDescriptor(batch, i * W, seq + i);
    let sent = 0;
    while (sent < k) {
      const n =
        k - sent === 1
          ? ring.push(batch.subarray(sent * W))
            ? 1
            : 0
          : ring.pushBatch(batch.subarray(sent * W), k - sent);
      if (n > 0) {
        sent += n;
        if (notifier.afterEnqueue(n)) woken += wake(dataBit);
        continue;
      }
      // full: flush deferred notifications, then wait for space
      if (notifier.onDry()) woken += wake(dataBit);
      if (config.mode === 'block') {
        if (!sleepOrReport(spaceBit, () => ring.space() > 0)) {
          stuck = true;
          break;
        }
      }
    }
    seq += sent;
    if (random() % config.pauseEvery === 0) {
      if (notifier.onDry()) woken += wake(dataBit);
      Atomics.wait(pauser, 0, 0, 0.05 + (random() % 100) / 200);
    }
  }
  if (notifier.onDry()) woken += wake(dataBit);
  parentPort!.postMessage({
    role,
    stuck,
    sent: seq,
    woken,
    lostWakeups,
    ...notifier.stats,
    corruptions: ring.stats.corruptions,
  });
}

function consume() {
  const spaceNotifier = new Notifier(spaceBit, { kind: 'when-asleep' });
  const out = new Uint32Array(config.maxBatch * W);
  let expect = 0;
  let errors = 0;
  let firstError = '';
  let sleeps = 0;
  let stuck = false;
  let producerWoken = 0;
  while (expect < config.items) {
    const max = config.maxBatch === 1 || random() % 4 === 0 ? 1 : config.maxBatch;
    const n = max === 1 ? (ring.pop(out) ? 1 : 0) : ring.popBatch(out, max);
    if (n === 0) {
      if (config.mode === 'block') {
        sleeps++;
        if (!sleepOrReport(dataBit, () => ring.count() > 0)) {
          stuck = true;
          break;
        }
      }
      continue;
    }
    for (let i = 0; i < n; i++) {
      const at = i * W;
      const a = out[at]!;
      const b = out[at + 1]!;
      const c = out[at + 2]!;
      const ok =
        a === expect >>> 0 &&
        b === mix(expect) &&
        c === (expect ^ 0xa5a5a5a5) >>> 0 &&
        out[at + 3] === (a + b + c) >>> 0;
      if (!ok) {
        if (errors === 0)
          firstError = `expected seq ${expect}, got [${a}, ${b}, ${c}, ${out[at + 3]}]`;
        errors++;
        if (a >= expect) expect = a; // resynchronise on the sequence number we saw
      }
      expect++;
    }
    if (spaceNotifier.afterEnqueue(n)) producerWoken += wake(spaceBit);
  }
  parentPort!.postMessage({
    role,
    stuck,
    received: expect,
    errors,
    firstError,
    sleeps,
    lostWakeups,
    producerWoken,
    corruptions: ring.stats.corruptions,
  });
}

if (role === 'producer') produce();
else consume();
