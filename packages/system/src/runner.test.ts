import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from './assemble.js';
import { CALIBRATION } from './calibration.js';
import { StepOptionsError } from './errors.js';
import { loadSystem, parseSystemText } from './load.js';
import type { StepOptions } from './result.js';
import { runBusBand, runStep } from './runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const system = (name: string) => loadSystem(resolve(apps, name, 'system.yaml'));
const step = (
  loadMbps: number,
  holdoffUs: number,
  more: Partial<StepOptions> = {},
): StepOptions => ({
  loadMbps,
  holdoffUs,
  durationMs: 8,
  warmupMs: 2,
  packetSize: 1024,
  ipcScale: 1,
  ...more,
});

describe('end to end on the sim engine', () => {
  it.each([
    'isolated',
    'clustered',
    'embedded',
    'monolithic',
  ])('%s assembles, starts and echoes every packet at low load', async (name) => {
    const sys = system(name);
    const r = await runStep(sys, step(50, 100));
    expect(r.lostPackets).toBe(0);
    expect(r.badPackets).toBe(0);
    // Load starts only once every receiver is on: no frame meets a disabled receiver.
    for (const n of sys.nics) expect(r.counters[`${n.name}.rxDisabledDrops`]).toBe(0);
    const sent = r.ipbench.sends;
    expect(sent).toBeGreaterThan(30 * sys.nics.length);
    expect(r.ipbench.recvs).toBeGreaterThanOrEqual(sent - 2);
    expect(r.achievedMbps).toBeGreaterThan(0.9 * r.requestedMbps);
    expect(r.cpuPercent).toBeGreaterThan(0);
    expect(r.cpuPercent).toBeLessThan(50);
    // The profile is a partition of the window.
    const total = Object.values(r.profile).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(100, 0);
  });

  it('the monolithic baseline at 0 µs hold-off loses throughput past saturation; isolated does not', async () => {
    const mono = system('monolithic');
    const iso = system('isolated');
    const monoLow = await runStep(mono, step(450, 0));
    const monoHigh = await runStep(mono, step(1000, 0));
    expect(monoLow.achievedMbps).toBeGreaterThan(0.95 * 450);
    expect(monoHigh.cpuPercent).toBeGreaterThan(99);
    // Receive livelock: more than twice the offered load delivers about half as much — the
    // throughput falls well below what was already delivered instead of levelling off at
    // saturation (≈ 500 Mb/s here).
    expect(monoHigh.achievedMbps).toBeLessThan(0.6 * monoLow.achievedMbps);
    expect(monoHigh.counters['stack0.0.drops.queueFull']).toBeGreaterThan(0);
    const isoLow = await runStep(iso, step(300, 0));
    const isoHigh = await runStep(iso, step(900, 0));
    expect(isoHigh.achievedMbps).toBeGreaterThanOrEqual(isoLow.achievedMbps);
  });

  it('the calibrated model reproduces the paper profile at its calibration point', async () => {
    const r = await runStep(system('isolated'), step(450, 100, { durationMs: 30, warmupMs: 5 }));
    const busy = 100 - r.profile.Idle!;
    const share = (...names: string[]) =>
      (100 * names.reduce((s, n) => s + (r.profile[n] ?? 0), 0)) / busy;
    expect(Math.abs(r.cpuPercent - 32)).toBeLessThan(1.5); // paper: 68 % idle
    expect(Math.abs(share('Kernel', 'Driver', 'IP') - 65)).toBeLessThan(3);
    expect(Math.abs(share('Buffer', 'Translation') - 23)).toBeLessThan(3);
    expect(Math.abs(share('Notification', 'IPC', 'Interrupt') - 12)).toBeLessThan(3);
  });

  it('Figure 1(b) as a band: a 32-bit/33 MHz bus levels off below 450 Mb/s with CPU to spare; 64/66 does not', async () => {
    const sys = system('isolated');
    const [b32, , , b64] = await runBusBand(sys, step(800, 100, { durationMs: 10, warmupMs: 2 }));
    expect(b32!.bus.name).toBe('32/33');
    expect(b32!.result.bus).toEqual({ clockMHz: 33, widthBits: 32, eeprom64: true });
    expect(b32!.result.achievedMbps).toBeLessThan(450);
    expect(b32!.result.cpuPercent).toBeLessThan(40);
    expect(b64!.result.achievedMbps).toBeGreaterThan(750);
  });

  it('the Linux-weight baseline charges Linux hand-offs instead of the notification protocol', async () => {
    const mono = system('monolithic');
    const light: typeof mono = {
      ...mono,
      domains: mono.domains.map((d) => ({
        ...d,
        components: d.components.map((c) =>
          c.kind === 'ip-stack' ? { ...c, weight: 'lwip' as const } : c,
        ),
      })),
    };
    const heavy = await runStep(mono, step(450, 100));
    const lwip = await runStep(light, step(450, 100));
    // The baseline runs no notification-bit protocol: its hand-offs are Linux's (softirq,
    // scheduler wake-up, charged as Kernel), and its buffers are sk_buffs.
    expect(heavy.profile.Notification).toBe(0);
    expect(lwip.profile.Notification!).toBeGreaterThan(0);
    expect(heavy.profile.Kernel!).toBeGreaterThan(lwip.profile.Kernel!);
  });

  it("the calibration scales the driver's own costs (regression: the calibrated table was not passed)", async () => {
    const iso = system('isolated');
    const base = await runStep(iso, step(450, 100));
    const doubled = await runStep(
      iso,
      step(450, 100, { calibration: { ...CALIBRATION, work: 2 * CALIBRATION.work } }),
    );
    // Register accesses (charged by the kernel's cost model) are in Driver too and do not scale.
    expect(doubled.profile.Driver!).toBeGreaterThan(1.4 * base.profile.Driver!);
  });

  it('a saturated step finishes (regression: a slice remainder below the clock resolution spun the kernel)', async () => {
    // Deterministic: before the kernel settled sub-resolution remainders, this exact step never
    // returned (isolated, 0 µs, 700 Mb/s, 3 ms warm-up, 40 ms window: the CPU saturated ~31 ms
    // in). Since the issue-13 cost tables the same saturation needs 800 Mb/s.
    const r = await runStep(system('isolated'), step(800, 0, { durationMs: 40, warmupMs: 3 }));
    expect(r.cpuPercent).toBeGreaterThan(99);
    expect(r.achievedMbps).toBeGreaterThan(600);
  }, 20_000);

  it('a driver over its pin quota at every start is disabled, restarted within its budget, then left disabled (paper 4.4)', async () => {
    const sys = parseSystemText(
      readFileSync(resolve(apps, 'isolated', 'system.yaml'), 'utf8').replace(
        '{ kind: dataspace-manager }',
        '{ kind: dataspace-manager, pinQuotaPages: 8 }',
      ),
    );
    const r = await runStep(sys, step(300, 100));
    // Eight pages are too few for this driver: every start goes over the quota. Through IPC
    // only: each time the manager asked the supervisor, which reset the NIC.
    const disabled = r.counters['manager.driversDisabled']!;
    expect(r.counters['supervisor.driversDisabled']).toBe(disabled);
    expect(r.counters['supervisor.devicesReset']).toBe(disabled);
    // Restarted like a crashed driver while its restart budget (5) lasts, then told it is
    // disabled: it acknowledged and returned its buffers aborted.
    expect(r.counters['supervisor.driversRestarted']).toBe(5);
    expect(r.counters['stack0.0.session.restarts']).toBe(5);
    expect(disabled).toBe(6);
    expect(r.counters['driver.driver.quotaDisables']).toBe(1);
    expect(r.counters['supervisor.acknowledged']).toBe(1);
    expect(r.counters['stack0.0.session.rxAborted']).toBeGreaterThan(0);
    // Once disabled, the device no longer delivers: echoes stop instead of corrupting memory.
    expect(r.achievedMbps).toBeLessThan(0.5 * 300);
  });

  it('is deterministic: the same step twice gives the same numbers', async () => {
    const sys = system('isolated');
    const a = await runStep(sys, step(450, 100));
    const b = await runStep(sys, step(450, 100));
    const strip = ({ wallSeconds: _w, ...rest }: typeof a) => rest;
    expect(strip(a)).toEqual(strip(b));
  });

  it('a cheaper IPC lowers the CPU cost of the same load', async () => {
    const sys = system('isolated');
    // At 100 µs hold-off: with none, a cheaper IPC also changes how many wake-ups coalesce.
    const base = await runStep(sys, step(450, 100));
    const cheap = await runStep(sys, step(450, 100, { ipcScale: 0.5 }));
    expect(cheap.profile.IPC!).toBeLessThan(base.profile.IPC!);
    expect(cheap.cpuPercent).toBeLessThan(base.cpuPercent);
  });

  it('rejects bad step options with a typed error naming the field', async () => {
    const sys = system('isolated');
    await expect(runStep(sys, step(450, 150))).rejects.toThrow(StepOptionsError);
    await expect(runStep(sys, step(450, 150))).rejects.toThrow(
      /holdoffUs: expected a multiple of 100/,
    );
    await expect(runStep(sys, step(0, 100))).rejects.toThrow(/loadMbps/);
    await expect(runStep(sys, step(100, 100, { packetSize: 4000 }))).rejects.toThrow(/packetSize/);
  });

  it('assembles one address space per domain and a global kernel space for the baseline', () => {
    const a = assemble(system('monolithic'), step(10, 100));
    a.sim.runFor(a.sim.machine.hz * 0.002);
    a.checkStarted();
    const threads = a.sim.kernel.allThreads();
    const spaceOf = (name: string) => threads.find((t) => t.name === name)?.space;
    expect(threads.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'memory-source',
        'device-supervisor',
        'dataspace-manager',
        'kernel/dp83820',
        'kernel/ip-stack',
        'echo/udp-echo',
      ]),
    );
    // Driver and stack share the kernel's space; the echo process and the root task have their own.
    expect(spaceOf('kernel/dp83820')).toBe(spaceOf('kernel/ip-stack'));
    expect(spaceOf('echo/udp-echo')).not.toBe(spaceOf('kernel/ip-stack'));
    expect(spaceOf('device-supervisor')).toBe(spaceOf('memory-source'));
    expect(spaceOf('device-supervisor')).not.toBe(spaceOf('dataspace-manager'));
  });
});
