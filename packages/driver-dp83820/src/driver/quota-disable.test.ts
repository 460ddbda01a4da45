// Dp83820Driver.quotaExceeded: what a dataspace manager's onDriverDisabled hook calls when the
// driver is over its pin quota (paper section 4.4: "disabling the driver and resetting the device
// to recover pinned pages").
import { DRIVER_DISABLED_LABEL } from '@udf/dataspace';
import { ANY_THREAD, NEVER } from '@udf/l4-kernel';
import { DescStatus } from '@udf/netdev';
import { describe, expect, it } from 'vitest';
import { makeFrame } from '../testing/frames.js';
import { buildRig, RIG, type Rig } from '../testing/sim-rig.js';

const PEER = [0x02, 0, 0, 0, 0, 0x99];
const MAC0 = [0x02, 0, 0, 0, 0, 0x10];
const ms = (rig: Rig, n: number) => rig.sim.machine.cycles(n / 1000);
const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

/** An echo client that, for every buffer the driver aborts, tries to submit a new frame. */
const echoThenRetry = {
  onRx: (len: number, status: number, bytes: Uint8Array) =>
    status === DescStatus.Ok
      ? bytes.slice(0, len)
      : status === DescStatus.Aborted
        ? makeFrame(PEER, MAC0, 200, 0)
        : null,
};

function rxBuffers(rig: Rig): Uint8Array {
  const at = rig.bufferPaddrs[0]!;
  const bytes = new Uint8Array(rig.rxBufferBytes);
  rig.sim.machine.memory.copyOut(at, bytes);
  return bytes;
}

describe('Dp83820Driver.quotaExceeded (pin quota exceeded)', () => {
  it('mid-traffic: stops device DMA at once, returns every held buffer Aborted, rejects and counts new work', () => {
    const rig = buildRig({ hooks: [echoThenRetry] });
    const dev = rig.devices[0]!;
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 400 }, (_, i) => makeFrame(MAC0, PEER, 1024, i));
    rig.peers[0]!.send(dev.port, frames, 15e-6);

    // The hook runs outside the driver thread: here, a machine event 3 ms into the traffic.
    let at: {
      rxDelivered: number;
      txSent: number;
      rxArrived: number;
      echoed: number;
      rxFrames: number;
      txFrames: number;
      memory: Uint8Array;
    } | null = null;
    rig.sim.machine.schedule(rig.sim.now() + ms(rig, 3), () => {
      rig.driver.quotaExceeded();
      rig.driver.quotaExceeded(); // a second call changes nothing
      at = {
        rxDelivered: dev.stats.rxDelivered,
        txSent: dev.stats.txSent,
        rxArrived: dev.stats.rxArrived,
        echoed: rig.peers[0]!.count,
        rxFrames: rig.driver.stats.rxFrames,
        txFrames: rig.driver.stats.txFrames,
        memory: rxBuffers(rig),
      };
    });
    rig.sim.runFor(ms(rig, 8));

    expect(rig.sim.kernel.failures).toEqual([]);
    expect(at).not.toBeNull();
    const before = at!;
    // Traffic was flowing when the hook ran, and frames kept arriving after it.
    expect(before.rxFrames).toBeGreaterThan(100);
    expect(before.echoed).toBeGreaterThan(100);
    expect(dev.stats.rxArrived).toBeGreaterThan(before.rxArrived + 100);

    // The device DMAs nothing more: no frame received or sent, client receive buffers untouched.
    expect(dev.stats.rxDelivered).toBe(before.rxDelivered);
    expect(dev.stats.txSent).toBe(before.txSent);
    expect(rig.peers[0]!.count).toBe(before.echoed);
    expect(Buffer.compare(rxBuffers(rig), before.memory)).toBe(0); // byte for byte
    expect(rig.driver.stats.rxFrames).toBe(before.rxFrames);
    expect(rig.driver.stats.txFrames).toBe(before.txFrames);

    const s = rig.driver.stats;
    const c = rig.clients[0]!;
    expect(rig.driver.disabled).toBe(true);
    expect(s.quotaDisables).toBe(1);
    // The device held buffers; each of the client's receive buffers came back Aborted once.
    expect(s.buffersAborted).toBeGreaterThan(0);
    expect(count(c.rxStatus, DescStatus.Aborted)).toBe(RIG.CAPACITY);
    // Every abort the driver counted reached the client; nothing was dropped.
    expect(count(c.rxStatus, DescStatus.Aborted) + count(c.txStatus, DescStatus.Aborted)).toBe(
      s.buffersAborted + s.rxAborted + s.txAborted,
    );
    expect(s.returnDrops).toBe(0);
    // New submissions (one per aborted receive buffer) were rejected and counted.
    expect(s.txAborted).toBeGreaterThanOrEqual(RIG.CAPACITY);
    // The driver released its own pins as the buffers went back.
    expect(rig.translation.pins).toBe(0);
  });

  it('wakes a sleeping driver: an idle driver returns its posted buffers without any other event', () => {
    const rig = buildRig();
    rig.sim.runFor(ms(rig, 1));
    expect(rig.clients[0]!.rx).toBe(0);
    const interrupts = rig.driver.stats.interrupts;
    rig.sim.machine.schedule(rig.sim.now() + 1000, () => rig.driver.quotaExceeded());
    rig.sim.runFor(ms(rig, 0.1));

    expect(rig.sim.kernel.failures).toEqual([]);
    expect(rig.driver.stats.interrupts).toBe(interrupts + 1); // the software interrupt
    // 63 buffers were in the device's ring, one still in the session ring.
    expect(rig.driver.stats.buffersAborted).toBe(RIG.CAPACITY - 1);
    expect(rig.driver.stats.rxAborted).toBe(1);
    expect(rig.clients[0]!.rxStatus).toEqual(new Array(RIG.CAPACITY).fill(DescStatus.Aborted));
    expect(rig.translation.pins).toBe(0);
  });

  it('from the manager thread while the driver waits for a refill: the buffer being taken is returned Aborted without reaching the device', () => {
    const rig = buildRig({
      hooks: [echoThenRetry],
      // 32 refills translate the receive buffers at start; the 33rd is the first transmit page,
      // requested while the driver takes the first echo reply.
      onRefill: (n) => {
        if (n === 33) rig.driver.quotaExceeded();
      },
    });
    const dev = rig.devices[0]!;
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 50 }, (_, i) => makeFrame(MAC0, PEER, 1024, i));
    rig.peers[0]!.send(dev.port, frames, 15e-6);
    rig.sim.runFor(ms(rig, 3));

    expect(rig.sim.kernel.failures).toEqual([]);
    expect(rig.driver.stats.quotaDisables).toBe(1);
    expect(rig.translation.refills).toBe(33);
    expect(dev.stats.txSent).toBe(0);
    expect(rig.peers[0]!.count).toBe(0);
    const c = rig.clients[0]!;
    expect(c.txStatus.length).toBeGreaterThan(0);
    expect(c.txStatus.every((st) => st === DescStatus.Aborted)).toBe(true);
    expect(rig.driver.stats.txAborted).toBe(c.txStatus.length);
    expect(count(c.rxStatus, DescStatus.Aborted)).toBe(RIG.CAPACITY);
    expect(rig.translation.pins).toBe(0);
  });
});

