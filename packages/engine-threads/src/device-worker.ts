/**
 * Entry of the device worker ("hardware"): builds the device models from plain-data references
 * over a {@link RealTimeHost} that holds every physical region (DMA reaches all of memory),
 * wires their ports, then loops: execute posted register accesses from each device's MMIO ring
 * in order, run due device events, and wait (`Atomics.waitAsync` on the doorbell, so the event
 * loop stays free for sockets) until a domain posts, a frame arrives or the next event is due.
 * An event due within microseconds is waited for by spinning, one due within a millisecond by a
 * timed `Atomics.wait`. Rings of the doorbell notify only while the loop has announced a sleep
 * (bit 0 of the doorbell; see `mmio-ring.ts`). Each arriving frame first catches the device up:
 * events due, then posted register accesses. The `stopped` report counts how the loop spent its
 * turns (loops, spins, timed waits, event-loop turns, idle waits, events run) beside the MMIO and
 * wire counters.
 *
 * @module
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { DeviceHost, MmioDevice } from '@udf/l4-kernel';
import type { WirePort } from '@udf/netdev';
import { CycleClock } from './clock.js';
import { ControlBlocks, LOCK_OWNER_DEVICES } from './control-blocks.js';
import { RealTimeHost } from './device-host.js';
import { InterruptTable } from './interrupts.js';
import {
  DEVICE_BELL_SLEEPING,
  drainMmioRing,
  mirrorPageWord,
  ringDeviceBell,
  statusPageWord,
} from './mmio-ring.js';
import { type PhysicalRegion, SharedPhysicalMemory } from './physical-memory.js';
import type { DeviceWorkerData, DeviceWorkerReport } from './protocol.js';
import { linkPorts, UdpWire } from './wire.js';

const data = workerData as DeviceWorkerData;
const port = parentPort!;
const post = (m: DeviceWorkerReport) => port.postMessage(m);

const blocks = new ControlBlocks(data.kernel);
blocks.owner = LOCK_OWNER_DEVICES;
const irq = data.irqTable === null ? null : new InterruptTable(blocks, data.irqTable);
// regions created at run time arrive on the region port; the frame table takes them when an
// address does not resolve (the engine posts a region before anyone can know its address)
const memory: SharedPhysicalMemory = new SharedPhysicalMemory(data.regions, () => {
  let added = false;
  for (;;) {
    const m = receiveMessageOnPort(data.regionPort);
    if (m === undefined) return added;
    memory.addRegion(m.message as PhysicalRegion);
    added = true;
  }
});
const host = new RealTimeHost(new CycleClock(data.hz, data.epochMs), memory, irq);
// The doorbell: every ring adds DEVICE_BELL_RING; bit 0 (DEVICE_BELL_SLEEPING) is set by the loop
// while it waits, and only then does a ring notify (see mmio-ring.ts).
const bell = new Int32Array(data.bell);
const kick = () => ringDeviceBell(bell);

/**
 * Announce a sleep on the doorbell: set DEVICE_BELL_SLEEPING if the doorbell still reads `v`.
 * @returns the value to wait on, or -1 if the doorbell was rung since `v` (do not sleep)
 */
function announceSleep(v: number): number {
  const s = v | DEVICE_BELL_SLEEPING;
  return Atomics.compareExchange(bell, 0, v, s) === v ? s : -1;
}

/** Awake again: clear DEVICE_BELL_SLEEPING (rings need not notify). */
function awake(): void {
  Atomics.and(bell, 0, ~DEVICE_BELL_SLEEPING);
}

interface Built {
  readonly name: string;
  readonly device: MmioDevice & { readonly port?: WirePort };
  /** One MMIO ring per domain the device is mapped into. */
  readonly rings: Int32Array[];
}

// libuv timers (and so Atomics.waitAsync timeouts) have millisecond resolution
const TIMER_GRANULARITY_MS = 1;
/**
 * Events due sooner than this are waited for spinning, not sleeping: a wake-up costs ≈ 30 µs
 * here and a short timed `Atomics.wait` overshoots by ≈ 50–80 µs (Linux's default timer slack
 * is 50 µs), so a sleep shorter than this costs more CPU and far more latency than spinning.
 * Measured: DESIGN.md "Facts measured on this machine"; the overshoot with `bench/profile.ts`.
 */
const SHORT_SPIN_MS = 0.02;
/** Longest the loop spins through short waits without giving the event loop (sockets) a turn. */
const MAX_HOLD_MS = 0.2;
const spinMs = data.spinMicros / 1000;
let stopping = false;

const drain = { entries: 0, errors: 0, fenced: 0 };
/** How the loop spent its turns (for profiling the device worker). */
const turns = {
  loops: 0,
  shortSpins: 0,
  shortWaits: 0,
  immediates: 0,
  asyncWaits: 0,
  events: 0,
};

function executeRings(devices: readonly Built[]): void {
  for (const d of devices) for (const r of d.rings) drainMmioRing(r, d.device, drain);
}

/** Run the events due, then the posted register accesses, then the events due after them. */
function catchUp(devices: readonly Built[]): void {
  turns.events += host.runDue();
  executeRings(devices);
  turns.events += host.runDue();
}

