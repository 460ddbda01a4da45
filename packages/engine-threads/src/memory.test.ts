// The kernel slow path on real workers: map/grant items, receive windows and rights, forged
// items, page faults to a pager, unmap, translate. Each scenario is a few `script` threads
// (test/memory-components.ts) whose results are read back from shared memory.
import type { Fpage, MapGrantItem, Rights } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { decode, type Step } from '../test/memory-components.js';
import { type DomainId, type ThreadStateName, ThreadsEngine } from './engine.js';

const MODULE = new URL('../test/memory-components.ts', import.meta.url).href;
const RW: Rights = { read: true, write: true, execute: false };
const RO: Rights = { read: true, write: false, execute: false };
const WO: Rights = { read: false, write: true, execute: false };
const WINDOW: Fpage = { base: 0x4000_0000, sizeLog2: 24, rights: RW };
const item = (
  kind: 'map' | 'grant',
  base: number,
  sizeLog2: number,
  rights: Rights,
  sendBase: number,
): MapGrantItem => ({ kind, fpage: { base, sizeLog2, rights }, sendBase });

class Scenario {
  readonly e = new ThreadsEngine({ hz: 1e9 });
  readonly sync = new SharedArrayBuffer(64);
  private readonly outs = new Map<number, { out: SharedArrayBuffer; n: number }>();
  private readonly scripts: number[] = [];

