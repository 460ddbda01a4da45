/**
 * Conformance cases: IPC (L4 X.2 semantics, as udf implements them).
 *
 * @module
 */
import { ANY_THREAD, type Message } from '../sys.js';
import { mapItem } from './bodies.js';
import {
  type ConformanceCase,
  component,
  expectEqual,
  expectMatch,
  withEngine,
} from './harness.js';
import { Journal } from './journal.js';

const RW = { read: true, write: true, execute: false } as const;
const msg = (label: number, ...words: number[]): Message => ({ label, words });
const SHORT = 0.01;

/** The IPC cases. */
export const IPC_CASES: readonly ConformanceCase[] = [
  {
    area: 'ipc',
    name: 'send and receive rendezvous: label and words arrive, the receiver learns the sender',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const journal = j.buffer;
        const rx = e.createThread({
          name: 'rx',
          space: e.createSpace('s'),
          component: component('receiver', { journal, stream: 'got' }),
        });
        const tx = e.createThread({
          name: 'tx',
          space: e.createSpace('t'),
          component: component('sender', {
            journal,
            stream: 'sent',
            to: rx,
            messages: [msg(7, 1, 2, 3)],
          }),
        });
        await e.run(SHORT);
        expectEqual(j.read('got'), [{ ok: true, from: tx, msg: msg(7, 1, 2, 3) }], 'receiver');
        expectMatch(j.read('sent')[0], { ok: true }, 'sender');
      }),
  },
  {
    area: 'ipc',
    name: 'call gets the reply atomically; replyWait serves the next call',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const server = e.createThread({
          name: 'server',
          space: e.createSpace('s'),
          component: component('doubler'),
        });
        e.createThread({
          name: 'client',
          space: e.createSpace('c'),
          component: component('callThrice', { journal: j.buffer, server }),
        });
        await e.run(SHORT);
        expectEqual(j.read('replies'), [2, 4, 6], 'replies');
      }),
  },
  {
    area: 'ipc',
    name: 'zero timeouts: a send to a thread not receiving and a receive with nothing pending fail with timeout',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const s = e.createSpace('s');
        const idle = e.createThread({
          name: 'idle',
          space: s,
          component: component('sleepForever'),
        });
        e.createThread({
          name: 't',
          space: s,
          component: component('zeroTimeouts', { journal: j.buffer, idle }),
        });
        await e.run(SHORT);
        expectEqual(
          j.read('rs'),
          [
            { ok: false, error: 'timeout', phase: 'send', from: idle },
            { ok: false, error: 'timeout', phase: 'receive', from: ANY_THREAD },
            { ok: false, error: 'timeout', phase: 'send', from: idle },
          ],
          'results',
        );
      }),
  },
  {
    area: 'ipc',
    name: 'invalid partners and a partner that exits give non-existing-partner, never a throw',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const s = e.createSpace('s');
        const shortLived = e.createThread({
          name: 'short',
          space: s,
          priority: 50,
          component: component('sleepThenExit', { seconds: 0.001 }),
        });
        e.createThread({
          name: 't',
          space: s,
          component: component('invalidPartners', { journal: j.buffer, shortLived }),
        });
        await e.run(SHORT);
        expectEqual(
          j.read('rs'),
          [
            'non-existing-partner/send',
            'non-existing-partner/receive',
            'non-existing-partner/send',
          ],
          'results',
        );
      }),
  },
  {
    area: 'ipc',
    name: 'X.2 message size: 63 words pass; 64 overflow at transfer time on both sides (issue 12 item 7)',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const journal = j.buffer;
        const s = e.createSpace('s');
        const rx = e.createThread({
          name: 'rx',
          space: s,
          component: component('receiver', { journal, stream: 'got', count: 2 }),
        });
        const tx = e.createThread({
          name: 'tx',
          space: s,
          component: component('sender', {
            journal,
            stream: 'sent',
            to: rx,
            messages: [
              { label: 0, words: new Array(64).fill(9) },
              { label: 0, words: new Array(63).fill(9) },
            ],
          }),
        });
        await e.run(SHORT);
        const [sent, got] = [j.read('sent'), j.read('got')];
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
      }),
  },
  {
    area: 'ipc',
    name: 'replyWait to the nil thread skips the send phase and only receives (issue 12 item 10)',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const s = e.createSpace('s');
        const done = 0;
        const server = e.createThread({
          name: 'server',
          space: s,
          component: component('replyWaitNil', { journal: j.buffer, done }),
        });
        // sends only after the server's first replyWait has timed out
        const client = e.createThread({
          name: 'client',
          space: s,
          component: component('sendWhenCell', {
            journal: j.buffer,
            cell: done,
            to: server,
            message: msg(5, 1),
          }),
        });
        await e.run(SHORT);
        expectEqual(
          j.read('rs'),
          [
            { ok: false, error: 'timeout', phase: 'receive', from: ANY_THREAD },
            { ok: true, from: client, msg: msg(5, 1) },
          ],
          'replyWait(nil) results',
        );
      }),
  },
  {
    area: 'ipc',
    name: 'a map item to a receiver without a receive window fails with message-overflow on both sides; the receiver wakes (issue 12 item 1)',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const journal = j.buffer;
        const a = e.createSpace('a');
        e.mapAnonymous(a, 0x10000, 0x1000, RW);
        const rx = e.createThread({
          name: 'rx',
          space: e.createSpace('b'),
          component: component('receiver', { journal, stream: 'got' }), // no window
        });
        const tx = e.createThread({
          name: 'tx',
          space: a,
          component: component('sender', {
            journal,
            stream: 'sent',
            to: rx,
            messages: [{ label: 0, words: [], items: [mapItem('map', 0x10000, 12, RW, 0)] }],
          }),
        });
        await e.run(SHORT);
        expectEqual(
          j.read('sent'),
          [{ ok: false, error: 'message-overflow', phase: 'send', from: rx }],
          'sender',
        );
        expectEqual(
          j.read('got'),
          [{ ok: false, error: 'message-overflow', phase: 'receive', from: tx }],
          'receiver',
        );
      }),
  },
];