describe('disable by the device supervisor (IPC, issue 11 item 4)', () => {
  const disabledMsg = { label: DRIVER_DISABLED_LABEL, words: [] };

  it('only its supervisor can disable the driver: a forged message from a client is ignored', () => {
    let forgedAt = -1;
    const rig = buildRig({
      hooks: [echoThenRetry],
      supervisor: function* (sys) {
        yield* sys.ipc.receive(ANY_THREAD, NEVER); // never asked
      },
    });
    rig.sim.kernel.createThread({
      name: 'forger',
      space: rig.sim.kernel.createSpace('forger'),
      priority: 100,
      body: function* (sys) {
        forgedAt = sys.now();
        yield* sys.ipc.send(rig.driverThread, disabledMsg, NEVER);
      },
    });
    rig.sim.runFor(ms(rig, 1));
    rig.peers[0]!.send(
      rig.devices[0]!.port,
      Array.from({ length: 50 }, (_, i) => makeFrame(MAC0, PEER, 200, i)),
      20e-6,
    );
    rig.sim.runFor(ms(rig, 4));
    expect(rig.sim.kernel.failures).toEqual([]);
    expect(forgedAt).toBeGreaterThanOrEqual(0);
    expect(rig.driver.disabled).toBe(false);
    expect(rig.driver.stats.quotaDisables).toBe(0);
    expect(rig.peers[0]!.count).toBe(50);
  });

  it('after the supervisor resets the device and tells the driver, it acknowledges and aborts its buffers', () => {
    const seen = { acked: false, echoedAtReset: 0 };
    let rigRef: Rig | null = null;
    const rig = buildRig({
      hooks: [echoThenRetry],
      supervisor: function* (sys, driverThread) {
        // 3 ms into the traffic (a receive nobody answers, timed out), tell the driver. (The
        // whole-system quota test covers the reset through the supervisor's own register window;
        // here the message alone must stop the device.)
        yield* sys.ipc.receive(ANY_THREAD, sys.hz * 0.004);
        seen.echoedAtReset = rigRef!.peers[0]!.count;
        const r = yield* sys.ipc.call(driverThread(), disabledMsg, NEVER);
        seen.acked = r.ok;
      },
    });
    rigRef = rig;
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 400 }, (_, i) => makeFrame(MAC0, PEER, 1024, i));
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 15e-6);
    rig.sim.runFor(ms(rig, 8));
    expect(rig.sim.kernel.failures).toEqual([]);
    expect(seen.acked).toBe(true);
    expect(seen.echoedAtReset).toBeGreaterThan(50);
    expect(rig.driver.disabled).toBe(true);
    expect(rig.driver.stats.quotaDisables).toBe(1);
    // Stopped in the driver's own thread before it acknowledged: nothing more is echoed.
    expect(rig.peers[0]!.count).toBeLessThanOrEqual(seen.echoedAtReset + 1);
    expect(rig.driver.stats.buffersAborted + rig.driver.stats.rxAborted).toBeGreaterThan(0);
  });
});
