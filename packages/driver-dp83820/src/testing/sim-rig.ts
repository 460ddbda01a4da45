/**
 * A small system on the sim engine for driver tests and the benchmark: one or more DP83820s,
 * a driver domain, a client domain per session with its buffer memory, a toy translation
 * manager, and a wire peer per device. Test-only; not exported from the package.
 *
 * @module
 */
import { IOMMU_READ, IOMMU_WRITE, IommuDomain, IommuTable } from '@udf/dataspace';
import {
  ANY_THREAD,
  type KernelCall,
  NEVER,
  type Rights,
  SimEngine,
  type Sys,
  type ThreadId,
} from '@udf/l4-kernel';
import {
  DescStatus,
  type FrameEndpoint,
  NetSessionClient,
  netSessionLayout,
  wireSeconds,
} from '@udf/netdev';
import { Dp83820 } from '../device/dp83820.js';
import type {
  Dp83820DeviceConfig,
  Dp83820SessionConfig,
  DriverTranslation,
} from '../driver/config.js';
import type { Dp83820DriverCosts } from '../driver/costs.js';
import { Dp83820Driver } from '../driver/driver.js';

const RW: Rights = { read: true, write: true, execute: false };
const PAGE = 4096;

/** Virtual addresses used in the rig's spaces. */
export const RIG = {
  REGS: 0x1000_0000,
  DMA: 0x2000_0000,
  REGION: 0x3000_0000,
  BUFFERS: 0x4000_0000,
  /** Dataspace id of session `i`'s buffers is `DATASPACE + i`. */
  DATASPACE: 7,
  BUFFER_SIZE: 2048,
  CAPACITY: 64,
} as const;

/**
 * A translation source standing in for a dataspace manager: dataspace `id` is the physically
 * contiguous range registered for it; a page is translated only after a refill IPC to the
 * manager thread, so the first use of every page is a miss.
 */
export class ToyTranslation implements DriverTranslation {
  refills = 0;
  pins = 0;
  /** The driver's Sys, set when the driver opens the translation source. */
  sys: Sys | null = null;
  /**
   * The driver's IOMMU domain (rig option `iommu`): every page refilled is entered there, as the
   * dataspace manager does for the frames it installs in a translation cache.
   */
  iommu: IommuDomain | null = null;
  private readonly installed = new Set<number>();
  constructor(
    private readonly manager: () => ThreadId,
    private readonly ranges: Map<number, { paddr: number; size: number; stride?: number }>,
  ) {}
  *add(dataspaceId: number): Generator<KernelCall, { id: number; size: number }, unknown> {
    yield* []; // a real manager answers by IPC; the toy knows the answer
    const r = this.ranges.get(dataspaceId);
    if (!r) throw new Error(`unknown dataspace ${dataspaceId}`);
    return { id: dataspaceId, size: r.size };
  }
  pin(ds: number, off: number): number {
    const r = this.ranges.get(ds);
    this.sys?.charge('Translation', 40);
    if (!r || !this.installed.has(ds * 1e6 + (off >>> 12))) return -1;
    this.pins++;
    return toyPaddr(r, off);
  }
  unpin(): void {
    this.pins--;
  }
  *refill(sys: Sys, ds: number, off: number): Generator<KernelCall, number, unknown> {
    const reply = yield* sys.ipc.call(this.manager(), { label: 1, words: [ds, off >>> 12] });
    if (!reply.ok) return -1;
    this.refills++;
    const key = ds * 1e6 + (off >>> 12);
    const r = this.ranges.get(ds);
    if (this.iommu && r && !this.installed.has(key) && off >= 0 && off < r.size) {
      this.iommu.enter(Math.floor(toyPaddr(r, off) / PAGE), true);
    }
    this.installed.add(key);
    return r && off >= 0 && off < r.size ? toyPaddr(r, off) : -1;
  }
}

/** Physical address of `off` in a toy dataspace whose page `p` is at `paddr + p × stride`. */
function toyPaddr(r: { paddr: number; stride?: number }, off: number): number {
  return r.paddr + Math.floor(off / PAGE) * (r.stride ?? PAGE) + (off % PAGE);
}

