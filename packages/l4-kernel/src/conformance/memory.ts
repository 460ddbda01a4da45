/**
 * Conformance cases: memory (map, grant, unmap, receive windows, page faults).
 *
 * @module
 */
import {
  type Access,
  ANY_THREAD,
  type Fpage,
  type IpcResult,
  type KernelCall,
  type MapGrantItem,
  PAGE_FAULT_LABEL,
  PAGE_FAULT_REFUSED_LABEL,
  type Rights,
  type Sys,
} from '../sys.js';
import { type ConformanceCase, expectEqual } from './harness.js';

const RW: Rights = { read: true, write: true, execute: false };
const RO: Rights = { read: true, write: false, execute: false };
const WO: Rights = { read: false, write: true, execute: false };
const SHORT = 0.01;
const WINDOW: Fpage = { base: 0x4000_0000, sizeLog2: 24, rights: RW };

/** Read the word at `vaddr`, or the access error's name. */
function* peek(sys: Sys, vaddr: number): Generator<KernelCall, number | string, unknown> {
  const v = yield* sys.mem.access(vaddr, 4, 'read');
  return 'error' in v ? v.error : v.words[0]!;
}

/** Write a word at `vaddr`; returns 'ok' or the access error's name. */
function* poke(
  sys: Sys,
  vaddr: number,
  value: number,
  kind: Access = 'write',
): Generator<KernelCall, string, unknown> {
  const v = yield* sys.mem.access(vaddr, 4, kind);
  if ('error' in v) return v.error;
  v.words[0] = value;
  return 'ok';
}

const item = (
  kind: 'map' | 'grant',
  base: number,
  sizeLog2: number,
  rights: Rights,
  sendBase: number,
): MapGrantItem => ({
  kind,
  fpage: { base, sizeLog2, rights },
  sendBase,
});

