/**
 * The plan: what a system description means, as plain data. `plan(description)` is pure — it
 * decides the protection domains (spaces), the memory regions and where each is mapped, the
 * devices and their interrupt lines, the components each domain holds with their configuration,
 * the driver–client sessions and the load — and an engine-specific realiser builds it
 * (`realizeSim` today). A plan survives `structuredClone` and `JSON.stringify`, so it can be
 * printed (`udf validate --plan`), compared and shipped to another thread.
 *
 * Everything that is policy is taken from the description (whose schema supplies the defaults);
 * the plan adds only what follows from it: addresses from the declared layout, region sizes from
 * ring capacities and buffer counts, client addresses from each NIC's subnet.
 *
 * @module
 */

import { COUNTERS_PAGE_BYTES } from '@udf/dataspace';
import { netSessionLayout } from '@udf/netdev';
import { AssemblyError } from './errors.js';
import { resolveSessions } from './load.js';
import {
  type BusConfiguration,
  type DomainDescription,
  ipNumber,
  type SessionDescription,
  type SystemDescription,
} from './schema.js';

/** Bytes of a page: the unit of every region and mapping. */
export const PAGE_BYTES = 4096;
/** Distance between consecutive session control regions and between per-NIC DMA regions. */
export const REGION_STRIDE = 0x10_0000;
/** Distance between consecutive session buffer dataspaces in a client's space. */
export const BUFFER_STRIDE = 0x100_0000;
/** First UDP port of the ipbench clients on each NIC (client j uses port + j). */
export const CLIENT_PORT_BASE = 9000;
/** Host part of the first ipbench client's IPv4 address in each NIC's subnet. */
export const CLIENT_HOST_BASE = 100;

/** A protection domain: one address space (global for the monolithic baseline's kernel). */
export interface SpacePlan {
  readonly name: string;
  /** The kernel's own (global) space: no address-space switch to enter it. */
  readonly global: boolean;
  /** Priority of the domain's threads. */
  readonly priority: number;
}

/** Where a region is mapped. */
export interface MappingPlan {
  readonly space: string;
  readonly vaddr: number;
}

/** A memory region the realiser allocates (one region per purpose instance) and maps. */
export interface RegionPlan {
  /** Unique name, e.g. `session0.control`. */
  readonly name: string;
  readonly purpose: 'session-control' | 'descriptor-dma' | 'counters' | 'socket-buffer';
  readonly bytes: number;
  /** Where it is mapped read-write (first entry: the owner). */
  readonly mappings: readonly MappingPlan[];
}

/** An ipbench client attached to a NIC's wire. */
export interface LoadClientPlan {
  readonly mac: string;
  readonly ip: string;
  readonly port: number;
  /**
   * The stack address this client sends to: with several stacks on the NIC, client `j` targets
   * the `j mod n`-th of {@link DevicePlan.targetIps}.
   */
  readonly targetIp: string;
}

/** A NIC: the device model, its wire and the load clients on it. */
export interface DevicePlan {
  readonly name: string;
  readonly model: 'dp83820';
  readonly irq: number;
  readonly mac: string;
  /** Interrupt hold-off in IHR units of 100 µs. */
  readonly holdoffUnits: number;
  /** The addresses of every stack on this NIC, in domain order (one unless the NIC is shared). */
  readonly targetIps: readonly string[];
  readonly clients: readonly LoadClientPlan[];
  /** The PCI slot: clock, width in bytes per data phase, host-bridge read latency. */
  readonly pci: {
    readonly clockHz: number;
    readonly busBytes: 4 | 8;
    readonly readLatencyClocks: number;
  };
  /** Whether the card's EEPROM enables the 64-bit data path (CFG.DATA64_EN). */
  readonly eeprom64: boolean;
  /** Whether the NIC's DMA is checked by an IOMMU against its driver's table. */
  readonly iommu: boolean;
  /** The IOMMU's fault interrupt line for this NIC (taken by the root task), or null without one. */
  readonly iommuFaultIrq: number | null;
}