/** Records frames a device sends, with times. */
export class SimPeer implements FrameEndpoint {
  readonly frames: Uint8Array[] = [];
  count = 0;
  keep = true;
  constructor(private readonly sim: SimEngine) {}
  receive(frame: Uint8Array): void {
    this.count++;
    if (this.keep) this.frames.push(frame.slice());
  }
  /** Send frames into `port` back to back at line rate (or every `gapSeconds`). */
  send(port: FrameEndpoint, frames: readonly Uint8Array[], gapSeconds?: number): void {
    let t = this.sim.now();
    for (const f of frames) {
      t += Math.ceil((gapSeconds ?? wireSeconds(f.length, 1e9)) * this.sim.machine.hz);
      this.sim.machine.schedule(t, () => port.receive(f));
    }
  }
}

/**
 * What a rig client does; the default echoes nothing and reposts every receive buffer except one
 * returned `Aborted` (the driver is shutting down: netdev's meaning of that status).
 */
export interface RigClientHooks {
  /** Called for every returned receive descriptor; return a frame to send back (or null). */
  onRx?(length: number, status: number, bytes: Uint8Array): Uint8Array | null;
  /** Called for every completed transmit descriptor. */
  onTxDone?(offset: number, status: number): void;
  /** Descriptors to submit raw at start (hostile tests): [dataspace, offset, length]. */
  rawTx?: readonly (readonly [number, number, number])[];
  /** Receive descriptors to post raw at start instead of the normal buffers. */
  rawRx?: readonly (readonly [number, number, number])[];
  /** Frames to send at start. */
  send?: readonly Uint8Array[];
  /**
   * A client that never takes a received frame but keeps its post ring full (cycling over its
   * receive buffers): its return ring soon stays full, a legal, non-corrupt state.
   */
  hoard?: boolean;
  /**
   * Take over the client loop (hostile tests): called once per pass with the session end, the
   * region's words and the buffer bytes; returns how many descriptors it enqueued (the rig
   * notifies the driver for them). The client then sleeps until notified or `hostileNap` cycles.
   */
  hostile?: (ctx: HostileContext) => number;
  /** Cycles a hostile client sleeps between passes at most (default 20 000). */
  hostileNap?: number;
  /**
   * Scribble on the session region (as 32-bit words) at the end of every pass of the client's
   * loop, before it sleeps; `pass` counts from 0 (hostile tests).
   */
  corruptRegion?: (words: Uint32Array, pass: number) => void;
}

/** What a hostile rig client gets each pass. */
export interface HostileContext {
  readonly net: NetSessionClient;
  /** The session region as 32-bit words. */
  readonly words: Uint32Array;
  /** The client's buffer dataspace id. */
  readonly ds: number;
  /** The client's buffer memory (dataspace offset = index). */
  readonly bytes: Uint8Array;
  /** The sim's clock. */
  readonly now: number;
}

/** Counters of a rig client. */
export interface RigClientStats {
  rx: number;
  rxStatus: number[];
  txDone: number;
  txStatus: number[];
  notificationsReceived: number;
  notificationsSent: number;
}

/** The assembled system. */
export interface Rig {
  sim: SimEngine;
  devices: Dp83820[];
  peers: SimPeer[];
  driver: Dp83820Driver;
  translation: ToyTranslation;
  clients: RigClientStats[];
  driverThread: ThreadId;
  /** Physical address of session `i`'s buffers: receive buffers first, then transmit buffers. */
  bufferPaddrs: number[];
  /** Bytes of each session's receive buffers (`RIG.CAPACITY * RIG.BUFFER_SIZE`). */
  rxBufferBytes: number;
  /** Physical frames filled with {@link POISON} (with `interleave`): no DMA may touch them. */
  poisoned: number[];
  /** Number of bytes of a poisoned frame that no longer hold {@link POISON}. */
  poisonDamage(): number;
  /** The driver's IOMMU table (rig option `iommu`), or null. */
  iommu: IommuTable | null;
  /** Physical address and size of each device's DMA region (its descriptor rings). */
  dmaRegions: { paddr: number; bytes: number }[];
}

/** The byte poisoned frames are filled with. */
export const POISON = 0xa5;

