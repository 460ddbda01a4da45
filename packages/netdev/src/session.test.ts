import { LayoutError } from '@udf/lockfree';
import { describe, expect, it } from 'vitest';
import { DESC_WORDS, DescStatus, descStatusName } from './descriptor.js';
import {
  NetSessionClient,
  NetSessionDriver,
  NetSessionMonitor,
  netSessionLayout,
} from './session.js';

function pair(capacity = 8, policy?: Parameters<typeof netSessionLayout>[0]) {
  const layout = netSessionLayout(capacity);
  const buffer = new SharedArrayBuffer(layout.byteLength + 64);
  const opts = { buffer, byteOffset: 64, capacity };
  void policy;
  return { buffer, layout, client: new NetSessionClient(opts), driver: new NetSessionDriver(opts) };
}

describe('network session', () => {
  it('carries posted rx buffers to the driver and filled ones back, in order', () => {
    const { client, driver } = pair();
    const d = new Uint32Array(DESC_WORDS);
    for (let i = 0; i < 3; i++) expect(client.postRx(7, i * 2048, 2048)).toBe(true);
    expect(driver.rxBuffersAvailable()).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(driver.takeRxBuffer(d)).toBe(true);
      expect([...d]).toEqual([7, i * 2048, 2048, 0]);
      driver.deliverRx(d[0]!, d[1]!, 60 + i, DescStatus.Ok);
    }
    expect(driver.takeRxBuffer(d)).toBe(false);
    expect(client.hasWork()).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect(client.pollRx(d)).toBe(true);
      expect([...d]).toEqual([7, i * 2048, 60 + i, DescStatus.Ok]);
    }
    expect(client.hasWork()).toBe(false);
  });

  it('carries tx frames to the driver and completions back with their status', () => {
    const { client, driver } = pair();
    const d = new Uint32Array(DESC_WORDS);
    client.submitTx(3, 4096, 1066);
    client.submitTx(99, 0, 60);
    expect(driver.hasWork()).toBe(true);
    driver.takeTx(d);
    driver.completeTx(d[0]!, d[1]!, d[2]!, DescStatus.Ok);
    driver.takeTx(d);
    driver.completeTx(d[0]!, d[1]!, d[2]!, DescStatus.ForeignDataspace);
    client.pollTxDone(d);
    expect(d[3]).toBe(DescStatus.Ok);
    client.pollTxDone(d);
    expect(descStatusName(d[3]!)).toBe('ForeignDataspace');
    expect(descStatusName(42)).toBe('Unknown(42)');
  });

  it('refuses to post past capacity', () => {
    const { client } = pair(8);
    for (let i = 0; i < 8; i++) expect(client.submitTx(1, 0, 60)).toBe(true);
    expect(client.submitTx(1, 0, 60)).toBe(false);
    expect(client.txSpace()).toBe(0);
  });

  it('wakes the peer only when its notification bit says asleep', () => {
    const { client, driver } = pair();
    client.submitTx(1, 0, 60);
    expect(client.shouldNotify(1)).toBe(false); // driver awake: suppressed
    driver.prepareSleep();
    expect(driver.hasWork()).toBe(true); // the re-check finds work: the driver cancels its sleep
    driver.cancelSleep();
    driver.takeTx(new Uint32Array(DESC_WORDS));
    driver.prepareSleep();
    expect(driver.hasWork()).toBe(false); // nothing: it may block now
    client.submitTx(1, 0, 60);
    expect(client.shouldNotify(1)).toBe(true); // asleep: wake it, once
    expect(client.shouldNotify(1)).toBe(false);
    expect(client.stats()).toMatchObject({ notifications: 1, suppressed: 2 });
  });

  it('survives a peer that scribbles over the whole region, counting corruptions', () => {
    const { buffer, client, driver } = pair(8);
    const words = new Uint32Array(buffer);
    const d = new Uint32Array(DESC_WORDS);
    let seed = 12345;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < words.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        words[i] = seed;
      }
      // Every call must return normally, whatever the indices say.
      client.pollRx(d);
      client.pollTxDone(d);
      client.submitTx(1, 0, 60);
      driver.takeTx(d);
      driver.takeRxBuffer(d);
      driver.deliverRx(1, 0, 60, 0);
      client.hasWork();
      driver.hasWork();
    }
    expect(client.stats().corruptions + driver.stats().corruptions).toBeGreaterThan(0);
    for (const end of [client, driver]) {
      const st = end.stats();
      expect(end.corruptionCount()).toBe(st.corruptions + st.bitCorruptions);
    }
  });

  it('rejects a misaligned or too-small region with a typed error', () => {
    const layout = netSessionLayout(8);
    const buffer = new SharedArrayBuffer(layout.byteLength);
    expect(() => new NetSessionClient({ buffer, byteOffset: 4, capacity: 8 })).toThrow(LayoutError);
    expect(() => new NetSessionDriver({ buffer, byteOffset: 64, capacity: 8 })).toThrow(/needs/);
    expect(() => new NetSessionDriver({ buffer, byteOffset: 0, capacity: 6 })).toThrow(LayoutError);
  });
});

