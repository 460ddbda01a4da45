/**
 * The threads realiser: builds a {@link SystemPlan} on `@udf/engine-threads`, where every
 * planned protection domain is a worker thread, the NICs are `Dp83820` models in the engine's
 * device worker ("hardware"), and each NIC's wire is a real UDP port (one Ethernet frame per
 * datagram) that the ipbench clients in the main thread — or a user's own tools — talk to.
 *
 * It builds the same components as {@link realizeSim}, from the same plain-data references: the
 * dataspace manager (`dataspaceManagerServer`), the drivers (`dp83820DriverServer`), the stacks
 * (`stackServer`) and their region mappers, each inside its own domain's worker. The memory
 * source (sigma0's role) and the device supervisor are root-task threads in the main thread, as
 * the engine's kernel slow path. Regions are allocated and mapped as the plan says: session
 * control regions into driver and client, descriptor rings into the driver (physical: the NIC
 * DMAs them), a counters page per domain; the manager's dataspaces and translation tables are
 * regions the memory source allocates at run time and the manager maps to clients and drivers
 * by IPC (map items through the engine's slow path), as on the sim.
 *
 * The monolithic baseline is refused ({@link ThreadsPlacementError}): its receive livelock is a
 * uniprocessor, interrupt-priority phenomenon (driver and stack at interrupt priority starve the
 * user-level echo of the one CPU), and on threads the OS schedules the workers on all CPUs with
 * no notion of interrupt priority — there is nothing for it to show there.
 *
 * @module
 */
import { type IommuDomainConfig, readCountersPage } from '@udf/dataspace';
import {
  type DeviceId,
  type DomainId,
  type PhysicalRegion,
  ThreadsEngine,
  type ThreadsEngineOptions,
  type UdpAddress,
} from '@udf/engine-threads';
import { type Clock, RealClock, SimClient } from '@udf/ipbench';
import type { ThreadId } from '@udf/l4-kernel';
import { UdfError } from '@udf/lockfree';
import type { StackServerConfig } from '@udf/lwip-lite';
import { CALIBRATION, type CalibrationFactors, componentCosts } from './calibration.js';
import type { ComponentRef } from './components.js';
import { AssemblyError } from './errors.js';
import {
  type ComponentPlan,
  type ManagerPlan,
  postedReceivePages,
  ROOT_TASK_SPACE,
  type StackPlan,
  type SystemPlan,
  stackSessions,
} from './plan.js';
import { ThreadRunLedger } from './threads-cpu.js';
import { NicStatsPage, type ThreadsNicConfig } from './threads-devices.js';
import { FrameRing, InProcessFrameLink } from './threads-frame-ring.js';
import { threadsComponentRef } from './threads-hostile.js';
import { createThreadsIommu, type ThreadsIommu } from './threads-iommu.js';
import {
  driversRestartable,
  THREADS_MIN_HEARTBEAT_SECONDS,
  ThreadsDriverRestarter,
  type ThreadsRestartView,
} from './threads-restart.js';
import { createRootTask, type ThreadsRootTask } from './threads-root-task.js';
import { UdpFrameLink } from './threads-wire.js';

// Hostile components on threads (threads-hostile.ts).
export * from './threads-hostile.js';
// IOMMU tables on threads (threads-iommu.ts).
export * from './threads-iommu.js';
// Driver restart on threads is public with the realiser that wires it (threads-restart*.ts).
export * from './threads-restart.js';
export * from './threads-restart-measure.js';

/** A placement the threads engine cannot run (code `THREADS_PLACEMENT`). */
export class ThreadsPlacementError extends UdfError {
  /** @param message - which placement and why */
  constructor(message: string) {
    super('THREADS_PLACEMENT', message);
  }
}