/** The dataspace manager component. */
export interface ManagerPlan {
  readonly kind: 'dataspace-manager';
  readonly thread: string;
  readonly space: string;
  readonly priority: number;
  /**
   * The manager's frame window in its space: it asks the memory source for one region per
   * dataspace and per translation table and has it mapped there; `bytes` is its budget.
   */
  readonly pool: { readonly vaddr: number; readonly bytes: number };
  /** Thread name of the memory source the manager asks for regions. */
  readonly memorySource: string;
  /** Thread name of the device supervisor that resets a driver over its pin quota. */
  readonly supervisor: string;
  readonly counters: CountersPlan;
  readonly pinQuotaPages: number;
  readonly maxPinSeconds: number;
  readonly pinScanSeconds: number;
}

/** One device as a driver runs it. */
export interface DriverDevicePlan {
  readonly device: string;
  /** Register window in the driver's space. */
  readonly registers: number;
  readonly irq: number;
  /** Descriptor-ring memory: region name and where the driver sees it. */
  readonly dma: { readonly region: string; readonly vaddr: number; readonly bytes: number };
  readonly holdoffUnits: number;
  readonly rxDescriptors: number;
  readonly txDescriptors: number;
  /** Interrupt causes the driver enables (see `@udf/driver-dp83820`'s interrupt policies). */
  readonly interruptPolicy: 'ns83820' | 'prime';
}

/** A DP83820 driver component (one per driver domain; several devices: a clustered server). */
export interface DriverPlan {
  readonly kind: 'dp83820-driver';
  readonly thread: string;
  readonly space: string;
  readonly priority: number;
  /** True in the monolithic baseline's kernel domain. */
  readonly inKernel: boolean;
  readonly counters: CountersPlan;
  readonly devices: readonly DriverDevicePlan[];
  /** Indexes into {@link SystemPlan.sessions} of the sessions this driver serves. */
  readonly sessions: readonly number[];
  readonly translationCache: { readonly vaddr: number; readonly entries: number };
  /** The paper's notification avoidance (off inside the kernel, where interrupts are direct). */
  readonly notifyAvoidance: boolean;
  /**
   * Where the dataspace manager maps this driver's IOMMU table (in the manager's space), or null
   * if none of its NICs is behind an IOMMU.
   */
  readonly iommu: { readonly vaddr: number } | null;
  /** Period of the device supervisor's heartbeat check of this driver, in seconds. */
  readonly heartbeatSeconds: number;
}

/** The user-level echo process of the monolithic baseline, behind a socket interface. */
export interface SocketEchoPlan {
  readonly thread: string;
  readonly space: string;
  readonly priority: number;
  readonly queueDatagrams: number;
  readonly counters: CountersPlan;
  /**
   * The user buffer `recvfrom`/`sendto` move payloads through: a region mapped at `vaddr` in the
   * echo's space and at `kernelVaddr` in the stack's (kernel) domain.
   */
  readonly userBuffer: {
    readonly region: string;
    readonly vaddr: number;
    readonly kernelVaddr: number;
    readonly bytes: number;
  };
}

/** An IP stack component (one thread per stack domain serving all its sessions). */
export interface StackPlan {
  readonly kind: 'ip-stack';
  readonly thread: string;
  /** Counters page; the stack's names are `<prefix>.<interface>`, `<prefix>.thread`. */
  readonly counters: CountersPlan;
  readonly space: string;
  /** Priority of the stack thread (below the driver's in the kernel domain). */
  readonly priority: number;
  /** The region mapper thread that pages the stack's space. */
  readonly regionMapper: string;
  /** Interfaces: one per session this stack is the client of. */
  readonly interfaces: readonly {
    readonly session: number;
    readonly mac: string;
    readonly ip: string;
    readonly netmask: string;
  }[];
  /** Echo port served inside the stack's domain, or null when the echo is behind sockets. */
  readonly echoPort: number | null;
  /** The socket echo when the echo service lives in another domain. */
  readonly socketEcho: SocketEchoPlan | null;
  /** The driver domain the stack's sessions go to. */
  readonly driverSpace: string;
  /** Per-packet cost table: lwIP's or the Linux-weight baseline's. */
  readonly weight: 'lwip' | 'linux';
}

