// The IPC path's map/grant handling step by step, in one thread, with a fake kernel slow path
// that looks at the control blocks while the "kernel" is transferring: the partner is held in
// Transferring (no other delivery, no cancel), completes only afterwards, and fails cleanly if
// the delivering worker dies mid-transfer.
import { ANY_THREAD, type Fpage, type MapGrantItem } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { ControlBlocks, kernelRegionBytes, ThreadState } from './control-blocks.js';
import { BLOCKED, IpcPath } from './ipc.js';
import type { SlowPath } from './kernel-link.js';

const RW = { read: true, write: true, execute: false };
const WINDOW: Fpage = { base: 0x4000_0000, sizeLog2: 24, rights: RW };
const ITEMS: MapGrantItem[] = [
  { kind: 'grant', fpage: { base: 0x10000, sizeLog2: 13, rights: RW }, sendBase: 0x3000 },
];

function setup(onTransfer: (ipc: IpcPath) => void) {
  const b = new ControlBlocks(new SharedArrayBuffer(kernelRegionBytes(3, 3)), {
    threads: 3,
    domains: 3,
    domainOf: [0, 0, 1, 2],
  });
  const ipc = new IpcPath(b);
  const calls: unknown[][] = [];
  const slow: SlowPath = {
    transfer: (...args) => {
      calls.push(args);
      onTransfer(ipc);
    },
    unmap: () => 0,
  };
  ipc.slow = slow;
  for (const id of [1, 2, 3]) {
    b.lock(id);
    b.setState(id, ThreadState.Running);
    b.unlock(id);
  }
  return { b, ipc, calls };
}

describe('IpcPath with map/grant items', () => {
  it('the sender delivers to a waiting receiver: the receiver is held in Transferring while the kernel transfers, then gets words and items', () => {
    let during: unknown[] = [];
    const { b, ipc, calls } = setup((p) => {
      during = [
        b.state(2),
        p.send(3, 2, 9, [], 0, false, 0), // another sender cannot deliver meanwhile
        p.interrupt(2, 'canceled'), // nor cancel it
      ];
    });
    expect(ipc.receive(2, ANY_THREAD, Number.POSITIVE_INFINITY, true, WINDOW)).toBe(BLOCKED);
    const r = ipc.send(1, 2, 7, [5, 6], Number.POSITIVE_INFINITY, false, 0, ITEMS);
    expect(r).toMatchObject({ ok: true, from: 2 });
    expect(calls).toEqual([[1, 2, ITEMS, WINDOW.base, WINDOW.sizeLog2]]);
    expect(during).toEqual([
      ThreadState.Transferring,
      { ok: false, error: 'timeout', phase: 'send', from: 2 },
      false,
    ]);
    expect(b.state(2)).toBe(ThreadState.Done);
    expect(ipc.takeResult(2)).toEqual({
      ok: true,
      from: 1,
      msg: { label: 7, words: [5, 6], items: ITEMS },
    });
  });

  it('the receiver takes a queued sender with items: the sender is held in Transferring, a call then waits for the reply', () => {
    let during = -1;
    const { b, ipc, calls } = setup(() => {
      during = b.state(1);
    });
    expect(
      ipc.send(1, 2, 7, [5], Number.POSITIVE_INFINITY, true, Number.POSITIVE_INFINITY, ITEMS),
    ).toBe(BLOCKED);
    const r = ipc.receive(2, ANY_THREAD, Number.POSITIVE_INFINITY, true, WINDOW);
    expect(r).toEqual({ ok: true, from: 1, msg: { label: 7, words: [5], items: ITEMS } });
    expect(calls).toEqual([[1, 2, ITEMS, WINDOW.base, WINDOW.sizeLog2]]);
    expect(during).toBe(ThreadState.Transferring);
    expect(b.state(1)).toBe(ThreadState.ReceiveBlocked); // the call's receive phase
    expect(b.partner(1)).toBe(2);
  });

  it('no receive window: message overflow on both sides, nothing transferred', () => {
    const { ipc, calls } = setup(() => {});
    expect(ipc.receive(2, ANY_THREAD, Number.POSITIVE_INFINITY, true)).toBe(BLOCKED);
    expect(ipc.send(1, 2, 0, [], Number.POSITIVE_INFINITY, false, 0, ITEMS)).toEqual({
      ok: false,
      error: 'message-overflow',
      phase: 'send',
      from: 2,
    });
    expect(ipc.takeResult(2)).toEqual({
      ok: false,
      error: 'message-overflow',
      phase: 'receive',
      from: 1,
    });
    expect(calls).toEqual([]);
  });

  it.each([
    ['the delivering sender', 'send-first'],
    ['the receiver taking a queued sender', 'receive-first'],
  ] as const)('if the worker of %s dies mid-transfer, its partner fails with non-existing-partner', (_, order) => {
    if (order === 'send-first') {
      // thread 1 sends to the waiting 2 and "dies" in the transfer
      const { b, ipc } = setup((p) => p.failTransfers(new Set([1])));
      ipc.receive(2, ANY_THREAD, Number.POSITIVE_INFINITY, true, WINDOW);
      ipc.send(1, 2, 0, [], Number.POSITIVE_INFINITY, false, 0, ITEMS);
      expect(b.state(2)).toBe(ThreadState.Done);
      expect(ipc.takeResult(2)).toEqual({
        ok: false,
        error: 'non-existing-partner',
        phase: 'receive',
        from: 1,
      });
    } else {
      // thread 2 takes queued 1's message and "dies" in the transfer
      const { b, ipc } = setup((p) => p.failTransfers(new Set([2])));
      ipc.send(1, 2, 0, [], Number.POSITIVE_INFINITY, false, 0, ITEMS);
      ipc.receive(2, ANY_THREAD, Number.POSITIVE_INFINITY, true, WINDOW);
      expect(b.state(1)).toBe(ThreadState.Done);
      expect(ipc.takeResult(1)).toEqual({
        ok: false,
        error: 'non-existing-partner',
        phase: 'send',
        from: 2,
      });
    }
  });
});
