import { describe, expect, it } from 'vitest';
import { corruptions, packetDrops } from './output.js';

// Counter names as a step reports them (`runStep(...).counters`): NIC, switch, driver, stack and
// session counters under the names the description gives each component.
const crafted: Record<string, number> = {
  'nic0.rxOverruns': 1,
  'nic0.rxDisabledDrops': 2,
  'eth7.rxOverruns': 4, // a NIC named anything
  'nic0.switch.txQueueDrops': 8,
  'nic0.rxAccepted': 1000,
  'stack0.0.drops.queueFull': 16,
  'stack0.0.drops.badChecksum': 32,
  'stack0.0.txDrops.deviceFull': 64,
  'stack0.0.session.txRingFull': 64, // the same event as txDrops.deviceFull: not counted twice
  'stack0.0.session.rxPostRefused': 5, // not a drop: the buffer is posted again
  'kernel.driver.returnDrops': 128,
  'kernel.driver.returnsDeferred': 7, // delivered later, not lost
  'drivers.driver.steerDrops': 256, // a shared NIC: the owning session had no room
  'drivers.driver.rxUnclaimed': 512, // a shared NIC: a frame for no session
  'drivers.driver.steeredCopies': 9, // delivered, not lost
  'kernel.driver.sessionCorruptions': 3,
  'stack0.0.session.sessionCorruptions': 10,
  'stack0.0.session.corrupt': 100,
  'ring.corruptions': 1000,
  'region.bitCorruptions': 10000,
  'stack0.0.udpIn': 999,
};

describe('table columns over the step counters', () => {
  it('drops sums every drop counter and nothing else', () => {
    expect(packetDrops(crafted)).toBe(1 + 2 + 4 + 8 + 16 + 32 + 64 + 128 + 256 + 512);
  });

  it('corrupt sums every corruption counter and nothing else', () => {
    expect(corruptions(crafted)).toBe(3 + 10 + 100 + 1000 + 10000);
    expect(corruptions({ 'a.corruptedish': 5, 'x.notcorrupt': 9, corrupt: 2 })).toBe(2);
  });

  it('a clean step has zero of both', () => {
    expect(packetDrops({ 'nic0.rxAccepted': 5 })).toBe(0);
    expect(corruptions({ 'nic0.rxAccepted': 5 })).toBe(0);
  });
});