/**
 * The memory source (sigma0's role): a privileged root-task thread that allocates a fresh
 * region for each request and maps it into the requester's space (see `requestRegion` in
 * `@udf/dataspace`). It serves the listed threads, each within its budget of bytes.
 */
export interface MemorySourcePlan {
  readonly kind: 'memory-source';
  readonly thread: string;
  readonly space: string;
  readonly priority: number;
  readonly serves: readonly { readonly thread: string; readonly bytes: number }[];
}

/**
 * The device supervisor: a privileged root-task thread holding every NIC's register window; it
 * owns the reset path and disables a driver on the dataspace manager's request (IPC).
 */
export interface DeviceSupervisorPlan {
  readonly kind: 'device-supervisor';
  readonly thread: string;
  readonly space: string;
  readonly priority: number;
  /** The thread allowed to ask for a disable. */
  readonly manager: string;
  /** Where each NIC's register window is mapped in the supervisor's space. */
  readonly registers: readonly { readonly device: string; readonly vaddr: number }[];
  /** How long it waits for a disabled driver's acknowledgement (the pin-age limit). */
  readonly ackSeconds: number;
  /**
   * Where each session's control region is mapped in the supervisor's space (it bumps the
   * session's epoch when it restarts the driver and watches the driver's heartbeat there).
   */
  readonly sessions: readonly { readonly index: number; readonly vaddr: number }[];
}

/** Any component of a plan. */
export type ComponentPlan =
  | MemorySourcePlan
  | DeviceSupervisorPlan
  | ManagerPlan
  | DriverPlan
  | StackPlan;

/** Where the device supervisor maps the first NIC's registers (the next ones a stride apart). */
export const SUPERVISOR_REGISTERS = 0x4000_0000;

/**
 * First IOMMU fault interrupt line: NIC `i` behind an IOMMU signals faults on line
 * `IOMMU_FAULT_IRQ_BASE + i`, above the 0–63 a description may give NICs.
 */
export const IOMMU_FAULT_IRQ_BASE = 64;
/** Where the device supervisor maps the first session's control region (the next ones a stride apart). */
export const SUPERVISOR_SESSIONS = 0x5000_0000;

/** Where each domain's counters page is mapped in its own space. */
export const COUNTERS_VADDR = 0x0f00_0000;

/** Where the monolithic baseline's socket user buffer is mapped (echo space; kernel: + stack × page). */
export const SOCKET_BUFFER_VADDR = 0x0f10_0000;

/** Where a component keeps its counters: its domain's counters page and its names' prefix. */
export interface CountersPlan {
  readonly vaddr: number;
  readonly prefix: string;
}

/** Name of the root task's space, home of the memory source. */
export const ROOT_TASK_SPACE = 'root-task';

/** How the realiser backs regions (see `MemoryLayout` in `@udf/l4-kernel`). */
export type PlanMemoryLayout = 'shared' | 'separate';

