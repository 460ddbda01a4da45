import { describe, expect, it } from 'vitest';
import { SimEngine } from '../engine.js';
import { KernelError } from '../errors.js';
import type { MmioDevice } from '../machine/device-host.js';
import {
  ANY_THREAD,
  type Fpage,
  type IpcResult,
  type MemoryError,
  type MemoryView,
  PAGE_FAULT_LABEL,
  type Sys,
} from '../sys.js';
import { RIGHT_READ, RIGHT_WRITE, RO, RW } from './space.js';

const page = (base: number, rights = RW): Fpage => ({ base, sizeLog2: 12, rights });
const WINDOW: Fpage = { base: 0x4000_0000, sizeLog2: 24, rights: RW };

/** A pager thread in space `ps` that serves faults from its region at `from` for clients at `to`. */
function* pagerBody(sys: Sys, from: number, to: number) {
  let r = yield* sys.ipc.receive(ANY_THREAD);
  for (;;) {
    if (!r.ok || r.msg.label !== PAGE_FAULT_LABEL) {
      r = yield* sys.ipc.receive(ANY_THREAD);
      continue;
    }
    const addr = Math.floor(r.msg.words[0]! / 4096) * 4096;
    const rights = r.msg.words[1] === RIGHT_WRITE ? RW : RO;
    r = yield* sys.ipc.replyWait(r.from, {
      label: 0,
      words: [],
      items: [{ kind: 'map', fpage: page(from + (addr - to), rights), sendBase: addr }],
    });
  }
}

describe('map, grant and unmap', () => {
  function threeSpaces() {
    const sim = new SimEngine();
    const k = sim.kernel;
    const a = k.createSpace('a');
    const b = k.createSpace('b');
    const c = k.createSpace('c');
    const paddr = k.mapAnonymous(a, 0x10000, 0x2000, RW);
    return { sim, k, a, b, c, paddr };
  }

  it('a map item maps the sender page into the receiver window; the sender keeps it', () => {
    const { sim, k, a, b, paddr } = threeSpaces();
    let got: IpcResult | undefined;
    const rx = k.createThread({
      name: 'rx',
      space: b,
      body: function* (sys) {
        got = yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
      },
    });
    k.createThread({
      name: 'tx',
      space: a,
      body: function* (sys) {
        yield* sys.ipc.send(rx, {
          label: 0,
          words: [],
          items: [{ kind: 'map', fpage: page(0x10000, RO), sendBase: 0x5000 }],
        });
      },
    });
    sim.runFor(1e6);
    expect(got?.ok).toBe(true);
    expect(k.lookup(b, 0x4000_5000)).toEqual({ paddr, rights: RIGHT_READ });
    expect(k.lookup(a, 0x10000)).toEqual({ paddr, rights: RIGHT_READ | RIGHT_WRITE });
  });

  it('a grant item moves the mapping: the sender loses it', () => {
    const { sim, k, a, b, paddr } = threeSpaces();
    const rx = k.createThread({
      name: 'rx',
      space: b,
      body: function* (sys) {
        yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
      },
    });
    k.createThread({
      name: 'tx',
      space: a,
      body: function* (sys) {
        yield* sys.ipc.send(rx, {
          label: 0,
          words: [],
          items: [{ kind: 'grant', fpage: page(0x10000), sendBase: 0 }],
        });
      },
    });
    sim.runFor(1e6);
    expect(k.lookup(b, 0x4000_0000)?.paddr).toBe(paddr);
    expect(k.lookup(a, 0x10000)).toBeNull();
  });

  it('unmap revokes recursively every mapping derived from a page, but not the page itself', () => {
    const { sim, k, a, b, c } = threeSpaces();
    let removed = -1;
    const cT = k.createThread({
      name: 'c',
      space: c,
      body: function* (sys) {
        yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
      },
    });
    const bT = k.createThread({
      name: 'b',
      space: b,
      body: function* (sys) {
        yield* sys.ipc.receive(ANY_THREAD, undefined, WINDOW);
        // b passes its copy on to c: a → b → c
        yield* sys.ipc.send(cT, {
          label: 0,
          words: [],
          items: [{ kind: 'map', fpage: page(0x4000_0000), sendBase: 0x1000 }],
        });
      },
    });
    k.createThread({
      name: 'a',
      space: a,
      priority: 50,
      body: function* (sys) {
        yield* sys.ipc.send(bT, {
          label: 0,
          words: [],
          items: [{ kind: 'map', fpage: page(0x10000), sendBase: 0 }],
        });
        yield* sys.sleep(100_000);
        removed = yield* sys.mem.unmap(page(0x10000));
      },
    });
    sim.runFor(50_000);
    expect(k.lookup(b, 0x4000_0000)).not.toBeNull();
    expect(k.lookup(c, 0x4000_1000)).not.toBeNull();
    sim.runFor(1e6);
    expect(removed).toBe(2);
    expect(k.lookup(b, 0x4000_0000)).toBeNull();
    expect(k.lookup(c, 0x4000_1000)).toBeNull();
    expect(k.lookup(a, 0x10000)).not.toBeNull();
  });

  it('privileged unmap with self removes the root too', () => {
    const { k, a } = threeSpaces();
    expect(k.unmap(a, 0x10000, 0x2000, true)).toBe(2);
    expect(k.lookup(a, 0x10000)).toBeNull();
  });

  it('setup misuse throws KernelError with a stable code', () => {
    const { k, a } = threeSpaces();
    const code = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e instanceof KernelError ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => k.mapPhysical(a, 0x123, 0, 4096, RW))).toBe('ALIGNMENT');
    expect(code(() => k.mapPhysical(a, 0x1000, 1 << 30, 4096, RW))).toBe('RANGE');
    expect(code(() => k.mapPhysical(99, 0x1000, 0x1000, 4096, RW))).toBe('NO_SUCH_SPACE');
    expect(code(() => k.allocateFrames(1 << 30))).toBe('OUT_OF_MEMORY');
    expect(
      code(() => k.createThread({ name: 'x', space: a, priority: 300, body: function* () {} })),
    ).toBe('CONFIG');
    expect(code(() => k.kill(12345))).toBe('NO_SUCH_THREAD');
  });
});

