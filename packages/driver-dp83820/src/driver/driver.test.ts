import {
  AnonymousManager,
  DS_RIGHT_READ,
  DS_RIGHT_TRANSLATE,
  DS_RIGHT_WRITE,
  dsClient,
  TranslationCache,
} from '@udf/dataspace';
import { RW, SimEngine } from '@udf/l4-kernel';
import { DescStatus } from '@udf/netdev';
import { describe, expect, it, vi } from 'vitest';
import { makeFrame } from '../testing/frames.js';
import { buildRig, RIG } from '../testing/sim-rig.js';
import type { TranslationOpener } from './config.js';
import { Dp83820Driver } from './driver.js';

const PEER = [0x02, 0, 0, 0, 0, 0x99];
const MAC0 = [0x02, 0, 0, 0, 0, 0x10];
const ms = (rig: ReturnType<typeof buildRig>, n: number) => rig.sim.machine.cycles(n / 1000);

describe('Dp83820Driver on the sim engine', () => {
  it('initialises the device from its own domain and reads the MAC through RFCR/RFDR', () => {
    const rig = buildRig();
    rig.sim.runFor(ms(rig, 1));
    expect(rig.driver.running).toBe(true);
    expect([...rig.driver.macs[0]!]).toEqual(MAC0);
    expect(rig.sim.kernel.failures).toEqual([]);
  });

  it('delivers frames from the wire into the client buffers the client posted', () => {
    const received: Uint8Array[] = [];
    const rig = buildRig({
      hooks: [
        {
          onRx: (len, status, bytes) => {
            if (status === DescStatus.Ok) received.push(bytes.slice(0, len));
            return null;
          },
        },
      ],
    });
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 100 }, (_, i) => makeFrame(MAC0, PEER, 1024, i));
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 20e-6);
    rig.sim.runFor(ms(rig, 5));
    expect(rig.sim.kernel.failures).toEqual([]);
    expect(received.length).toBe(100);
    expect(received[57]).toEqual(frames[57]);
    expect(rig.driver.stats.rxFrames).toBe(100);
    // Buffers are unpinned once the device has given them back.
    expect(rig.translation.pins).toBe(RIG.CAPACITY - 1);
  });

  it('sends client frames onto the wire and completes them with status Ok', () => {
    const frames = Array.from({ length: 20 }, (_, i) => makeFrame(PEER, MAC0, 600, i));
    const rig = buildRig({ hooks: [{ send: frames }] });
    rig.sim.runFor(ms(rig, 3));
    expect(rig.sim.kernel.failures).toEqual([]);
    expect(rig.peers[0]!.frames).toEqual(frames);
    expect(rig.clients[0]!.txDone).toBe(20);
    expect(rig.clients[0]!.txStatus.every((s) => s === DescStatus.Ok)).toBe(true);
  });

  it('echoes: frames in, client replies out', () => {
    const rig = buildRig({ hooks: [{ onRx: (len, _s, bytes) => bytes.slice(0, len) }] });
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 200 }, (_, i) => makeFrame(MAC0, PEER, 1024, i));
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 15e-6);
    rig.sim.runFor(ms(rig, 10));
    expect(rig.peers[0]!.frames.length).toBe(200);
    expect(rig.peers[0]!.frames[199]).toEqual(frames[199]);
  });

  it('rejects a hostile client’s bad descriptors with error statuses; the device never sees them', () => {
    const ds = RIG.DATASPACE;
    const txBase = RIG.CAPACITY * RIG.BUFFER_SIZE;
    const rig = buildRig({
      hooks: [
        {
          rawTx: [
            [99, 0, 100], // foreign dataspace
            [ds, 0x7fff_0000, 100], // outside the dataspace
            [ds, txBase, 4000], // longer than the MTU
            [ds, txBase, 6], // shorter than a header
            [ds, txBase, 100], // valid
          ],
          rawRx: [
            [ds, 0, 100], // too small for a frame
            [42, 0, 2048], // foreign
            [ds, 0, 2048], // valid
          ],
        },
      ],
    });
    rig.sim.runFor(ms(rig, 2));
    const c = rig.clients[0]!;
    expect(c.txStatus.sort()).toEqual(
      [
        DescStatus.Ok,
        DescStatus.ForeignDataspace,
        DescStatus.OutOfRange,
        DescStatus.BadLength,
        DescStatus.BadLength,
      ].sort(),
    );
    expect(c.rxStatus.sort()).toEqual([DescStatus.ForeignDataspace, DescStatus.BadLength].sort());
    expect(rig.driver.stats.txRejected).toBe(4);
    expect(rig.driver.stats.rxRejected).toBe(2);
    expect(rig.devices[0]!.stats.txSent).toBe(1);
    expect(rig.devices[0]!.stats.busErrors).toBe(0);
  });

  it('resolves translation misses by a refill IPC to the manager, once per page', () => {
    const rig = buildRig();
    rig.sim.runFor(ms(rig, 1));
    // 64 buffers of 2 KiB: 32 pages, each refilled once.
    expect(rig.driver.stats.translationRefills).toBe(32);
    expect(rig.translation.refills).toBe(32);
    const frames = Array.from({ length: 10 }, (_, i) => makeFrame(MAC0, PEER, 200, i));
    rig.peers[0]!.send(rig.devices[0]!.port, frames);
    rig.sim.runFor(ms(rig, 2));
    expect(rig.clients[0]!.rx).toBe(10);
    expect(rig.translation.refills).toBe(32);
  });

  it('with hold-off 0 takes about one interrupt per frame; with 100 µs far fewer', () => {
    const run = (holdoff: number) => {
      const rig = buildRig({ holdoff });
      rig.sim.runFor(ms(rig, 1));
      const frames = Array.from({ length: 100 }, (_, i) => makeFrame(MAC0, PEER, 1024, i));
      rig.peers[0]!.send(rig.devices[0]!.port, frames, 20e-6);
      rig.sim.runFor(ms(rig, 5));
      expect(rig.clients[0]!.rx).toBe(100);
      return rig.driver.stats.interrupts;
    };
    const immediate = run(0);
    const held = run(1);
    expect(immediate).toBeGreaterThan(50);
    expect(held).toBeLessThan(immediate / 3);
  });

  it('runs two devices in one driver domain (clustered), each with its own session', () => {
    const rig = buildRig({ devices: 2, sessions: [0, 1] });
    rig.sim.runFor(ms(rig, 1));
    const mac1 = [0x02, 0, 0, 0, 0, 0x11];
    rig.peers[0]!.send(
      rig.devices[0]!.port,
      Array.from({ length: 30 }, (_, i) => makeFrame(MAC0, PEER, 500, i)),
    );
    rig.peers[1]!.send(
      rig.devices[1]!.port,
      Array.from({ length: 20 }, (_, i) => makeFrame(mac1, PEER, 500, i)),
    );
    rig.sim.runFor(ms(rig, 3));
    expect(rig.clients[0]!.rx).toBe(30);
    expect(rig.clients[1]!.rx).toBe(20);
  });

  it('charges the paper’s Driver, Interrupt, Buffer, Translation and Notification categories', () => {
    const rig = buildRig({ hooks: [{ onRx: (len, _s, bytes) => bytes.slice(0, len) }] });
    rig.sim.runFor(ms(rig, 1));
    const before = rig.sim.accounting.snapshot();
    rig.peers[0]!.send(
      rig.devices[0]!.port,
      Array.from({ length: 100 }, (_, i) => makeFrame(MAC0, PEER, 1024, i)),
      20e-6,
    );
    rig.sim.runFor(ms(rig, 5));
    const w = rig.sim.accounting.window(before);
    const driver = w.byThread.find((t) => t.id === rig.driverThread)!;
    for (const cat of ['Driver', 'Interrupt', 'Buffer', 'Translation', 'Notification']) {
      expect(driver.byCategory[cat], cat).toBeGreaterThan(0);
    }
  });

  it('rejects a session bound to a device that does not exist', () => {
    expect(
      () =>
        new Dp83820Driver({
          devices: [{ registers: 0, irq: 1, dma: { vaddr: 0, paddr: 0, bytes: 1 << 16 } }],
          sessions: [{ device: 3, client: 1, region: 0, capacity: 64, dataspaces: [1] }],
          translation: function* () {
            yield* [];
            throw new Error('unused');
          },
        }),
    ).toThrow(/no device 3/);
  });

  it('accepts TranslationCache from @udf/dataspace as its translation source: add, refill, pin, unpin against a real manager', () => {
    const sim = new SimEngine({ memoryBytes: 16 << 20 });
    const k = sim.kernel;
    const poolVaddr = 0x1000_0000;
    const poolBytes = 1 << 20;
    const mgrSpace = k.createSpace('manager');
    const poolPaddr = k.allocateFrames(poolBytes, 1 << 20);
    k.mapPhysical(mgrSpace, poolVaddr, poolPaddr, poolBytes, RW);
    const managerId = k.createThread({
      name: 'manager',
      space: mgrSpace,
      priority: 200,
      body: new AnonymousManager({ pool: { vaddr: poolVaddr, bytes: poolBytes } }).body,
    });
    const driverId = managerId + 2; // created after the client below
    let dataspace = 0;
    const client = k.createThread({
      name: 'client',
      space: k.createSpace('client'),
      priority: 100,
      body: function* (sys) {
        const ds = yield* dsClient.open(sys, managerId, 3 * 4096);
        yield* dsClient.share(
          sys,
          ds,
          driverId,
          DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE,
        );
        dataspace = ds.id;
      },
    });
    const seen: { size: number; refilled: number; pinned: number; missBefore: number } = {
      size: -1,
      refilled: -1,
      pinned: -1,
      missBefore: 0,
    };
    // The opener as a driver config declares it, used exactly as the driver uses it.
    const opener: TranslationOpener = (sys) =>
      TranslationCache.open(sys, managerId, { vaddr: 0x5000_0000, entries: 64 });
    const driver = k.createThread({
      name: 'driver',
      space: k.createSpace('driver'),
      priority: 50,
      body: function* (sys) {
        const tr = yield* opener(sys);
        const added = yield* tr.add(dataspace);
        seen.size = added.size;
        seen.missBefore = tr.pin(dataspace, 4096 + 12);
        seen.refilled = yield* tr.refill(sys, dataspace, 4096 + 12);
        seen.pinned = tr.pin(dataspace, 4096 + 12);
        tr.unpin(dataspace, 4096 + 12);
      },
    });
    expect([client, driver]).toEqual([managerId + 1, driverId]);
    sim.runFor(10_000_000);
    expect(k.failures).toEqual([]);
    expect(seen.size).toBe(3 * 4096);
    expect(seen.missBefore).toBe(-1); // on-demand refill: nothing installed before the refill
    // The translation is the physical address of byte 12 of the dataspace's second page, a
    // page of the manager's pool.
    expect(seen.refilled).toBe(seen.pinned);
    expect(seen.pinned % 4096).toBe(12);
    expect(seen.pinned).toBeGreaterThanOrEqual(poolPaddr);
    expect(seen.pinned).toBeLessThan(poolPaddr + poolBytes);
  });
});