describe('network session corruption counters', () => {
  it('counts garbage a peer writes into the notification bits in stats().bitCorruptions', () => {
    const { buffer, layout, client, driver } = pair();
    const words = new Int32Array(buffer, 64);
    words[layout.clientBit >> 2] = 0xdead; // neither awake nor asleep
    words[layout.driverBit >> 2] = 0xbeef;
    driver.shouldNotify(1); // the driver reads the client's flag
    client.prepareSleep(); // the client announces sleep over its scribbled flag
    client.shouldNotify(1);
    expect(driver.stats().bitCorruptions + client.stats().bitCorruptions).toBeGreaterThan(0);
    expect(driver.stats().corruptions).toBe(0);
  });
});

describe('session control words (driver restart)', () => {
  it('carries the restart handshake: epoch, client acknowledgement, driver serving', () => {
    const { buffer, client, driver } = pair();
    const monitor = new NetSessionMonitor({ buffer, byteOffset: 64, capacity: 8 });
    expect(client.control.epoch()).toBe(0);
    expect(client.control.recovering()).toBe(false);
    client.postRx(7, 0, 2048);
    client.submitTx(7, 2048, 60);
    expect(monitor.control.bumpEpoch()).toBe(1);
    expect(driver.control.recovering()).toBe(true);
    client.control.acknowledge(1);
    expect(driver.control.clientEpoch()).toBe(1);
    // The fresh driver drops what was posted for the dead one, then serves.
    expect(driver.discardStale()).toBe(2);
    expect(driver.hasWork()).toBe(false);
    driver.control.serve(1);
    expect(client.control.recovering()).toBe(false);
  });

  it('lets the supervisor see the heartbeat and whether the driver has work pending', () => {
    const { buffer, client, driver } = pair();
    const monitor = new NetSessionMonitor({ buffer, byteOffset: 64, capacity: 8 });
    const beat = monitor.control.heartbeat();
    driver.control.beat();
    expect(monitor.control.heartbeat()).toBe(beat + 1);
    // Awake: pending. Asleep with nothing submitted: idle. Asleep with frames queued: pending.
    expect(monitor.pendingWork()).toBe(true);
    driver.prepareSleep();
    expect(monitor.pendingWork()).toBe(false);
    client.submitTx(7, 0, 60);
    expect(monitor.pendingWork()).toBe(true);
  });

  it('keeps the control words inside the region', () => {
    const l = netSessionLayout(8);
    expect(l.control).toBeGreaterThanOrEqual(l.clientBit + 4);
    expect(l.control + 16).toBeLessThanOrEqual(l.byteLength);
    expect(
      () =>
        new NetSessionMonitor({ buffer: new SharedArrayBuffer(64), byteOffset: 0, capacity: 8 }),
    ).toThrow(LayoutError);
  });
});
