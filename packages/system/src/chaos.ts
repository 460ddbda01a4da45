/**
 * Driver fault containment under load (`udf chaos`, issue 18): seeded faults at random moments of
 * an ipbench echo load on the sim engine, and an exact account of each recovery.
 *
 * Faults, injected into a user-level driver from outside (the engine side):
 * - `kill`: the driver thread dies as if its code had thrown (`Kernel.injectFailure`); the
 *   kernel tells the device supervisor, which restarts it.
 * - `hang`: the driver thread stops at its next kernel call and never runs again, alive
 *   (`Kernel.injectHang`); the supervisor finds its heartbeat still while work is pending.
 * - `corrupt`: garbage descriptors appear in the driver's return rings of every session, as a
 *   buggy driver would write them; the client validates, counts and drops them, and carries on.
 * - `iommu`: the driver's receive descriptors are aimed at memory it was never given (the
 *   dataspace manager's counters page), as a malicious driver would program them; with this kind every NIC of the system is
 *   put behind the IOMMU, which refuses the next DMA, and the device supervisor treats the fault
 *   as a crash of the driver (reset, restart).
 *
 * Accounting follows every probe of the load on the target NIC's wire (a tap in the realiser):
 * when it reached the NIC and when its echo left the NIC, if ever. For fault `i`, the driver's
 * custody ends at `E_i` — when the supervisor reset the device (a kill or a hang) or at
 * injection (corrupt) — and service resumes at `R_i`, when the first echo leaves the NIC after
 * `E_i`:
 * - `inFlightAtFault`: probes that reached the NIC after the previous fault's `R` and by `E_i`
 *   and whose echo had not left it by `E_i` — in the NIC, in the driver's rings, in the stack
 *   (probes still queued in the network, e.g. in the switch, are not in the target's custody).
 *   A flow is echoed in order, so a probe that arrived before one already echoed by `E_i` and is
 *   never echoed was dropped before the fault (overload), not in flight: it counts as
 *   `otherLost`;
 * - `lostPackets`: those of them never echoed;
 * - `outageSeconds`: `R_i` minus the fault's time; probes reaching the NIC in `(E_i, R_i]` and
 *   lost are the outage's own losses (`outageLost`), not packets in flight at the fault.
 *
 * @module
 */
import { CMDSTS, DESC_LAYOUT_32, type Dp83820, Reg } from '@udf/driver-dp83820';
import { probeSeq, probeTimestamp } from '@udf/ipbench';
import { NetSessionDriver, netSessionLayout } from '@udf/netdev';
import { StepOptionsError } from './errors.js';
import { COUNTERS_VADDR, type DriverPlan, plan } from './plan.js';
import { type AssembledSystem, realizeSim } from './realize-sim.js';
import { startUp } from './runner.js';
import type { SystemDescription } from './schema.js';

/** A kind of injected driver fault. */
export type ChaosFaultKind = 'kill' | 'hang' | 'corrupt' | 'iommu';

/** Every fault kind `udf chaos` knows. */
export const CHAOS_FAULT_KINDS: readonly ChaosFaultKind[] = ['kill', 'hang', 'corrupt', 'iommu'];

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /** Seed of the fault schedule and of the run (same seed, same report). */
  readonly seed: number;
  /** Faults to inject, spread over the load (one per equal slot of the window). */
  readonly faults: number;
  /** Kinds to draw from. */
  readonly kinds: readonly ChaosFaultKind[];
  /** Offered load per NIC, Mb/s of UDP payload. */
  readonly loadMbps: number;
  /** Virtual milliseconds of load. */
  readonly durationMs: number;
  /** UDP payload bytes (default 1024). */
  readonly packetSize?: number;
  /** Garbage descriptors a `corrupt` fault writes into each return ring (default 8). */
  readonly garbagePerRing?: number;
}