  domain(name: string): DomainId {
    return this.e.createDomain(name);
  }
  script(domain: DomainId, name: string, steps: Step[], pager?: number): number {
    const out = new SharedArrayBuffer(8 * (steps.length + 1));
    const id = this.e.createThread({
      domain,
      name,
      ...(pager === undefined ? {} : { pager }),
      component: { module: MODULE, export: 'script', config: { steps, out, sync: this.sync } },
    });
    this.outs.set(id, { out, n: steps.length });
    this.scripts.push(id);
    return id;
  }
  pager(domain: DomainId, config: Record<string, unknown>): { id: number; out: Float64Array } {
    const out = new SharedArrayBuffer(8 * 32);
    const id = this.e.createThread({
      domain,
      name: 'pager',
      component: { module: MODULE, export: 'pager', config: { ...config, out } },
    });
    return { id, out: new Float64Array(out) };
  }
  /** Set a sync flag from the main thread once thread `id` is in `state`. */
  when(id: number, state: ThreadStateName, flag: number): void {
    const tick = () => {
      if (this.e.threadState(id) === state) Atomics.store(new Int32Array(this.sync), flag, 1);
      else setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
  }
  async run(): Promise<void> {
    await this.e.start();
    try {
      await this.e.join(this.scripts, 20_000);
    } finally {
      await this.e.stop();
    }
    expect(this.e.failures).toEqual([]);
  }
  results(id: number): (number | string)[] {
    const o = this.outs.get(id)!;
    return [...new Float64Array(o.out).slice(0, o.n)].map(decode);
  }
}

describe('the kernel slow path: map/grant items, page faults, unmap', () => {
  it(
    'a map item shares the page both ways: the receiver sees the sender’s bytes and the sender sees the receiver’s',
    { timeout: 30_000 },
    async () => {
      const s = new Scenario();
      const a = s.domain('a');
      const b = s.domain('b');
      s.e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const rx = s.script(b, 'rx', [
        { op: 'receive', window: WINDOW },
        { op: 'peek', vaddr: WINDOW.base + 0x3000 },
        { op: 'poke', vaddr: WINDOW.base + 0x3000, value: 0x5678 },
        { op: 'signal', flag: 0 },
      ]);
      const tx = s.script(a, 'tx', [
        { op: 'poke', vaddr: 0x10000, value: 0x1234 },
        { op: 'send', to: rx, items: [item('map', 0x10000, 12, RW, 0x3000)] },
        { op: 'wait', flag: 0 },
        { op: 'peek', vaddr: 0x10000 },
      ]);
      await s.run();
      expect(s.results(rx)).toEqual(['ok', 0x1234, 'ok', 0]);
      expect(s.results(tx)).toEqual(['ok', 'ok', 0, 0x5678]);
      expect(s.e.mappingCounters.transferredPages).toBe(1);
    },
  );

  it.each([
    ['the receiver is waiting (the sender delivers)', 'receiver-waits'],
    ['the sender is queued (the receiver takes it)', 'sender-queued'],
  ] as const)(
    'a grant item moves the page, the sender loses it — %s',
    { timeout: 30_000 },
    async (_, order) => {
      const s = new Scenario();
      const a = s.domain('a');
      const b = s.domain('b');
      s.e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const rx = s.script(b, 'rx', [
        { op: 'wait', flag: 1 },
        { op: 'receive', window: WINDOW },
        { op: 'peek', vaddr: WINDOW.base },
      ]);
      const tx = s.script(a, 'tx', [
        { op: 'poke', vaddr: 0x10000, value: 77 },
        { op: 'wait', flag: 2 },
        { op: 'send', to: rx, items: [item('grant', 0x10000, 12, RW, 0)] },
        { op: 'peek', vaddr: 0x10000 },
      ]);
      if (order === 'receiver-waits') {
        Atomics.store(new Int32Array(s.sync), 1, 1);
        s.when(rx, 'receive-blocked', 2);
      } else {
        Atomics.store(new Int32Array(s.sync), 2, 1);
        s.when(tx, 'send-blocked', 1);
      }
      await s.run();
      expect(s.results(rx)).toEqual([0, 'ok', 77]);
      expect(s.results(tx)).toEqual(['ok', 0, 'ok', 'no-pager']);
    },
  );

  it(
    'windows and rights: the item’s rights apply, a larger fpage maps the window-sized part the send base selects, no window is a message overflow on both sides',
    { timeout: 30_000 },
    async () => {
      const s = new Scenario();
      const a = s.domain('a');
      const b = s.domain('b');
      s.e.mapAnonymous(a, 0x10000, 0x4000, RW);
      const small: Fpage = { base: 0x5000_0000, sizeLog2: 12, rights: RW };
      const rx = s.script(b, 'rx', [
        { op: 'receive', window: { ...WINDOW, rights: RO } }, // RW item into a "read-only" window
        { op: 'poke', vaddr: WINDOW.base, value: 5 },
        { op: 'receive', window: { base: 0x6000_0000, sizeLog2: 16, rights: RW } }, // RO item
        { op: 'poke', vaddr: 0x6000_0000, value: 6 },
        { op: 'peek', vaddr: 0x6000_0000 },
        { op: 'receive', window: small }, // 16 KiB fpage, send base selects its third page
        { op: 'peek', vaddr: small.base },
        { op: 'peek', vaddr: small.base + 0x1000 },
        { op: 'receive' }, // no window
      ]);
      const tx = s.script(a, 'tx', [
        { op: 'poke', vaddr: 0x12000, value: 102 },
        { op: 'send', to: rx, items: [item('map', 0x10000, 12, RW, 0)] },
        { op: 'send', to: rx, items: [item('map', 0x10000, 12, RO, 0)] },
        { op: 'send', to: rx, items: [item('map', 0x10000, 14, RW, 0x2000)] },
        { op: 'send', to: rx, items: [item('map', 0x10000, 12, RW, 0)] },
      ]);
      await s.run();
      expect(s.results(rx)).toEqual([
        'ok',
        'ok',
        'ok',
        'rights',
        5,
        'ok',
        102,
        'no-pager',
        'message-overflow',
      ]);
      expect(s.results(tx)).toEqual(['ok', 'ok', 'ok', 'ok', 'message-overflow']);
    },
  );

  it(
    'a forged map item (the sender does not hold the page) transfers nothing and is counted',
    { timeout: 30_000 },
    async () => {
      const s = new Scenario();
      const a = s.domain('a');
      const b = s.domain('b');
      s.e.mapAnonymous(a, 0x10000, 0x1000, RW);
      const secret = s.e.mapAnonymous(b, 0x20000, 0x1000, RW);
      new Uint32Array(secret.buffer)[0] = 0xdead;
      const rx = s.script(b, 'rx', [
        { op: 'receive', window: WINDOW },
        { op: 'peek', vaddr: WINDOW.base },
        { op: 'peek', vaddr: WINDOW.base + 0x1000 },
      ]);
      s.script(a, 'tx', [
        // 0x20000 is b's page, not a's; 0x10000 is a's
        {
          op: 'send',
          to: rx,
          items: [item('map', 0x20000, 12, RW, 0), item('grant', 0x30000, 13, RW, 0x2000)],
        },
      ]);
      await s.run();
      expect(s.results(rx)).toEqual(['ok', 'no-pager', 'no-pager']);
      expect(s.e.mappingCounters.unheldItemPages).toBe(3);
      expect(s.e.mappingCounters.transferredPages).toBe(0);
      expect(s.e.holds(a, secret)).toBe(false);
    },
  );

  it(
    'page faults: the access goes to the pager as IPC, its map item is installed and the access retried; a reply without a mapping faults again',
    { timeout: 30_000 },
    async () => {
      const s = new Scenario();
      const pd = s.domain('pager');
      const cd = s.domain('client');
      const region = s.e.mapAnonymous(pd, 0x10000, 0x1000, RW);
      const p = s.pager(pd, { source: 0x10000, policy: ['none', 'map'], seed: 31 });
      const c = s.script(
        cd,
        'client',
        [
          { op: 'peek', vaddr: 0x7000_0000 },
          { op: 'poke', vaddr: 0x7000_0014, value: 9 },
          { op: 'translate', vaddr: 0x7000_0014 },
        ],
        p.id,
      );
      await s.run();
      expect(s.results(c)).toEqual([31, 'ok', region.paddr + 0x14]);
      expect(p.out[0]).toBe(2);
      expect([...p.out.slice(1, 5)]).toEqual([0x7000_0000, 4, 0x7000_0000, 4]);
      expect(new Uint32Array(region.buffer)[5]).toBe(9);
    },
  );

  it(
    'an in-domain pager (a region mapper) gets the page from a manager in another domain and answers the fault with a self-map',
    { timeout: 30_000 },
    async () => {
      const s = new Scenario();
      const md = s.domain('manager');
      const sd = s.domain('stack');
      const region = s.e.mapAnonymous(md, 0x10000, 0x1000, RW);
      const m = s.pager(md, { source: 0x10000, policy: ['map'], seed: 55 });
      const rmOut = new SharedArrayBuffer(8);
      const rm = s.e.createThread({
        domain: sd,
        name: 'region mapper',
        component: {
          module: MODULE,
          export: 'regionMapper',
          config: { manager: m.id, out: rmOut },
        },
      });
      const c = s.script(
        sd,
        'stack',
        [
          { op: 'peek', vaddr: 0x7000_0000 },
          { op: 'translate', vaddr: 0x7000_0008 },
          { op: 'peek', vaddr: 0x7000_0004 },
        ],
        rm,
      );
      await s.run();
      expect(s.results(c)).toEqual([55, region.paddr + 8, 0]);
      expect(new Float64Array(rmOut)[0]).toBe(1); // one fault: the second access found the page
      expect(m.out[0]).toBe(1);
    },
  );

  it(
    'page faults: a refusal fails the access with unmapped (or rights), no pager is no-pager, a dead pager too',
    { timeout: 30_000 },
    async () => {
      const s = new Scenario();
      const pd = s.domain('pager');
      const cd = s.domain('client');
      s.e.mapAnonymous(pd, 0x10000, 0x1000, RW);
      const p = s.pager(pd, { source: 0x10000, rights: RO, policy: ['refuse', 'map', 'refuse'] });
      const c = s.script(
        cd,
        'client',
        [
          { op: 'peek', vaddr: 0x7000_0000 }, // refused
          { op: 'peek', vaddr: 0x7000_0000 }, // mapped read-only
          { op: 'poke', vaddr: 0x7000_0000, value: 1 }, // write fault, refused: rights
        ],
        p.id,
      );
      const lone = s.script(cd, 'no-pager', [{ op: 'peek', vaddr: 0x7000_0000 }]);
      const dead = s.script(pd, 'exits at once', []);
      const orphan = s.script(cd, 'orphan', [{ op: 'peek', vaddr: 0x7000_0000 }], dead);
      await s.run();
      expect(s.results(orphan)).toEqual(['no-pager']);
      expect(s.results(c)).toEqual(['unmapped', 0, 'rights']);
      expect(s.results(lone)).toEqual(['no-pager']);
      expect([...p.out.slice(0, 7)]).toEqual([3, 0x7000_0000, 4, 0x7000_0000, 4, 0x7000_0000, 2]);
    },
  );

  it(
    'unmap revokes recursively in other domains before it returns, with rights subsets; the caller keeps its own page unless it flushes',
    { timeout: 30_000 },
    async () => {
      const s = new Scenario();
      const a = s.domain('a');
      const b = s.domain('b');
      const c = s.domain('c');
      s.e.mapAnonymous(a, 0x10000, 0x2000, RW);
      const cx = s.script(c, 'c', [
        { op: 'receive', window: WINDOW },
        { op: 'signal', flag: 1 },
        { op: 'wait', flag: 2 },
        { op: 'peek', vaddr: WINDOW.base },
        { op: 'peek', vaddr: WINDOW.base + 0x1000 },
      ]);
      const bx = s.script(b, 'b', [
        { op: 'receive', window: WINDOW },
        { op: 'send', to: cx, items: [item('map', WINDOW.base, 13, RW, 0)] },
        { op: 'wait', flag: 2 },
        { op: 'peek', vaddr: WINDOW.base },
        { op: 'poke', vaddr: WINDOW.base + 0x1000, value: 3 },
        { op: 'peek', vaddr: WINDOW.base + 0x1000 },
      ]);
      const ax = s.script(a, 'a', [
        { op: 'poke', vaddr: 0x11000, value: 8 },
        { op: 'send', to: bx, items: [item('map', 0x10000, 13, RW, 0)] },
        { op: 'wait', flag: 1 },
        { op: 'unmap', fpage: { base: 0x10000, sizeLog2: 12, rights: RW } }, // page 0: b's and c's go
        { op: 'unmap', fpage: { base: 0x11000, sizeLog2: 12, rights: WO } }, // page 1: write only
        { op: 'signal', flag: 2 },
        { op: 'poke', vaddr: 0x10000, value: 1 },
        { op: 'unmap', fpage: { base: 0x10000, sizeLog2: 12, rights: WO }, self: true },
        { op: 'poke', vaddr: 0x10000, value: 2 },
        { op: 'peek', vaddr: 0x10000 },
      ]);
      await s.run();
      expect(s.results(ax)).toEqual(['ok', 'ok', 0, 2, 0, 0, 'ok', 0, 'rights', 1]);
      expect(s.results(bx)).toEqual(['ok', 'ok', 0, 'no-pager', 'rights', 8]);
      expect(s.results(cx)).toEqual(['ok', 0, 0, 'no-pager', 8]);
    },
  );

  it(
    'stress: two domains map pages into a third and unmap them again, 2 × 2000 rounds through the kernel link: every page seen with its bytes, every unmap removes it, no hang',
    { timeout: 60_000 },
    async () => {
      const e = new ThreadsEngine({ hz: 1e9 });
      const srv = e.createDomain('server');
      const a = e.createDomain('a');
      const c = e.createDomain('c');
      e.mapAnonymous(a, 0x10000, 0x1000, RW);
      e.mapAnonymous(c, 0x10000, 0x1000, RW);
      const so = new SharedArrayBuffer(16);
      const server = e.createThread({
        domain: srv,
        name: 'server',
        component: { module: MODULE, export: 'mapServer', config: { window: WINDOW, out: so } },
      });
      const rounds = 2000;
      const outs = [new SharedArrayBuffer(32), new SharedArrayBuffer(32)];
      const loops = [a, c].map((domain, i) =>
        e.createThread({
          domain,
          name: `mapper ${i}`,
          component: {
            module: MODULE,
            export: 'mapLoop',
            config: {
              to: server,
              base: 0x10000,
              value: 100 + i,
              sendBase: i * 0x1000,
              rounds,
              out: outs[i],
            },
          },
        }),
      );
      await e.start();
      try {
        await e.join(loops, 50_000);
      } finally {
        await e.stop();
      }
      expect(e.failures).toEqual([]);
      for (const o of outs)
        expect([...new Float64Array(o).slice(0, 3)]).toEqual([rounds, 0, rounds]);
      expect([...new Float64Array(so)]).toEqual([2 * rounds, 0]);
      expect(e.mappingCounters.transferredPages).toBe(2 * rounds);
      expect(e.mappingCounters.revokedPages).toBe(2 * rounds);
    },
  );
});
