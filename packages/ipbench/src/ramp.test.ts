import { describe, expect, it } from 'vitest';
import { EventClock } from './clock.js';
import { IdleAccountingCpuMeter } from './cpu/meter.js';
import { EchoTarget } from './echo-target.js';
import { DEFAULT_LOADS_MBPS, Ramp, type RampStep } from './ramp.js';
import { SimClient } from './sim-client.js';

function rig(capMbps: number, nClients = 4) {
  const clock = new EventClock(2.66e9);
  const echo = new EchoTarget({ clock, capMbps });
  const clients = Array.from({ length: nClients }, (_, i) => {
    const c = new SimClient({
      clock,
      mac: `02:00:00:00:00:0${i + 1}`,
      ip: `10.0.0.${i + 1}`,
      targetMac: '02:00:00:00:00:fe',
      targetIp: '10.0.0.254',
    });
    c.attach(echo);
    echo.connect(c.mac, c);
    return c;
  });
  return { clock, echo, clients };
}

describe('Ramp over an in-memory echo target', () => {
  it('a ramp without loads runs the default loads, in order, up to line rate', async () => {
    const { clock, clients } = rig(2000);
    const seen: number[] = [];
    await new Ramp({
      clock,
      clients,
      warmupS: 0,
      durationS: 0.002,
      cooldownS: 0.001,
      label: 'echo',
      drive: (done) => clock.runUntil(done),
      onStep: (step) => seen.push(step.offeredMbps),
    }).run();
    expect(seen).toEqual([...DEFAULT_LOADS_MBPS]);
    // the paper's ramp: from light load to the gigabit line rate, increasing
    expect(seen[0]).toBeLessThanOrEqual(10);
    expect(seen.at(-1)).toBe(1000);
    expect(seen.every((x, i) => i === 0 || x > seen[i - 1]!)).toBe(true);
  });

  it('achieves the offered load below the target’s cap and the cap above it', async () => {
    const { clock, clients } = rig(460);
    const seen: number[] = [];
    const result = await new Ramp({
      clock,
      clients,
      loadsMbps: [100, 400, 800],
      warmupS: 0.005,
      durationS: 0.05,
      cooldownS: 0.005,
      label: 'echo',
      drive: (done) => clock.runUntil(done),
      onStep: (step, i, n) => seen.push(step.offeredMbps, i, n),
    }).run();
    expect(seen).toEqual([100, 0, 3, 400, 1, 3, 800, 2, 3]);
    const [a, b, c] = result.steps as [RampStep, RampStep, RampStep];
    expect(a.achievedBps / 1e6).toBeCloseTo(100, 0);
    expect(b.achievedBps / 1e6).toBeCloseTo(400, 0);
    expect(c.achievedBps / 1e6).toBeGreaterThan(455);
    expect(c.achievedBps / 1e6).toBeLessThan(465);
    expect(c.sentBps / 1e6).toBeCloseTo(800, 0);
    expect(c.lost).toBeGreaterThan(0);
    expect([a.lost, b.lost, a.bad, c.bad]).toEqual([0, 0, 0, 0]);
    expect(a.clients).toHaveLength(4);
    expect(a.requestedBps).toBe(100e6);
    expect(a.clients[0]!.requestedBps).toBe(25e6);
    expect(result).toMatchObject({ label: 'echo', clients: 4, packetSize: 1024 });
  });

  it('measures target CPU over exactly the measurement window', async () => {
    const { clock, clients } = rig(1000, 1);
    const windows: number[] = [];
    let opened = 0;
    const meter = new IdleAccountingCpuMeter(() => ({ idle: 0, total: clock.now() }), clock.hz);
    const wrapped = {
      start: () => {
        opened = clock.now();
        meter.start();
      },
      stop: () => {
        windows.push((clock.now() - opened) / clock.hz);
        return meter.stop();
      },
    };
    const r = await new Ramp({
      clock,
      clients,
      loadsMbps: [10],
      warmupS: 0.01,
      durationS: 0.02,
      cooldownS: 0.01,
      cpuMeter: wrapped,
      drive: (done) => clock.runUntil(done),
    }).run();
    expect(windows[0]).toBeCloseTo(0.02, 6);
    expect(r.steps[0]!.cpu).toMatchObject({ utilisation: 1 });
  });

  it('refuses a ramp without clients', () => {
    const clock = new EventClock();
    expect(() => new Ramp({ clock, clients: [] })).toThrow(
      expect.objectContaining({ code: 'IPBENCH_BAD_CONFIG' }),
    );
  });
});

describe('SimClient', () => {
  it('counts frames that are not its echoes and refuses a second concurrent run', async () => {
    const { clock, clients, echo } = rig(1000, 1);
    const c = clients[0]!;
    c.receive(new Uint8Array(20));
    const p = c.start({ rateMbps: 10, warmupS: 0, durationS: 0.001, cooldownS: 0 });
    await expect(c.start({ rateMbps: 10 })).rejects.toMatchObject({ code: 'IPBENCH_BUSY' });
    clock.runUntil(() => !c.running);
    const r = await p;
    expect(c.counters.foreign).toBe(1);
    expect(r.recvs).toBeGreaterThan(0);
    expect(echo.counters.echoed).toBe(r.sends);
  });
});
