// The driver/stack session pair on real threads (issue 16, "Tests"): millions of frames through a
// session whose two ends run in two worker domains of the threads engine, with the paper's
// notification-bit sleep protocol and IPC wake-ups. See test/session-stress.ts for the loops.
//
// UDF_STRESS_PACKETS sets the number of frames (default 1 M; the lock-step shape runs half as
// many); UDF_STRESS_RUNS the number of latch-off runs the negative control may take to lose a
// wake-up (default 8).
//
// The engine is imported from its package's sources by path: `@udf/engine-threads` depends on
// this package, so a (dev) dependency back would make the workspace graph cyclic.
import { describe, expect, it } from 'vitest';
import { ThreadsEngine } from '../../engine-threads/src/index.js';
import { Count, type SessionStressConfig, stressLayout } from '../test/session-stress.js';

const MODULE = new URL('../test/session-stress.ts', import.meta.url).href;
const CONTROL = 0x10_0000;
const BUFFERS = 0x20_0000;
const HZ = 1e9;

const PACKETS = Number(process.env.UDF_STRESS_PACKETS ?? 1_000_000);
const NEGATIVE_RUNS = Number(process.env.UDF_STRESS_RUNS ?? 8);

/** One side's counters, by name. */
type Side = Record<keyof typeof Count, number>;

interface Outcome {
  readonly client: Side;
  readonly driver: Side;
  readonly seconds: number;
  /** Set when the run did not finish in time (the counters say how far it got). */
  readonly timedOut: string | null;
}

function side(f: Float64Array): Side {
  const out = {} as Side;
  for (const [k, i] of Object.entries(Count)) out[k as keyof typeof Count] = f[i]!;
  return out;
}