/** The memory cases. */
export const MEMORY_CASES: readonly ConformanceCase[] = [
  {
    area: 'memory',
    name: "a map item shares the page: the receiver sees the sender's data and the sender keeps it",
    async run(make) {
      const e = make();
      const a = e.createSpace('a');
      e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const rxOut: (number | string)[] = [];
      const txOut: (number | string)[] = [];
      const rx = e.createThread({
        name: 'rx',
        space: e.createSpace('b'),
        body: function* (sys) {
          const r = yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
          rxOut.push(r.ok ? 'ok' : r.error);
          rxOut.push(yield* peek(sys, WINDOW.base + 0x3000));
        },
      });
      e.createThread({
        name: 'tx',
        space: a,
        body: function* (sys) {
          yield* poke(sys, 0x10000, 0x1234);
          yield* sys.ipc.send(rx, {
            label: 0,
            words: [],
            items: [item('map', 0x10000, 12, RW, 0x3000)],
          });
          txOut.push(yield* peek(sys, 0x10000));
        },
      });
      await e.run(SHORT);
      expectEqual(rxOut, ['ok', 0x1234], 'receive, receiver read');
      expectEqual(txOut, [0x1234], 'sender read');
    },
  },
  {
    area: 'memory',
    name: 'a view covers one region: an access spanning two separately backed mappings fails with not-contiguous',
    async run(make) {
      const e = make();
      const a = e.createSpace('a');
      e.mapAnonymous(a, 0x10000, 0x1000, RW);
      e.mapAnonymous(a, 0x11000, 0x1000, RW);
      const out: string[] = [];
      e.createThread({
        name: 't',
        space: a,
        body: function* (sys) {
          const both = yield* sys.mem.access(0x10ff0, 0x20, 'read');
          out.push('error' in both ? both.error : 'view');
          const one = yield* sys.mem.access(0x11000, 0x1000, 'write');
          out.push('error' in one ? one.error : 'view');
        },
      });
      await e.run(SHORT);
      expectEqual(out, ['not-contiguous', 'view'], 'spanning, within one');
    },
  },
  {
    area: 'memory',
    name: 'a grant item moves the page: the sender loses it',
    async run(make) {
      const e = make();
      const a = e.createSpace('a');
      e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const out: (number | string)[] = [];
      const rx = e.createThread({
        name: 'rx',
        space: e.createSpace('b'),
        body: function* (sys) {
          yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
          out.push(yield* peek(sys, WINDOW.base));
        },
      });
      e.createThread({
        name: 'tx',
        space: a,
        body: function* (sys) {
          yield* poke(sys, 0x10000, 77);
          yield* sys.ipc.send(rx, {
            label: 0,
            words: [],
            items: [item('grant', 0x10000, 12, RW, 0)],
          });
          out.push(yield* peek(sys, 0x10000));
        },
      });
      await e.run(SHORT);
      expectEqual(out, ['no-pager', 77], 'sender after grant, receiver');
    },
  },
  {
    area: 'memory',
    name: 'a send fpage larger than the receive window maps the window-sized part the send base selects (issue 12 item 2)',
    async run(make) {
      const e = make();
      const a = e.createSpace('a');
      e.mapAnonymous(a, 0x10000, 0x4000, RW);
      const out: (number | string)[] = [];
      const win: Fpage = { base: 0x5000_0000, sizeLog2: 12, rights: RW };
      const rx = e.createThread({
        name: 'rx',
        space: e.createSpace('b'),
        body: function* (sys) {
          const r = yield* sys.ipc.receive(ANY_THREAD, undefined, win);
          out.push(r.ok ? 'ok' : r.error);
          out.push(yield* peek(sys, win.base));
          out.push(yield* peek(sys, win.base + 0x1000));
        },
      });
      e.createThread({
        name: 'tx',
        space: a,
        body: function* (sys) {
          for (let p = 0; p < 4; p++) yield* poke(sys, 0x10000 + p * 0x1000, 100 + p);
          // 16 KiB fpage, send base selecting its third page.
          yield* sys.ipc.send(rx, {
            label: 0,
            words: [],
            items: [item('map', 0x10000, 14, RW, 0x2000)],
          });
        },
      });
      await e.run(SHORT);
      expectEqual(
        out,
        ['ok', 102, 'no-pager'],
        'receive, the selected page, nothing beyond the window',
      );
    },
  },
  {
    area: 'memory',
    name: "a receive window carries no rights: the item's rights apply (issue 12 item 3)",
    async run(make) {
      const e = make();
      const a = e.createSpace('a');
      e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const out: string[] = [];
      const rx = e.createThread({
        name: 'rx',
        space: e.createSpace('b'),
        body: function* (sys) {
          yield* sys.ipc.receive(ANY_THREAD, undefined, { ...WINDOW, rights: RO });
          out.push(yield* poke(sys, WINDOW.base, 5));
        },
      });
      e.createThread({
        name: 'tx',
        space: a,
        body: function* (sys) {
          yield* sys.ipc.send(rx, {
            label: 0,
            words: [],
            items: [item('map', 0x10000, 12, RW, 0)],
          });
        },
      });
      await e.run(SHORT);
      expectEqual(out, ['ok'], 'write through a mapping received in a read-only window');
    },
  },
  {
    area: 'memory',
    name: "unmap with a subset of rights revokes only those rights; with the flush flag the caller's own too (issue 12 item 4)",
    async run(make) {
      const e = make();
      const a = e.createSpace('a');
      e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const out: (number | string)[] = [];
      let step = 0;
      const rx = e.createThread({
        name: 'rx',
        space: e.createSpace('b'),
        body: function* (sys) {
          const r = yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
          if (!r.ok) return;
          // Tell the sender we have it; wait until it has revoked write.
          yield* sys.ipc.call(r.from, { label: 1, words: [] });
          out.push(yield* peek(sys, WINDOW.base));
          out.push(yield* poke(sys, WINDOW.base, 1));
          step = 1;
        },
      });
      e.createThread({
        name: 'tx',
        space: a,
        body: function* (sys) {
          yield* poke(sys, 0x10000, 42);
          yield* sys.ipc.send(rx, {
            label: 0,
            words: [],
            items: [item('map', 0x10000, 12, RW, 0)],
          });
          const r = yield* sys.ipc.receive(rx);
          const fp = { base: 0x10000, sizeLog2: 12, rights: WO };
          yield* sys.mem.unmap(fp, false);
          if (r.ok) yield* sys.ipc.reply(rx, { label: 0, words: [] });
          while (step === 0) yield* sys.sleep(sys.hz * 0.0001);
          out.push(yield* poke(sys, 0x10000, 43)); // own mapping untouched without flush
          yield* sys.mem.unmap(fp, true);
          out.push(yield* peek(sys, 0x10000));
          out.push(yield* poke(sys, 0x10000, 44));
        },
      });
      await e.run(SHORT);
      expectEqual(
        out,
        [42, 'rights', 'ok', 43, 'rights'],
        'derived read, derived write, own write, own read after flush, own write after flush',
      );
    },
  },
  {
    area: 'memory',
    name: 'mapping a page again with more rights extends them in place; mappings derived from it survive (issue 12 item 5)',
    async run(make) {
      const e = make();
      const a = e.createSpace('a');
      e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const out: (number | string)[] = [];
      let cReady = 0;
      const c = e.createThread({
        name: 'c',
        space: e.createSpace('c'),
        body: function* (sys) {
          yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
          cReady = 1;
          while (cReady === 1) yield* sys.sleep(sys.hz * 0.0001);
          out.push(yield* peek(sys, WINDOW.base));
        },
      });
      const b = e.createThread({
        name: 'b',
        space: e.createSpace('b'),
        body: function* (sys) {
          yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW); // read-only from a
          yield* sys.ipc.send(c, {
            label: 0,
            words: [],
            items: [item('map', WINDOW.base, 12, RO, 0)],
          });
          yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW); // the same page again, read-write
          out.push(yield* poke(sys, WINDOW.base, 9));
          cReady = 2;
        },
      });
      e.createThread({
        name: 'a',
        space: a,
        body: function* (sys) {
          yield* sys.ipc.send(b, { label: 0, words: [], items: [item('map', 0x10000, 12, RO, 0)] });
          while (cReady === 0) yield* sys.sleep(sys.hz * 0.0001);
          yield* sys.ipc.send(b, { label: 0, words: [], items: [item('map', 0x10000, 12, RW, 0)] });
        },
      });
      await e.run(SHORT);
      expectEqual(out, ['ok', 9], 'b writes after the upgrade; c still reads through its mapping');
    },
  },
  {
    area: 'memory',
    name: 'a pager reply without a mapping makes the thread fault again; the next reply with one ends the fault (issue 12 item 9)',
    async run(make) {
      const e = make();
      const ps = e.createSpace('pager');
      e.mapAnonymous(ps, 0x10000, 0x1000, RW);
      const faults: number[] = [];
      const out: (number | string)[] = [];
      const pager = e.createThread({
        name: 'pager',
        space: ps,
        body: function* (sys) {
          yield* poke(sys, 0x10000, 31);
          for (;;) {
            const r: IpcResult = yield* sys.ipc.receive(ANY_THREAD);
            if (!r.ok || r.msg.label !== PAGE_FAULT_LABEL) continue;
            faults.push(r.msg.words[0]!);
            const items =
              faults.length === 1 ? [] : [item('map', 0x10000, 12, RW, r.msg.words[0]!)];
            yield* sys.ipc.reply(r.from, { label: 0, words: [], items });
          }
        },
      });
      e.createThread({
        name: 'client',
        space: e.createSpace('client'),
        pager,
        body: function* (sys) {
          out.push(yield* peek(sys, 0x7000_0000));
        },
      });
      await e.run(SHORT);
      expectEqual(faults, [0x7000_0000, 0x7000_0000], 'faults the pager saw');
      expectEqual(out, [31], 'the access');
    },
  },
  {
    area: 'memory',
    name: 'a pager reply labelled PAGE_FAULT_REFUSED_LABEL fails the access with unmapped (udf extension)',
    async run(make) {
      const e = make();
      const out: (number | string)[] = [];
      let faults = 0;
      const pager = e.createThread({
        name: 'pager',
        space: e.createSpace('pager'),
        body: function* (sys) {
          for (;;) {
            const r = yield* sys.ipc.receive(ANY_THREAD);
            if (!r.ok) continue;
            faults++;
            yield* sys.ipc.reply(r.from, { label: PAGE_FAULT_REFUSED_LABEL, words: [] });
          }
        },
      });
      e.createThread({
        name: 'client',
        space: e.createSpace('client'),
        pager,
        body: function* (sys) {
          out.push(yield* peek(sys, 0x7000_0000));
        },
      });
      await e.run(SHORT);
      expectEqual(out, ['unmapped'], 'the access');
      expectEqual(faults, 1, 'faults the pager saw');
    },
  },
  {
    area: 'memory',
    name: "unmap revokes recursively every mapping derived from the page, but not the caller's own",
    async run(make) {
      const e = make();
      const a = e.createSpace('a');
      e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const out: (number | string)[] = [];
      let phase = 0;
      const c = e.createThread({
        name: 'c',
        space: e.createSpace('c'),
        body: function* (sys) {
          yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
          phase = 1;
          while (phase === 1) yield* sys.sleep(sys.hz * 0.0001);
          out.push(yield* peek(sys, WINDOW.base));
        },
      });
      const b = e.createThread({
        name: 'b',
        space: e.createSpace('b'),
        body: function* (sys) {
          yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
          yield* sys.ipc.send(c, {
            label: 0,
            words: [],
            items: [item('map', WINDOW.base, 12, RW, 0)],
          });
          while (phase !== 2) yield* sys.sleep(sys.hz * 0.0001);
          out.push(yield* peek(sys, WINDOW.base));
        },
      });
      e.createThread({
        name: 'a',
        space: a,
        body: function* (sys) {
          yield* sys.ipc.send(b, { label: 0, words: [], items: [item('map', 0x10000, 12, RW, 0)] });
          while (phase === 0) yield* sys.sleep(sys.hz * 0.0001);
          const removed = yield* sys.mem.unmap({ base: 0x10000, sizeLog2: 12, rights: RW }, false);
          out.push(removed);
          phase = 2;
          out.push(yield* poke(sys, 0x10000, 1));
        },
      });
      await e.run(SHORT);
      out.sort((x, y) => String(x).localeCompare(String(y)));
      expectEqual(out, [2, 'no-pager', 'no-pager', 'ok'], 'removed count, b, c, a');
    },
  },
];
