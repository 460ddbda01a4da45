/**
 * The sim realiser: builds a {@link SystemPlan} on the deterministic sim engine, as a root task
 * (sigma0) would. It creates one address space per planned domain (the kernel domain of the
 * monolithic baseline is a global space), allocates and maps every planned region, attaches the
 * NICs with their register windows and interrupt lines, puts a switch and the ipbench clients on
 * each wire, and creates the component threads from the plan's plain-data configuration.
 *
 * Session setup follows the paper (section 4.2): the client opens its buffer dataspace from the
 * manager, shares it with the driver (translate rights) and attaches it through its region
 * mapper, then opens the session with the driver by IPC, naming the session's control region and
 * its dataspace; the driver associates the dataspace with the session and opens a translation
 * cache with the manager. The control region (the netdev rings) is the only memory mapped into
 * both spaces by the realiser, as shared memory established once at session setup — besides the
 * monolithic baseline's socket user buffer, which the plan maps into the echo process's space and
 * the kernel domain's (a monolithic kernel reaches user memory).
 *
 * Every user-level component (manager, drivers, stacks, the socket echo) is built inside its
 * domain from a plain-data reference ({@link ComponentRef}); no closure crosses from the realiser
 * into a component's configuration. The memory source and the device supervisor are root-task
 * (privileged) threads and are built by the realiser itself.
 *
 * @module
 */
import {
  type DataspaceManagerServerConfig,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuDomainConfig,
  IommuTable,
  RegionMapper,
  readCountersPage,
} from '@udf/dataspace';
import { Dp83820, type Dp83820DeviceConfig } from '@udf/driver-dp83820';
import { SimClient } from '@udf/ipbench';
import {
  type KernelCall,
  MODERN_X86_3_0,
  PENTIUM4_XEON_2_66,
  type Rights,
  SimEngine,
  type SpaceId,
  type Sys,
  type ThreadId,
} from '@udf/l4-kernel';
import {
  PcapTap,
  PcapWriter,
  type SocketEchoConfig,
  type SocketKernelHalfConfig,
  type StackServerConfig,
  type StackSocketConfig,
} from '@udf/lwip-lite';
import { type FrameEndpoint, Switch } from '@udf/netdev';
import {
  CALIBRATION,
  type CalibrationFactors,
  componentCosts,
  LINUX_BASELINE_COSTS,
  linuxStackCosts,
} from './calibration.js';
import { type ComponentRef, resolveComponent } from './components.js';
import {
  DeviceSupervisor,
  type DriverRestarter,
  type DriverRestartRecord,
  type SupervisedDriver,
} from './device-supervisor.js';
import { AssemblyError } from './errors.js';
import { MemoryServer } from './memory-server.js';
import type {
  ComponentPlan,
  ManagerPlan,
  PlanMemoryLayout,
  StackPlan,
  SystemPlan,
} from './plan.js';
import { postedReceivePages, stackSessions } from './plan.js';

const RW: Rights = { read: true, write: true, execute: false };

/** The Linux baseline runs no notification-bit protocol: its hand-offs are costed as Linux's. */
const NO_NOTIFICATION_DRIVER = { notifyCheck: 0, notifySend: 0, sleepPerSession: 0 } as const;
const NO_NOTIFICATION_LOOP = { notifyCheck: 0, sleepPerSession: 0 } as const;

/** What {@link realizeSim} returns. */
export interface AssembledSystem {
  /** The plan that was built. */
  readonly plan: SystemPlan;
  /** The engine, ready to run. */
  readonly sim: SimEngine;
  /** The ipbench clients, `clientsPerNic` per NIC. */
  readonly clients: SimClient[];
  /** Every component's counters, flattened (`driver.rxFrames`, `nic0.rxOverruns`, ...). */
  counters(): Record<string, number>;
  /** True once every driver and stack has finished its setup and serves traffic. */
  ready(): boolean;
  /** Throw an {@link AssemblyError} if a component failed to start (call after start-up). */
  checkStarted(): void;
  /** The pcap capture of each NIC's wire by NIC name (empty unless realised with `capture`). */
  captures(): Record<string, Uint8Array>;
  /** Every driver restart the device supervisor made, in order. */
  restarts(): readonly DriverRestartRecord[];
}

