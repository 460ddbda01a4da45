import { describe, expect, it } from 'vitest';
import { type Clock, EventClock } from './clock.js';
import { WIRE_OVERHEAD_BYTES } from './frames.js';
import { type ClientResult, LoadEngine, type ProbeSender, resolveRun } from './load.js';
import { writeProbe } from './probe.js';

const HZ = 1e9; // 1 cycle = 1 ns keeps expected times readable

/** A sender that records send times and (optionally) echoes after `rttNs`. */
function harness(
  opts: { rttNs?: number; linkMbps?: number; drop?: (seq: number) => boolean } = {},
) {
  const clock = new EventClock(HZ);
  const times: number[] = [];
  const buf = new Uint8Array(2048);
  let engine!: LoadEngine;
  const sender: ProbeSender = {
    sendProbe(seq, ts, size) {
      times.push(clock.now());
      if (opts.rttNs === undefined || opts.drop?.(seq)) return;
      clock.schedule(clock.now() + opts.rttNs, () => {
        writeProbe(buf, 0, seq, ts);
        engine.handleEcho(buf, 0, size);
      });
    },
  };
  engine = new LoadEngine(clock, sender, opts.linkMbps ?? Number.POSITIVE_INFINITY);
  const run = (r: Parameters<typeof resolveRun>[0]): ClientResult => {
    let result: ClientResult | undefined;
    engine.begin(resolveRun(r), (x) => {
      result = x;
    });
    clock.runUntil(() => result !== undefined);
    return result!;
  };
  return { clock, times, engine, run, buf };
}

describe('LoadEngine pacing (sim clock)', () => {
  it('sends N packets at rate R exactly at t0 + k · 8·size/R (phase 0, as ipbench)', () => {
    const h = harness();
    // 100 Mb/s of 1000-byte payloads: one every 80 µs = 80 000 ns
    h.run({
      rateMbps: 100,
      packetSize: 1000,
      warmupS: 0,
      durationS: 0.001,
      cooldownS: 0,
      phase: 0,
    });
    expect(h.times.length).toBe(13); // t = 0, 80 µs, …, 960 µs < 1 ms
    for (const [k, t] of h.times.entries()) expect(t).toBeCloseTo(k * 80_000, 0);
  });

  it('never sends faster than the client NIC: spacing is the frame’s wire time', () => {
    const h = harness({ linkMbps: 1000 });
    // 2000 Mb/s offered on a 1 Gb/s link: back-to-back frames of (1024 + 66) bytes = 8720 ns
    h.run({ rateMbps: 2000, packetSize: 1024, warmupS: 0, durationS: 0.0001, cooldownS: 0 });
    const wireNs = (8 * (1024 + WIRE_OVERHEAD_BYTES) * HZ) / 1e9;
    expect(wireNs).toBe(8720);
    for (let k = 1; k < h.times.length; k++) {
      expect(h.times[k]! - h.times[k - 1]!).toBeGreaterThanOrEqual(wireNs - 1);
      expect(h.times[k]! - h.times[k - 1]!).toBeLessThanOrEqual(wireNs + 1);
    }
  });
});