describe('page faults', () => {
  function faulting() {
    const sim = new SimEngine({ trace: true });
    const k = sim.kernel;
    const ps = k.createSpace('pager');
    const cs = k.createSpace('client');
    const base = k.mapAnonymous(ps, 0x100000, 0x10000, RW);
    const pager = k.createThread({
      name: 'pager',
      space: ps,
      body: (sys) => pagerBody(sys, 0x100000, 0x4000_0000),
    });
    return { sim, k, cs, pager, base };
  }

  it('an access to unmapped pages faults to the pager once per page and returns a view', () => {
    const { sim, k, cs, pager, base } = faulting();
    let v: MemoryView | MemoryError | undefined;
    k.createThread({
      name: 'client',
      space: cs,
      pager,
      body: function* (sys) {
        v = yield* sys.mem.access(0x4000_0010, 8000, 'write');
        if ('bytes' in v) v.bytes[0] = 0xab;
        const again = yield* sys.mem.access(0x4000_0010, 8000, 'write'); // no new faults
        if (!('bytes' in again)) throw new Error('second access failed');
      },
    });
    sim.runFor(1e6);
    expect(v && 'bytes' in v).toBe(true);
    const view = v as MemoryView;
    expect(view.byteOffset).toBe(base + 0x10);
    expect(view.bytes.length).toBe(8000);
    expect(view.words.length).toBe(2000);
    const seen = new Uint8Array(1);
    expect(sim.machine.memory.copyOut(base + 0x10, seen)).toBe(true);
    expect(seen[0]).toBe(0xab);
    expect(sim.counters.pageFaults).toBe(2);
    const faults = sim.trace.filter((r) => r.kind === 'fault').map((r) => r.c);
    expect(faults).toEqual([0x4000_0010, 0x4000_1000]);
  });

  it('fails with no-pager, unmapped, rights, out-of-range and not-contiguous', () => {
    const sim = new SimEngine();
    const k = sim.kernel;
    const s = k.createSpace('s');
    const ps = k.createSpace('p');
    k.mapAnonymous(s, 0x1000, 0x1000, RO);
    k.mapAnonymous(s, 0x3000, 0x1000, RW);
    k.allocateFrames(0x1000); // hole in physical memory
    k.mapAnonymous(s, 0x4000, 0x1000, RW);
    // A pager that never maps: X.2 re-faults for ever; it gives up by cancelling the fault.
    let faultsSeen = 0;
    const lazyPager = k.createThread({
      name: 'lazy',
      space: ps,
      body: function* (sys) {
        for (;;) {
          const r = yield* sys.ipc.receive(ANY_THREAD);
          if (!r.ok) continue;
          if (++faultsSeen === 3) {
            k.cancelIpc(r.from);
            continue;
          }
          yield* sys.ipc.reply(r.from, { label: 0, words: [] });
        }
      },
    });
    const errs: string[] = [];
    k.createThread({
      name: 'nopager',
      space: s,
      body: function* (sys) {
        for (const [va, len, acc] of [
          [0x9000, 4, 'read'],
          [0x1000, 4, 'write'],
          [-4, 4, 'read'],
          [0x3000, 0x2000, 'read'],
        ] as const) {
          const v = yield* sys.mem.access(va, len, acc);
          errs.push('error' in v ? v.error : 'ok');
        }
      },
    });
    k.createThread({
      name: 'withpager',
      space: s,
      pager: lazyPager,
      body: function* (sys) {
        const v = yield* sys.mem.access(0x20000, 4, 'read');
        errs.push('error' in v ? v.error : 'ok');
      },
    });
    sim.runFor(1e6);
    expect(errs).toEqual(['no-pager', 'rights', 'out-of-range', 'not-contiguous', 'unmapped']);
    expect(faultsSeen).toBe(3);
  });

  it.each([
    'shared',
    'separate',
  ] as const)('a view covers one region (%s layout): contiguous frames of two regions are not-contiguous', (memoryLayout) => {
    const sim = new SimEngine({ memoryLayout, memoryBytes: 1 << 20 });
    const k = sim.kernel;
    const s = k.createSpace('s');
    const a = k.allocateRegion(0x1000);
    const b = k.allocateRegion(0x2000);
    expect(b.paddr).toBe(a.paddr + 0x1000); // physically contiguous
    k.mapPhysical(s, 0x10000, a.paddr, 0x1000, RW);
    k.mapPhysical(s, 0x11000, b.paddr, 0x2000, RW);
    const got: (MemoryView | MemoryError)[] = [];
    k.createThread({
      name: 't',
      space: s,
      body: function* (sys) {
        got.push(yield* sys.mem.access(0x10ff0, 0x20, 'read'));
        const v = yield* sys.mem.access(0x11010, 0x1ff0, 'write');
        got.push(v);
        if (!('error' in v)) v.words[0] = 0xcafe;
      },
    });
    sim.runFor(1e6);
    expect(got[0]).toMatchObject({ ok: false, error: 'not-contiguous' });
    const v = got[1] as MemoryView;
    expect(v.buffer).toBe(b.region.buffer);
    expect(v.byteOffset).toBe(b.region.byteOffset + 0x10);
    expect(sim.machine.memory.load32(b.paddr + 0x10)).toBe(0xcafe);
    if (memoryLayout === 'separate') expect(v.buffer.byteLength).toBe(0x2000);
  });

  it('translate returns the physical address behind a virtual one', () => {
    const sim = new SimEngine();
    const k = sim.kernel;
    const s = k.createSpace('s');
    const p = k.mapAnonymous(s, 0x8000, 0x1000, RW);
    let pa: number | null = -1;
    let none: number | null = -1;
    k.createThread({
      name: 't',
      space: s,
      body: function* (sys) {
        pa = sys.mem.translate(0x8004);
        none = sys.mem.translate(0x9000);
        yield* sys.yieldCpu();
      },
    });
    sim.runFor(1e5);
    expect(pa).toBe(p + 4);
    expect(none).toBeNull();
  });
});

