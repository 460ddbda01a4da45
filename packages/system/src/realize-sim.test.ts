import { resolve } from 'node:path';
import {
  readCountersPage,
  TRANSLATION_ENTRY_BYTES,
  TRANSLATION_HEADER_BYTES,
} from '@udf/dataspace';
import { describe, expect, it } from 'vitest';
import { loadSystem } from './load.js';
import { plan } from './plan.js';
import { realizeSim } from './realize-sim.js';
import { rampStep, startUp } from './runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const system = (name: string) => loadSystem(resolve(apps, name, 'system.yaml'));

const PAGE = 4096;
const pagesOf = (bytes: number) => Math.ceil(bytes / PAGE) * PAGE;

describe("realizeSim in the 'separate' memory layout (issue 11 item 3)", () => {
  it.each([
    'isolated',
    'clustered',
    'embedded',
    'monolithic',
  ])('%s: every session ring, buffer dataspace and translation table is a region of its own, and a step echoes every packet', async (name) => {
    const p = plan(system(name), { durationMs: 4, warmupMs: 1 });
    expect(p.machine.memoryLayout).toBe('separate');
    const built = realizeSim(p);
    const { sim } = built;
    const k = sim.kernel;
    const memory = sim.machine.memory;
    startUp(built);

    const spaceOfThread = (thread: string) => {
      const t = k.allThreads().find((x) => x.name === thread);
      if (t === undefined) throw new Error(`no thread ${thread}`);
      return t.space;
    };
    /** The region behind `vaddr` in the space of `thread`, as the kernel's tables resolve it. */
    const regionAt = (thread: string, vaddr: number) => {
      const m = k.lookup(spaceOfThread(thread), vaddr);
      expect(m, `${thread} maps ${vaddr.toString(16)}`).not.toBeNull();
      const r = memory.regionOf(m!.paddr)!;
      expect(r.buffer.byteLength, 'a region of its own buffer').toBe(r.size);
      return r;
    };

    const seen: { what: string; id: number; paddr: number; size: number }[] = [];
    const stacks = p.components.flatMap((c) => (c.kind === 'ip-stack' ? [c] : []));
    const drivers = p.components.flatMap((c) => (c.kind === 'dp83820-driver' ? [c] : []));
    for (const s of p.sessions) {
      const stack = stacks.find((x) => x.space === s.clientSpace)!;
      const driver = drivers.find((x) => x.space === s.driverSpace)!;
      // The session's rings: one region, the very one both partners map.
      const ring = regionAt(stack.thread, s.controlVaddr);
      expect(regionAt(driver.thread, s.controlVaddr).id).toBe(ring.id);
      expect(ring.paddr).toBe(k.lookup(spaceOfThread(stack.thread), s.controlVaddr)!.paddr);
      seen.push({ what: `session${s.index}.rings`, ...ring });
      // The buffer dataspace: one region exactly its size, the same in client and driver views.
      const buffers = regionAt(stack.thread, s.buffersVaddr);
      expect(buffers.size).toBe(pagesOf(s.bufferCount * s.bufferSize));
      expect(regionAt(stack.thread, s.buffersVaddr + buffers.size - PAGE).id).toBe(buffers.id);
      seen.push({ what: `session${s.index}.buffers`, ...buffers });
    }
    for (const d of drivers) {
      // The translation table: one region, exactly the table's fpage.
      const table = regionAt(d.thread, d.translationCache.vaddr);
      const bytes = TRANSLATION_HEADER_BYTES + d.translationCache.entries * TRANSLATION_ENTRY_BYTES;
      expect(table.size).toBeGreaterThanOrEqual(bytes);
      expect(table.size).toBeLessThan(2 * pagesOf(bytes));
      seen.push({ what: `${d.space}.translation-table`, ...table });
      for (const dev of d.devices) {
        const dma = regionAt(d.thread, dev.dma.vaddr);
        seen.push({ what: `${dev.device}.descriptors`, ...dma });
      }
    }
    // Pairwise distinct, and none overlaps another.
    expect(new Set(seen.map((x) => x.id)).size).toBe(seen.length);
    const sorted = [...seen].sort((a, b) => a.paddr - b.paddr);
    for (let i = 1; i < sorted.length; i++)
      expect(sorted[i]!.paddr).toBeGreaterThanOrEqual(sorted[i - 1]!.paddr + sorted[i - 1]!.size);

    const step = await rampStep(built, 100 * p.devices.length);
    expect(k.failures).toEqual([]);
    expect(step.achievedBps).toBeGreaterThan(0);
    expect(step.lost).toBe(0);
    expect(step.bad).toBe(0);
    const c = built.counters();
    expect(c['memory-source.regions']).toBe(p.sessions.length + drivers.length);
  });
});