/** Options of {@link realizeSim} that are not part of the plan. */
export interface RealizeSimOptions {
  /** Component cost factors (default: the fixed calibration `CALIBRATION`). */
  readonly calibration?: CalibrationFactors;
  /**
   * Record every frame on each NIC's wire (both directions) in a pcap capture, stamped with
   * virtual time in integer nanoseconds; read them with {@link AssembledSystem.captures}.
   */
  readonly capture?: boolean;
  /** Region backing, overriding the plan's `machine.memoryLayout`. */
  readonly memoryLayout?: PlanMemoryLayout;
  /**
   * Called for every frame on each NIC's wire, as it passes (`fromDevice`: sent by the NIC); the
   * frame must be copied if kept. `udf chaos` follows each probe through it.
   */
  readonly wireTap?: (nic: string, fromDevice: boolean, frame: Uint8Array) => void;
  /**
   * Build another component in place of a planned driver or stack: called with the reference the
   * realiser would build and the component's plan, returns the reference to build instead (plain
   * data, like every reference). The hostile-domain tests put `hostileStackServer` and
   * `hostileDriverServer` (registered in `components.ts`, module `@udf/system/hostile-components`) in a placement
   * this way. A restarted driver is rebuilt from the substitute.
   */
  readonly substitute?: (ref: ComponentRef, component: ComponentPlan) => ComponentRef;
}

/** A frame endpoint that shows each frame to a tap before passing it on. */
function tapped(
  next: FrameEndpoint,
  tap: ((nic: string, fromDevice: boolean, frame: Uint8Array) => void) | undefined,
  nic: string,
  fromDevice: boolean,
): FrameEndpoint {
  if (tap === undefined) return next;
  return {
    receive(frame: Uint8Array): void {
      tap(nic, fromDevice, frame);
      next.receive(frame);
    },
  };
}

function only<K extends ComponentPlan['kind']>(
  plan: SystemPlan,
  kind: K,
): Extract<ComponentPlan, { kind: K }>[] {
  return plan.components.filter((c): c is Extract<ComponentPlan, { kind: K }> => c.kind === kind);
}