/** Why the monolithic baseline is sim-only (used in errors, CLI help and docs). */
export const MONOLITHIC_SIM_ONLY =
  'the monolithic baseline runs on the sim engine only: its receive livelock is a uniprocessor, interrupt-priority phenomenon (driver and stack at interrupt priority starve the user-level echo of the one CPU), and the threads engine has neither one CPU nor interrupt priority (the OS schedules the domain workers)';

/**
 * How each NIC is wired.
 * - `load` (default): the plan's ipbench clients in the main thread on the other end of each
 *   NIC's wire ({@link ThreadsSystem.clients}); `via` `'udp'` (default) is the engine's UDP wire
 *   on 127.0.0.1 (any free port), `'in-process'` two shared-memory frame rings between the
 *   device worker and the main thread (no socket; for fast runs and tests).
 * - `udp`: NIC `i` bound to `bind.port + i` on `bind.address` (port 0: any free port), no
 *   clients: a user's tools (or another process's load generator) are on the other end.
 */
export type ThreadsWire =
  | { readonly kind: 'load'; readonly via?: 'udp' | 'in-process' }
  | { readonly kind: 'udp'; readonly bind: UdpAddress };

/** Options of {@link realizeThreads} that are not part of the plan. */
export interface RealizeThreadsOptions {
  /** Wiring (default `{ kind: 'load' }`). */
  readonly wire?: ThreadsWire;
  /** Engine options (spin, start timeout, worker script). */
  readonly engine?: ThreadsEngineOptions;
  /** Component cost factors handed to components (their charges are no-ops on threads). */
  readonly calibration?: CalibrationFactors;
  /** Clock the ipbench clients pace on (default a `RealClock`). */
  readonly clock?: Clock;
  /**
   * Restart drivers that die or hang where the placement allows it (default true; see
   * {@link ThreadsSystem.restart}). False: drivers are reset on a quota disable only, as
   * without restart — no heartbeat checks, so a worker the OS leaves unscheduled is never
   * restarted in the middle of a measurement.
   */
  readonly restart?: boolean;
  /**
   * Build another component in place of a planned driver or stack, as `realizeSim`'s option of
   * the same name: called with the reference the realiser would build and the component's plan,
   * returns the reference to build instead (plain data). `module: '@udf/system'` may name
   * `hostileStackServer` and `hostileDriverServer` (`hostile-components.ts`; the workers import
   * them from this package's entry module, see `threads-hostile.ts`). A restarted driver is rebuilt from the substitute.
   */
  readonly substitute?: (ref: ComponentRef, component: ComponentPlan) => ComponentRef;
}

/** What {@link realizeThreads} returns; call {@link ThreadsSystem.start} to run it. */
export interface ThreadsSystem {
  /** The plan that was built. */
  readonly plan: SystemPlan;
  /** The engine (set up; running after `start`). */
  readonly engine: ThreadsEngine;
  /** The ipbench clients (wire `load`), `clientsPerNic` per NIC; empty otherwise. */
  readonly clients: SimClient[];
  /** The clock the clients pace on. */
  readonly clock: Clock;
  /** Start the workers and the root task, bind the wires, open the clients' links. */
  start(): Promise<void>;
  /** Stop everything (idempotent). */
  stop(): Promise<void>;
  /** The UDP address of each NIC's wire by NIC name (after start). */
  wires(): Readonly<Record<string, UdpAddress>>;
  /** Every component's counters, flattened (`driver.rxFrames`, `nic0.rxOverruns`, ...). */
  counters(): Record<string, number>;
  /** True once every manager, driver and stack serves and every NIC's receiver is enabled. */
  ready(): boolean;
  /** Throw an {@link AssemblyError} if a component failed or a domain is not serving. */
  checkStarted(): void;
  /**
   * Linux thread id of each domain's worker and of the device worker (`devices`), 0 unknown. A
   * restarted driver's domain names its fresh worker once that runs.
   */
  threadIds(): Record<string, number>;
  /**
   * Each domain's (and the device worker's) run time across its workers: the CPU meter's
   * source, which keeps a restarted driver's dead worker's time in its domain's total.
   */
  readonly cpu: ThreadRunLedger;
  /** Domain name of each engine domain, in creation order (index = engine `DomainId`). */
  readonly domains: readonly string[];
  /** The regions the memory source allocated so far (dataspaces and translation tables). */
  allocatedRegions(): readonly PhysicalRegion[];
  /**
   * Driver restart (isolated, clustered): the supervisor restarts a driver that dies or hangs,
   * as on the sim (see `threads-restart.ts`). Null where drivers share a worker with other
   * components (embedded): those are reset on a quota disable only.
   */
  readonly restart: ThreadsRestartView | null;
  /** One IOMMU table per driver whose NICs are behind an IOMMU (`iommu: true`), else empty. */
  readonly iommu: readonly ThreadsIommu[];
  /** A planned physical region (descriptor rings, session control, ...) by plan name. */
  physicalRegion(name: string): PhysicalRegion | undefined;
}

