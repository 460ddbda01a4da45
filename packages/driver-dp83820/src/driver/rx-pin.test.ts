// Issue 17 item 1: a client must not be able to make the NIC write into another domain's memory
// by posting a receive buffer longer than the pages the driver pins. The attack, end to end with
// the real anonymous dataspace manager and translation cache: the client posts a 3-page and a
// 17-page receive buffer, each starting 10 bytes before a page boundary, closes its dataspace as
// soon as the driver holds them; the manager frees every page that is not pinned and hands the
// frames to another domain's new dataspaces; then frames arrive from the wire.
import {
  AnonymousManager,
  type Dataspace,
  DS_RIGHT_READ,
  DS_RIGHT_TRANSLATE,
  DS_RIGHT_WRITE,
  dsClient,
  TranslationCache,
} from '@udf/dataspace';
import { RW, SimEngine, type Sys, type ThreadId } from '@udf/l4-kernel';
import { NetSessionClient, netSessionLayout } from '@udf/netdev';
import { describe, expect, it } from 'vitest';
import { Dp83820 } from '../device/dp83820.js';
import { makeFrame } from '../testing/frames.js';
import { SimPeer } from '../testing/sim-rig.js';
import { Dp83820Driver } from './driver.js';

const PAGE = 4096;
const POOL_VADDR = 0x1000_0000;
const POOL_BYTES = 1 << 20;
const REGS = 0x2000_0000;
const DMA = 0x2100_0000;
const REGION = 0x3000_0000;
const TC_VADDR = 0x5000_0000;
const CAPACITY = 16;
const MAC = [0x02, 0, 0, 0, 0, 0x10];
const PEER = [0x02, 0, 0, 0, 0, 0x99];

/** What the manager keeps per dataspace (read by the test to find the victim's frames). */
type ManagerPeek = { dataspaces: Map<number, { firstFrame: number; pages: number }> };