/** Build a plan on a fresh sim engine for one experiment step. */
export function realizeSim(plan: SystemPlan, options: RealizeSimOptions = {}): AssembledSystem {
  const costs = plan.machine.costTable === 'modern' ? MODERN_X86_3_0 : PENTIUM4_XEON_2_66;
  const sim = new SimEngine({
    hz: plan.machine.hz,
    memoryBytes: plan.machine.memoryBytes,
    costs,
    costScale: { ipc: plan.machine.ipcScale },
    seed: plan.machine.seed,
    memoryLayout: options.memoryLayout ?? plan.machine.memoryLayout,
  });
  const k = sim.kernel;
  const hz = sim.machine.hz;
  const cc = componentCosts(options.calibration ?? CALIBRATION);
  const spaces = new Map<string, SpaceId>();
  for (const d of plan.spaces) spaces.set(d.name, k.createSpace(d.name, { global: d.global }));
  const space = (name: string) => {
    const id = spaces.get(name);
    if (id === undefined) throw new AssemblyError(`plan names unknown domain "${name}"`);
    return id;
  };

  // Regions: each allocated as a region of its own, mapped where the plan says (the session
  // control regions and the socket user buffers are the only memory two domains share).
  const regionPaddr = new Map<string, number>();
  for (const r of plan.regions) {
    const paddr = k.allocateRegion(r.bytes).paddr;
    regionPaddr.set(r.name, paddr);
    for (const m of r.mappings) k.mapPhysical(space(m.space), m.vaddr, paddr, r.bytes, RW);
  }

  // IOMMU tables: one region per driver with a NIC behind an IOMMU, formatted with the driver's
  // descriptor rings granted, mapped into the manager's space (it enters the frames it installs
  // in the driver's translation caches) and handed to the driver's NICs. The driver never maps it.
  const iommuOfNic = new Map<string, IommuTable>();
  const iommuDomains: IommuDomainConfig[] = [];
  const iommuFrames = IommuTable.framesFor(sim.machine.memory.size);
  for (const dp of only(plan, 'dp83820-driver')) {
    if (dp.iommu === null) continue;
    const bytes = Math.ceil(IommuTable.bytesFor(iommuFrames) / 4096) * 4096;
    const { paddr, region } = k.allocateRegion(bytes);
    const table = new IommuTable(region.buffer, region.byteOffset, iommuFrames);
    table.format();
    for (const d of dp.devices) {
      table.grant(regionPaddr.get(d.dma.region)!, d.dma.bytes, IOMMU_READ | IOMMU_WRITE);
      iommuOfNic.set(d.device, table);
    }
    k.mapPhysical(
      space(only(plan, 'dataspace-manager')[0]!.space),
      dp.iommu.vaddr,
      paddr,
      bytes,
      RW,
    );
  }

  // The memory source (sigma0): the root-task thread that gives the dataspace manager one new
  // region per dataspace and per translation table, by IPC.
  const threadIds = new Map<string, ThreadId>();
  const sourceBudgets = new Map<ThreadId, number>();
  const sourcePlan = only(plan, 'memory-source')[0]!;
  const memoryServer = new MemoryServer(k, sourceBudgets);
  const sourceId = k.createThread({
    name: sourcePlan.thread,
    space: space(sourcePlan.space),
    priority: sourcePlan.priority,
    body: (ts) => memoryServer.body(ts),
  });
  threadIds.set(sourcePlan.thread, sourceId);

  // The device supervisor (root task): holds every NIC's registers, owns the reset path. Its
  // configuration (manager, drivers) is plain data completed below, before any thread runs.
  const supPlan = only(plan, 'device-supervisor')[0]!;
  const supervisedDrivers: SupervisedDriver[] = [];
  // How the supervisor restarts a driver: the kernel's root-task privileges, and each driver's
  // plain-data reference, handed the session-open records the supervisor kept.
  const driverRefs = new Map<ThreadId, ComponentRef>();
  const driverLines = new Map<ThreadId, number[]>();
  const restarter: DriverRestarter = {
    interruptPending: (thread) =>
      (driverLines.get(thread) ?? []).some((l) => k.interruptPending(l)),
    stop: (thread) => k.kill(thread),
    restart: (thread, reopened) => {
      const ref = driverRefs.get(thread)!;
      const again: ComponentRef = {
        ...ref,
        config: { ...(ref.config as object), reopened: reopened.map(([i, ds]) => [i, ds]) },
      };
      k.restartThread(thread, function* (tsys: Sys): Generator<KernelCall, void, unknown> {
        yield* resolveComponent(again)(tsys);
      });
    },
  };
  let supervisor: DeviceSupervisor | null = null;
  const supervisorId = k.createThread({
    name: supPlan.thread,
    space: space(supPlan.space),
    priority: supPlan.priority,
    body: function* (ts: Sys): Generator<KernelCall, void, unknown> {
      yield* supervisor!.body(ts);
    },
  });
  threadIds.set(supPlan.thread, supervisorId);

  // The dataspace manager: its frames come from the memory source.
  const mgrPlan: ManagerPlan = only(plan, 'dataspace-manager')[0]!;
  if (mgrPlan.memorySource !== sourcePlan.thread)
    throw new AssemblyError(`manager's memory source "${mgrPlan.memorySource}" is not planned`);
  // Built inside the manager's domain from a plain-data reference. The memory source and the
  // device supervisor above are root-task (privileged) threads, built by the realiser itself.
  const managerConfig: DataspaceManagerServerConfig = {
    pool: { vaddr: mgrPlan.pool.vaddr, bytes: mgrPlan.pool.bytes },
    memorySource: sourceId,
    supervisor: supervisorId,
    counters: mgrPlan.counters,
    scanInterval: Math.max(1, Math.round(mgrPlan.pinScanSeconds * hz)),
    pinQuota: {
      maxPinnedPages: mgrPlan.pinQuotaPages,
      maxPinCycles: Math.round(mgrPlan.maxPinSeconds * hz),
      maxLongPinnedPages: postedReceivePages(plan),
    },
    costs: cc.dataspace,
    // Filled in once the drivers' thread ids are known, before any thread runs.
    iommu: iommuDomains,
  };
  const managerRef: ComponentRef = {
    module: '@udf/dataspace',
    export: 'dataspaceManagerServer',
    config: managerConfig,
  };
  const managerId = k.createThread({
    name: mgrPlan.thread,
    space: space(mgrPlan.space),
    priority: mgrPlan.priority,
    body: function* (tsys: Sys): Generator<KernelCall, void, unknown> {
      yield* resolveComponent(managerRef)(tsys);
    },
  });
  threadIds.set(mgrPlan.thread, managerId);
  if (mgrPlan.supervisor !== supPlan.thread || threadIds.get(supPlan.manager) !== managerId)
    throw new AssemblyError('the device supervisor must serve the planned manager');
  const drivers = only(plan, 'dp83820-driver').filter((d) => !d.inKernel);
  const heartbeatSeconds = Math.min(...drivers.map((d) => d.heartbeatSeconds));
  supervisor = new DeviceSupervisor({
    manager: managerId,
    drivers: supervisedDrivers,
    ackTimeout: Math.max(1, Math.round(supPlan.ackSeconds * hz)),
    heartbeatInterval: drivers.length > 0 ? Math.max(1, Math.round(heartbeatSeconds * hz)) : 0,
    restarter,
  });
  // Budgets are set before any thread runs (thread ids are known only once created). The
  // source promises its budgets: together they must fit the memory left after the planned
  // regions, as a pool allocated up front would have to.
  let promised = 0;
  for (const s of sourcePlan.serves) {
    const id = threadIds.get(s.thread);
    if (id === undefined) throw new AssemblyError(`memory source serves unknown "${s.thread}"`);
    sourceBudgets.set(id, s.bytes);
    promised += s.bytes;
  }
  if (promised > sim.machine.memory.freeBytes) {
    throw new AssemblyError(
      `cannot allocate the memory source's budgets: ${promised} bytes (${sim.machine.memory.freeBytes} free)`,
    );
  }

  // NICs, switches and ipbench clients.
  const nics = plan.devices.map((dev) => {
    const iommuTable = iommuOfNic.get(dev.name);
    if (dev.iommu && iommuTable === undefined)
      throw new AssemblyError(`${dev.name} is behind an IOMMU but no driver runs it`);
    const device = sim.machine.attachDevice(
      dev.name,
      new Dp83820({
        host: sim.machine,
        irqLine: dev.irq,
        mac: dev.mac,
        eeprom64: dev.eeprom64,
        ...(dev.iommu
          ? { iommu: { table: iommuTable!, faultLine: dev.iommuFaultIrq ?? undefined } }
          : {}),
        timing: {
          pciClockHz: dev.pci.clockHz,
          pciBusBytes: dev.pci.busBytes,
          readLatencyClocks: dev.pci.readLatencyClocks,
        },
      }),
    );
    const supReg = supPlan.registers.find((r) => r.device === dev.name);
    if (supReg === undefined) throw new AssemblyError(`supervisor has no window for ${dev.name}`);
    k.mapDevice(space(supPlan.space), supReg.vaddr, device);
    const sw = new Switch({ clock: sim.machine, ports: dev.clients.length + 1 });
    // Virtual time as integer nanoseconds (bigint: exact for any run length).
    const writer = options.capture
      ? new PcapWriter({
          clockNs: () => (BigInt(Math.round(sim.now())) * 1_000_000_000n) / BigInt(Math.round(hz)),
        })
      : null;
    const toSwitch = tapped(sw.port(0), options.wireTap, dev.name, true);
    const toDevice = tapped(device.port, options.wireTap, dev.name, false);
    device.port.connect(writer ? new PcapTap(writer, toSwitch) : toSwitch);
    sw.connect(0, writer ? new PcapTap(writer, toDevice) : toDevice);
    return { plan: dev, device, sw, writer };
  });
  const clients: SimClient[] = [];
  for (const n of nics) {
    n.plan.clients.forEach((c, j) => {
      const client = new SimClient({
        clock: sim.machine,
        mac: c.mac,
        ip: c.ip,
        port: c.port,
        targetMac: n.plan.mac,
        targetIp: c.targetIp,
        targetPort: plan.load.echoPort,
        packetSize: plan.load.packetSize,
      });
      client.attach(n.sw.port(j + 1));
      n.sw.connect(j + 1, client);
      clients.push(client);
    });
  }

  // Thread ids are known before any thread runs: the kernel hands them out in creation order,
  // so a component's configuration can name its partners as plain numbers.
  const driverThreads = new Map<string, ThreadId>();
  const sessionClients: { session: { client: ThreadId }; space: string }[] = [];
  const stackThreads = new Map<string, ThreadId>();

  // Drivers: a thread per driver component. It first accepts one session-open IPC per session
  // (paper 4.2: the client names the session's control region and its buffer dataspace), then
  // runs the driver.
  for (const dp of only(plan, 'dp83820-driver')) {
    const drvSpace = space(dp.space);
    const devices: Dp83820DeviceConfig[] = dp.devices.map((d) => {
      const n = nics.find((x) => x.plan.name === d.device)!;
      k.mapDevice(drvSpace, d.registers, n.device);
      return {
        registers: d.registers,
        irq: d.irq,
        dma: { vaddr: d.dma.vaddr, paddr: regionPaddr.get(d.dma.region)!, bytes: d.dma.bytes },
        holdoff: d.holdoffUnits,
        rxDescriptors: d.rxDescriptors,
        txDescriptors: d.txDescriptors,
        interruptPolicy: d.interruptPolicy,
      };
    });
    const mySessions = dp.sessions.map((i) => plan.sessions[i]!);
    // Built inside the driver's domain from a plain-data reference. The sessions' client
    // threads are created below; their ids are filled in before any thread runs.
    const serverSessions = mySessions.map((s) => ({
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
    }));
    sessionClients.push(
      ...serverSessions.map((x) => ({ session: x, space: plan.sessions[x.index]!.clientSpace })),
    );
    const planned: ComponentRef = {
      module: '@udf/driver-dp83820',
      export: 'dp83820DriverServer',
      config: {
        devices,
        sessions: serverSessions,
        manager: managerId,
        translationCache: dp.translationCache,
        notifyAvoidance: dp.notifyAvoidance,
        supervisor: supervisorId,
        // A user-level driver is restartable: it reports its session-open records.
        supervised: !dp.inKernel,
        counters: dp.counters,
        // In the kernel (the Linux baseline) the hand-off to the stack is Linux's softirq
        // path, costed in LINUX_BASELINE_COSTS; the framework's notification protocol is not
        // run there.
        costs: dp.inKernel ? { ...cc.driver, ...NO_NOTIFICATION_DRIVER } : cc.driver,
      },
    };
    const ref = options.substitute?.(planned, dp) ?? planned;
    const thread = k.createThread({
      name: dp.thread,
      space: drvSpace,
      priority: dp.priority,
      body: function* (tsys: Sys): Generator<KernelCall, void, unknown> {
        yield* resolveComponent(ref)(tsys);
      },
    });
    driverThreads.set(dp.space, thread);
    if (dp.iommu) iommuDomains.push({ driver: thread, vaddr: dp.iommu.vaddr, frames: iommuFrames });
    const registers = dp.devices.map(
      (d) => supPlan.registers.find((r) => r.device === d.device)!.vaddr,
    );
    // The IOMMU's fault lines: the supervisor takes them, and treats a fault as a crash of the
    // driver whose device it is.
    const faultLines = dp.devices.map(
      (d) => plan.devices.find((x) => x.name === d.device)!.iommuFaultIrq,
    );
    if (dp.inKernel) {
      // The monolithic baseline's driver is part of the kernel: reset on a quota disable or an
      // IOMMU fault only.
      supervisedDrivers.push({ thread, registers, faultLines });
    } else {
      driverRefs.set(thread, ref);
      driverLines.set(
        thread,
        dp.devices.map((d) => d.irq),
      );
      supervisedDrivers.push({
        thread,
        registers,
        sessions: serverSessions.map((s) => ({
          vaddr: supPlan.sessions.find((x) => x.index === s.index)!.vaddr,
          capacity: s.capacity,
          // The client's thread id is filled in below, with the server's.
          get client() {
            return s.client;
          },
        })),
        exitNotifier: k.superviseThread(thread, supervisorId),
        faultLines,
      });
    }
  }

  // Stacks: one thread per stack domain serving all its sessions; a region mapper as its pager.
  const stackPlans: StackPlan[] = only(plan, 'ip-stack');
  for (const sp of stackPlans) {
    const mine = sp.interfaces.map((i) => plan.sessions[i.session]!);
    const driverThread = driverThreads.get(sp.driverSpace);
    if (driverThread === undefined)
      throw new AssemblyError(`stack "${sp.thread}": no driver in domain "${sp.driverSpace}"`);
    const rm = new RegionMapper();
    const rmThread = k.createThread({
      name: sp.regionMapper,
      space: space(sp.space),
      priority: plan.spaces.find((x) => x.name === sp.space)!.priority,
      body: rm.body,
    });
    // The monolithic baseline's socket layer (see `SocketLayer` in @udf/lwip-lite): the echo
    // process's recvfrom/sendto are IPC calls into its kernel half, a kernel-domain thread at
    // the process's priority (Linux runs a system call in the caller's context) sharing the
    // stack thread's sockets; the payload moves through a user buffer mapped into both domains.
    // Costs, a deliberate decision (docs/reproduction.md): the kernel domain is a global space
    // (no address-space switch to enter it) and a system call is not an L4 IPC, so the layer
    // tops each call's IPCs up to the cited system-call cost (`syscall`, 432 cycles), charges
    // the copy per byte, and the stack's wake-up of a blocked recvfrom together with its reply
    // up to the Linux scheduler's wake-up (600 cycles).
    const linux = sp.weight === 'linux';
    const echoPlan = sp.socketEcho;
    const socket: StackSocketConfig | undefined = echoPlan
      ? {
          port: plan.load.echoPort,
          queueDatagrams: echoPlan.queueDatagrams,
          userBuffer: { vaddr: echoPlan.userBuffer.kernelVaddr, bytes: echoPlan.userBuffer.bytes },
          copyPerByte: costs.entries.copyPerByte.cycles,
          syscallCycles: linux ? LINUX_BASELINE_COSTS.syscall.cycles : costs.entries.syscall.cycles,
          wakeupCycles: linux ? LINUX_BASELINE_COSTS.wakeup.cycles : costs.entries.ipc.cycles,
          ipcCycles: costs.entries.ipc.cycles,
          key: sp.counters.prefix,
        }
      : undefined;
    const config: StackServerConfig = {
      manager: managerId,
      driver: driverThread,
      regionMapper: rmThread,
      sessions: stackSessions(plan, sp),
      policy: mine[0]!.notify,
      echoPort: sp.echoPort,
      costs: linux ? linuxStackCosts(cc.lwip) : cc.lwip,
      loopCosts: linux ? NO_NOTIFICATION_LOOP : cc.stackLoop,
      counters: sp.counters,
      ...(socket ? { socket } : {}),
    };
    // Built inside the stack's domain from a plain-data reference.
    const planned: ComponentRef = { module: '@udf/lwip-lite', export: 'stackServer', config };
    const ref = options.substitute?.(planned, sp) ?? planned;
    const stackId = k.createThread({
      name: sp.thread,
      space: space(sp.space),
      priority: sp.priority,
      body: function* (tsys: Sys): Generator<KernelCall, void, unknown> {
        yield* resolveComponent(ref)(tsys);
      },
    });
    stackThreads.set(sp.space, stackId);
    k.setPager(stackId, rmThread);
    if (echoPlan) {
      // The echo process's kernel half: in the stack's domain, at the process's priority.
      const halfConfig: SocketKernelHalfConfig = { key: sp.counters.prefix, stack: stackId };
      const halfRef: ComponentRef = {
        module: '@udf/lwip-lite',
        export: 'socketKernelHalf',
        config: halfConfig,
      };
      const halfId = k.createThread({
        name: `${sp.space}/udp-echo.kernel`,
        space: space(sp.space),
        priority: echoPlan.priority,
        body: function* (tsys: Sys): Generator<KernelCall, void, unknown> {
          yield* resolveComponent(halfRef)(tsys);
        },
      });
      k.setPager(halfId, rmThread);
      // The user-level echo process, also from a plain-data reference: it reaches the kernel
      // domain's socket layer by IPC only.
      const echoConfig: SocketEchoConfig = {
        kernelHalf: halfId,
        userBuffer: { vaddr: echoPlan.userBuffer.vaddr, bytes: echoPlan.userBuffer.bytes },
        counters: echoPlan.counters,
      };
      const echoRef: ComponentRef = {
        module: '@udf/lwip-lite',
        export: 'socketEcho',
        config: echoConfig,
      };
      k.createThread({
        name: echoPlan.thread,
        space: space(echoPlan.space),
        priority: echoPlan.priority,
        body: function* (tsys: Sys): Generator<KernelCall, void, unknown> {
          yield* resolveComponent(echoRef)(tsys);
        },
      });
    }
  }

  for (const c of sessionClients) {
    const id = stackThreads.get(c.space);
    if (id === undefined) throw new AssemblyError(`no stack in domain "${c.space}"`);
    c.session.client = id;
  }

  // Each domain's counters page, as the engine reads it: the region, not the components.
  const pages = plan.regions
    .filter((r) => r.purpose === 'counters')
    .map((r) => {
      const region = sim.machine.memory.regionOf(regionPaddr.get(r.name)!)!;
      const at = regionPaddr.get(r.name)! - region.paddr + region.byteOffset;
      const domain = r.mappings[0]!.space;
      // Components that announce readiness: the manager, drivers and stacks of the domain.
      const expected = plan.components.filter(
        (c) =>
          c.space === domain &&
          (c.kind === 'dataspace-manager' || c.kind === 'dp83820-driver' || c.kind === 'ip-stack'),
      );
      return { domain, expected, read: () => readCountersPage(region.buffer, at) };
    });

  const counters = (): Record<string, number> => {
    const out: Record<string, number> = {};
    const put = (prefix: string, obj: object) => {
      for (const [key, v] of Object.entries(obj)) {
        if (typeof v === 'number') out[`${prefix}.${key}`] = v;
        else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) put(`${prefix}.${key}`, v);
      }
    };
    // Engine side: the device models and the wires, the root task, the kernel.
    for (const n of nics) {
      put(n.plan.name, n.device.stats);
      put(`${n.plan.name}.switch`, n.sw.stats(0));
    }
    for (const p of pages) Object.assign(out, p.read().counters);
    put('memory-source', memoryServer.stats);
    put('supervisor', supervisor!.stats);
    put('kernel', sim.counters);
    return out;
  };

  const notReady = () => pages.find((p) => p.read().ready < p.expected.length);

  const checkStarted = () => {
    const late = notReady();
    // A supervised driver that failed is restarted; if the system still did not start, say why.
    const dead = late === undefined ? k.failures : [...k.failures, ...k.supervisedFailures];
    if (dead.length > 0) {
      throw new AssemblyError(
        `components failed during start-up: ${dead.map((f) => `${f.name}: ${f.error}`).join('; ')}`,
      );
    }
    if (late !== undefined) {
      throw new AssemblyError(
        `domain "${late.domain}" did not start: ${late.read().ready} of ${late.expected.map((c) => c.thread).join(', ')} ready`,
      );
    }
  };

  // Ready means serving: every manager, driver and stack announced itself on its domain's
  // counters page, and every receiver is enabled (the driver enables it once the client has
  // posted receive buffers), so no load frame arrives at a disabled receiver.
  const ready = () =>
    k.failures.length === 0 && notReady() === undefined && nics.every((n) => n.device.receiving);

  const captures = (): Record<string, Uint8Array> => {
    const out: Record<string, Uint8Array> = {};
    for (const n of nics) if (n.writer) out[n.plan.name] = n.writer.bytes();
    return out;
  };

  const restarts = () => supervisor!.restarts;

  return { plan, sim, clients, counters, ready, checkStarted, captures, restarts };
}