describe('LoadEngine accounting', () => {
  it('counts only the measurement window and reports achieved = offered when all echo', () => {
    const h = harness({ rttNs: 50_000 });
    const r = h.run({
      rateMbps: 80,
      packetSize: 1000,
      warmupS: 0.001,
      durationS: 0.01,
      cooldownS: 0.001,
    });
    // 80 Mb/s of 1000 B = 10 000 packets/s → 100 in 10 ms
    expect(r.sends).toBe(100);
    expect(r.recvs).toBe(100);
    expect(r.durationUs).toBeCloseTo(10_000, 6);
    expect(r.achievedBps).toBeCloseTo(80e6, 0);
    expect(r.sentBps).toBeCloseTo(80e6, 0);
    expect(r.requestedBps).toBe(80e6);
    expect(Math.min(...r.rttUs)).toBeCloseTo(50, 6);
    expect(Math.max(...r.rttUs)).toBeCloseTo(50, 6);
    expect([r.lost, r.bad, r.late]).toEqual([0, 0, 0]);
  });

  it('opens the window by the clock, as ipbench: probes a late wake-up sends after warm-up count', () => {
    // A busy machine stalls the event loop from 0.85 ms to 1.15 ms; timers due then fire at
    // 1.15 ms in the order they were due (as Node runs overdue timers). The wake-up due at
    // 0.9 ms sends the probes due at 0.9, 1.0 and 1.1 ms in one burst, after warm-up (1 ms) ended.
    const inner = new EventClock(HZ);
    const [from, to] = [850_000, 1_150_000];
    const clock: Clock = {
      hz: HZ,
      now: () => inner.now(),
      schedule: (at, fn) => inner.schedule(at >= from && at < to ? to + (at - from) / 1e6 : at, fn),
    };
    const times: number[] = [];
    const sender: ProbeSender = { sendProbe: () => void times.push(clock.now()) };
    const engine = new LoadEngine(clock, sender, Number.POSITIVE_INFINITY);
    let r: ClientResult | undefined;
    engine.begin(
      resolveRun({
        rateMbps: 80,
        packetSize: 1000,
        warmupS: 0.001,
        durationS: 0.01,
        cooldownS: 0,
        phase: 0,
      }),
      (x) => {
        r = x;
      },
    );
    inner.runUntil(() => r !== undefined);
    expect(times.filter((t) => t > to && t < to + 1)).toHaveLength(3);
    // probes 9 … 109 left after warm-up: the burst of three, then 1.2 ms … 10.9 ms
    expect(r!.sends).toBe(times.filter((t) => t >= 1_000_000).length);
    expect(r!.sends).toBe(101);
  });

  it('counts never-echoed packets sent in the window as lost', () => {
    const h = harness({ rttNs: 10_000, drop: (seq) => seq % 4 === 0 });
    const r = h.run({
      rateMbps: 80,
      packetSize: 1000,
      warmupS: 0,
      durationS: 0.01,
      cooldownS: 0.001,
    });
    expect(r.sends).toBe(100);
    expect(r.lost).toBe(25);
    expect(r.recvs).toBe(75);
    expect(r.achievedBps).toBeCloseTo(60e6, 0);
  });

  it('stops measuring after `samples` echoes, like ipbench', () => {
    const h = harness({ rttNs: 10_000 });
    const r = h.run({
      rateMbps: 80,
      packetSize: 1000,
      warmupS: 0,
      durationS: 1,
      cooldownS: 0,
      samples: 20,
    });
    expect(r.recvs).toBe(20);
    expect(r.durationUs).toBeLessThan(3000);
  });

  it('counts a mangled echo (integrity word or timestamp) as bad and a duplicate as late', () => {
    const h = harness();
    let result: ClientResult | undefined;
    h.engine.begin(
      resolveRun({
        rateMbps: 8,
        packetSize: 64,
        warmupS: 0,
        durationS: 0.001,
        cooldownS: 0,
        phase: 0,
      }),
      (x) => {
        result = x;
      },
    );
    // seq 0 was sent at t = 0
    writeProbe(h.buf, 0, 0, 0);
    h.buf[8] ^= 1; // integrity word no longer seq + 1
    h.engine.handleEcho(h.buf, 0, 64);
    writeProbe(h.buf, 0, 0, 12345); // right seq, wrong timestamp
    h.engine.handleEcho(h.buf, 0, 64);
    h.engine.handleEcho(h.buf, 0, 10); // shorter than a probe
    writeProbe(h.buf, 0, 0, 0);
    h.engine.handleEcho(h.buf, 0, 64); // good
    h.engine.handleEcho(h.buf, 0, 64); // duplicate
    h.clock.runUntil(() => result !== undefined);
    expect(result).toMatchObject({ bad: 3, recvs: 1, late: 1 });
  });

  it('rejects nonsense settings with IPBENCH_BAD_CONFIG', () => {
    expect(() => resolveRun({ rateMbps: 0 })).toThrow(
      expect.objectContaining({ code: 'IPBENCH_BAD_CONFIG' }),
    );
    expect(() => resolveRun({ rateMbps: 1, packetSize: 8 })).toThrow(/packetSize/);
    expect(() => resolveRun({ rateMbps: 1, durationS: -1 })).toThrow(/durationS/);
  });
});

describe('LoadEngine with no warm-up (first-probe bias)', () => {
  it('a window shorter than one probe gap does not report one probe as the throughput', () => {
    // 0.00025 Mb/s of 1024-byte probes: one every 32.8 s. A 1 ms window with no warm-up used to
    // count the probe sent at its very start: 8192 bits in 1 ms = 8.2 Mb/s reported.
    const h = harness({ rttNs: 10_000 });
    const r = h.run({
      rateMbps: 0.00025,
      packetSize: 1024,
      warmupS: 0,
      durationS: 0.001,
      cooldownS: 0,
    });
    expect(r.sends).toBe(0);
    expect(r.achievedBps).toBe(0);
  });

  it('counts the nearest whole number of probes a window holds, not one more', () => {
    // 1 probe every 80 µs; a 1 ms window holds 12.5 probe gaps. Sending at the window's start
    // counted 13 (one extra at t = 0); offset by half a gap it counts 12 (or 13 with phase 0).
    for (const [durationS, want] of [
      [0.001, 12],
      [0.00004, 0],
      [0.00012, 1],
      [0.0002, 2],
    ] as const) {
      const h = harness({ rttNs: 10_000 });
      const r = h.run({ rateMbps: 100, packetSize: 1000, warmupS: 0, durationS, cooldownS: 0 });
      expect(r.sends, `window ${durationS} s`).toBe(want);
    }
  });

  it('phase places the first send within the first interval; phase 0 is ipbench’s own timing', () => {
    const h = harness();
    h.run({ rateMbps: 100, packetSize: 1000, warmupS: 0, durationS: 0.0003, cooldownS: 0 });
    expect(h.times).toEqual([40_000, 120_000, 200_000, 280_000]);
    const z = harness();
    z.run({
      rateMbps: 100,
      packetSize: 1000,
      warmupS: 0,
      durationS: 0.0003,
      cooldownS: 0,
      phase: 0,
    });
    expect(z.times).toEqual([0, 80_000, 160_000, 240_000]);
    const q = harness();
    q.run({
      rateMbps: 100,
      packetSize: 1000,
      warmupS: 0,
      durationS: 0.0003,
      cooldownS: 0,
      phase: 0.25,
    });
    expect(q.times).toEqual([20_000, 100_000, 180_000, 260_000]);
    expect(() => resolveRun({ rateMbps: 1, phase: 1 })).toThrow(/phase/);
    expect(() => resolveRun({ rateMbps: 1, phase: -0.1 })).toThrow(/phase/);
  });
});