describe('device register windows', () => {
  it('registers() reaches the device and charges MMIO costs to the given category', () => {
    const sim = new SimEngine();
    const k = sim.kernel;
    const s = k.createSpace('drv');
    const regs = new Uint32Array(64);
    const dev: MmioDevice = {
      mmioSize: 256,
      read32: (o) => regs[o >> 2]!,
      write32: (o, v) => {
        regs[o >> 2] = v;
      },
    };
    sim.machine.attachDevice('nic', dev);
    k.mapDevice(s, 0xf000_0000, 'nic');
    let read = 0;
    let bad = 0;
    k.createThread({
      name: 'drv',
      space: s,
      body: function* (sys) {
        const w = sys.mem.registers(0xf000_0000, 'Interrupt')!;
        w.write32(8, 0x1234);
        read = w.read32(8);
        bad = w.read32(256);
        yield* sys.yieldCpu();
      },
    });
    sim.runFor(1e6);
    expect(regs[2]).toBe(0x1234);
    expect(read).toBe(0x1234);
    expect(bad).toBe(0xffffffff);
    expect(sim.counters.badMmio).toBe(1);
    const w = sim.accounting.window();
    expect(w.byCategory.Interrupt).toBe(sim.costs.mmioRead + sim.costs.mmioWrite);
  });
});