function attack(buffers: readonly (readonly [number, number])[], dsPages: number) {
  const sim = new SimEngine({ memoryBytes: 32 << 20 });
  const k = sim.kernel;
  const managerSpace = k.createSpace('manager');
  const poolPaddr = k.allocateFrames(POOL_BYTES, 1 << 20);
  k.mapPhysical(managerSpace, POOL_VADDR, poolPaddr, POOL_BYTES, RW);
  const manager = new AnonymousManager({ pool: { vaddr: POOL_VADDR, bytes: POOL_BYTES } });
  const managerId = k.createThread({
    name: 'manager',
    space: managerSpace,
    priority: 250,
    body: manager.body,
  });

  const dev = sim.machine.attachDevice(
    'nic0',
    new Dp83820({ host: sim.machine, irqLine: 9, mac: MAC }),
  );
  const peer = new SimPeer(sim);
  dev.port.connect(peer);
  const driverSpace = k.createSpace('driver');
  k.mapDevice(driverSpace, REGS, dev);
  const dmaPaddr = k.mapAnonymous(driverSpace, DMA, 16 * PAGE, RW);

  const clientSpace = k.createSpace('attacker');
  const layout = netSessionLayout(CAPACITY);
  const regionBytes = Math.ceil(layout.byteLength / PAGE) * PAGE;
  const region = k.allocateFrames(regionBytes);
  k.mapPhysical(clientSpace, REGION, region, regionBytes, RW);
  k.mapPhysical(driverSpace, REGION, region, regionBytes, RW);

  const box = {
    ds: null as Dataspace | null,
    driver: null as Dp83820Driver | null,
    tc: null as TranslationCache | null,
    pinnedWhileHeld: -1,
    closed: false,
    victims: [] as number[],
  };
  const ids = { driver: 0 as ThreadId };

  ids.driver = k.createThread({
    name: 'dp83820',
    space: driverSpace,
    priority: 200,
    body: function* (sys: Sys) {
      while (box.ds === null) yield* sys.sleep(1_000);
      box.driver = new Dp83820Driver({
        devices: [
          { registers: REGS, irq: 9, dma: { vaddr: DMA, paddr: dmaPaddr, bytes: 16 * PAGE } },
        ],
        sessions: [
          {
            device: 0,
            client: attacker,
            region: REGION,
            capacity: CAPACITY,
            dataspaces: [box.ds.id],
          },
        ],
        translation: function* (ts) {
          const tc = yield* TranslationCache.open(ts, managerId, { vaddr: TC_VADDR, entries: 64 });
          box.tc = tc;
          return tc;
        },
      });
      yield* box.driver.body(sys);
    },
  });

  const attacker = k.createThread({
    name: 'attacker',
    space: clientSpace,
    priority: 100,
    body: function* (sys: Sys) {
      const ds = yield* dsClient.open(sys, managerId, dsPages * PAGE);
      yield* dsClient.share(
        sys,
        ds,
        ids.driver,
        DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE,
      );
      box.ds = ds;
      while (!box.driver?.running) yield* sys.sleep(10_000);
      const view = yield* sys.mem.access(REGION, layout.byteLength, 'write');
      if (!('buffer' in view)) throw new Error('region not mapped');
      const net = new NetSessionClient({
        buffer: view.buffer,
        byteOffset: view.byteOffset,
        capacity: CAPACITY,
      });
      for (const [off, len] of buffers) net.postRx(ds.id, off, len);
      yield* sys.ipc.send(ids.driver, { label: 1, words: [] }, 0);
      // Let the driver take, translate, pin and post them (it holds them until frames arrive).
      yield* sys.sleep(2_000_000);
      box.pinnedWhileHeld = box.tc!.pinnedPages;
      yield* dsClient.close(sys, ds);
      box.closed = true;
    },
  });

  k.createThread({
    name: 'victim',
    space: k.createSpace('victim'),
    priority: 100,
    body: function* (sys: Sys) {
      while (!box.closed) yield* sys.sleep(10_000);
      // Take every frame the close freed (first fit: the freed runs come first).
      for (let i = 0; i < dsPages; i++) {
        const ds = yield* dsClient.open(sys, managerId, PAGE);
        box.victims.push(ds.id);
      }
    },
  });

  const ms = (n: number) => sim.machine.cycles(n / 1000);
  sim.runFor(ms(5));
  expect(k.failures).toEqual([]);
  expect(box.closed).toBe(true);
  expect(box.victims).toHaveLength(dsPages);
  const frames = buffers.map((_, i) => makeFrame(MAC, PEER, 1514, i + 1));
  peer.send(dev.port, frames, 20e-6);
  sim.runFor(ms(5));
  expect(k.failures).toEqual([]);

  const peek = (manager as unknown as ManagerPeek).dataspaces;
  let dirty = 0;
  for (const id of box.victims) {
    const rec = peek.get(id)!;
    const at = poolPaddr + rec.firstFrame * PAGE;
    const bytes = new Uint8Array(rec.pages * PAGE);
    sim.machine.memory.copyOut(at, bytes);
    for (const b of bytes) if (b !== 0) dirty++;
  }
  return { dirty, box, dev, driver: box.driver! };
}

describe('receive buffers longer than a frame (issue 17 item 1)', () => {
  it('a 3-page and a 17-page receive buffer: no byte lands in another domain’s dataspace after close', () => {
    const { dirty, box, dev, driver } = attack(
      [
        [PAGE - 10, PAGE + 20], // pages 0..2 of the dataspace
        [4 * PAGE - 10, 15 * PAGE + 20], // pages 3..19
      ],
      20,
    );
    expect(dev.stats.rxDelivered).toBe(2); // both frames were written by DMA…
    expect(driver.stats.rxFrames).toBe(2);
    expect(dirty).toBe(0); // …but not into memory the victim now owns
    // Pins by page: each buffer pins the two pages a 1518-byte frame from 10 bytes before a
    // boundary can reach, and nothing else.
    expect(box.pinnedWhileHeld).toBe(4);
    expect(box.tc!.pinnedPages).toBe(0);
  });

  it('bounds what the device may write to one maximal frame (posted size 0xffff → 1518)', () => {
    const { dirty, box, driver } = attack([[0, 0xffff]], 17);
    expect(driver.stats.rxFrames).toBe(1);
    expect(dirty).toBe(0);
    expect(box.pinnedWhileHeld).toBe(1);
  });
});
