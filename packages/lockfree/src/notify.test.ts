import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ArgumentError, LayoutError } from './errors.js';
import {
  CONSUMER_ASLEEP,
  CONSUMER_AWAKE,
  NotificationBit,
  Notifier,
  sleepUntil,
  sleepUntilAsync,
  wake,
} from './notify.js';
import { SpscRing } from './ring.js';

function makeBit() {
  const sab = new SharedArrayBuffer(64);
  return { sab, consumer: new NotificationBit(sab, 8), producer: new NotificationBit(sab, 8) };
}

describe('NotificationBit', () => {
  it('is one Int32 word at the given offset; zeroed memory means awake', () => {
    const { sab, consumer } = makeBit();
    expect(consumer.isAsleep()).toBe(false);
    consumer.prepareSleep();
    expect(new Int32Array(sab)[2]).toBe(CONSUMER_ASLEEP);
    consumer.cancelSleep();
    expect(new Int32Array(sab)[2]).toBe(CONSUMER_AWAKE);
  });

  it('rejects misaligned or out-of-range offsets', () => {
    const sab = new SharedArrayBuffer(8);
    expect(() => new NotificationBit(sab, 2)).toThrow(LayoutError);
    expect(() => new NotificationBit(sab, 8)).toThrow(LayoutError);
  });

  it('lets the producer take a wake request exactly once (test-and-clear)', () => {
    const { consumer, producer } = makeBit();
    expect(producer.takeWakeRequest()).toBe(false);
    consumer.prepareSleep();
    expect(producer.takeWakeRequest()).toBe(true);
    expect(consumer.isAsleep()).toBe(false);
    expect(producer.takeWakeRequest()).toBe(false);
  });

  it('counts garbage in the word and treats it as awake', () => {
    const { sab, producer } = makeBit();
    new Int32Array(sab)[2] = 0x5a5a;
    expect(producer.takeWakeRequest()).toBe(false);
    expect(producer.stats.corruptions).toBe(1);
  });
});

describe('Notifier policies', () => {
  it('always: wakes after every enqueue, asleep or not', () => {
    const { consumer, producer } = makeBit();
    const n = new Notifier(producer, { kind: 'always' });
    expect(n.afterEnqueue(1)).toBe(true);
    consumer.prepareSleep();
    expect(n.afterEnqueue(3)).toBe(true);
    expect(consumer.isAsleep()).toBe(false);
    expect(n.afterEnqueue(0)).toBe(false);
    expect(n.onDry()).toBe(false);
    expect(n.stats).toEqual({ notifications: 2, suppressed: 0 });
  });

  it('wakeupsAfterEnqueue: per-item asks for one wake-up per item, the others for at most one', () => {
    const always = new Notifier(makeBit().producer, { kind: 'per-item' });
    expect(always.wakeupsAfterEnqueue(5)).toBe(5);
    expect(always.wakeupsAfterEnqueue(0)).toBe(0);
    expect(new Notifier(makeBit().producer, { kind: 'always' }).wakeupsAfterEnqueue(5)).toBe(1);
    const { consumer, producer } = makeBit();
    const asleep = new Notifier(producer, { kind: 'when-asleep' });
    expect(asleep.wakeupsAfterEnqueue(5)).toBe(0);
    consumer.prepareSleep();
    expect(asleep.wakeupsAfterEnqueue(5)).toBe(1);
    const d = makeBit();
    const deferred = new Notifier(d.producer, { kind: 'deferred', batch: 4 });
    d.consumer.prepareSleep();
    expect(deferred.wakeupsAfterEnqueue(3)).toBe(0);
    expect(deferred.wakeupsAfterEnqueue(3)).toBe(1);
    expect([always.stats.notifications, asleep.stats.notifications]).toEqual([5, 1]);
  });

  it('when-asleep: wakes only a consumer that asked, once per request', () => {
    const { consumer, producer } = makeBit();
    const n = new Notifier(producer, { kind: 'when-asleep' });
    expect(n.afterEnqueue(1)).toBe(false);
    consumer.prepareSleep();
    expect(n.afterEnqueue(1)).toBe(true);
    expect(n.afterEnqueue(1)).toBe(false);
    expect(n.stats).toEqual({ notifications: 1, suppressed: 2 });
  });

  it('deferred: waits for a batch of pending items, or for the producer to run dry', () => {
    const { consumer, producer } = makeBit();
    const n = new Notifier(producer, { kind: 'deferred', batch: 4 });
    consumer.prepareSleep();
    expect(n.afterEnqueue(1)).toBe(false);
    expect(n.afterEnqueue(2)).toBe(false);
    expect(n.afterEnqueue(1)).toBe(true); // 4 pending
    consumer.prepareSleep();
    expect(n.afterEnqueue(1)).toBe(false);
    expect(n.onDry()).toBe(true); // flush the 1 pending
    expect(n.onDry()).toBe(false); // nothing pending
    consumer.prepareSleep();
    expect(n.afterEnqueue(5)).toBe(true);
    expect(n.stats.notifications).toBe(3);
  });

  it('deferred: does not wake a consumer that is awake even when the batch is full', () => {
    const { producer } = makeBit();
    const n = new Notifier(producer, { kind: 'deferred', batch: 2 });
    expect(n.afterEnqueue(2)).toBe(false);
    expect(n.afterEnqueue(1)).toBe(false);
    expect(n.onDry()).toBe(false);
    expect(n.stats.notifications).toBe(0);
  });

  it('rejects a deferred batch that is not a positive integer', () => {
    const { producer } = makeBit();
    expect(() => new Notifier(producer, { kind: 'deferred', batch: 0 })).toThrow(ArgumentError);
    expect(() => new Notifier(producer, { kind: 'deferred', batch: 1.5 })).toThrow(ArgumentError);
  });
});

