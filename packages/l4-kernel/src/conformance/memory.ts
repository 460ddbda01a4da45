/**
 * Conformance cases: memory (map, grant, unmap, receive windows, page faults).
 *
 * @module
 */
import type { Fpage, Rights } from '../sys.js';
import { mapItem } from './bodies.js';
import {
  type CaseEngine,
  type ConformanceCase,
  component,
  expectEqual,
  withEngine,
} from './harness.js';
import { Journal } from './journal.js';

const RW: Rights = { read: true, write: true, execute: false };
const RO: Rights = { read: true, write: false, execute: false };
const SHORT = 0.01;
const WINDOW: Fpage = { base: 0x4000_0000, sizeLog2: 24, rights: RW };

/**
 * Three threads in spaces a, b and c, a page at 0x10000 in a: `<prefix>Root` runs in a,
 * `<prefix>Middle` in b and `<prefix>Leaf` in c, each knowing the next (a mapping passed down
 * a → b → c). @returns the journal they record in
 */
function mappingChain(e: CaseEngine, prefix: 'remap' | 'unmapTree'): Journal {
  const j = Journal.create();
  const journal = j.buffer;
  const a = e.createSpace('a');
  e.mapAnonymous(a, 0x10000, 0x1000, RW);
  const c = e.createThread({
    name: 'c',
    space: e.createSpace('c'),
    component: component(`${prefix}Leaf`, { journal, window: WINDOW }),
  });
  const b = e.createThread({
    name: 'b',
    space: e.createSpace('b'),
    component: component(`${prefix}Middle`, { journal, window: WINDOW, leaf: c }),
  });
  e.createThread({
    name: 'a',
    space: a,
    component: component(`${prefix}Root`, { journal, middle: b }),
  });
  return j;
}