/** One injected fault and its recovery. */
export interface ChaosFaultRecord {
  /** What was injected. */
  readonly kind: ChaosFaultKind;
  /** The driver thread it hit. */
  readonly driver: string;
  /** When, in seconds since the load started. */
  readonly atSeconds: number;
  /** From the fault to the end of the driver's custody (device reset), in seconds. */
  readonly detectSeconds: number;
  /** From the fault until an echo leaves the NIC again, in seconds. */
  readonly outageSeconds: number;
  /** Probes in flight at the end of the driver's custody that were never echoed. */
  readonly lostPackets: number;
  /** Probes in flight at the end of the driver's custody (see the module comment). */
  readonly inFlightAtFault: number;
  /** Probes sent during the outage and lost (the NIC was reset and not yet re-armed). */
  readonly outageLost: number;
  /** True if the supervisor restarted the driver for this fault. */
  readonly restarted: boolean;
}

/** What {@link runChaos} measured. */
export interface ChaosReport {
  /** The system's name. */
  readonly system: string;
  /** The options, as run. */
  readonly seed: number;
  /** Offered load per NIC, Mb/s. */
  readonly loadMbps: number;
  /** Virtual milliseconds of load. */
  readonly durationMs: number;
  /** One record per fault, in time order. */
  readonly faults: readonly ChaosFaultRecord[];
  /** Sums over the run. */
  readonly totals: {
    readonly faults: number;
    readonly restarts: number;
    /** Probes sent in the window that reached the target NIC (the network may drop some). */
    readonly arrived: number;
    /** Of those, how many were echoed out of the NIC. */
    readonly echoed: number;
    readonly lostPackets: number;
    readonly inFlightAtFault: number;
    readonly outageLost: number;
    /** Probes lost outside every fault's custody and outage (none expected). */
    readonly otherLost: number;
    readonly maxOutageSeconds: number;
    readonly meanOutageSeconds: number;
    /** Garbage descriptors written by `corrupt` faults, and how many the clients counted. */
    readonly garbageWritten: number;
    readonly corruptCounted: number;
    /** Threads that died without a supervisor (the run would have stopped: 0). */
    readonly unsupervisedFailures: number;
  };
}

/** mulberry32: a small seeded generator, enough to place faults reproducibly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Probe {
  /** The flow (NIC and client port): echoes of one flow leave in the order probes arrive. */
  flow: number;
  /** The client's send timestamp (cycles). */
  sentAt: number;
  /** When it reached the target NIC (cycles). */
  arrivedAt: number;
  /** When its echo left the target NIC (cycles), NaN if never. */
  departedAt: number;
}

const ETHERTYPE_IPV4 = 0x0800;
const UDP = 17;

/** The client port and probe of a UDP frame to or from `echoPort`, or null. */
function probeOf(
  frame: Uint8Array,
  echoPort: number,
  fromDevice: boolean,
): { port: number; seq: number; sentAt: number } | null {
  if (frame.length < 42 || ((frame[12]! << 8) | frame[13]!) !== ETHERTYPE_IPV4) return null;
  const ihl = (frame[14]! & 0x0f) * 4;
  if (frame[23] !== UDP) return null;
  const udp = 14 + ihl;
  const src = (frame[udp]! << 8) | frame[udp + 1]!;
  const dst = (frame[udp + 2]! << 8) | frame[udp + 3]!;
  const payload = udp + 8;
  if (frame.length < payload + 24) return null;
  if (fromDevice ? src !== echoPort : dst !== echoPort) return null;
  return {
    port: fromDevice ? dst : src,
    seq: probeSeq(frame, payload),
    sentAt: probeTimestamp(frame, payload),
  };
}