describe('several client sessions on one NIC (issue 17 item 3)', () => {
  it('a session that keeps its return ring full costs only itself: the other still gets its frames', () => {
    const rig = buildRig({ sessions: [0, 0], hooks: [{ hoard: true }, {}], keepFrames: false });
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 400 }, (_, i) => makeFrame(MAC0, PEER, 1024, i));
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 20e-6);
    rig.sim.runFor(ms(rig, 12));
    expect(rig.sim.kernel.failures).toEqual([]);
    const delivered = rig.devices[0]!.stats.rxDelivered;
    // The hoarder's ring holds at most its capacity; every other frame reaches the other session.
    expect(rig.clients[1]!.rx).toBeGreaterThanOrEqual(400 - 2 * RIG.CAPACITY);
    expect(
      rig.clients[1]!.rx + RIG.CAPACITY + rig.driver.stats.returnsDeferred,
    ).toBeGreaterThanOrEqual(delivered);
    expect(rig.devices[0]!.stats.rxOverruns).toBe(0);
    expect(rig.driver.stats.returnsDeferred).toBeGreaterThan(0);
    expect(rig.driver.stats.returnDrops).toBe(0);
  });
});

describe('corruption counters (issue 17 item 5)', () => {
  it('counts a client’s scribbled ring index in stats.sessionCorruptions and keeps serving', () => {
    const rig = buildRig({
      hooks: [
        {
          corruptRegion: (w, pass) => {
            if (pass !== 0) return;
            w[16] = 0x7fff_0000; // rxFree's producer index: far more than the capacity ahead
          },
        },
      ],
    });
    rig.sim.runFor(ms(rig, 1));
    rig.peers[0]!.send(
      rig.devices[0]!.port,
      Array.from({ length: 10 }, (_, i) => makeFrame(MAC0, PEER, 200, i)),
    );
    rig.sim.runFor(ms(rig, 2));
    expect(rig.sim.kernel.failures).toEqual([]);
    expect(rig.driver.stats.sessionCorruptions).toBeGreaterThan(0);
    expect(Object.keys(rig.driver.stats)).toContain('sessionCorruptions');
    expect(rig.clients[0]!.rx).toBe(10);
  });
});