/** Build a rig: `sessions[i]` is the device index of session i. */
export function buildRig(
  options: {
    devices?: number;
    sessions?: number[];
    holdoff?: number;
    hooks?: RigClientHooks[];
    costs?: Partial<Dp83820DriverCosts>;
    /** A device-supervisor thread (created before the driver, which is told its id). */
    supervisor?: (sys: Sys, driverThread: () => ThreadId) => Generator<KernelCall, void, unknown>;
    keepFrames?: boolean;
    /** Runs in the manager thread each time it serves a refill (as a manager's hooks do). */
    onRefill?: (refill: number) => void;
    /**
     * Place each session's buffer pages on every other physical frame and fill the frames in
     * between, and every other free frame of memory, with {@link POISON} ({@link Rig.poisoned}).
     */
    interleave?: boolean;
    /** Physical memory of the machine (default 32 MiB). */
    memoryBytes?: number;
    /**
     * Receive steering: session `i`'s registered addresses (the driver's `address`); its buffers
     * are then mapped into the driver's space too (`dataspacesAt`). Not with `interleave`.
     */
    steering?: readonly ({ ipv4?: number; mac?: readonly number[] } | undefined)[];
    /**
     * Put every device behind an IOMMU whose table the rig formats (granting the devices' DMA
     * regions, as a realiser does) and the toy manager fills on every refill; `faultLine` is the
     * IOMMU's fault interrupt (default: none).
     */
    iommu?: boolean | { faultLine?: number };
  } = {},
): Rig {
  const sim = new SimEngine({ memoryBytes: options.memoryBytes ?? 32 * 1024 * 1024 });
  const k = sim.kernel;
  const nDev = options.devices ?? 1;
  const sessionDevices = options.sessions ?? [0];
  const driverSpace = k.createSpace('driver');
  const ids = { driver: 0, manager: 0 };
  let iommu: IommuTable | null = null;
  if (options.iommu) {
    const frames = IommuTable.framesFor(sim.machine.memory.size);
    const { region } = k.allocateRegion(IommuTable.bytesFor(frames));
    iommu = new IommuTable(region.buffer, region.byteOffset, frames);
    iommu.format();
  }
  const faultLine = typeof options.iommu === 'object' ? options.iommu.faultLine : undefined;
  const dmaRegions: { paddr: number; bytes: number }[] = [];

  const devices: Dp83820[] = [];
  const peers: SimPeer[] = [];
  const deviceConfigs: Dp83820DeviceConfig[] = [];
  for (let i = 0; i < nDev; i++) {
    const mac = [0x02, 0, 0, 0, 0, 0x10 + i];
    const dev = sim.machine.attachDevice(
      `nic${i}`,
      new Dp83820({
        host: sim.machine,
        irqLine: 9 + i,
        mac,
        ...(iommu
          ? { iommu: { table: iommu, ...(faultLine === undefined ? {} : { faultLine }) } }
          : {}),
      }),
    );
    const peer = new SimPeer(sim);
    peer.keep = options.keepFrames ?? true;
    dev.port.connect(peer);
    devices.push(dev);
    peers.push(peer);
    k.mapDevice(driverSpace, RIG.REGS + i * PAGE, dev);
    const dmaBytes = 16 * PAGE;
    const dmaV = RIG.DMA + i * 0x10_0000;
    const paddr = k.mapAnonymous(driverSpace, dmaV, dmaBytes, RW);
    iommu?.grant(paddr, dmaBytes, IOMMU_READ | IOMMU_WRITE);
    dmaRegions.push({ paddr, bytes: dmaBytes });
    deviceConfigs.push({
      registers: RIG.REGS + i * PAGE,
      irq: 9 + i,
      dma: { vaddr: dmaV, paddr, bytes: dmaBytes },
      holdoff: options.holdoff ?? 1,
    });
  }

  const ranges = new Map<number, { paddr: number; size: number; stride?: number }>();
  const translation = new ToyTranslation(() => ids.manager, ranges);
  translation.iommu = iommu ? new IommuDomain(iommu) : null;
  const clientStats: RigClientStats[] = [];
  const sessionConfigs: Dp83820SessionConfig[] = [];
  const layout = netSessionLayout(RIG.CAPACITY);
  const regionBytes = Math.ceil(layout.byteLength / PAGE) * PAGE;
  const bufBytes = 2 * RIG.CAPACITY * RIG.BUFFER_SIZE;
  const clientIds: ThreadId[] = [];
  const bufferPaddrs: number[] = [];
  const poisoned: number[] = [];

  sessionDevices.forEach((devIndex, i) => {
    const space = k.createSpace(`client${i}`);
    const region = k.allocateFrames(regionBytes);
    k.mapPhysical(space, RIG.REGION, region, regionBytes, RW);
    k.mapPhysical(driverSpace, RIG.REGION + i * 0x10_0000, region, regionBytes, RW);
    const ds = RIG.DATASPACE + i;
    let bufs: number;
    if (options.interleave) {
      bufs = k.allocateFrames(2 * bufBytes);
      for (let p = 0; p < bufBytes / PAGE; p++) {
        k.mapPhysical(space, RIG.BUFFERS + p * PAGE, bufs + 2 * p * PAGE, PAGE, RW);
        poisoned.push(bufs + (2 * p + 1) * PAGE);
      }
      ranges.set(ds, { paddr: bufs, size: bufBytes, stride: 2 * PAGE });
    } else {
      bufs = k.allocateFrames(bufBytes);
      k.mapPhysical(space, RIG.BUFFERS, bufs, bufBytes, RW);
      ranges.set(ds, { paddr: bufs, size: bufBytes });
    }
    bufferPaddrs.push(bufs);
    const stats: RigClientStats = {
      rx: 0,
      rxStatus: [],
      txDone: 0,
      txStatus: [],
      notificationsReceived: 0,
      notificationsSent: 0,
    };
    clientStats.push(stats);
    const hooks = options.hooks?.[i] ?? {};
    const tid = k.createThread({
      name: `client${i}`,
      space,
      priority: 100,
      body: (sys) => rigClient(sys, ds, bufBytes, () => ids.driver, hooks, stats),
    });
    clientIds.push(tid);
    const steer = options.steering?.[i];
    let steering = {};
    if (steer && !options.interleave) {
      const at = RIG.BUFFERS + i * 0x100_0000;
      k.mapPhysical(driverSpace, at, bufs, bufBytes, RW);
      steering = { address: steer, dataspacesAt: [at] };
    }
    sessionConfigs.push({
      device: devIndex,
      client: tid,
      region: RIG.REGION + i * 0x10_0000,
      capacity: RIG.CAPACITY,
      dataspaces: [ds],
      ...steering,
    });
  });

  const managerSpace = k.createSpace('manager');
  ids.manager = k.createThread({
    name: 'manager',
    space: managerSpace,
    priority: 150,
    body: function* (sys) {
      let r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
      let refills = 0;
      for (;;) {
        sys.charge('Translation', 450);
        if (r.ok) options.onRefill?.(++refills);
        r = r.ok
          ? yield* sys.ipc.replyWait(r.from, { label: 0, words: [] }, NEVER)
          : yield* sys.ipc.receive(ANY_THREAD, NEVER);
      }
    },
  });

  const supervise = options.supervisor;
  const supervisorThread = supervise
    ? k.createThread({
        name: 'supervisor',
        space: k.createSpace('root-task'),
        priority: 250,
        body: (sys) => supervise(sys, () => ids.driver),
      })
    : undefined;
  const driver = new Dp83820Driver({
    ...(supervisorThread !== undefined ? { supervisor: supervisorThread } : {}),
    devices: deviceConfigs,
    sessions: sessionConfigs,
    translation: function* (sys) {
      yield* [];
      translation.sys = sys;
      return translation;
    },
    costs: options.costs,
  });
  ids.driver = k.createThread({
    name: 'dp83820',
    space: driverSpace,
    priority: 200,
    body: driver.body,
  });
  const memory = sim.machine.memory;
  if (options.interleave) {
    // Every other frame of the memory nobody was given.
    const top = k.allocateFrames(PAGE);
    for (let f = top + PAGE; f + PAGE <= memory.size; f += 2 * PAGE) poisoned.push(f);
  }
  const poison = new Uint8Array(PAGE).fill(POISON);
  for (const f of poisoned) memory.copyIn(f, poison);
  return {
    sim,
    devices,
    peers,
    driver,
    translation,
    clients: clientStats,
    driverThread: ids.driver,
    bufferPaddrs,
    rxBufferBytes: RIG.CAPACITY * RIG.BUFFER_SIZE,
    poisoned,
    iommu,
    dmaRegions,
    poisonDamage() {
      let bad = 0;
      const page = new Uint8Array(PAGE);
      const clean = Buffer.from(new Uint8Array(PAGE).fill(POISON));
      for (const f of poisoned) {
        memory.copyOut(f, page);
        if (clean.equals(page)) continue;
        for (let i = 0; i < PAGE; i++) if (page[i] !== POISON) bad++;
      }
      return bad;
    },
  };
}