/** A driver–client session: control region (rings) and the client's buffer dataspace. */
export interface SessionPlan {
  readonly index: number;
  readonly nic: string;
  readonly driverSpace: string;
  readonly clientSpace: string;
  /** Control region (netdev rings), mapped at `controlVaddr` in both spaces. */
  readonly controlRegion: string;
  readonly controlVaddr: number;
  readonly ringCapacity: number;
  /** The client's buffer dataspace: where it is attached, how many buffers of what size. */
  readonly buffersVaddr: number;
  readonly bufferCount: number;
  readonly bufferSize: number;
  /** When the client wakes the driver. */
  readonly notify:
    | { readonly kind: 'when-asleep' }
    | { readonly kind: 'always' }
    | { readonly kind: 'per-item' }
    | { readonly kind: 'deferred'; readonly batch: number };
  /**
   * Receive steering, for a session on a NIC shared by several sessions (null otherwise): the
   * client stack's IPv4 address (dotted quad and as a 32-bit number) and where the driver maps
   * the session's buffer dataspace in its own space (`buffersVaddr`: the same address as in the
   * client's space, like the control region), `bytes` long.
   */
  readonly steering: {
    readonly ip: string;
    readonly ipv4: number;
    readonly driverBuffersVaddr: number;
    readonly bytes: number;
  } | null;
}

/** The measurement window and load of every step. */
export interface LoadPlan {
  readonly packetSize: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly cooldownSeconds: number;
  readonly startupLimitSeconds: number;
  readonly echoPort: number;
}

/** A whole system as plain data. */
export interface SystemPlan {
  readonly name: string;
  readonly machine: {
    readonly hz: number;
    readonly memoryBytes: number;
    readonly costTable: 'pentium4' | 'modern';
    readonly ipcScale: number;
    readonly seed: number;
    /** Region backing: `'separate'` gives every region its own buffer (as threads need). */
    readonly memoryLayout: PlanMemoryLayout;
  };
  readonly spaces: readonly SpacePlan[];
  readonly regions: readonly RegionPlan[];
  readonly devices: readonly DevicePlan[];
  readonly components: readonly ComponentPlan[];
  readonly sessions: readonly SessionPlan[];
  readonly load: LoadPlan;
}

/** Overrides an experiment applies on top of the description. */
export interface PlanOverrides {
  /** Interrupt hold-off for every NIC in µs (default: each NIC's own `holdoffUs`). */
  readonly holdoffUs?: number;
  /** Multiplier on the kernel's IPC costs (default: the description's `machine.ipcScale`). */
  readonly ipcScale?: number;
  /** UDP payload bytes (default: the description's `load.packetSize`). */
  readonly packetSize?: number;
  /** Warm-up in ms (default: `load.warmupMs`). */
  readonly warmupMs?: number;
  /** Window in ms (default: `load.durationMs`). */
  readonly durationMs?: number;
  /** Seed (default: `machine.seed`). */
  readonly seed?: number;
  /** Bus configuration for every NIC (default: each NIC's own `pci` and `eeprom64`). */
  readonly bus?: Omit<BusConfiguration, 'name'>;
  /** Region backing (default `'separate'`: every region its own buffer). */
  readonly memoryLayout?: PlanMemoryLayout;
}

/** The 33⅓ and 66⅔ MHz PCI clocks in Hz. */
const PCI_CLOCK_HZ = { 33: 100e6 / 3, 66: 200e6 / 3 } as const;

const roundPages = (bytes: number) => Math.ceil(bytes / PAGE_BYTES) * PAGE_BYTES;

function echoPortOf(sys: SystemDescription): number {
  for (const d of sys.domains)
    for (const c of d.components) if (c.kind === 'udp-echo') return c.port;
  return 7;
}

function holding(sys: SystemDescription, kind: string, nic?: string): DomainDescription {
  const d = sys.domains.find((dom) =>
    dom.components.some(
      (c) =>
        c.kind === kind &&
        (nic === undefined ||
          (c.kind === 'dp83820-driver' && c.nics.includes(nic)) ||
          (c.kind === 'ip-stack' && c.nic === nic)),
    ),
  );
  if (!d) throw new AssemblyError(`no domain holds a ${kind}${nic ? ` for ${nic}` : ''}`);
  return d;
}

/** The addresses of the stacks on `nic`, in domain order. */
function stackIps(sys: SystemDescription, nic: string): string[] {
  const ips: string[] = [];
  for (const d of sys.domains)
    for (const c of d.components) if (c.kind === 'ip-stack' && c.nic === nic) ips.push(c.ip);
  return ips;
}

