/**
 * Entry of the device worker ("hardware"): builds the device models from plain-data references
 * over a {@link RealTimeHost} that holds every physical region (DMA reaches all of memory),
 * wires their ports, then loops: execute posted register accesses from each device's MMIO ring
 * in order, run due device events, and wait (`Atomics.waitAsync` on the doorbell, so the event
 * loop stays free for sockets) until a domain posts, a frame arrives or the next event is due.
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
import { drainMmioRing } from './mmio-ring.js';
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
const bell = new Int32Array(data.bell);
const kick = () => {
  Atomics.add(bell, 0, 1);
  Atomics.notify(bell, 0);
};

interface Built {
  readonly name: string;
  readonly device: MmioDevice & { readonly port?: WirePort };
  /** One MMIO ring per domain the device is mapped into. */
  readonly rings: Int32Array[];
}

// libuv timers (and so Atomics.waitAsync timeouts) have millisecond resolution
const TIMER_GRANULARITY_MS = 1;
const spinMs = data.spinMicros / 1000;
let stopping = false;

const drain = { entries: 0, errors: 0, fenced: 0 };

function executeRings(devices: readonly Built[]): void {
  for (const d of devices) for (const r of d.rings) drainMmioRing(r, d.device, drain);
}

async function loop(devices: readonly Built[]): Promise<void> {
  while (!stopping) {
    const v = Atomics.load(bell, 0);
    // events that came due before these accesses were posted happen first, in device time
    host.runDue();
    executeRings(devices);
    host.runDue();
    if (Atomics.load(bell, 0) !== v) continue;
    const delay = host.nextDelayMs();
    if (delay < TIMER_GRANULARITY_MS) {
      // the next event is sooner than a timer can fire (DMA steps, wire times and the hold-off
      // are microseconds): sleep on the doorbell until it is due, the event loop held for at
      // most that long (a datagram waits in the socket meanwhile), then give the event loop one
      // turn for sockets and messages. Whatever came due meanwhile runs in one batch, each
      // event in its own device time (RealTimeHost), so sleeping late costs no device timing.
      if (delay > 0) Atomics.wait(bell, 0, v, delay);
      await new Promise<void>((r) => setImmediate(r));
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
    const w = Atomics.waitAsync(bell, 0, v, delay === Number.POSITIVE_INFINITY ? undefined : delay);
    if (w.async) await w.value;
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
    const device = (make as (h: DeviceHost, c: unknown) => Built['device'])(
      host,
      d.component.config,
    );
    if (device === null || typeof device !== 'object' || typeof device.read32 !== 'function') {
      throw new Error(`device factory '${d.component.export}' did not return an MMIO device`);
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
      const wire = new UdpWire(dev.device.port, w, kick, () => host.runDue());
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