describe('descriptor hand-off from the driver side (issue 11 item 2)', () => {
  it('publishes every CMDSTS with Atomics.store and reads it with Atomics.load', () => {
    const store = vi.spyOn(Atomics, 'store');
    const load = vi.spyOn(Atomics, 'load');
    try {
      const rig = buildRig({ hooks: [{ onRx: (len, _s, bytes) => bytes.slice(0, len) }] });
      rig.sim.runFor(ms(rig, 1));
      rig.peers[0]!.send(
        rig.devices[0]!.port,
        Array.from({ length: 20 }, (_, i) => makeFrame(MAC0, PEER, 300, i)),
      );
      rig.sim.runFor(ms(rig, 3));
      expect(rig.peers[0]!.frames.length).toBe(20);
      // The driver's descriptor memory is the only Uint32Array of 16 pages in the rig.
      const onRings = (calls: unknown[][]) =>
        calls.filter((c) => c[0] instanceof Uint32Array && c[0].length === (16 * 4096) / 4);
      const stores = onRings(store.mock.calls);
      const loads = onRings(load.mock.calls);
      // 64 + 128 at ring build, then at least one per frame handed over and per slot taken back.
      expect(stores.length).toBeGreaterThanOrEqual(64 + 128 + 4 * 20);
      expect(loads.length).toBeGreaterThanOrEqual(2 * 20);
    } finally {
      store.mockRestore();
      load.mockRestore();
    }
  });
});