/** Receive steering of a session: its stack's address when its NIC has several sessions. */
function steeringOf(
  sys: SystemDescription,
  all: readonly SessionDescription[],
  desc: SessionDescription,
  buffersVaddr: number,
): SessionPlan['steering'] {
  if (all.filter((s) => s.nic === desc.nic).length < 2) return null;
  const client = sys.domains.find((d) => d.name === desc.client);
  const stack = client?.components.find((c) => c.kind === 'ip-stack' && c.nic === desc.nic);
  if (!stack || stack.kind !== 'ip-stack') return null;
  return {
    ip: stack.ip,
    ipv4: ipNumber(stack.ip),
    driverBuffersVaddr: buffersVaddr,
    bytes: roundPages(desc.buffers * desc.bufferSize),
  };
}

function stackWeight(d: DomainDescription): 'lwip' | 'linux' {
  for (const c of d.components) if (c.kind === 'ip-stack' && c.weight) return c.weight;
  return d.kernel ? 'linux' : 'lwip';
}

function notifyOf(s: SessionDescription): SessionPlan['notify'] {
  return s.notify === 'deferred'
    ? { kind: 'deferred', batch: s.deferredBatch }
    : { kind: s.notify };
}

/**
 * Plan a validated description: pure, deterministic, plain data.
 *
 * @param sys - a description validated by `parseSystem`/`loadSystem` (defaults filled in)
 * @param overrides - an experiment's settings on top of the description
 * @throws AssemblyError if the description validated but cannot be planned (e.g. one stack
 *   domain whose sessions go to two driver domains)
 */