/** Check the options; throws {@link StepOptionsError} naming the field. */
function checkOptions(o: ChaosOptions): void {
  const bad = (field: string, why: string) => {
    throw new StepOptionsError(`${field}: ${why}`);
  };
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)
    bad('seed', `expected an integer from 0 to 4294967295, got ${o.seed}`);
  if (!Number.isInteger(o.faults) || o.faults < 1 || o.faults > 100)
    bad('faults', `expected an integer from 1 to 100, got ${o.faults}`);
  if (o.kinds.length === 0 || o.kinds.some((k) => !CHAOS_FAULT_KINDS.includes(k)))
    bad('kinds', `expected some of ${CHAOS_FAULT_KINDS.join(', ')}, got ${o.kinds.join(',')}`);
  if (!(o.loadMbps > 0 && o.loadMbps <= 1000))
    bad('loadMbps', `expected a number in (0, 1000], got ${o.loadMbps}`);
  if (!(o.durationMs >= 10 * o.faults && o.durationMs <= 60_000))
    bad('durationMs', `expected at least 10 ms per fault and at most 60000, got ${o.durationMs}`);
}

/**
 * Run an echo load on `sys` with seeded driver faults; returns one record per fault.
 * @throws StepOptionsError on bad options or a system without a user-level driver
 */
export async function runChaos(
  sys: SystemDescription,
  options: ChaosOptions,
): Promise<ChaosReport> {
  checkOptions(options);
  const rnd = random(options.seed);
  const probes = new Map<number, Probe>();
  // DMA outside the driver's pins is caught only behind an IOMMU.
  const described: SystemDescription = options.kinds.includes('iommu')
    ? { ...sys, nics: sys.nics.map((n) => ({ ...n, iommu: true })) }
    : sys;
  const planned0 = plan(described, {
    seed: options.seed,
    ...(options.packetSize !== undefined ? { packetSize: options.packetSize } : {}),
  });
  const echoPort = planned0.load.echoPort;
  const key = (nic: number, port: number, seq: number) => (nic * 65536 + port) * 2 ** 24 + seq;
  let built: AssembledSystem | null = null;
  const nicIndex = new Map(sys.nics.map((n, i) => [n.name, i]));
  const tap = (nic: string, fromDevice: boolean, frame: Uint8Array) => {
    const p = probeOf(frame, echoPort, fromDevice);
    if (p === null) return;
    const k = key(nicIndex.get(nic)!, p.port, p.seq);
    if (!fromDevice) {
      if (!probes.has(k))
        probes.set(k, {
          flow: Math.floor(k / 2 ** 24),
          sentAt: p.sentAt,
          arrivedAt: built!.sim.now(),
          departedAt: Number.NaN,
        });
    } else {
      const probe = probes.get(k);
      if (probe !== undefined && Number.isNaN(probe.departedAt))
        probe.departedAt = built!.sim.now();
    }
  };
  built = realizeSim(planned0, { wireTap: tap });
  const b = built;
  const { sim } = b;
  const k = sim.kernel;
  const hz = sim.machine.hz;
  const drivers = b.plan.components.filter(
    (c): c is DriverPlan => c.kind === 'dp83820-driver' && !c.inKernel,
  );
  if (drivers.length === 0)
    throw new StepOptionsError(`${sys.name}: no user-level driver to inject faults into`);
  startUp(b);

  // The schedule: one fault per equal slot of the window, in the slot's first half.
  const start = sim.now();
  const window = (options.durationMs / 1000) * hz;
  const slot = window / options.faults;
  const planned = Array.from({ length: options.faults }, (_, i) => ({
    at: Math.round(start + i * slot + slot * (0.1 + 0.4 * rnd())),
    kind: options.kinds[Math.floor(rnd() * options.kinds.length)]!,
    driver: drivers[Math.floor(rnd() * drivers.length)]!,
  }));
  const garbagePerRing = options.garbagePerRing ?? 8;
  let garbageWritten = 0;
  const threadOf = (d: DriverPlan) => k.allThreads().find((t) => t.name === d.thread)!.id;
  // What an `iommu` fault aims at: the dataspace manager's counters page, never the driver's.
  const managerSpace = k.allThreads().find((t) => t.name === 'dataspace-manager')!.space;
  const victim = k.lookup(managerSpace, COUNTERS_VADDR)!.paddr;
  for (const f of planned) {
    sim.machine.schedule(f.at, () => {
      const id = threadOf(f.driver);
      if (f.kind === 'kill') k.injectFailure(id, new Error('udf chaos: injected driver fault'));
      else if (f.kind === 'hang') k.injectHang(id);
      else if (f.kind === 'iommu') aimRxRings(b, f.driver, victim);
      else garbageWritten += corrupt(b, f.driver, garbagePerRing, rnd);
    });
  }

  // The load: every client for the window, then a cool-down that drains what is in flight.
  const perClient = (options.loadMbps * b.plan.devices.length) / b.clients.length;
  let done = 0;
  for (const c of b.clients) {
    void c
      .start({
        rateMbps: perClient,
        packetSize: b.plan.load.packetSize,
        warmupS: 0,
        durationS: options.durationMs / 1000,
        cooldownS: 0.02,
      })
      .then(() => done++);
  }
  const slice = Math.round(hz / 1000);
  while (done < b.clients.length) {
    sim.runFor(slice);
    await Promise.resolve();
  }
  return account(b, sys.name, options, planned, probes, start, garbageWritten);
}

