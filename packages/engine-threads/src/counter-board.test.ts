import { describe, expect, it } from 'vitest';
import { CounterBoard, counterBoardBytes, DOMAIN_COUNTER_NAMES } from './counter-board.js';
import type { IpcCounters } from './ipc.js';
import type { MmioWindowCounters } from './mmio-ring.js';
import type { SchedulerCounters } from './scheduler.js';

function counters(base: number): {
  s: SchedulerCounters;
  ipc: IpcCounters;
  mmio: MmioWindowCounters;
  all: Record<string, number>;
} {
  const c = {
    s: {
      calls: base + 1,
      sleeps: base + 2,
      racedSleeps: base + 3,
      badItems: base + 4,
      unmaps: base + 5,
      unsupportedIrq: base + 6,
      badWords: base + 7,
      badCalls: base + 8,
    },
    ipc: { messages: base + 9, latched: base + 10, missedSends: base + 11 },
    mmio: {
      reads: base + 12,
      sleptReads: base + 13,
      writes: base + 14,
      badOffsets: 1,
      deadAccesses: 2,
      statusReads: base + 15,
    },
  };
  const all = {
    ...c.s,
    ...c.ipc,
    mmioReads: c.mmio.reads,
    mmioSleptReads: c.mmio.sleptReads,
    mmioWrites: c.mmio.writes,
    mmioStatusReads: c.mmio.statusReads,
  };
  return { ...c, all };
}

describe('CounterBoard', () => {
  it('each domain has its own record: what one publishes the reader gets, the others stay zero', () => {
    const board = new CounterBoard(new SharedArrayBuffer(counterBoardBytes(3)));
    expect(board.domains).toBe(3);
    const { s, ipc, mmio, all } = counters(2 ** 40); // beyond 32 bits
    board.publish(1, s, ipc, mmio);
    expect(board.read(1)).toEqual(all);
    for (const d of [0, 2]) {
      expect(Object.values(board.read(d))).toEqual(DOMAIN_COUNTER_NAMES.map(() => 0));
    }
    board.reset(1);
    expect(board.read(1).calls).toBe(0);
  });

  it('a second view of the same memory (another thread) reads what the writer published', () => {
    const buffer = new SharedArrayBuffer(counterBoardBytes(1));
    const writer = new CounterBoard(buffer);
    const reader = new CounterBoard(buffer);
    for (let i = 0; i < 3; i++) {
      const { s, ipc, mmio, all } = counters(i * 100);
      writer.publish(0, s, ipc, mmio);
      expect(reader.read(0)).toEqual(all);
    }
  });

  it('a record its writer left mid-copy (odd sequence word) is still read, and the next copy completes it', () => {
    const buffer = new SharedArrayBuffer(counterBoardBytes(1));
    const board = new CounterBoard(buffer);
    const seq = new Int32Array(buffer);
    Atomics.store(seq, 0, 7); // a writer terminated between its two sequence stores
    expect(board.read(0).calls).toBe(0);
    const { s, ipc, all } = counters(5);
    board.publish(0, s, ipc);
    expect(Atomics.load(seq, 0) % 2).toBe(0);
    // published without register windows: their counters read 0
    expect(board.read(0)).toEqual({
      ...all,
      mmioReads: 0,
      mmioSleptReads: 0,
      mmioWrites: 0,
      mmioStatusReads: 0,
    });
  });
});
