// X.2 message overflow on the IPC fast path, step by step in one thread: a message of more words
// than the message registers hold is reported at transfer time to both partners — the sender in
// its send phase, the receiver in its receive phase — whichever of them came first.
import { ANY_THREAD, MAX_MESSAGE_WORDS } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { ControlBlocks, FLAG_OVERFLOW, kernelRegionBytes, ThreadState } from './control-blocks.js';
import { BLOCKED, IpcPath } from './ipc.js';

const FOREVER = Number.POSITIVE_INFINITY;
const TOO_MANY = new Array<number>(MAX_MESSAGE_WORDS + 1).fill(9);
const FULL = new Array<number>(MAX_MESSAGE_WORDS).fill(8);

function setup() {
  const b = new ControlBlocks(new SharedArrayBuffer(kernelRegionBytes(3, 3)), {
    threads: 3,
    domains: 3,
    domainOf: [0, 0, 1, 2],
  });
  const ipc = new IpcPath(b);
  for (const id of [1, 2, 3]) {
    b.lock(id);
    b.setState(id, ThreadState.Running);
    b.unlock(id);
  }
  // thread 3's registers: an overflowing message must not spill into another block
  b.lock(3);
  b.writeMessage(3, 33, [3, 3, 3]);
  b.unlock(3);
  return { b, ipc };
}

const SENDER_ERR = { ok: false, error: 'message-overflow', phase: 'send', from: 2 };
const RECEIVER_ERR = { ok: false, error: 'message-overflow', phase: 'receive', from: 1 };

describe('IpcPath message overflow (X.2: reported to both partners at transfer time)', () => {
  it.each([
    ['send', false],
    ['call', true],
  ] as const)('receiver waiting first, %s of 64 words: both fail, the receiver wakes', (_, call) => {
    const { b, ipc } = setup();
    expect(ipc.receive(2, ANY_THREAD, FOREVER, true)).toBe(BLOCKED);
    expect(ipc.send(1, 2, 0, TOO_MANY, FOREVER, call, FOREVER)).toEqual(SENDER_ERR);
    expect(b.state(2)).toBe(ThreadState.Done);
    expect(ipc.takeResult(2)).toEqual(RECEIVER_ERR);
    // a call does not go on to its receive phase
    expect(b.state(1)).toBe(ThreadState.Running);
    expect(b.readWords(3)).toEqual([3, 3, 3]);
  });

  it.each([
    ['send', false],
    ['call', true],
  ] as const)('sender blocked first, %s of 64 words: the receiver that takes it fails both', (_, call) => {
    const { b, ipc } = setup();
    expect(ipc.send(1, 2, 0, TOO_MANY, FOREVER, call, FOREVER)).toBe(BLOCKED);
    expect(b.state(1)).toBe(ThreadState.SendBlocked);
    expect(b.readWords(3)).toEqual([3, 3, 3]);
    expect(ipc.receive(2, ANY_THREAD, FOREVER, true)).toEqual(RECEIVER_ERR);
    expect(b.state(1)).toBe(ThreadState.Done);
    expect(ipc.takeResult(1)).toEqual(SENDER_ERR);
    expect(b.flags(1) & FLAG_OVERFLOW).toBe(0);
    expect(b.firstSender(2)).toBe(0);
  });

  it('a named receive takes the overflowing sender the same way', () => {
    const { ipc } = setup();
    expect(ipc.send(1, 2, 0, TOO_MANY, FOREVER, false, 0)).toBe(BLOCKED);
    expect(ipc.receive(2, 1, FOREVER, true)).toEqual(RECEIVER_ERR);
    expect(ipc.takeResult(1)).toEqual(SENDER_ERR);
  });

  it('63 words pass in both orders; the next message after an overflow is delivered whole', () => {
    const { ipc } = setup();
    expect(ipc.send(1, 2, 0, TOO_MANY, FOREVER, false, 0)).toBe(BLOCKED);
    expect(ipc.receive(2, ANY_THREAD, FOREVER, true)).toEqual(RECEIVER_ERR);
    ipc.takeResult(1);
    expect(ipc.send(1, 2, 4, FULL, FOREVER, false, 0)).toBe(BLOCKED);
    expect(ipc.receive(2, ANY_THREAD, FOREVER, true)).toEqual({
      ok: true,
      from: 1,
      msg: { label: 4, words: FULL },
    });
    expect(ipc.takeResult(1)).toMatchObject({ ok: true, from: 2 });
    expect(ipc.receive(2, ANY_THREAD, FOREVER, true)).toBe(BLOCKED);
    expect(ipc.send(1, 2, 5, FULL, FOREVER, false, 0)).toMatchObject({ ok: true, from: 2 });
    expect(ipc.takeResult(2)).toEqual({ ok: true, from: 1, msg: { label: 5, words: FULL } });
  });

  it('items count two words each: 61 words and one item overflow', () => {
    const { ipc } = setup();
    const item = {
      kind: 'map' as const,
      fpage: { base: 0x10000, sizeLog2: 12, rights: { read: true, write: true, execute: false } },
      sendBase: 0,
    };
    const words = new Array<number>(MAX_MESSAGE_WORDS - 1).fill(1);
    expect(ipc.receive(2, ANY_THREAD, FOREVER, true)).toBe(BLOCKED);
    expect(ipc.send(1, 2, 0, words, FOREVER, false, 0, [item])).toEqual(SENDER_ERR);
    expect(ipc.takeResult(2)).toEqual(RECEIVER_ERR);
  });

  it('an overflowing sender that times out or is canceled leaves no overflow mark behind', () => {
    const { b, ipc } = setup();
    expect(ipc.send(1, 2, 0, TOO_MANY, 5, false, 0)).toBe(BLOCKED);
    expect(ipc.interrupt(1, 'canceled')).toBe(true);
    expect(ipc.takeResult(1)).toEqual({ ok: false, error: 'canceled', phase: 'send', from: 2 });
    expect(b.flags(1) & FLAG_OVERFLOW).toBe(0);
    expect(ipc.send(1, 2, 6, [1], FOREVER, false, 0)).toBe(BLOCKED);
    expect(ipc.receive(2, ANY_THREAD, FOREVER, true)).toEqual({
      ok: true,
      from: 1,
      msg: { label: 6, words: [1] },
    });
  });

  it('a zero-timeout send of 64 words to a thread not receiving times out (no transfer, no mark)', () => {
    const { b, ipc } = setup();
    expect(ipc.send(1, 2, 0, TOO_MANY, 0, false, 0)).toEqual({
      ok: false,
      error: 'timeout',
      phase: 'send',
      from: 2,
    });
    expect(b.flags(1) & FLAG_OVERFLOW).toBe(0);
  });
});