async function loop(devices: readonly Built[]): Promise<void> {
  let turnAt = performance.now();
  const turn = async () => {
    turns.immediates++;
    await new Promise<void>((r) => setImmediate(r));
    turnAt = performance.now();
  };
  while (!stopping) {
    turns.loops++;
    const v = Atomics.load(bell, 0);
    // events that came due before these accesses were posted happen first, in device time
    catchUp(devices);
    if (Atomics.load(bell, 0) !== v) continue;
    const delay = host.nextDelayMs();
    if (delay < TIMER_GRANULARITY_MS) {
      // the next event is sooner than a timer can fire (DMA steps, wire times and the hold-off
      // are microseconds). Sooner than SHORT_SPIN_MS: spin until it is due — sleeping would
      // cost more (a futex sleep and wake-up, and the kernel's timer slack makes a short timed
      // wait last ≈ 50–80 µs more). Later: sleep on the doorbell until it is due. Either way
      // the event loop is held for at most that long (a datagram waits in the socket
      // meanwhile); it gets a turn after a sleep, or when spinning has held it for
      // MAX_HOLD_MS. Whatever came due meanwhile runs in one batch, each event in its own
      // device time (RealTimeHost), so waking late costs no device timing.
      if (delay > 0 && delay < SHORT_SPIN_MS) {
        turns.shortSpins++;
        const until = performance.now() + delay;
        let now = 0;
        do now = performance.now();
        while (now < until && Atomics.load(bell, 0) === v);
        if (now - turnAt >= MAX_HOLD_MS) await turn();
        continue;
      }
      if (delay > 0) {
        const s = announceSleep(v);
        if (s === -1) continue;
        turns.shortWaits++;
        Atomics.wait(bell, 0, s, delay);
        awake();
      }
      await turn();
      continue;
    }
    if (spinMs > 0) {
      // spin on the doorbell first: a register access within the window costs no wake-up
      const until = performance.now() + Math.min(spinMs, delay);
      while (Atomics.load(bell, 0) === v && performance.now() < until) {
        // spin
      }
      if (Atomics.load(bell, 0) !== v) continue;
    }
    const s = announceSleep(v);
    if (s === -1) continue;
    turns.asyncWaits++;
    const w = Atomics.waitAsync(bell, 0, s, delay === Number.POSITIVE_INFINITY ? undefined : delay);
    if (w.async) await w.value;
    awake();
    turnAt = performance.now();
  }
}

async function main(): Promise<void> {
  const devices: Built[] = [];
  for (const d of data.devices) {
    const mod = (await import(d.component.module)) as Record<string, unknown>;
    const make = mod[d.component.export];
    if (typeof make !== 'function') {
      throw new Error(
        `module ${d.component.module} has no function export '${d.component.export}'`,
      );
    }
    // the host as this device sees it: status words come from the device's own status page
    const page = d.status;
    const view: DeviceHost = {
      hz: host.hz,
      memory: host.memory,
      now: () => host.now(),
      schedule: (at, fn) => host.schedule(at, fn),
      irq: (line) => host.irq(line),
      statusWord: (offset, line) => statusPageWord(page, offset, line),
      mirrorWord: (offset) => mirrorPageWord(page, offset),
    };
    const device = (make as (h: DeviceHost, c: unknown) => Built['device'])(
      view,
      d.component.config,
    );
    if (device === null || typeof device !== 'object' || typeof device.read32 !== 'function') {
      throw new Error(`device factory '${d.component.export}' did not return an MMIO device`);
    }
    if (Atomics.load(new Int32Array(page), 0) > 0 && typeof device.statusRead !== 'function') {
      throw new Error(`device '${d.name}' took a status word but has no statusRead`);
    }
    devices.push({ name: d.name, device, rings: d.rings.map((r) => new Int32Array(r)) });
  }
  const byName = new Map(devices.map((d) => [d.name, d]));
  const wires: UdpWire[] = [];
  const addresses: Record<string, { address: string; port: number }> = {};
  for (const d of data.devices) {
    const w = d.wire;
    if (w === undefined) continue;
    const dev = byName.get(d.name)!;
    if (dev.device.port === undefined) throw new Error(`device ${d.name} has no wire port`);
    if (w.kind === 'link') {
      const other = byName.get(w.device)?.device.port;
      if (other === undefined)
        throw new Error(`device ${d.name}: no device ${w.device} to link to`);
      // both ends name each other: link once
      if (d.name < w.device || data.devices.find((x) => x.name === w.device)?.wire === undefined) {
        linkPorts(dev.device.port, other);
      }
    } else {
      // before each frame: the events due and the register accesses posted meanwhile (a driver
      // spinning on a read while the worker serves a burst of datagrams gets its answer)
      const wire = new UdpWire(dev.device.port, w, kick, () => catchUp(devices));
      addresses[d.name] = await wire.bind(w.bind);
      wires.push(wire);
    }
  }
  port.on('message', (m: unknown) => {
    if (m === 'stop') {
      stopping = true;
      kick();
    }
  });
  post({ type: 'ready', addresses });
  await loop(devices);
  for (const w of wires) w.close();
  post({
    type: 'stopped',
    counters: {
      ...turns,
      mmioEntries: drain.entries,
      mmioErrors: drain.errors,
      mmioFenced: drain.fenced,
      eventErrors: host.eventErrors,
      wireRx: wires.reduce((s, w) => s + w.counters.rxFrames, 0),
      wireTx: wires.reduce((s, w) => s + w.counters.txFrames, 0),
      wireDropped: wires.reduce((s, w) => s + w.counters.dropped, 0),
    },
  });
  port.close();
}

main().catch((e: unknown) => {
  post({ type: 'failed', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
});
