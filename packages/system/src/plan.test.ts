import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AssemblyError } from './errors.js';
import { loadSystem, parseSystemText } from './load.js';
import { plan } from './plan.js';
import { runStep } from './runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const text = (name: string) => readFileSync(resolve(apps, name, 'system.yaml'), 'utf8');
const system = (name: string) => loadSystem(resolve(apps, name, 'system.yaml'));

describe('plan(description)', () => {
  it.each([
    'isolated',
    'clustered',
    'embedded',
    'monolithic',
  ])('%s: is plain data that survives structured clone and JSON', (name) => {
    const p = plan(system(name));
    expect(structuredClone(p)).toEqual(p);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('is pure: the same description plans the same twice', () => {
    expect(plan(system('clustered'))).toEqual(plan(system('clustered')));
  });

  it('gives each session its own control region, mapped into both partners and the supervisor only', () => {
    const p = plan(system('clustered'));
    const controls = p.regions.filter((r) => r.purpose === 'session-control');
    expect(controls).toHaveLength(2);
    for (const r of controls) {
      expect(r.mappings.map((m) => m.space).sort()).toEqual(['drivers', 'root-task', 'stack']);
    }
    expect(new Set(controls.map((r) => r.mappings[0]!.vaddr)).size).toBe(2);
  });

  it('takes the address layout, ring sizes and policies from the description', () => {
    const sys = parseSystemText(
      text('isolated')
        .replace(
          '{ kind: dataspace-manager }',
          '{ kind: dataspace-manager, pinScanSeconds: 0.002 }',
        )
        .replace(
          '{ kind: dp83820-driver, nics: [nic0] }',
          '{ kind: dp83820-driver, nics: [nic0], rxDescriptors: 128, txDescriptors: 256 }',
        )
        .concat('\nlayout: { session: 0x50000000 }\n'),
    );
    const p = plan(sys);
    const driver = p.components.find((c) => c.kind === 'dp83820-driver');
    expect(driver?.kind === 'dp83820-driver' && driver.devices[0]!.rxDescriptors).toBe(128);
    expect(driver?.kind === 'dp83820-driver' && driver.devices[0]!.txDescriptors).toBe(256);
    const mgr = p.components.find((c) => c.kind === 'dataspace-manager');
    expect(mgr?.kind === 'dataspace-manager' && mgr.pinScanSeconds).toBe(0.002);
    expect(p.sessions[0]!.controlVaddr).toBe(0x5000_0000);
  });

  it('keeps each NIC its own hold-off unless the step overrides all of them', () => {
    const sys = parseSystemText(
      text('clustered').replace(
        'irq: 10, mac: "02:00:00:00:01:01", holdoffUs: 100',
        'irq: 10, mac: "02:00:00:00:01:01", holdoffUs: 0',
      ),
    );
    expect(plan(sys).devices.map((d) => d.holdoffUnits)).toEqual([1, 0]);
    expect(plan(sys, { holdoffUs: 300 }).devices.map((d) => d.holdoffUnits)).toEqual([3, 3]);
  });

  it('rejects one stack domain served by two driver domains', () => {
    const sys = parseSystemText(
      text('clustered').replace(
        `  - name: drivers
    priority: 200
    components:
      - { kind: dp83820-driver, nics: [nic0, nic1] }`,
        `  - name: drivers
    priority: 200
    components:
      - { kind: dp83820-driver, nics: [nic0] }
  - name: drivers2
    priority: 200
    components:
      - { kind: dp83820-driver, nics: [nic1] }`,
      ),
    );
    expect(() => plan(sys)).toThrow(AssemblyError);
    expect(() => plan(sys)).toThrow(/one stack domain is served by one driver domain/);
  });
});

describe('the plan takes effect on the sim engine', () => {
  it('a clustered system with two NICs at different hold-offs runs with both', async () => {
    const sys = parseSystemText(
      text('clustered').replace(
        'irq: 10, mac: "02:00:00:00:01:01", holdoffUs: 100',
        'irq: 10, mac: "02:00:00:00:01:01", holdoffUs: 0',
      ),
    );
    const r = await runStep(sys, { loadMbps: 200, durationMs: 10, warmupMs: 2 });
    expect(r.holdoffsUs).toEqual({ nic0: 100, nic1: 0 });
    expect(r.lostPackets).toBe(0);
    // Same offered load on both wires: the NIC without hold-off interrupts far more often.
    const irqs = (nic: string) => r.counters[`${nic}.interrupts`]!;
    expect(irqs('nic0')).toBeGreaterThan(0);
    expect(irqs('nic1')).toBeGreaterThan(2 * irqs('nic0'));
  });

  it('the descriptor ring sizes reach the driver', async () => {
    const small = parseSystemText(
      text('isolated').replace(
        '{ kind: dp83820-driver, nics: [nic0] }',
        '{ kind: dp83820-driver, nics: [nic0], rxDescriptors: 8 }',
      ),
    );
    const base = await runStep(system('isolated'), {
      loadMbps: 800,
      holdoffUs: 100,
      durationMs: 10,
      warmupMs: 2,
    });
    const r = await runStep(small, { loadMbps: 800, holdoffUs: 100, durationMs: 10, warmupMs: 2 });
    // Eight receive descriptors cannot absorb a 100 µs hold-off at 800 Mb/s (≈ 10 frames per
    // hold-off period): the receive FIFO overflows where the default 64 does not.
    expect(base.counters['nic0.rxOverruns']).toBe(0);
    expect(r.counters['nic0.rxOverruns']).toBeGreaterThan(0);
  });

  it('defaults the interrupt policy to ns83820 in the kernel domain and prime at user level', () => {
    const policy = (name: string) =>
      plan(system(name))
        .components.filter((c) => c.kind === 'dp83820-driver')
        .flatMap((c) =>
          c.kind === 'dp83820-driver' ? c.devices.map((d) => d.interruptPolicy) : [],
        );
    expect(policy('monolithic')).toEqual(['ns83820']);
    expect(policy('isolated')).toEqual(['prime']);
    expect(policy('clustered')).toEqual(['prime', 'prime']);
  });

  it('takes each NIC its own bus from the description, and a bus override for all NICs', () => {
    const sys = system('clustered');
    const p = plan(sys);
    expect(p.devices.map((d) => d.pci)).toEqual([
      { clockHz: 200e6 / 3, busBytes: 8, readLatencyClocks: 16 },
      { clockHz: 200e6 / 3, busBytes: 8, readLatencyClocks: 16 },
    ]);
    expect(p.devices.every((d) => d.eeprom64)).toBe(true);
    const slow = plan(sys, { bus: { clockMHz: 33, widthBits: 32, eeprom64: false } });
    expect(slow.devices.map((d) => [d.pci.clockHz, d.pci.busBytes, d.eeprom64])).toEqual([
      [100e6 / 3, 4, false],
      [100e6 / 3, 4, false],
    ]);
  });

  it("gives the kernel-domain stack the Linux-weight cost table and user-level stacks lwIP's", () => {
    const weight = (name: string) =>
      plan(system(name)).components.flatMap((c) => (c.kind === 'ip-stack' ? [c.weight] : []));
    expect(weight('monolithic')).toEqual(['linux']);
    expect(weight('isolated')).toEqual(['lwip']);
  });
});

describe('captures', () => {
  it('--pcap: each NIC wire is captured in both directions, stamped with virtual time', async () => {
    const { mkdtempSync, readFileSync: read, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readPcap } = await import('@udf/lwip-lite');
    const dir = mkdtempSync(join(tmpdir(), 'udf-pcap-'));
    const r = await runStep(system('clustered'), {
      loadMbps: 50,
      holdoffUs: 100,
      durationMs: 5,
      warmupMs: 1,
      pcapDir: dir,
    });
    expect(readdirSync(dir).sort()).toEqual([
      'clustered-100us-50mbps-nic0.pcap',
      'clustered-100us-50mbps-nic1.pcap',
    ]);
    for (const nic of ['nic0', 'nic1']) {
      const f = readPcap(read(join(dir, `clustered-100us-50mbps-${nic}.pcap`)));
      if (typeof f === 'string') throw new Error(f);
      expect(f.cut).toBeUndefined();
      // Every frame that reached the NIC and every frame it sent.
      expect(f.records.length).toBe(r.counters[`${nic}.rxArrived`]! + r.counters[`${nic}.txSent`]!);
      const times = f.records.map((x) => x.timeNs);
      for (let i = 1; i < times.length; i++) expect(times[i]! >= times[i - 1]!).toBe(true);
      // Virtual time: the capture ends within the simulated run.
      expect(Number(times.at(-1)!) / 1e9).toBeLessThanOrEqual(r.simSeconds);
    }
  });

  it('rejects a pcap directory that does not exist before running', async () => {
    await expect(
      runStep(system('isolated'), { loadMbps: 50, pcapDir: '/nonexistent/udf' }),
    ).rejects.toThrow(/pcapDir: expected an existing directory/);
  });
});