export function plan(sys: SystemDescription, overrides: PlanOverrides = {}): SystemPlan {
  const layout = sys.layout;
  const spaces: SpacePlan[] = sys.domains.map((d) => ({
    name: d.name,
    global: d.kernel,
    priority: d.priority,
  }));
  const regions: RegionPlan[] = [];
  const components: ComponentPlan[] = [];
  const echoPort = echoPortOf(sys);

  // The dataspace manager and its frame pool.
  const memDomain = holding(sys, 'dataspace-manager');
  const mgr = memDomain.components.find((c) => c.kind === 'dataspace-manager')!;
  if (mgr.kind !== 'dataspace-manager') throw new AssemblyError('no dataspace manager');
  const poolBytes = mgr.pages * PAGE_BYTES;
  if (spaces.some((d) => d.name === ROOT_TASK_SPACE))
    throw new AssemblyError(`domain name "${ROOT_TASK_SPACE}" is reserved for the root task`);
  spaces.push({ name: ROOT_TASK_SPACE, global: false, priority: memDomain.priority });
  components.push({
    kind: 'memory-source',
    thread: 'memory-source',
    space: ROOT_TASK_SPACE,
    priority: memDomain.priority,
    serves: [{ thread: 'dataspace-manager', bytes: poolBytes }],
  });
  components.push({
    kind: 'dataspace-manager',
    thread: 'dataspace-manager',
    space: memDomain.name,
    priority: memDomain.priority,
    pool: { vaddr: layout.pool, bytes: poolBytes },
    memorySource: 'memory-source',
    supervisor: 'device-supervisor',
    counters: { vaddr: COUNTERS_VADDR, prefix: 'manager' },
    pinQuotaPages: mgr.pinQuotaPages,
    maxPinSeconds: mgr.maxPinSeconds,
    pinScanSeconds: mgr.pinScanSeconds,
  });

  components.push({
    kind: 'device-supervisor',
    thread: 'device-supervisor',
    space: ROOT_TASK_SPACE,
    priority: memDomain.priority,
    manager: 'dataspace-manager',
    registers: sys.nics.map((nic, i) => ({
      device: nic.name,
      vaddr: SUPERVISOR_REGISTERS + i * REGION_STRIDE,
    })),
    ackSeconds: mgr.maxPinSeconds,
    sessions: resolveSessions(sys).map((_, index) => ({
      index,
      vaddr: SUPERVISOR_SESSIONS + index * REGION_STRIDE,
    })),
  });

  // Devices and the load clients on their wires.
  const devices: DevicePlan[] = sys.nics.map((nic, i) => {
    const targetIps = stackIps(sys, nic.name);
    if (targetIps.length === 0)
      throw new AssemblyError(`no domain holds a ip-stack for ${nic.name}`);
    const prefix = targetIps[0]!.split('.').slice(0, 3).join('.');
    const holdoffUs = overrides.holdoffUs ?? nic.holdoffUs;
    const bus = overrides.bus;
    return {
      name: nic.name,
      model: nic.model,
      irq: nic.irq,
      mac: nic.mac,
      holdoffUnits: holdoffUs / 100,
      targetIps,
      clients: Array.from({ length: sys.load.clientsPerNic }, (_, j) => ({
        mac: `02:00:00:${(0x10 + i).toString(16)}:00:${(0x10 + j).toString(16)}`,
        ip: `${prefix}.${CLIENT_HOST_BASE + j}`,
        port: CLIENT_PORT_BASE + j,
        targetIp: targetIps[j % targetIps.length]!,
      })),
      pci: {
        clockHz: PCI_CLOCK_HZ[bus?.clockMHz ?? nic.pci.clockMHz],
        busBytes: (bus?.widthBits ?? nic.pci.widthBits) === 64 ? 8 : 4,
        readLatencyClocks: nic.pci.readLatencyClocks,
      },
      eeprom64: bus?.eeprom64 ?? nic.eeprom64,
      iommu: nic.iommu,
      iommuFaultIrq: nic.iommu ? IOMMU_FAULT_IRQ_BASE + i : null,
    };
  });

  // Sessions: a control region mapped into both spaces, a buffer dataspace in the client's.
  const resolved = resolveSessions(sys);
  const sessions: SessionPlan[] = resolved.map((desc, index) => {
    const controlVaddr = layout.session + index * REGION_STRIDE;
    const controlRegion = `session${index}.control`;
    const mappings: MappingPlan[] = [{ space: desc.client, vaddr: controlVaddr }];
    if (desc.driver !== desc.client) mappings.push({ space: desc.driver, vaddr: controlVaddr });
    mappings.push({ space: ROOT_TASK_SPACE, vaddr: SUPERVISOR_SESSIONS + index * REGION_STRIDE });
    regions.push({
      name: controlRegion,
      purpose: 'session-control',
      bytes: roundPages(netSessionLayout(desc.ringCapacity).byteLength),
      mappings,
    });
    return {
      index,
      nic: desc.nic,
      driverSpace: desc.driver,
      clientSpace: desc.client,
      controlRegion,
      controlVaddr,
      ringCapacity: desc.ringCapacity,
      buffersVaddr: layout.buffers + index * BUFFER_STRIDE,
      bufferCount: desc.buffers,
      bufferSize: desc.bufferSize,
      notify: notifyOf(desc),
      steering: steeringOf(sys, resolved, desc, layout.buffers + index * BUFFER_STRIDE),
    };
  });

  // Drivers: one thread per driver component.
  let iommuTables = 0;
  for (const d of sys.domains) {
    for (const comp of d.components) {
      if (comp.kind !== 'dp83820-driver') continue;
      const driverDevices: DriverDevicePlan[] = comp.nics.map((nicName, idx) => {
        const dev = devices.find((x) => x.name === nicName)!;
        const region = `${d.name}.${nicName}.dma`;
        const vaddr = layout.dma + idx * REGION_STRIDE;
        // Descriptor rings: 16 pages hold 1024 wide descriptors of each kind with room to spare.
        const bytes = 16 * PAGE_BYTES;
        regions.push({
          name: region,
          purpose: 'descriptor-dma',
          bytes,
          mappings: [{ space: d.name, vaddr }],
        });
        return {
          device: nicName,
          registers: layout.registers + idx * PAGE_BYTES,
          irq: dev.irq,
          dma: { region, vaddr, bytes },
          holdoffUnits: dev.holdoffUnits,
          rxDescriptors: comp.rxDescriptors,
          txDescriptors: comp.txDescriptors,
          // The paper's Linux baseline runs the in-kernel driver; its interrupt scheme is that of
          // Linux's ns83820. User-level drivers are the paper's (section 4.5).
          interruptPolicy: comp.interruptPolicy ?? (d.kernel ? 'ns83820' : 'prime'),
        };
      });
      components.push({
        kind: 'dp83820-driver',
        thread: `${d.name}/dp83820`,
        space: d.name,
        priority: d.priority,
        inKernel: d.kernel,
        counters: { vaddr: COUNTERS_VADDR, prefix: `${d.name}.driver` },
        devices: driverDevices,
        sessions: sessions.filter((s) => s.driverSpace === d.name).map((s) => s.index),
        translationCache: { vaddr: layout.translationCache, entries: comp.translationCacheEntries },
        notifyAvoidance: !d.kernel,
        iommu: comp.nics.some((n) => devices.find((x) => x.name === n)!.iommu)
          ? { vaddr: layout.iommu + iommuTables++ * REGION_STRIDE }
          : null,
        heartbeatSeconds: comp.heartbeatSeconds,
      });
    }
  }

  // Stacks: one thread per stack domain, a region mapper as its pager.
  let stackCount = 0;
  for (const d of sys.domains) {
    if (!d.components.some((c) => c.kind === 'ip-stack')) continue;
    const mine = sessions.filter((s) => s.clientSpace === d.name);
    if (mine.length === 0) throw new AssemblyError(`stack domain "${d.name}" has no session`);
    const driverSpaces = [...new Set(mine.map((s) => s.driverSpace))];
    if (driverSpaces.length > 1) {
      throw new AssemblyError(
        `stack domain "${d.name}" has sessions with drivers in ${driverSpaces.map((x) => `"${x}"`).join(' and ')}; one stack domain is served by one driver domain`,
      );
    }
    const echoHere = d.components.find((c) => c.kind === 'udp-echo');
    let socketEcho: SocketEchoPlan | null = null;
    if (!echoHere) {
      const echoDomain = holding(sys, 'udp-echo');
      const echo = echoDomain.components.find((c) => c.kind === 'udp-echo');
      const userBuffer = {
        region: `socket-buffer.${stackCount}`,
        vaddr: SOCKET_BUFFER_VADDR,
        kernelVaddr: SOCKET_BUFFER_VADDR + stackCount * PAGE_BYTES,
        bytes: PAGE_BYTES,
      };
      regions.push({
        name: userBuffer.region,
        purpose: 'socket-buffer',
        bytes: PAGE_BYTES,
        mappings: [
          { space: echoDomain.name, vaddr: userBuffer.vaddr },
          { space: d.name, vaddr: userBuffer.kernelVaddr },
        ],
      });
      socketEcho = {
        thread: `${echoDomain.name}/udp-echo`,
        space: echoDomain.name,
        priority: echoDomain.priority,
        queueDatagrams: echo && echo.kind === 'udp-echo' ? echo.socketQueueDatagrams : 54,
        counters: { vaddr: COUNTERS_VADDR, prefix: `socket-echo${stackCount}` },
        userBuffer,
      };
    }
    components.push({
      kind: 'ip-stack',
      thread: `${d.name}/ip-stack`,
      counters: { vaddr: COUNTERS_VADDR, prefix: `stack${stackCount++}` },
      space: d.name,
      priority: d.kernel ? d.priority - 1 : d.priority,
      regionMapper: `${d.name}/region-mapper`,
      interfaces: mine.map((s) => {
        const stack = d.components.find((c) => c.kind === 'ip-stack' && c.nic === s.nic);
        const nic = sys.nics.find((n) => n.name === s.nic)!;
        return {
          session: s.index,
          mac: nic.mac,
          ip: stack && stack.kind === 'ip-stack' ? stack.ip : '0.0.0.0',
          netmask: stack && stack.kind === 'ip-stack' ? stack.netmask : '255.255.255.0',
        };
      }),
      echoPort: echoHere ? echoPort : null,
      socketEcho,
      driverSpace: driverSpaces[0]!,
      weight: stackWeight(d),
    });
  }

  // A counters page per domain, mapped in that domain only (the engine reads the region).
  for (const d of spaces) {
    if (d.name === ROOT_TASK_SPACE) continue;
    regions.push({
      name: `counters.${d.name}`,
      purpose: 'counters',
      bytes: COUNTERS_PAGE_BYTES,
      mappings: [{ space: d.name, vaddr: COUNTERS_VADDR }],
    });
  }

  return {
    name: sys.name,
    machine: {
      hz: sys.machine.hz,
      memoryBytes: sys.machine.memoryMiB * 1024 * 1024,
      costTable: sys.machine.costTable,
      ipcScale: overrides.ipcScale ?? sys.machine.ipcScale,
      seed: overrides.seed ?? sys.machine.seed,
      memoryLayout: overrides.memoryLayout ?? 'separate',
    },
    spaces,
    regions,
    devices,
    components,
    sessions,
    load: {
      packetSize: overrides.packetSize ?? sys.load.packetSize,
      warmupSeconds: (overrides.warmupMs ?? sys.load.warmupMs) / 1000,
      durationSeconds: (overrides.durationMs ?? sys.load.durationMs) / 1000,
      cooldownSeconds: sys.load.cooldownMs / 1000,
      startupLimitSeconds: sys.load.startupLimitMs / 1000,
      echoPort,
    },
  };
}