function only<K extends ComponentPlan['kind']>(
  plan: SystemPlan,
  kind: K,
): Extract<ComponentPlan, { kind: K }>[] {
  return plan.components.filter((c): c is Extract<ComponentPlan, { kind: K }> => c.kind === kind);
}

/** URL of a module of this package next to this one (TypeScript sources under tests). */
function moduleUrl(name: string): string {
  const here = import.meta.url;
  return new URL(`./${name}${here.endsWith('.ts') ? '.ts' : '.js'}`, here).href;
}

/** Refuse what the threads engine cannot run. @throws ThreadsPlacementError */
export function checkThreadsPlan(plan: SystemPlan): void {
  const kernel = plan.spaces.find((s) => s.global);
  const inKernel = only(plan, 'dp83820-driver').find((d) => d.inKernel);
  const sockets = only(plan, 'ip-stack').find((s) => s.socketEcho !== null);
  if (kernel || inKernel || sockets) {
    throw new ThreadsPlacementError(`${plan.name}: ${MONOLITHIC_SIM_ONLY}`);
  }
}

/**
 * Build a plan on a fresh threads engine. Nothing runs until {@link ThreadsSystem.start}.
 *
 * @throws ThreadsPlacementError for the monolithic baseline (see {@link MONOLITHIC_SIM_ONLY})
 * @throws AssemblyError if the plan is inconsistent
 */