describe('sleepUntil (same thread)', () => {
  it('returns at once, awake, when work is already there', () => {
    const { consumer } = makeBit();
    expect(sleepUntil(consumer, () => true)).toBe(true);
    expect(consumer.isAsleep()).toBe(false);
  });

  it('re-checks for work only after the signal request is visible (request, re-check, block)', () => {
    const { consumer } = makeBit();
    const asleepAtCheck: boolean[] = [];
    const found = sleepUntil(consumer, () => {
      asleepAtCheck.push(consumer.isAsleep());
      return true;
    });
    expect(found).toBe(true);
    expect(asleepAtCheck).toEqual([true]);
    expect(consumer.isAsleep()).toBe(false);
  });

  it('times out without work and leaves the bit awake', () => {
    const { consumer } = makeBit();
    const t0 = performance.now();
    expect(sleepUntil(consumer, () => false, 30)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(consumer.isAsleep()).toBe(false);
  });

  it('does not block when the waker cleared the word before Atomics.wait (notify lost)', () => {
    const { consumer, producer } = makeBit();
    let work = false;
    let checks = 0;
    const t0 = performance.now();
    const found = sleepUntil(
      consumer,
      () => {
        checks++;
        if (checks === 1) {
          // producer publishes work right after our re-check, takes the request and notifies
          // before we reach Atomics.wait: the notify itself is lost, the cleared word is not.
          work = true;
          if (producer.takeWakeRequest()) wake(producer);
          return false;
        }
        return work;
      },
      5_000,
    );
    expect(found).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('spins before requesting a signal when asked to', () => {
    const { consumer } = makeBit();
    let calls = 0;
    expect(sleepUntil(consumer, () => ++calls === 3, 1_000, 5)).toBe(true);
    expect(calls).toBe(3);
  });
});

describe('sleepUntilAsync (Atomics.waitAsync, for event-loop consumers)', () => {
  it('resolves at once, awake, when work is already there', async () => {
    const { consumer } = makeBit();
    expect(await sleepUntilAsync(consumer, () => true)).toBe(true);
    expect(consumer.isAsleep()).toBe(false);
  });

  it('times out without work and leaves the bit awake', async () => {
    const { consumer } = makeBit();
    expect(await sleepUntilAsync(consumer, () => false, 20)).toBe(false);
    expect(consumer.isAsleep()).toBe(false);
  });

  it('is woken by wake() from the same thread, without blocking it', async () => {
    const { consumer, producer } = makeBit();
    let work = false;
    const waiting = sleepUntilAsync(consumer, () => work);
    expect(consumer.isAsleep()).toBe(true); // requested a signal and is waiting
    work = true;
    expect(producer.takeWakeRequest()).toBe(true);
    expect(wake(producer)).toBe(1); // one async waiter woken
    expect(await waiting).toBe(true);
  });

  it(
    'receives every item from a producer worker; every sleep ends with a wake-up, none times out',
    { timeout: 30_000 },
    async () => {
      const items = 5_000;
      const bitAt = SpscRing.byteLength(64, 2);
      const sab = new SharedArrayBuffer(bitAt + 64);
      const ring = new SpscRing(sab, 0, 64, 2);
      const bit = new NotificationBit(sab, bitAt);
      const worker = new Worker(new URL('../test/ts-worker.mjs', import.meta.url), {
        workerData: {
          entry: new URL('../test/async-producer.ts', import.meta.url).href,
          sab,
          items,
          bitAt,
        },
      });
      const done = new Promise<{ woken: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const out = new Uint32Array(2 * 16);
      let next = 0;
      let errors = 0;
      let sleeps = 0;
      let timeouts = 0;
      while (next < items) {
        const n = ring.popBatch(out, 16);
        for (let i = 0; i < n; i++) {
          if (out[2 * i] !== next || out[2 * i + 1] !== ~next >>> 0) errors++;
          next++;
        }
        if (n === 0) {
          sleeps++;
          // 3 s: far beyond any correct wait here; running into it means a lost wake-up
          if (!(await sleepUntilAsync(bit, () => ring.count() > 0, 3_000))) timeouts++;
          if (timeouts > 0) break;
        }
      }
      const { woken } = await done;
      await worker.terminate();
      expect(errors).toBe(0);
      expect(timeouts).toBe(0);
      expect(next).toBe(items);
      expect(sleeps).toBeGreaterThan(0);
      expect(woken).toBeGreaterThan(0); // Atomics.notify found an async waiter
    },
  );

  it('keeps Node alive while it waits (a pending waitAsync alone does not)', () => {
    const script = fileURLToPath(new URL('../test/async-keepalive.ts', import.meta.url));
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out).toContain('timed out: true, asleep: false');
  });
});
