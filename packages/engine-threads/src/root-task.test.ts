// Root-task domains: threads in the main thread with the engine's privileged calls. A memory
// source (sigma0's role, as @udf/system's MemoryServer on the sim) allocates a NEW physical
// region at run time per request and maps it into the requester's domain; the device worker
// can DMA into that region. A second root thread holds the same device's register window
// (the device supervisor's role) through its own MMIO ring.
import { ANY_THREAD, type Sys } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { ThreadsEngine } from './engine.js';
import type { PhysicalRegion } from './physical-memory.js';

const MODULE = new URL('../test/memory-components.ts', import.meta.url).href;
const RW = { read: true, write: true, execute: false };

describe('root-task domains (main thread, privileged)', () => {
  it(
    'a memory source allocates a region at run time and maps it into the requester, which the device worker can DMA into; a supervisor root thread reads the same device',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: 1e9 });
      const root = e.createDomain('root', { root: true });
      const drv = e.createDomain('driver');
      const dev = e.createDevice({
        name: 'dma',
        component: { module: MODULE, export: 'dmaDevice' },
        mmioBytes: 16,
      });
      e.mapDevice(drv, dev, 0x1000_0000);
      e.mapDevice(root, dev, 0x1000_0000);
      const served: number[] = [];
      const regions: PhysicalRegion[] = [];
      const source = e.createThread({
        domain: root,
        name: 'memory source',
        body: function* (sys: Sys) {
          let r = yield* sys.ipc.receive(ANY_THREAD);
          for (;;) {
            if (!r.ok) {
              r = yield* sys.ipc.receive(ANY_THREAD);
              continue;
            }
            const [vaddr, bytes] = r.msg.words as [number, number];
            const { paddr, region } = e.allocateRegion(bytes);
            regions.push(region);
            e.mapPhysical(e.threadInfo(r.from)!.space, vaddr, paddr, bytes, RW);
            served.push(paddr);
            r = yield* sys.ipc.replyWait(r.from, { label: 0, words: [paddr] });
          }
        },
      });
      const seen: number[] = [];
      const out = new SharedArrayBuffer(8 * 8);
      const client = e.createThread({
        domain: drv,
        name: 'client',
        component: {
          module: MODULE,
          export: 'dmaClient',
          config: { source, vaddr: 0x3000_0000, bytes: 0x2000, regs: 0x1000_0000, out },
        },
      });
      const supervisor = e.createThread({
        domain: root,
        name: 'supervisor',
        body: function* (sys: Sys) {
          const w = sys.mem.registers(0x1000_0000)!;
          while (new Float64Array(out)[6] === 0) yield* sys.sleep(sys.hz * 0.001);
          seen.push(w.read32(0), w.read32(8)); // the address the client left, and the word there
        },
      });
      await e.start();
      try {
        await e.join([client, supervisor], 20_000);
      } finally {
        await e.stop();
      }
      expect(e.failures).toEqual([]);
      const o = [...new Float64Array(out)];
      expect(served).toHaveLength(1);
      const paddr = served[0]!;
      expect(o.slice(0, 7)).toEqual([0, paddr, paddr, 0x1234, 0xbeef, 0, 1]);
      expect(seen).toEqual([paddr + 16, 0xbeef]);
      expect(e.holds(drv, regions[0]!)).toBe(true); // handed to the driver's worker with the mapping
    },
  );
});
