import { describe, expect, it } from 'vitest';
import { componentCosts, LINUX_BASELINE_COSTS, linuxStackCosts } from './calibration.js';

describe('the Linux-weight baseline cost table', () => {
  it('every entry has cycles, a source and says whether it is an estimate', () => {
    for (const [name, e] of Object.entries(LINUX_BASELINE_COSTS)) {
      expect(e.cycles, name).toBeGreaterThan(0);
      expect(e.source.length, name).toBeGreaterThan(20);
      expect(typeof e.estimate, name).toBe('boolean');
    }
    expect(LINUX_BASELINE_COSTS.syscall).toMatchObject({ cycles: 432, estimate: false });
  });

  it('replaces pbufs by sk_buffs and adds the softirq and qdisc paths to the shared protocol costs', () => {
    const lwip = componentCosts().lwip;
    const linux = linuxStackCosts(lwip);
    expect(linux.pbufAlloc).toBe(LINUX_BASELINE_COSTS.skbAlloc.cycles);
    expect(linux.pbufFree).toBe(LINUX_BASELINE_COSTS.skbFree.cycles);
    expect(linux.ethernetInput).toBe(
      lwip.ethernetInput + LINUX_BASELINE_COSTS.softirqPerPacket.cycles,
    );
    expect(linux.ethernetOutput).toBe(lwip.ethernetOutput + LINUX_BASELINE_COSTS.qdiscXmit.cycles);
    expect(linux.ipv4Input).toBe(lwip.ipv4Input);
  });
});