describe('the memory source’s budget', () => {
  it('must fit the memory left after the planned regions (it is a promise, as a pool was)', () => {
    const p = plan(system('isolated'));
    const mgr = p.components.find((c) => c.kind === 'dataspace-manager')!;
    const poolBytes = mgr.kind === 'dataspace-manager' ? mgr.pool.bytes : 0;
    const regions = p.regions.reduce((n, r) => n + pagesOf(r.bytes), 0);
    const exact = { ...p, machine: { ...p.machine, memoryBytes: PAGE + regions + poolBytes } };
    expect(() => realizeSim(exact)).not.toThrow();
    const short = {
      ...exact,
      machine: { ...exact.machine, memoryBytes: exact.machine.memoryBytes - PAGE },
    };
    expect(() => realizeSim(short)).toThrow(/cannot allocate the memory source's budgets/);
  });
});

describe('counters pages (issue 11 item 4)', () => {
  it('counters and readiness come from each domain’s counters page, mapped in that domain only', () => {
    const p = plan(system('isolated'));
    const built = realizeSim(p);
    const { sim } = built;
    const k = sim.kernel;
    expect(built.ready()).toBe(false);
    expect(() => built.checkStarted()).toThrow(/did not start/);
    while (!built.ready()) sim.runFor(sim.machine.hz / 2000);
    built.checkStarted();
    const pages = p.regions.filter((r) => r.purpose === 'counters');
    expect(pages.map((r) => r.mappings.length)).toEqual(pages.map(() => 1));
    const fromPages: Record<string, number> = {};
    for (const r of pages) {
      const [m] = r.mappings;
      const space = k.allThreads().find((t) => t.name.startsWith(`${m!.space}/`))?.space;
      const paddr = space === undefined ? null : k.lookup(space, m!.vaddr)?.paddr;
      if (paddr == null) continue; // a domain without threads of its own naming (the manager's)
      const region = sim.machine.memory.regionOf(paddr)!;
      Object.assign(fromPages, readCountersPage(region.buffer, region.byteOffset).counters);
    }
    const c = built.counters();
    expect(Object.keys(fromPages).length).toBeGreaterThan(20);
    for (const [name, v] of Object.entries(fromPages)) expect(c[name], name).toBe(v);
    expect(c['driver.driver.rxFrames']).toBeDefined();
    expect(c['manager.totalFrames']).toBeGreaterThan(0);
  });
});

describe('the monolithic baseline’s socket layer by IPC (issue 11 item 4)', () => {
  it('the echo process reaches the kernel domain only by recvfrom/sendto calls and a user buffer both domains map', async () => {
    const p = plan(system('monolithic'), { durationMs: 4, warmupMs: 1 });
    const echo = p.components.find((c) => c.kind === 'ip-stack')!;
    const socketEcho = echo.kind === 'ip-stack' ? echo.socketEcho : null;
    expect(socketEcho).not.toBeNull();
    const buffer = p.regions.find((r) => r.purpose === 'socket-buffer')!;
    expect(buffer.mappings.map((m) => m.space).sort()).toEqual(
      [socketEcho!.space, echo.space].sort(),
    );
    const built = realizeSim(p);
    const { sim } = built;
    const k = sim.kernel;
    startUp(built);
    // One region, the same physical memory in both spaces; nothing else is shared with the echo.
    const spaceOf = (thread: string) => k.allThreads().find((t) => t.name === thread)!.space;
    const echoSpace = spaceOf(socketEcho!.thread);
    const kernelSpace = spaceOf(echo.thread);
    expect(k.lookup(echoSpace, socketEcho!.userBuffer.vaddr)!.paddr).toBe(
      k.lookup(kernelSpace, socketEcho!.userBuffer.kernelVaddr)!.paddr,
    );
    // The calls are served by the process's kernel half: a thread of the kernel domain at the
    // process's priority, below the stack thread's (Linux runs a system call in the caller's
    // context, not in the stack's).
    const threads = k.allThreads();
    const half = threads.find((t) => t.name === `${echo.space}/udp-echo.kernel`)!;
    expect(half).toBeDefined();
    expect(half.space).toBe(kernelSpace);
    expect(half.priority).toBe(socketEcho!.priority);
    expect(half.priority).toBeLessThan(threads.find((t) => t.name === echo.thread)!.priority);
    const step = await rampStep(built, 100);
    expect(k.failures).toEqual([]);
    expect(step.lost).toBe(0);
    const c = built.counters();
    const echoed = c['socket-echo0.echoed']!;
    expect(echoed).toBeGreaterThan(10);
    expect(c['stack0.socket.sendto']).toBe(echoed);
    expect(c['stack0.socket.recvfrom']).toBeGreaterThanOrEqual(echoed);
    expect(c['socket-echo0.syscalls']).toBeGreaterThanOrEqual(2 * echoed);
    expect(c['stack0.socket.copiedBytes']).toBe(c['stack0.socket.recvfrom']! * 1024);
    // Each datagram queued costs one wake-up: of the waiting kernel half, or a missed one.
    expect(c['stack0.socket.wakeups']! + c['stack0.socket.wakeupsMissed']!).toBe(
      c['stack0.0.udpDelivered'],
    );
  });
});