/**
 * Aim every receive descriptor the driver's NICs own at physical address `victim` (the rings
 * written raw, as the driver could): the next received frame is DMAed there.
 */
function aimRxRings(b: AssembledSystem, d: DriverPlan, victim: number): void {
  const mem = b.sim.machine.memory;
  const L = DESC_LAYOUT_32;
  for (const dev of d.devices) {
    const nic = b.sim.machine.devices.get(dev.device) as Dp83820;
    const start = nic.read32(Reg.RXDP) >>> 0;
    let at = start;
    for (let n = 0; at !== 0 && n < 4096; n++) {
      if ((mem.read32(at + L.cmdsts) & CMDSTS.OWN) === 0) mem.write32(at + L.bufptr, victim);
      at = mem.read32(at + L.link) >>> 0;
      if (at === start) break;
    }
  }
}

/** Write garbage descriptors into the return rings of every session of a driver. */
function corrupt(b: AssembledSystem, d: DriverPlan, perRing: number, rnd: () => number): number {
  const k = b.sim.kernel;
  const space = k.allThreads().find((t) => t.name === d.thread)!.space;
  let n = 0;
  for (const index of d.sessions) {
    const s = b.plan.sessions[index]!;
    const paddr = k.lookup(space, s.controlVaddr)!.paddr;
    const region = b.sim.machine.memory.regionOf(paddr)!;
    const net = new NetSessionDriver({
      buffer: region.buffer,
      byteOffset: region.byteOffset + paddr - region.paddr,
      capacity: s.ringCapacity,
    });
    if (netSessionLayout(s.ringCapacity).byteLength > region.size) continue;
    const word = () => Math.floor(rnd() * 4294967296);
    for (let i = 0; i < perRing; i++) {
      if (net.deliverRx(word(), word(), word(), word())) n++;
      if (net.completeTx(word(), word(), word(), word())) n++;
    }
  }
  return n;
}