export function realizeThreads(
  plan: SystemPlan,
  options: RealizeThreadsOptions = {},
): ThreadsSystem {
  checkThreadsPlan(plan);
  const wire = options.wire ?? { kind: 'load' };
  // Interrupt lines: the engine's default 64, or more when IOMMU fault lines lie beyond.
  const lines = Math.max(64, ...plan.devices.map((d) => (d.iommuFaultIrq ?? -1) + 1));
  const engine = new ThreadsEngine({
    hz: plan.machine.hz,
    ...(lines > 64 ? { interruptLines: lines } : {}),
    ...options.engine,
  });
  const cc = componentCosts(options.calibration ?? CALIBRATION);
  const components = moduleUrl('threads-components');
  // What a substitute puts in place of a planned driver or stack (threads-hostile.ts): this
  // package's components are imported from its own entry module, which exports them (in the
  // sources and in the build alike).
  const hostileUrl = moduleUrl('hostile-components');
  const substitute = (ref: ComponentRef, c: ComponentPlan): ComponentRef =>
    options.substitute ? threadsComponentRef(options.substitute(ref, c), hostileUrl) : ref;
  const hz = engine.hz;

  // One engine domain (worker) per planned protection domain; the root task is the main thread.
  const domainIds = new Map<string, DomainId>();
  const domainNames: string[] = [];
  for (const s of plan.spaces) {
    if (s.name === ROOT_TASK_SPACE) continue;
    domainIds.set(s.name, engine.createDomain(s.name));
    domainNames.push(s.name);
  }
  const domain = (name: string): DomainId => {
    const id = domainIds.get(name);
    if (id === undefined) throw new AssemblyError(`plan names unknown domain "${name}"`);
    return id;
  };

  // Linux thread ids, written by each worker (a probe thread per domain, the NIC factory; the
  // restarter, for a restarted driver's fresh worker); read through one ledger, so a domain's
  // run time carries its dead workers'.
  const tids = new SharedArrayBuffer(4 * (domainNames.length + 1));
  const threadIds = (): Record<string, number> => {
    const t = new Int32Array(tids);
    const out: Record<string, number> = {};
    domainNames.forEach((name, i) => {
      out[name] = Atomics.load(t, i);
    });
    if (plan.devices.length > 0) out.devices = Atomics.load(t, domainNames.length);
    return out;
  };
  const cpu = new ThreadRunLedger(threadIds);

  // Regions: each a region of its own (physical: DMA reaches it), granted where the plan says.
  const counterPages: { domain: string; buffer: SharedArrayBuffer }[] = [];
  const regionPaddr = new Map<string, number>();
  const physicalRegions = new Map<string, PhysicalRegion>();
  // (the root task's mappings — the supervisor's view of each session's control region — are
  // granted once the root-task domain exists, below)
  const rootGrants: { vaddr: number; region: PhysicalRegion }[] = [];
  for (const r of plan.regions) {
    if (r.purpose === 'counters') {
      const buffer = new SharedArrayBuffer(r.bytes);
      for (const m of r.mappings) engine.grantRegion(domain(m.space), m.vaddr, buffer);
      counterPages.push({ domain: r.mappings[0]!.space, buffer });
      continue;
    }
    const region = engine.createRegion(r.bytes);
    regionPaddr.set(r.name, region.paddr);
    physicalRegions.set(r.name, region);
    for (const m of r.mappings) {
      if (m.space === ROOT_TASK_SPACE) rootGrants.push({ vaddr: m.vaddr, region });
      else engine.grantRegion(domain(m.space), m.vaddr, region);
    }
  }

  // IOMMU tables: one region per driver behind an IOMMU, mapped into the manager's domain; each
  // of the driver's NICs gets it in the device worker, and the manager the drivers' ids below.
  const iommu = createThreadsIommu(
    engine,
    plan,
    regionPaddr,
    domain(only(plan, 'dataspace-manager')[0]!.space),
  );
  const iommuDomains: IommuDomainConfig[] = [];

  // NICs in the device worker, wired as asked.
  const supPlan = only(plan, 'device-supervisor')[0]!;
  const inProcess = wire.kind === 'load' && wire.via === 'in-process';
  const nics = plan.devices.map((dev, i) => {
    const stats = new NicStatsPage();
    const table = iommu.find((t) => t.devices.includes(dev.name));
    const rings = inProcess ? { toNic: FrameRing.create(), fromNic: FrameRing.create() } : null;
    const config: ThreadsNicConfig = {
      irqLine: dev.irq,
      mac: dev.mac,
      eeprom64: dev.eeprom64,
      timing: {
        pciClockHz: dev.pci.clockHz,
        pciBusBytes: dev.pci.busBytes,
        readLatencyClocks: dev.pci.readLatencyClocks,
      },
      stats: stats.buffer,
      ...(i === 0 ? { probe: { out: tids, slot: domainNames.length } } : {}),
      ...(rings ? { inProcess: { toNic: rings.toNic.buffer, fromNic: rings.fromNic.buffer } } : {}),
      ...(table && dev.iommu
        ? {
            iommu: {
              table: table.region.buffer,
              frames: table.frames,
              ...(dev.iommuFaultIrq !== null ? { faultLine: dev.iommuFaultIrq } : {}),
            },
          }
        : {}),
    };
    const bind: UdpAddress =
      wire.kind === 'udp'
        ? { address: wire.bind.address, port: wire.bind.port === 0 ? 0 : wire.bind.port + i }
        : { address: '127.0.0.1', port: 0 };
    const id: DeviceId = engine.createDevice({
      name: dev.name,
      component: { module: moduleUrl('threads-devices'), export: 'dp83820Device', config },
      ...(rings ? {} : { wire: { kind: 'udp', bind } }),
    });
    if (supPlan.registers.find((r) => r.device === dev.name) === undefined)
      throw new AssemblyError(`supervisor has no window for ${dev.name}`);
    return { plan: dev, id, stats, rings };
  });

  // Root task (main thread): the memory source and the device supervisor. Their thread ids are
  // handed out now, so components can name them in their configuration.
  const sourcePlan = only(plan, 'memory-source')[0]!;
  const mgrPlan: ManagerPlan = only(plan, 'dataspace-manager')[0]!;
  if (mgrPlan.memorySource !== sourcePlan.thread)
    throw new AssemblyError(`manager's memory source "${mgrPlan.memorySource}" is not planned`);
  if (mgrPlan.supervisor !== supPlan.thread)
    throw new AssemblyError('the device supervisor must serve the planned manager');
  const root: ThreadsRootTask = createRootTask(engine, {
    source: { name: sourcePlan.thread, priority: sourcePlan.priority },
    supervisor: { name: supPlan.thread, priority: supPlan.priority },
    ackTimeout: Math.max(1, Math.round(supPlan.ackSeconds * hz)),
    domainOf: (t: ThreadId) => engine.threadInfo(t)?.space,
  });
  for (const g of rootGrants) engine.grantRegion(root.domain, g.vaddr, g.region);
  // The supervisor's own mapping of every NIC's registers (the reset path), in the root task.
  for (const n of nics) {
    const w = supPlan.registers.find((r) => r.device === n.plan.name)!;
    engine.mapDevice(root.domain, n.id, w.vaddr);
  }
  const create = (
    d: string,
    name: string,
    priority: number,
    ref: ComponentRef,
    pager?: ThreadId,
  ): ThreadId => {
    const id = engine.createThread({
      domain: domain(d),
      name,
      priority,
      component: { module: ref.module, export: ref.export, config: ref.config },
      ...(pager !== undefined ? { pager } : {}),
    });
    return id;
  };

  // The dataspace manager, its frames from the memory source.
  const managerId = create(mgrPlan.space, mgrPlan.thread, mgrPlan.priority, {
    module: components,
    export: 'dataspaceManagerServer',
    config: {
      pool: { vaddr: mgrPlan.pool.vaddr, bytes: mgrPlan.pool.bytes },
      memorySource: root.sourceId,
      supervisor: root.supervisorId,
      counters: mgrPlan.counters,
      scanInterval: Math.max(1, Math.round(mgrPlan.pinScanSeconds * hz)),
      pinQuota: {
        maxPinnedPages: mgrPlan.pinQuotaPages,
        maxPinCycles: Math.round(mgrPlan.maxPinSeconds * hz),
        maxLongPinnedPages: postedReceivePages(plan),
      },
      costs: cc.dataspace,
      // filled in with the drivers' ids below, before start (configs are cloned at start)
      iommu: iommuDomains,
    },
  });
  if (supPlan.manager !== mgrPlan.thread)
    throw new AssemblyError('the device supervisor must serve the planned manager');
  // Driver restart where each driver has a worker of its own (threads-restart.ts).
  const restarter =
    options.restart !== false && driversRestartable(plan)
      ? new ThreadsDriverRestarter(engine, [], {
          ledger: cpu,
          moved: (name, tid) => {
            const slot = domainNames.indexOf(name);
            if (slot >= 0) Atomics.store(new Int32Array(tids), slot, tid);
          },
        })
      : null;
  const restartDrivers: ThreadId[] = [];
  const heartbeat = Math.max(
    THREADS_MIN_HEARTBEAT_SECONDS,
    Math.min(...only(plan, 'dp83820-driver').map((d) => d.heartbeatSeconds)),
  );
  root.prepare(
    managerId,
    restarter === null
      ? undefined
      : { restarter, heartbeatInterval: Math.max(1, Math.round(heartbeat * hz)) },
  );
  let promised = 0;
  for (const s of sourcePlan.serves) {
    if (s.thread !== mgrPlan.thread)
      throw new AssemblyError(`memory source serves unknown "${s.thread}"`);
    root.budget(managerId, s.bytes);
    promised += s.bytes;
  }
  if (promised > plan.machine.memoryBytes)
    throw new AssemblyError(
      `cannot allocate the memory source's budgets: ${promised} bytes (${plan.machine.memoryBytes} in the machine)`,
    );

  // Drivers: one thread per driver component; their register windows mapped per plan.
  const driverThreads = new Map<string, ThreadId>();
  const driverSessions: { sessions: { client: number; index: number }[] }[] = [];
  const driverRefs: {
    space: string;
    thread: string;
    priority: number;
    config: Record<string, unknown>;
  }[] = [];
  for (const dp of only(plan, 'dp83820-driver')) {
    const devices = dp.devices.map((d) => {
      const n = nics.find((x) => x.plan.name === d.device)!;
      engine.mapDevice(domain(dp.space), n.id, d.registers);
      const paddr = regionPaddr.get(d.dma.region);
      if (paddr === undefined) throw new AssemblyError(`no region ${d.dma.region}`);
      return {
        registers: d.registers,
        irq: d.irq,
        dma: { vaddr: d.dma.vaddr, paddr, bytes: d.dma.bytes },
        holdoff: d.holdoffUnits,
        rxDescriptors: d.rxDescriptors,
        txDescriptors: d.txDescriptors,
        interruptPolicy: d.interruptPolicy,
      };
    });
    const sessions = dp.sessions.map((i) => {
      const s = plan.sessions[i]!;
      return {
        index: s.index,
        device: dp.devices.findIndex((d) => d.device === s.nic),
        client: 0,
        controlVaddr: s.controlVaddr,
        capacity: s.ringCapacity,
        notify: s.notify,
        ...(s.steering
          ? {
              steering: {
                ipv4: s.steering.ipv4,
                buffersAt: s.steering.driverBuffersVaddr,
                bytes: s.steering.bytes,
              },
            }
          : {}),
      };
    });
    driverSessions.push({ sessions });
    driverRefs.push({
      space: dp.space,
      thread: dp.thread,
      priority: dp.priority,
      config: {
        devices,
        sessions,
        manager: managerId,
        translationCache: dp.translationCache,
        notifyAvoidance: dp.notifyAvoidance,
        supervisor: root.supervisorId,
        supervised: restarter !== null,
        counters: dp.counters,
        costs: cc.driver,
      },
    });
  }
  // Stacks and their region mappers come after the drivers in the sim's creation order; here
  // the driver's configuration needs the stacks' ids and vice versa, so the driver threads are
  // created first with their ids reserved, and the stack ids patched into their sessions below.
  for (const d of driverRefs) {
    const dp = only(plan, 'dp83820-driver').find((x) => x.space === d.space)!;
    const ref = substitute(
      { module: components, export: 'dp83820DriverServer', config: d.config },
      dp,
    );
    const id = create(d.space, d.thread, d.priority, ref);
    driverThreads.set(d.space, id);
    const devs = dp.devices;
    const registers = devs.map((x) => supPlan.registers.find((r) => r.device === x.device)!.vaddr);
    // The IOMMU: the manager writes the driver's table; its fault lines go to the supervisor,
    // which treats a fault as a crash of the driver.
    const table = iommu.find((t) => t.driverSpace === d.space);
    if (table) iommuDomains.push({ driver: id, vaddr: table.vaddr, frames: table.frames });
    const faults = {
      faultLines: devs.map((x) => plan.devices.find((p) => p.name === x.device)!.iommuFaultIrq),
    };
    if (restarter === null) {
      // not restartable: reset on a quota disable, its fault lines taken; no sessions watched
      root.superviseDriver(id, registers, faults);
      continue;
    }
    // restartable: the supervisor is its exit handler, watches its sessions' heartbeat
    const sessions = driverSessions[driverRefs.indexOf(d)]!.sessions;
    root.superviseDriver(id, registers, {
      ...faults,
      exitNotifier: engine.superviseThread(id, root.supervisorId),
      sessions: sessions.map((s) => ({
        vaddr: supPlan.sessions.find((x) => x.index === s.index)!.vaddr,
        capacity: plan.sessions[s.index]!.ringCapacity,
        get client() {
          return s.client; // patched below, with the stacks' ids
        },
      })),
    });
    restarter.add({
      thread: id,
      component: ref,
      lines: devs.map((x) => x.irq),
      // its worker, and those it waits on: the device worker (register reads), the manager's
      domain: d.space,
      waitsOn: ['devices', mgrPlan.space],
    });
    restartDrivers.push(id);
  }

  const stackThreads = new Map<string, ThreadId>();
  for (const sp of only(plan, 'ip-stack') as StackPlan[]) {
    const driverThread = driverThreads.get(sp.driverSpace);
    if (driverThread === undefined)
      throw new AssemblyError(`stack "${sp.thread}": no driver in domain "${sp.driverSpace}"`);
    const spacePriority = plan.spaces.find((x) => x.name === sp.space)!.priority;
    const rm = create(sp.space, sp.regionMapper, spacePriority, {
      module: components,
      export: 'regionMapper',
      config: {},
    });
    const config: StackServerConfig = {
      manager: managerId,
      driver: driverThread,
      regionMapper: rm,
      sessions: stackSessions(plan, sp),
      policy: plan.sessions[sp.interfaces[0]!.session]!.notify,
      echoPort: sp.echoPort,
      costs: cc.lwip,
      loopCosts: cc.stackLoop,
      counters: sp.counters,
    };
    const id = create(
      sp.space,
      sp.thread,
      sp.priority,
      substitute({ module: components, export: 'stackServer', config }, sp),
      rm,
    );
    stackThreads.set(sp.space, id);
  }
  // The sessions' client ids: config objects are cloned when the workers start, so patching
  // them now (before start) is what the workers see.
  for (const d of driverSessions) {
    for (const s of d.sessions) {
      const clientSpace = plan.sessions[s.index]!.clientSpace;
      const id = stackThreads.get(clientSpace);
      if (id === undefined) throw new AssemblyError(`no stack in domain "${clientSpace}"`);
      s.client = id;
    }
  }

  // A probe per domain: reports the worker's Linux thread id (for CPU per domain).
  domainNames.forEach((name, slot) => {
    create(name, `${name}/tid-probe`, 0, {
      module: components,
      export: 'threadIdProbe',
      config: { out: tids, slot },
    });
  });

  // Load clients on each NIC's wire, in the main thread on a real clock.
  const clock = options.clock ?? new RealClock();
  const clients: SimClient[] = [];
  const links: {
    nic: string;
    rings: { toNic: FrameRing; fromNic: FrameRing } | null;
    link: UdpFrameLink | InProcessFrameLink | null;
    clients: SimClient[];
  }[] = [];
  for (const n of nics) {
    const mine: SimClient[] = [];
    if (wire.kind === 'load') {
      for (const c of n.plan.clients) {
        const client = new SimClient({
          clock,
          mac: c.mac,
          ip: c.ip,
          port: c.port,
          targetMac: n.plan.mac,
          targetIp: c.targetIp,
          targetPort: plan.load.echoPort,
          packetSize: plan.load.packetSize,
        });
        mine.push(client);
        clients.push(client);
      }
    }
    links.push({ nic: n.plan.name, rings: n.rings, link: null, clients: mine });
  }

  const pages = counterPages.map((p) => {
    const expected = plan.components.filter(
      (c) =>
        c.space === p.domain &&
        (c.kind === 'dataspace-manager' || c.kind === 'dp83820-driver' || c.kind === 'ip-stack'),
    );
    return { ...p, expected, read: () => readCountersPage(p.buffer, 0) };
  });
  const notReady = () => pages.find((p) => p.read().ready < p.expected.length);

  let started = false;
  let stopped = false;
  const start = async () => {
    if (started) throw new AssemblyError('threads system already started');
    started = true;
    await engine.start(); // the root-task domain runs in this thread from here
    if (wire.kind === 'load') {
      for (const l of links) {
        let link: UdpFrameLink | InProcessFrameLink;
        if (l.rings) {
          link = new InProcessFrameLink(l.rings.toNic, l.rings.fromNic);
          link.open();
        } else {
          const addr = engine.wires[l.nic];
          if (addr === undefined) throw new AssemblyError(`no wire address for ${l.nic}`);
          link = new UdpFrameLink(addr);
          await link.open();
        }
        for (const c of l.clients) {
          link.attach(c.mac, c);
          c.attach(link);
        }
        l.link = link;
      }
    }
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const l of links) await l.link?.close();
    for (const l of links) {
      // the device side's pump stops on a closed ring (also when no link was opened)
      l.rings?.toNic.close();
      l.rings?.fromNic.close();
    }
    await engine.stop();
  };

  const counters = (): Record<string, number> => {
    const out: Record<string, number> = {};
    const put = (prefix: string, obj: object) => {
      for (const [key, v] of Object.entries(obj)) {
        if (typeof v === 'number') out[`${prefix}.${key}`] = v;
        else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) put(`${prefix}.${key}`, v);
      }
    };
    for (const n of nics) put(n.plan.name, n.stats.read());
    for (const l of links) if (l.link) put(`${l.nic}.link`, l.link.counters);
    for (const p of pages) Object.assign(out, p.read().counters);
    put('memory-source', root.sourceStats);
    put('supervisor', root.supervisorStats);
    for (const [d, c] of Object.entries(engine.counters)) put(`engine.${d}`, c);
    const dc = engine.deviceCounters;
    if (dc) put('engine.devices', dc);
    return out;
  };

  const failed = () => engine.failures.length > 0 || engine.deviceError !== null;
  const ready = () =>
    started && !failed() && notReady() === undefined && nics.every((n) => n.stats.receiving);

  const checkStarted = () => {
    if (engine.deviceError !== null)
      throw new AssemblyError(`the device worker failed: ${engine.deviceError}`);
    const dead = engine.failures;
    if (dead.length > 0) {
      throw new AssemblyError(
        `components failed during start-up: ${dead.map((f) => `${f.message}`).join('; ')}`,
      );
    }
    const late = notReady();
    if (late !== undefined) {
      throw new AssemblyError(
        `domain "${late.domain}" did not start: ${late.read().ready} of ${late.expected.map((c) => c.thread).join(', ')} ready`,
      );
    }
    const off = nics.find((n) => !n.stats.receiving);
    if (off !== undefined) throw new AssemblyError(`${off.plan.name}: receiver not enabled`);
  };

  return {
    plan,
    engine,
    clients,
    clock,
    start,
    stop,
    wires: () => engine.wires,
    counters,
    ready,
    checkStarted,
    threadIds,
    cpu,
    domains: domainNames,
    allocatedRegions: () => root.regions,
    iommu,
    physicalRegion: (name) => physicalRegions.get(name),
    restart:
      restarter === null
        ? null
        : { restarter, drivers: restartDrivers, records: () => root.supervisorRestarts },
  };
}
