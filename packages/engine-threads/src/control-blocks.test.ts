import { describe, expect, it } from 'vitest';
import {
  CONTROL_BLOCK_BYTES,
  ControlBlocks,
  FLAG_MISSED,
  FLAG_WINDOW,
  kernelRegionBytes,
  LOCK_OWNER_MAIN,
  MESSAGE_WORDS,
  ThreadState,
} from './control-blocks.js';

function region(threads = 3, domains = 2) {
  const domainOf = [0, 0, 1, 1, 2];
  return new ControlBlocks(new SharedArrayBuffer(kernelRegionBytes(threads, domains)), {
    threads,
    domains,
    domainOf,
  });
}

describe('ControlBlocks', () => {
  it('blocks are whole cache lines and hold a full message', () => {
    expect(CONTROL_BLOCK_BYTES % 64).toBe(0);
    const b = region();
    const words = Array.from({ length: MESSAGE_WORDS }, (_, i) => i * 1.5 - 7);
    b.lock(2);
    b.writeMessage(2, -2, words);
    b.unlock(2);
    expect(b.readWords(2)).toEqual(words);
    expect(b.label(2)).toBe(-2);
  });

  it('no field of one block overlaps another field or another block', () => {
    const b = region();
    for (let id = 1; id <= 3; id++) {
      b.lock(id);
      b.setState(id, ThreadState.SendBlocked);
      b.setPartner(id, 10 + id);
      b.setDeadline(id, 1000 + id);
      b.setReceiveTimeout(id, 2000 + id);
      b.writeMessage(id, 30 + id, new Array(MESSAGE_WORDS).fill(40 + id));
      b.complete(id, 5, 50 + id);
      b.unlock(id);
    }
    for (let id = 1; id <= 3; id++) {
      expect(b.state(id)).toBe(ThreadState.Done);
      expect(b.partner(id)).toBe(10 + id);
      expect(b.deadline(id)).toBe(Number.POSITIVE_INFINITY); // complete() clears it
      expect(b.receiveTimeout(id)).toBe(2000 + id);
      expect(b.label(id)).toBe(30 + id);
      expect(b.readWords(id).every((w) => w === 40 + id)).toBe(true);
      expect([b.result(id), b.from(id)]).toEqual([5, 50 + id]);
      expect(b.domainOf(id)).toBe(id === 1 ? 0 : 1);
    }
  });

  it('sender queues are FIFO and unlink from the middle', () => {
    const b = new ControlBlocks(new SharedArrayBuffer(kernelRegionBytes(5, 1)), {
      threads: 5,
      domains: 1,
      domainOf: [0, 0, 0, 0, 0, 0],
    });
    for (const s of [2, 3, 4, 5]) b.enqueueSender(1, s);
    b.dequeueSender(1, 3);
    const order: number[] = [];
    for (let s = b.firstSender(1); s !== 0; s = b.nextSender(s)) order.push(s);
    expect(order).toEqual([2, 4, 5]);
    b.dequeueSender(1, 2);
    b.dequeueSender(1, 5);
    b.dequeueSender(1, 4);
    expect(b.firstSender(1)).toBe(0);
  });

  it('opening a window clears the MISSED latch and keeps other flags', () => {
    const b = region();
    b.setFlags(1, FLAG_MISSED | 1);
    b.openWindow(1);
    expect(b.flags(1)).toBe(FLAG_WINDOW | 1);
  });

  it('refuses a buffer that is not a kernel region', () => {
    expect(() => new ControlBlocks(new SharedArrayBuffer(1024))).toThrow(
      expect.objectContaining({ code: 'LAYOUT' }),
    );
  });
});

describe('ControlBlocks locks', () => {
  it('a bounded lock gives up with DEADLOCK instead of hanging on a lock nobody will release', () => {
    const b = region();
    b.lock(1); // held by "a worker that died"
    b.lockTimeoutMs = 20;
    expect(() => b.lock(1)).toThrow(expect.objectContaining({ code: 'DEADLOCK' }));
  });

  it("a lock word names its holder; recoverLocks releases only a dead owner's locks and rebuilds their sender queues", () => {
    const b = region(4, 3);
    const dead = new ControlBlocks(b.buffer); // the view of a worker of domain 1 (tag 2)
    dead.owner = 2;
    // thread 2 send-blocked on thread 1, queued properly
    b.lock2(1, 2);
    b.setPartner(2, 1);
    b.enqueueSender(1, 2);
    b.setState(2, ThreadState.SendBlocked);
    b.unlock2(1, 2);
    // the dead worker took 1 and 3, began queueing 3 on 1 (head linked, tail not), and died
    dead.lock(1);
    dead.lock(3);
    dead.setPartner(3, 1);
    dead.setState(3, ThreadState.SendBlocked);
    b.lock(4); // a live owner's lock
    expect([b.lockOwner(1), b.lockOwner(3), b.lockOwner(4)]).toEqual([2, 2, LOCK_OWNER_MAIN]);
    expect(b.recoverLocks(2)).toEqual([1, 3]);
    expect([b.lockOwner(1), b.lockOwner(3), b.lockOwner(4)]).toEqual([0, 0, LOCK_OWNER_MAIN]);
    b.lock(1);
    const queue: number[] = [];
    for (let s = b.firstSender(1); s !== 0; s = b.nextSender(s)) queue.push(s);
    b.unlock(1);
    expect(queue).toEqual([2, 3]); // the old order kept, the half-queued sender appended
  });

  it('revive makes a dead thread inactive with an empty block', () => {
    const b = region();
    b.lock(1);
    b.setPartner(1, 2);
    b.setDeadline(1, 5);
    b.setState(1, ThreadState.Dead);
    b.unlock(1);
    expect(b.revive(1)).toBe(true);
    expect([b.state(1), b.partner(1), b.deadline(1)]).toEqual([
      ThreadState.Inactive,
      0,
      Number.POSITIVE_INFINITY,
    ]);
    expect(b.revive(1)).toBe(false); // only a dead thread
  });
});
