import { Worker } from 'node:worker_threads';
import type { MmioDevice } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import {
  drainMmioRing,
  MMIO_RING_BYTES,
  MmioWindow,
  mirrorPageWord,
  STATUS_PAGE_BYTES,
  STATUS_WORDS,
  statusPageWord,
} from './mmio-ring.js';

const ISR = 0x10;
const OTHER = 0x20;
const LINE = 11;

/** A device that records what the ring made it do, in order. */
function recorder(): MmioDevice & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    mmioSize: 4096,
    read32: (o) => {
      log.push(`read ${o}`);
      return 0x1234;
    },
    write32: (o, v) => {
      log.push(`write ${o}=${v}`);
    },
    statusRead: (o, v) => {
      log.push(`status ${o}=${v}`);
    },
  };
}

function setup(withLower = true) {
  const ring = new SharedArrayBuffer(MMIO_RING_BYTES);
  const bell = new SharedArrayBuffer(4);
  const page = new SharedArrayBuffer(STATUS_PAGE_BYTES);
  const lowered: number[] = [];
  const win = new MmioWindow(
    ring,
    bell,
    4096,
    page,
    withLower ? (l) => lowered.push(l) : undefined,
  );
  return { ring: new Int32Array(ring), page, win, lowered };
}

describe('status words: a clear-on-read register read without waiting for the device', () => {
  it('a read of a status word takes and clears its bits, lowers its line and posts a note the device drains in order', () => {
    const { ring, page, win, lowered } = setup();
    const word = statusPageWord(page, ISR, LINE)!;
    word.or(0b101);
    word.or(0b010);
    // nothing drains the ring: an ordinary read would block here for good
    expect(win.read32(ISR)).toBe(0b111);
    expect(word.load()).toBe(0);
    expect(lowered).toEqual([LINE]);
    expect(win.read32(ISR)).toBe(0); // cleared by the first read
    expect(win.counters).toMatchObject({ reads: 2, statusReads: 2, sleptReads: 0 });
    win.write32(OTHER, 9);
    const dev = recorder();
    expect(drainMmioRing(ring, dev)).toBe(3);
    expect(dev.log).toEqual([`status ${ISR}=7`, `status ${ISR}=0`, `write ${OTHER}=9`]);
  });

  it('bits the device sets after a read are there for the next read (none lost, none twice)', () => {
    const { ring, page, win } = setup();
    const word = statusPageWord(page, ISR, LINE)!;
    let seen = 0;
    for (let i = 0; i < 31; i++) {
      word.or(1 << i);
      const v = win.read32(ISR);
      expect(v & seen).toBe(0);
      seen |= v;
      drainMmioRing(ring, recorder());
    }
    expect(seen >>> 0).toBe(0x7fff_ffff);
  });

  it(
    'a read with a posted write the device has not executed yet waits for the device, as PCI ordering demands',
    { timeout: 60_000 },
    async () => {
      const ringBuf = new SharedArrayBuffer(MMIO_RING_BYTES);
      const bell = new SharedArrayBuffer(4);
      const stop = new SharedArrayBuffer(4);
      const page = new SharedArrayBuffer(STATUS_PAGE_BYTES);
      // the consumer in another thread: its device answers a read of offset o with o * 3 + 1
      const w = new Worker(new URL('../test/ts-worker.mjs', import.meta.url), {
        workerData: {
          entry: new URL('./mmio-ring-consumer.fixture.ts', import.meta.url).href,
          ring: ringBuf,
          bell,
          stop,
        },
        execArgv: ['--conditions=@udf/source'],
      });
      const done = new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      try {
        // no await between here and the read: the consumer worker is still booting (it loads
        // TypeScript for tens of milliseconds), so the write is certainly pending at the read
        const win = new MmioWindow(ringBuf, bell, 4096, page, () => {});
        const word = statusPageWord(page, ISR, LINE)!;
        word.or(4);
        win.write32(OTHER, 1);
        // the write may not have run yet: the read goes to the device (ISR * 3 + 1), the word stays
        expect(win.read32(ISR)).toBe(ISR * 3 + 1);
        expect(word.load()).toBe(4);
        expect(win.counters.statusReads).toBe(0);
        // that read flushed the write: now the word is read without the device
        expect(win.read32(ISR)).toBe(4);
        expect(win.counters.statusReads).toBe(1);
      } finally {
        Atomics.store(new Int32Array(stop), 0, 1);
        Atomics.add(new Int32Array(bell), 0, 2);
        Atomics.notify(new Int32Array(bell), 0);
        await done;
        await w.terminate();
      }
    },
  );

  it('without a way to lower the line, a word that names a line is read the ordinary way; a word with no line needs none', () => {
    const { page, win } = setup(false);
    statusPageWord(page, ISR, LINE)!.or(1);
    const plain = statusPageWord(page, OTHER)!;
    plain.or(2);
    expect(win.read32(OTHER)).toBe(2);
    expect(win.counters.statusReads).toBe(1);
    // the ISR read would wait for a device: check it is not taken from the word
    expect((win as unknown as { statusIndex(o: number): number }).statusIndex(ISR)).toBe(-1);
  });

  it('a mirror word is read without clearing it and lowers no line; the device still learns of the read', () => {
    const { ring, page, win, lowered } = setup();
    const txdp = mirrorPageWord(page, OTHER)!;
    txdp.store(0x4000);
    expect(win.read32(OTHER)).toBe(0x4000);
    expect(win.read32(OTHER)).toBe(0x4000);
    txdp.store(0x4010);
    expect(win.read32(OTHER)).toBe(0x4010);
    expect(lowered).toEqual([]);
    const dev = recorder();
    drainMmioRing(ring, dev);
    expect(dev.log).toEqual([
      `status ${OTHER}=16384`,
      `status ${OTHER}=16384`,
      `status ${OTHER}=16400`,
    ]);
  });

  it('a page holds at most STATUS_WORDS words; asking again for an offset returns the same word', () => {
    const page = new SharedArrayBuffer(STATUS_PAGE_BYTES);
    const a = statusPageWord(page, 0)!;
    a.or(8);
    expect(statusPageWord(page, 0)!.load()).toBe(8);
    for (let i = 1; i < STATUS_WORDS; i++) expect(statusPageWord(page, i * 4)).not.toBeNull();
    expect(statusPageWord(page, 4096)).toBeNull();
  });

  it('a read of a device whose worker is gone returns all ones and takes nothing', () => {
    const { ring, page, win } = setup();
    const word = statusPageWord(page, ISR, LINE)!;
    word.or(3);
    Atomics.store(ring, 3, 1); // DEAD
    expect(win.read32(ISR)).toBe(0xffff_ffff);
    expect(word.load()).toBe(3);
    expect(win.counters.deadAccesses).toBe(1);
  });
});