/** The memory cases. */
export const MEMORY_CASES: readonly ConformanceCase[] = [
  {
    area: 'memory',
    name: "a map item shares the page: the receiver sees the sender's data and the sender keeps it",
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const journal = j.buffer;
        const a = e.createSpace('a');
        e.mapAnonymous(a, 0x10000, 0x1000, RW);
        const rx = e.createThread({
          name: 'rx',
          space: e.createSpace('b'),
          component: component('receiveThenPeek', { journal, window: WINDOW, offsets: [0x3000] }),
        });
        e.createThread({
          name: 'tx',
          space: a,
          component: component('pokeSendPeek', {
            journal,
            to: rx,
            pokes: [[0x10000, 0x1234]],
            items: [mapItem('map', 0x10000, 12, RW, 0x3000)],
            peeks: [0x10000],
          }),
        });
        await e.run(SHORT);
        expectEqual(j.read('rx'), ['ok', 0x1234], 'receive, receiver read');
        expectEqual(j.read('tx'), [0x1234], 'sender read');
      }),
  },
  {
    area: 'memory',
    name: 'a view covers one region: an access spanning two separately backed mappings fails with not-contiguous',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const a = e.createSpace('a');
        e.mapAnonymous(a, 0x10000, 0x1000, RW);
        e.mapAnonymous(a, 0x11000, 0x1000, RW);
        e.createThread({
          name: 't',
          space: a,
          component: component('accessSpan', { journal: j.buffer }),
        });
        await e.run(SHORT);
        expectEqual(j.read('out'), ['not-contiguous', 'view'], 'spanning, within one');
      }),
  },
  {
    area: 'memory',
    name: 'a grant item moves the page: the sender loses it',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const journal = j.buffer;
        const a = e.createSpace('a');
        e.mapAnonymous(a, 0x10000, 0x1000, RW);
        const rx = e.createThread({
          name: 'rx',
          space: e.createSpace('b'),
          component: component('receiveThenPeek', { journal, window: WINDOW, offsets: [0] }),
        });
        e.createThread({
          name: 'tx',
          space: a,
          component: component('pokeSendPeek', {
            journal,
            to: rx,
            pokes: [[0x10000, 77]],
            items: [mapItem('grant', 0x10000, 12, RW, 0)],
            peeks: [0x10000],
          }),
        });
        await e.run(SHORT);
        expectEqual(j.read('tx'), ['no-pager'], 'sender after grant');
        expectEqual(j.read('rx'), ['ok', 77], 'receive, receiver read');
      }),
  },
  {
    area: 'memory',
    name: 'a send fpage larger than the receive window maps the window-sized part the send base selects (issue 12 item 2)',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const journal = j.buffer;
        const a = e.createSpace('a');
        e.mapAnonymous(a, 0x10000, 0x4000, RW);
        const win: Fpage = { base: 0x5000_0000, sizeLog2: 12, rights: RW };
        const rx = e.createThread({
          name: 'rx',
          space: e.createSpace('b'),
          component: component('receiveThenPeek', { journal, window: win, offsets: [0, 0x1000] }),
        });
        e.createThread({
          name: 'tx',
          space: a,
          component: component('pokeSendPeek', {
            journal,
            to: rx,
            pokes: [0, 1, 2, 3].map((p) => [0x10000 + p * 0x1000, 100 + p]),
            // 16 KiB fpage, send base selecting its third page.
            items: [mapItem('map', 0x10000, 14, RW, 0x2000)],
            peeks: [],
          }),
        });
        await e.run(SHORT);
        expectEqual(
          j.read('rx'),
          ['ok', 102, 'no-pager'],
          'receive, the selected page, nothing beyond the window',
        );
      }),
  },
  {
    area: 'memory',
    name: "a receive window carries no rights: the item's rights apply (issue 12 item 3)",
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const journal = j.buffer;
        const a = e.createSpace('a');
        e.mapAnonymous(a, 0x10000, 0x1000, RW);
        const rx = e.createThread({
          name: 'rx',
          space: e.createSpace('b'),
          component: component('receiveThenPoke', { journal, window: { ...WINDOW, rights: RO } }),
        });
        e.createThread({
          name: 'tx',
          space: a,
          component: component('pokeSendPeek', {
            journal,
            to: rx,
            pokes: [],
            items: [mapItem('map', 0x10000, 12, RW, 0)],
            peeks: [],
          }),
        });
        await e.run(SHORT);
        expectEqual(j.read('rx'), ['ok'], 'write through a mapping received in a read-only window');
      }),
  },
  {
    area: 'memory',
    name: "unmap with a subset of rights revokes only those rights; with the flush flag the caller's own too (issue 12 item 4)",
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const journal = j.buffer;
        const a = e.createSpace('a');
        e.mapAnonymous(a, 0x10000, 0x1000, RW);
        const rx = e.createThread({
          name: 'rx',
          space: e.createSpace('b'),
          component: component('unmapRightsReceiver', { journal, window: WINDOW }),
        });
        e.createThread({
          name: 'tx',
          space: a,
          component: component('unmapRightsSender', { journal, to: rx }),
        });
        await e.run(SHORT);
        expectEqual(
          j.read('out'),
          [42, 'rights', 'ok', 43, 'rights'],
          'derived read, derived write, own write, own read after flush, own write after flush',
        );
      }),
  },
  {
    area: 'memory',
    name: 'mapping a page again with more rights extends them in place; mappings derived from it survive (issue 12 item 5)',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = mappingChain(e, 'remap');
        await e.run(SHORT);
        expectEqual(
          j.read('out'),
          ['ok', 9],
          'b writes after the upgrade; c still reads through its mapping',
        );
      }),
  },
  {
    area: 'memory',
    name: 'a pager reply without a mapping makes the thread fault again; the next reply with one ends the fault (issue 12 item 9)',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const ps = e.createSpace('pager');
        e.mapAnonymous(ps, 0x10000, 0x1000, RW);
        const pager = e.createThread({
          name: 'pager',
          space: ps,
          component: component('stubbornPager', { journal: j.buffer }),
        });
        e.createThread({
          name: 'client',
          space: e.createSpace('client'),
          pager,
          component: component('peekOnce', { journal: j.buffer, vaddr: 0x7000_0000 }),
        });
        await e.run(SHORT);
        expectEqual(j.read('faults'), [0x7000_0000, 0x7000_0000], 'faults the pager saw');
        expectEqual(j.read('out'), [31], 'the access');
      }),
  },
  {
    area: 'memory',
    name: 'a pager reply labelled PAGE_FAULT_REFUSED_LABEL fails the access with unmapped (udf extension)',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const pager = e.createThread({
          name: 'pager',
          space: e.createSpace('pager'),
          component: component('refusingPager', { journal: j.buffer }),
        });
        e.createThread({
          name: 'client',
          space: e.createSpace('client'),
          pager,
          component: component('peekOnce', { journal: j.buffer, vaddr: 0x7000_0000 }),
        });
        await e.run(SHORT);
        expectEqual(j.read('out'), ['unmapped'], 'the access');
        expectEqual(j.count('faults'), 1, 'faults the pager saw');
      }),
  },
  {
    area: 'memory',
    name: "unmap revokes recursively every mapping derived from the page, but not the caller's own",
    run: (make) =>
      withEngine(make, async (e) => {
        const j = mappingChain(e, 'unmapTree');
        await e.run(SHORT);
        const out = j.read('out');
        out.sort((x, y) => String(x).localeCompare(String(y)));
        expectEqual(out, [2, 'no-pager', 'no-pager', 'ok'], 'removed count, b, c, a');
      }),
  },
];