function account(
  b: AssembledSystem,
  system: string,
  options: ChaosOptions,
  planned: readonly { at: number; kind: ChaosFaultKind; driver: DriverPlan }[],
  probes: ReadonlyMap<number, Probe>,
  start: number,
  garbageWritten: number,
): ChaosReport {
  const hz = b.sim.machine.hz;
  const seconds = (cycles: number) => cycles / hz;
  const restarts = [...b.restarts()];
  // Probes sent in the window; those of the cool-down only drain it (their echoes count too).
  const windowEnd = start + (options.durationMs / 1000) * hz;
  const all = [...probes.values()]
    .filter((p) => p.sentAt <= windowEnd)
    .sort((x, y) => x.arrivedAt - y.arrivedAt);
  const departures = [...probes.values()]
    .map((p) => p.departedAt)
    .filter((t) => !Number.isNaN(t))
    .sort((x, y) => x - y);
  const firstDepartureAfter = (t: number) => {
    let lo = 0;
    let hi = departures.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (departures[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo < departures.length ? departures[lo]! : Number.NaN;
  };
  const records: ChaosFaultRecord[] = [];
  const counted = new Set<Probe>();
  let previousResume = Number.NEGATIVE_INFINITY;
  let restartIndex = 0;
  for (const f of planned) {
    // The restart this fault caused: the next one the supervisor made at or after it.
    let end = f.at;
    let restarted = false;
    if (f.kind !== 'corrupt') {
      while (restartIndex < restarts.length && restarts[restartIndex]!.detectedAt < f.at)
        restartIndex++;
      const r = restarts[restartIndex];
      if (r !== undefined) {
        end = r.detectedAt;
        restarted = true;
        restartIndex++;
      }
    }
    const resume = firstDepartureAfter(end);
    // Per flow, the latest arrival already echoed by `end`: anything lost before it was
    // dropped earlier, not in flight at the fault.
    const echoedUpTo = new Map<number, number>();
    for (const p of all) {
      if (p.departedAt <= end && p.arrivedAt > (echoedUpTo.get(p.flow) ?? -1))
        echoedUpTo.set(p.flow, p.arrivedAt);
    }
    let inFlight = 0;
    let lost = 0;
    let outageLost = 0;
    for (const p of all) {
      if (p.arrivedAt <= previousResume || counted.has(p)) continue;
      const echoed = !Number.isNaN(p.departedAt);
      if (p.arrivedAt <= end) {
        if (p.arrivedAt < (echoedUpTo.get(p.flow) ?? -1)) continue; // dropped before the fault
        if (!echoed || p.departedAt > end) {
          inFlight++;
          if (!echoed) lost++;
        }
        counted.add(p);
      } else if (p.arrivedAt <= resume || Number.isNaN(resume)) {
        if (!echoed) outageLost++;
        counted.add(p);
      }
    }
    records.push({
      kind: f.kind,
      driver: f.driver.thread,
      atSeconds: seconds(f.at - start),
      detectSeconds: seconds(end - f.at),
      outageSeconds: Number.isNaN(resume) ? seconds(b.sim.now() - f.at) : seconds(resume - f.at),
      lostPackets: lost,
      inFlightAtFault: inFlight,
      outageLost,
      restarted,
    });
    previousResume = Number.isNaN(resume) ? Number.POSITIVE_INFINITY : resume;
  }
  let otherLost = 0;
  for (const p of all) if (!counted.has(p) && Number.isNaN(p.departedAt)) otherLost++;
  const c = b.counters();
  let corruptCounted = 0;
  for (const [name, v] of Object.entries(c))
    if (name.endsWith('.session.corrupt')) corruptCounted += v;
  const outages = records.map((r) => r.outageSeconds);
  const sum = (f: (r: ChaosFaultRecord) => number) => records.reduce((n, r) => n + f(r), 0);
  return {
    system,
    seed: options.seed,
    loadMbps: options.loadMbps,
    durationMs: options.durationMs,
    faults: records,
    totals: {
      faults: records.length,
      restarts: restarts.length,
      arrived: all.length,
      echoed: all.filter((p) => !Number.isNaN(p.departedAt)).length,
      lostPackets: sum((r) => r.lostPackets),
      inFlightAtFault: sum((r) => r.inFlightAtFault),
      outageLost: sum((r) => r.outageLost),
      otherLost,
      maxOutageSeconds: Math.max(...outages),
      meanOutageSeconds: outages.reduce((x, y) => x + y, 0) / outages.length,
      garbageWritten,
      corruptCounted,
      unsupervisedFailures: b.sim.kernel.failures.length,
    },
  };
}