function* rigClient(
  sys: Sys,
  ds: number,
  bufBytes: number,
  driver: () => ThreadId,
  hooks: RigClientHooks,
  stats: RigClientStats,
): Generator<KernelCall, void, unknown> {
  const layout = netSessionLayout(RIG.CAPACITY);
  const region = yield* sys.mem.access(RIG.REGION, layout.byteLength, 'write');
  const bufs = yield* sys.mem.access(RIG.BUFFERS, bufBytes, 'write');
  if (!('buffer' in region)) throw new Error('client region not mapped');
  // Interleaved buffers are not one contiguous view: such a client only receives and reposts.
  const bufBytesView = 'bytes' in bufs ? bufs.bytes : new Uint8Array(bufBytes);
  const net = new NetSessionClient({
    buffer: region.buffer,
    byteOffset: region.byteOffset,
    capacity: RIG.CAPACITY,
  });
  const regionWords = new Uint32Array(region.buffer, region.byteOffset, layout.byteLength >> 2);
  let pass = 0;
  if (hooks.hostile) {
    const nap = hooks.hostileNap ?? 20_000;
    for (;;) {
      const enq = hooks.hostile({
        net,
        words: regionWords,
        ds,
        bytes: bufBytesView,
        now: sys.now(),
      });
      if (enq > 0) {
        stats.notificationsSent++;
        yield* sys.ipc.send(driver(), { label: 2, words: [] }, 0);
      }
      const r = yield* sys.ipc.receive(ANY_THREAD, nap);
      if (r.ok) stats.notificationsReceived++;
    }
  }
  const txBase = RIG.CAPACITY * RIG.BUFFER_SIZE;
  const freeTx: number[] = [];
  for (let i = 0; i < RIG.CAPACITY; i++) freeTx.push(txBase + i * RIG.BUFFER_SIZE);
  const outbox: Uint8Array[] = [...(hooks.send ?? [])];
  const out = new Uint32Array(4);
  let posted = 0;
  if (hooks.rawRx) for (const [d, o, l] of hooks.rawRx) posted += net.postRx(d, o, l) ? 1 : 0;
  else
    for (let i = 0; i < RIG.CAPACITY; i++)
      posted += net.postRx(ds, i * RIG.BUFFER_SIZE, RIG.BUFFER_SIZE) ? 1 : 0;
  let submitted = 0;
  for (const [d, o, l] of hooks.rawTx ?? []) submitted += net.submitTx(d, o, l) ? 1 : 0;
  let hoarded = 0;

  for (;;) {
    let enq = 0;
    while (hooks.hoard && net.rxPostSpace() > 0) {
      net.postRx(ds, (hoarded++ % RIG.CAPACITY) * RIG.BUFFER_SIZE, RIG.BUFFER_SIZE);
      enq++;
    }
    while (!hooks.hoard && net.pollRx(out)) {
      stats.rx++;
      stats.rxStatus.push(out[3]!);
      const reply = hooks.onRx?.(
        out[2]!,
        out[3]!,
        bufBytesView.subarray(out[1]!, out[1]! + out[2]!),
      );
      if (reply) outbox.push(reply);
      if (out[0] === ds && out[1]! < txBase && out[3] !== DescStatus.Aborted)
        enq += net.postRx(ds, out[1]!, RIG.BUFFER_SIZE) ? 1 : 0;
    }
    while (net.pollTxDone(out)) {
      stats.txDone++;
      stats.txStatus.push(out[3]!);
      hooks.onTxDone?.(out[1]!, out[3]!);
      if (out[0] === ds && out[1]! >= txBase) freeTx.push(out[1]!);
    }
    while (outbox.length > 0 && freeTx.length > 0) {
      const f = outbox.shift()!;
      const off = freeTx.pop()!;
      bufBytesView.set(f, off);
      if (!net.submitTx(ds, off, f.length)) {
        freeTx.push(off);
        outbox.unshift(f);
        break;
      }
      enq++;
    }
    enq += posted + submitted;
    posted = 0;
    submitted = 0;
    if (enq > 0 && net.shouldNotify(enq)) {
      stats.notificationsSent++;
      yield* sys.ipc.send(driver(), { label: 2, words: [] }, 0);
    }
    hooks.corruptRegion?.(regionWords, pass++);
    net.prepareSleep();
    // A hoarder's return ring is never empty: it sleeps until notified regardless.
    if (hooks.hoard ? false : net.hasWork()) {
      net.cancelSleep();
      continue;
    }
    const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
    net.cancelSleep();
    if (r.ok) stats.notificationsReceived++;
  }
}
