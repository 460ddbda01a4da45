/**
 * Conformance cases: IPC (L4 X.2 semantics, as udf implements them).
 *
 * @module
 */
import {
  ANY_THREAD,
  type IpcResult,
  type Message,
  NEVER,
  NIL_THREAD,
  type Sys,
  ZERO,
} from '../sys.js';
import { type ConformanceCase, expectEqual, expectMatch } from './harness.js';

const RW = { read: true, write: true, execute: false } as const;
const msg = (label: number, ...words: number[]): Message => ({ label, words });
const SHORT = 0.01;

/** The IPC cases. */
export const IPC_CASES: readonly ConformanceCase[] = [
  {
    area: 'ipc',
    name: 'send and receive rendezvous: label and words arrive, the receiver learns the sender',
    async run(make) {
      const e = make();
      const s = e.createSpace('s');
      const got: IpcResult[] = [];
      const sent: IpcResult[] = [];
      const rx = e.createThread({
        name: 'rx',
        space: s,
        body: function* (sys) {
          got.push(yield* sys.ipc.receive(ANY_THREAD));
        },
      });
      const tx = e.createThread({
        name: 'tx',
        space: e.createSpace('t'),
        body: function* (sys) {
          sent.push(yield* sys.ipc.send(rx, msg(7, 1, 2, 3)));
        },
      });
      await e.run(SHORT);
      expectEqual(got, [{ ok: true, from: tx, msg: msg(7, 1, 2, 3) }], 'receiver');
      expectMatch(sent[0], { ok: true }, 'sender');
    },
  },
  {
    area: 'ipc',
    name: 'call gets the reply atomically; replyWait serves the next call',
    async run(make) {
      const e = make();
      const s = e.createSpace('s');
      const replies: number[] = [];
      const server = e.createThread({
        name: 'server',
        space: s,
        body: function* (sys) {
          let r = yield* sys.ipc.receive(ANY_THREAD);
          for (;;) {
            if (!r.ok) {
              r = yield* sys.ipc.receive(ANY_THREAD);
              continue;
            }
            r = yield* sys.ipc.replyWait(r.from, msg(0, r.msg.words[0]! * 2));
          }
        },
      });
      e.createThread({
        name: 'client',
        space: e.createSpace('c'),
        body: function* (sys) {
          for (let i = 1; i <= 3; i++) {
            const r = yield* sys.ipc.call(server, msg(1, i));
            if (r.ok) replies.push(r.msg.words[0]!);
          }
        },
      });
      await e.run(SHORT);
      expectEqual(replies, [2, 4, 6], 'replies');
    },
  },
  {
    area: 'ipc',
    name: 'zero timeouts: a send to a thread not receiving and a receive with nothing pending fail with timeout',
    async run(make) {
      const e = make();
      const s = e.createSpace('s');
      const rs: IpcResult[] = [];
      const idle = e.createThread({
        name: 'idle',
        space: s,
        body: function* (sys) {
          yield* sys.sleep(NEVER);
        },
      });
      e.createThread({
        name: 't',
        space: s,
        body: function* (sys) {
          rs.push(yield* sys.ipc.send(idle, msg(0), ZERO));
          rs.push(yield* sys.ipc.receive(ANY_THREAD, ZERO));
          rs.push(yield* sys.ipc.reply(idle, msg(0)));
        },
      });
      await e.run(SHORT);
      expectEqual(
        rs,
        [
          { ok: false, error: 'timeout', phase: 'send', from: idle },
          { ok: false, error: 'timeout', phase: 'receive', from: ANY_THREAD },
          { ok: false, error: 'timeout', phase: 'send', from: idle },
        ],
        'results',
      );
    },
  },
  {
    area: 'ipc',
    name: 'invalid partners and a partner that exits give non-existing-partner, never a throw',
    async run(make) {
      const e = make();
      const s = e.createSpace('s');
      const rs: string[] = [];
      const shortLived = e.createThread({
        name: 'short',
        space: s,
        priority: 50,
        body: function* (sys) {
          yield* sys.sleep(sys.hz * 0.001);
        },
      });
      e.createThread({
        name: 't',
        space: s,
        body: function* (sys: Sys) {
          for (const r of [
            yield* sys.ipc.send(123_456, msg(0), ZERO),
            yield* sys.ipc.receive(sys.self, ZERO),
            yield* sys.ipc.send(shortLived, msg(0)), // blocks until `short` exits
          ]) {
            rs.push(r.ok ? 'ok' : `${r.error}/${r.phase}`);
          }
        },
      });
      await e.run(SHORT);
      expectEqual(
        rs,
        ['non-existing-partner/send', 'non-existing-partner/receive', 'non-existing-partner/send'],
        'results',
      );
    },
  },
  {
    area: 'ipc',
    name: 'X.2 message size: 63 words pass; 64 overflow at transfer time on both sides (issue 12 item 7)',
    async run(make) {
      const e = make();
      const s = e.createSpace('s');
      const got: IpcResult[] = [];
      const sent: IpcResult[] = [];
      const rx = e.createThread({
        name: 'rx',
        space: s,
        body: function* (sys) {
          for (let i = 0; i < 2; i++) got.push(yield* sys.ipc.receive(ANY_THREAD));
        },
      });
      const tx = e.createThread({
        name: 'tx',
        space: s,
        body: function* (sys) {
          sent.push(yield* sys.ipc.send(rx, { label: 0, words: new Array(64).fill(9) }));
          sent.push(yield* sys.ipc.send(rx, { label: 0, words: new Array(63).fill(9) }));
        },
      });
      await e.run(SHORT);
      expectEqual(
        sent[0],
        { ok: false, error: 'message-overflow', phase: 'send', from: rx },
        'sender of 64',
      );
      expectEqual(
        got[0],
        { ok: false, error: 'message-overflow', phase: 'receive', from: tx },
        'receiver of 64 (wakes with the error)',
      );
      expectMatch(sent[1], { ok: true }, 'sender of 63');
      expectMatch(got[1], { ok: true, from: tx }, 'receiver of 63');
    },
  },
  {
    area: 'ipc',
    name: 'replyWait to the nil thread skips the send phase and only receives (issue 12 item 10)',
    async run(make) {
      const e = make();
      const s = e.createSpace('s');
      const rs: IpcResult[] = [];
      const server = e.createThread({
        name: 'server',
        space: s,
        body: function* (sys) {
          rs.push(yield* sys.ipc.replyWait(NIL_THREAD, msg(0), sys.hz * 0.001));
          rs.push(yield* sys.ipc.replyWait(NIL_THREAD, msg(0)));
        },
      });
      const client = e.createThread({
        name: 'client',
        space: s,
        body: function* (sys) {
          yield* sys.sleep(sys.hz * 0.002);
          yield* sys.ipc.send(server, msg(5, 1));
        },
      });
      await e.run(SHORT);
      expectEqual(
        rs,
        [
          { ok: false, error: 'timeout', phase: 'receive', from: ANY_THREAD },
          { ok: true, from: client, msg: msg(5, 1) },
        ],
        'replyWait(nil) results',
      );
    },
  },
  {
    area: 'ipc',
    name: 'a map item to a receiver without a receive window fails with message-overflow on both sides; the receiver wakes (issue 12 item 1)',
    async run(make) {
      const e = make();
      const a = e.createSpace('a');
      e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const got: IpcResult[] = [];
      const sent: IpcResult[] = [];
      const rx = e.createThread({
        name: 'rx',
        space: e.createSpace('b'),
        body: function* (sys) {
          got.push(yield* sys.ipc.receive(ANY_THREAD)); // no window
        },
      });
      const tx = e.createThread({
        name: 'tx',
        space: a,
        body: function* (sys) {
          sent.push(
            yield* sys.ipc.send(rx, {
              label: 0,
              words: [],
              items: [
                { kind: 'map', fpage: { base: 0x10000, sizeLog2: 12, rights: RW }, sendBase: 0 },
              ],
            }),
          );
        },
      });
      await e.run(SHORT);
      expectEqual(
        sent,
        [{ ok: false, error: 'message-overflow', phase: 'send', from: rx }],
        'sender',
      );
      expectEqual(
        got,
        [{ ok: false, error: 'message-overflow', phase: 'receive', from: tx }],
        'receiver',
      );
    },
  },
];