/** Run the pair once: client domain (thread 1) and driver domain (thread 2) over one session. */
async function stress(options: {
  latch: boolean;
  packets: number;
  watchdogSeconds: number;
  stopOnLost: boolean;
  limitMs: number;
  seed: number;
  /** Receive and transmit buffers of the client (default 32 each, over rings of 64). */
  buffers?: number;
  /** Largest burst a pass moves (default 16). */
  burst?: number;
}): Promise<Outcome> {
  const capacity = 64;
  const rxBuffers = options.buffers ?? 32;
  const txBuffers = rxBuffers;
  const bufferSize = 128;
  const layout = stressLayout(capacity);
  const control = new SharedArrayBuffer(layout.byteLength);
  const buffers = new SharedArrayBuffer((rxBuffers + txBuffers) * bufferSize);
  const engine = new ThreadsEngine({ hz: HZ, latch: options.latch });
  const clientDomain = engine.createDomain('stack');
  const driverDomain = engine.createDomain('driver');
  for (const d of [clientDomain, driverDomain]) {
    engine.grantRegion(d, CONTROL, control);
    engine.grantRegion(d, BUFFERS, buffers);
  }
  const base = {
    packets: options.packets,
    capacity,
    rxBuffers,
    txBuffers,
    bufferSize,
    dataspaceId: 9,
    control: CONTROL,
    buffers: BUFFERS,
    watchdogCycles: options.watchdogSeconds * HZ,
    stopOnLost: options.stopOnLost,
    burst: options.burst ?? 16,
    seed: options.seed,
  };
  const client = engine.createThread({
    domain: clientDomain,
    name: 'stack',
    component: {
      module: MODULE,
      export: 'client',
      config: { ...base, peer: 2 } satisfies SessionStressConfig,
    },
  });
  const driver = engine.createThread({
    domain: driverDomain,
    name: 'driver',
    component: {
      module: MODULE,
      export: 'driver',
      config: { ...base, peer: client } satisfies SessionStressConfig,
    },
  });
  expect([client, driver]).toEqual([1, 2]);
  const started = performance.now();
  await engine.start();
  let timedOut: string | null = null;
  try {
    await engine.join([client, driver], options.limitMs);
  } catch (e) {
    timedOut = String(e);
  } finally {
    await engine.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  expect(engine.failures).toEqual([]);
  return {
    client: side(new Float64Array(control, layout.client, 32)),
    driver: side(new Float64Array(control, layout.driver, 32)),
    seconds,
    timedOut,
  };
}

/** One line for the log: throughput, wake-ups and the suppression ratio. */
function summary(r: Outcome): string {
  const { client: c, driver: d } = r;
  const sent = c.wakeSent + d.wakeSent;
  const decided = c.notifications + d.notifications;
  const suppressed = c.suppressed + d.suppressed;
  return JSON.stringify({
    packets: c.packets,
    seconds: Number(r.seconds.toFixed(2)),
    packetsPerSecond: Math.round(c.packets / r.seconds),
    wakeupsSent: sent,
    wakeupsFailed: c.wakeFailed + d.wakeFailed,
    wakeupsReceived: c.wakeReceived + d.wakeReceived,
    suppressed,
    // Of all decisions whether to wake the peer, the share that found it awake.
    suppressedShare: Number((suppressed / Math.max(1, suppressed + decided)).toFixed(4)),
    // How many times fewer wake-ups than notify-always (one per decision) would send.
    fewerWakeups: Number(((suppressed + decided) / Math.max(1, decided)).toFixed(2)),
    wakeupsPerPacket: Number((decided / Math.max(1, c.packets)).toFixed(4)),
    sleeps: { client: c.sleeps, driver: d.sleeps },
    rollbacks: { client: c.rollbacks, driver: d.rollbacks },
    aborts: { client: c.aborts, driver: d.aborts },
    lost: { client: c.lost, driver: d.lost },
    stalled: { client: c.stalled, driver: d.stalled },
    timedOut: r.timedOut,
  });
}

/**
 * Session shapes: the paper's high load (deep pools, bursts) with all the frames, and a
 * lock-step hand-off (a wake-up every other frame, so about 4× slower) with half of them.
 */
const SHAPES = [
  {
    name: 'deep pools (32 buffers, bursts of 1-16)',
    buffers: 32,
    burst: 16,
    frames: PACKETS,
    /** Most decisions find the peer awake (the paper's high-load regime). */
    mostlySuppressed: true,
  },
  {
    name: 'lock-step (4 buffers, bursts of 1-2)',
    buffers: 4,
    burst: 2,
    frames: Math.ceil(PACKETS / 2),
    mostlySuppressed: false,
  },
] as const;

describe('the network session pair on the threads engine', () => {
  it.each(SHAPES)(
    'loops $frames frames through two worker domains with no lost wake-up: $name',
    { timeout: 60_000 + PACKETS / 10 },
    async (shape) => {
      const r = await stress({
        latch: true,
        packets: shape.frames,
        // Long enough that a stall with work pending means a protocol fault, not a busy machine.
        watchdogSeconds: 5,
        stopOnLost: false,
        limitMs: 50_000 + PACKETS / 12,
        seed: 7,
        buffers: shape.buffers,
        burst: shape.burst,
      });
      console.log(`session stress, latch on, ${shape.name}:`, summary(r));
      const { client: c, driver: d } = r;
      expect(r.timedOut, summary(r)).toBeNull();
      // Every frame arrived exactly once, in order, intact; nothing forged, nothing stuck.
      expect(c, summary(r)).toMatchObject({
        packets: shape.frames,
        taken: shape.frames,
        disorder: 0,
        damaged: 0,
        corrupt: 0,
        lost: 0,
        stalled: 0,
        sessionCorruptions: 0,
        exited: 1,
      });
      expect(d, summary(r)).toMatchObject({
        packets: shape.frames,
        corrupt: 0,
        lost: 0,
        stalled: 0,
        returnFull: 0,
        sessionCorruptions: 0,
        exited: 1,
      });
      // The protocol was exercised: both sides slept and were woken by IPC.
      expect(c.sleeps).toBeGreaterThan(0);
      expect(d.sleeps).toBeGreaterThan(0);
      expect(c.wakeReceived).toBeGreaterThan(0);
      expect(d.wakeReceived).toBeGreaterThan(0);
      // Every decision to wake was carried out as an IPC (accepted or failed), or merged into
      // the one its pass already sends; none was skipped.
      expect(c.wakeSent + c.wakeFailed + c.coalesced).toBe(c.notifications);
      expect(d.wakeSent + d.wakeFailed).toBe(d.notifications);
      // Every accepted wake-up was received once (the driver also gets the client's exit call).
      expect(c.wakeReceived).toBe(d.wakeSent);
      expect(d.wakeReceived).toBe(c.wakeSent + c.exitWake);
      // Notification suppression did its job: wake-ups were skipped for a peer found awake; at
      // the paper's high load (deep pools), far more often than sent.
      expect(c.suppressed + d.suppressed).toBeGreaterThan(0);
      if (shape.mostlySuppressed)
        expect(c.suppressed + d.suppressed).toBeGreaterThan(c.notifications + d.notifications);
    },
  );

  it(
    'negative control: with the preemption latch disabled, a wake-up is lost',
    { timeout: 30_000 + NEGATIVE_RUNS * (20_000 + PACKETS / 12) },
    async () => {
      const runs: string[] = [];
      let lost = 0;
      for (let i = 0; i < NEGATIVE_RUNS && lost === 0; i++) {
        const r = await stress({
          latch: false,
          packets: PACKETS,
          watchdogSeconds: 0.1,
          stopOnLost: true,
          limitMs: 20_000 + PACKETS / 12,
          seed: 11 + i,
          buffers: 4,
          burst: 2,
        });
        runs.push(summary(r));
        lost = r.client.lost + r.driver.lost;
      }
      console.log('session stress, latch off:', runs.join('\n'));
      expect(lost, runs.join('\n')).toBeGreaterThan(0);
    },
  );
});
