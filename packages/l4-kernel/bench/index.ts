/**
 * Benchmarks of the sim engine: IPC round trips, simulated events and a packet-like workload,
 * per wall-clock second. Run: `pnpm --filter @udf/l4-kernel bench`.
 */
import { ANY_THREAD, NEVER, SimEngine, type Sys } from '../src/index.js';

function wall<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

function ipcRoundTrips(n: number): { rtPerSec: number; callsPerSec: number } {
  const sim = new SimEngine();
  const k = sim.kernel;
  const a = k.createSpace('client');
  const b = k.createSpace('server');
  const msg = { label: 1, words: [1, 2, 3, 4] };
  const server = k.createThread({
    name: 'server',
    space: b,
    body: function* (sys: Sys) {
      let r = yield* sys.ipc.receive(ANY_THREAD);
      for (;;) r = yield* sys.ipc.replyWait(r.ok ? r.from : 0, msg);
    },
  });
  k.createThread({
    name: 'client',
    space: a,
    body: function* (sys: Sys) {
      for (let i = 0; i < n; i++) yield* sys.ipc.call(server, msg);
      yield* sys.sleep(NEVER);
    },
  });
  const [, s] = wall(() => sim.runFor(1e15));
  return { rtPerSec: n / s, callsPerSec: sim.counters.kernelCalls / s };
}

function eventsOnly(n: number): number {
  const sim = new SimEngine();
  let left = n;
  const tick = () => {
    if (--left > 0) sim.machine.after(1000, tick);
  };
  for (let i = 0; i < 16; i++) sim.machine.schedule(i, tick);
  const [, s] = wall(() => sim.runFor(1e15));
  return sim.counters.eventsFired / s;
}

/**
 * A packet-shaped workload: a "NIC" event source at `pps` raises an interrupt per packet; the
 * ISR does driver work and calls the stack in another space, which charges IP work, calls an
 * echo thread and replies — about 8-10 kernel calls per packet.
 */
function packets(pps: number, seconds: number) {
  const sim = new SimEngine();
  const k = sim.kernel;
  const drv = k.createSpace('driver');
  const app = k.createSpace('stack');
  const echo = k.createThread({
    name: 'echo',
    space: app,
    priority: 90,
    body: function* (sys: Sys) {
      let r = yield* sys.ipc.receive(ANY_THREAD);
      for (;;) {
        sys.charge('User', 2000);
        r = yield* sys.ipc.replyWait(r.ok ? r.from : 0, { label: 0, words: [] });
      }
    },
  });
  const stack = k.createThread({
    name: 'stack',
    space: app,
    priority: 100,
    body: function* (sys: Sys) {
      let r = yield* sys.ipc.receive(ANY_THREAD);
      for (;;) {
        sys.charge('IP', 5000);
        yield* sys.ipc.call(echo, { label: 1, words: [1] });
        sys.charge('IP', 3000);
        r = yield* sys.ipc.replyWait(r.ok ? r.from : 0, { label: 0, words: [] });
      }
    },
  });
  const line = sim.machine.irq(11);
  k.createThread({
    name: 'isr',
    space: drv,
    priority: 200,
    body: function* (sys: Sys) {
      const a = yield* sys.irq.attach(11);
      if (!a.ok) return;
      let r = yield* sys.ipc.receive(a.irqThread);
      for (;;) {
        sys.charge('Driver', 4000);
        line.lower();
        yield* sys.ipc.call(stack, { label: 2, words: [r.ok ? 1 : 0, 2, 3] });
        sys.charge('Driver', 1000);
        yield* sys.yieldCpu();
        r = yield* sys.ipc.replyWait(a.irqThread, { label: 0, words: [] });
      }
    },
  });
  const gap = sim.machine.hz / pps;
  const tick = () => {
    line.raise();
    sim.machine.after(gap, tick);
  };
  sim.machine.schedule(0, tick);
  const [, s] = wall(() => sim.runFor(seconds * sim.machine.hz));
  const c = sim.counters;
  return {
    packets: c.interrupts,
    callsPerPacket: c.kernelCalls / c.interrupts,
    wallPerSimSecond: s / seconds,
    callsPerSec: c.kernelCalls / s,
    idle: sim.accounting.profile().Idle ?? 0,
  };
}

// Warm up the JIT, then measure.
ipcRoundTrips(50_000);
eventsOnly(100_000);
packets(50_000, 0.05);

const rt = ipcRoundTrips(1_000_000);
const ev = eventsOnly(2_000_000);
const pk = packets(50_000, 1);
const f = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`node ${process.version}`);
console.log(`IPC round trips (call + replyWait, 2 spaces): ${f(rt.rtPerSec)} /wall s`);
console.log(`  kernel calls:                               ${f(rt.callsPerSec)} /wall s`);
console.log(`simulated events (event queue only):         ${f(ev)} /wall s`);
console.log(
  `packet workload 50k pkt/s x 1 simulated s:   ${pk.wallPerSimSecond.toFixed(3)} wall s ` +
    `(${pk.callsPerPacket.toFixed(1)} kernel calls/packet, ${f(pk.callsPerSec)} calls/wall s, ` +
    `${pk.packets} packets, idle ${pk.idle.toFixed(1)}%)`,
);