/**
 * The sessions of a stack as its `stackServer` configuration names them (both realisers build
 * the stack from this): per interface, the session's rings and buffer dataspace and the
 * interface's addresses.
 */
export function stackSessions(plan: SystemPlan, stack: StackPlan) {
  return stack.interfaces.map((itf) => {
    const s = plan.sessions[itf.session]!;
    return {
      index: s.index,
      controlVaddr: s.controlVaddr,
      ringCapacity: s.ringCapacity,
      buffersVaddr: s.buffersVaddr,
      bufferCount: s.bufferCount,
      bufferSize: s.bufferSize,
      mac: itf.mac,
      ip: itf.ip,
      netmask: itf.netmask,
    };
  });
}

/**
 * The most pages one driver of `plan` keeps pinned for its devices' receive rings when no frame
 * arrives: per device, its receive descriptors times the pages one receive buffer can span (one
 * if buffers are page-contained — their size divides the page —, else one more than their size
 * in pages, for a buffer that crosses a page boundary), summed over the driver's devices; the
 * largest over the drivers. The dataspace manager lets a driver hold this many pages pinned past
 * the pin-time quota (`PinQuota.maxLongPinnedPages` in `@udf/dataspace`): a device owns its
 * posted receive buffers for as long as the wire is idle.
 */
export function postedReceivePages(plan: SystemPlan): number {
  let most = 0;
  for (const d of plan.components) {
    if (d.kind !== 'dp83820-driver') continue;
    let pages = 0;
    for (const dev of d.devices) {
      const size = Math.max(
        1,
        ...plan.sessions.filter((s) => s.nic === dev.device).map((s) => s.bufferSize),
      );
      const span = PAGE_BYTES % size === 0 ? 1 : Math.ceil(size / PAGE_BYTES) + 1;
      pages += dev.rxDescriptors * span;
    }
    most = Math.max(most, pages);
  }
  return most;
}
