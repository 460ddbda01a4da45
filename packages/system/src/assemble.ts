/**
 * The assembler: builds a running system on the sim engine from a validated description, like a
 * root task (sigma0) would. It creates one address space per protection domain (the kernel
 * domain of the monolithic baseline is a global space), the dataspace manager with its physical
 * frames, the NICs with their register windows, DMA memory and interrupt lines, a switch per NIC
 * with the ipbench clients on it, and the component threads.
 *
 * Session setup follows the paper (section 4.2): the client opens its buffer dataspace from the
 * manager, shares it with the driver (translate rights) and attaches it through its region
 * mapper; the driver associates the dataspace with the session and opens a translation cache
 * with the manager. Only the session's control region (the netdev rings) is mapped into both
 * spaces directly by the assembler, as shared memory established once at session setup.
 *
 * @module
 */
import {
  AnonymousManager,
  DS_RIGHT_READ,
  DS_RIGHT_TRANSLATE,
  DS_RIGHT_WRITE,
  dsClient,
  RegionMapper,
  rmClient,
  TranslationCache,
} from '@udf/dataspace';
import {
  Dp83820,
  type Dp83820DeviceConfig,
  Dp83820Driver,
  type Dp83820SessionConfig,
} from '@udf/driver-dp83820';
import { SimClient } from '@udf/ipbench';
import {
  type KernelCall,
  MODERN_X86_3_0,
  NEVER,
  PENTIUM4_XEON_2_66,
  type Rights,
  SimEngine,
  type SpaceId,
  type Sys,
  type ThreadId,
  ZERO,
} from '@udf/l4-kernel';
import {
  type Stack,
  type StackThreadState,
  stackThread,
  UdpDatagram,
  type UdpSocket,
} from '@udf/lwip-lite';
import { type NotifyPolicy, netSessionLayout, Switch } from '@udf/netdev';
import { CALIBRATION, componentCosts } from './calibration.js';
import { AssemblyError } from './errors.js';
import { resolveSessions } from './load.js';
import type { StepOptions } from './result.js';
import type { DomainDescription, SessionDescription, SystemDescription } from './schema.js';

const PAGE = 4096;
const RW: Rights = { read: true, write: true, execute: false };

/** Virtual addresses the assembler uses in every space. */
export const LAYOUT = {
  /** The manager's frame pool (memory domain). */
  POOL: 0x1000_0000,
  /** Register windows of the NICs a driver runs, one page each. */
  REGISTERS: 0x2000_0000,
  /** DMA memory for each NIC's descriptor rings (1 MiB apart). */
  DMA: 0x2100_0000,
  /** The driver's translation cache table. */
  TRANSLATION_CACHE: 0x2800_0000,
  /** Session control regions (netdev rings), 1 MiB apart, at the same address in both spaces. */
  SESSION: 0x3000_0000,
  /** Session buffer dataspaces in the client's space, 16 MiB apart. */
  BUFFERS: 0x4000_0000,
} as const;

/**
 * Socket receive queue of the monolithic baseline's user-level echo, in datagrams. Linux 2.6's
 * default `net.core.rmem_default` is 110 592 bytes and each queued 1024-byte datagram is charged
 * its skb's truesize (~2 KiB with a 2 KiB data buffer), so about 54 datagrams fit.
 */
export const SOCKET_QUEUE_DATAGRAMS = 54;

/**
 * Period of the manager's pin-quota scan. Quotas are enforced at millisecond granularity; the
 * dataspace package's default (10 µs) is meant for its own tests and would wake the manager
 * 100 000 times a simulated second.
 */
export const PIN_SCAN_SECONDS = 0.001;

/** What {@link assemble} returns. */
export interface AssembledSystem {
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
}

interface SessionPlan {
  readonly index: number;
  readonly desc: SessionDescription;
  readonly nicIndex: number;
  readonly region: number;
  readonly buffers: number;
  dataspaceId: number;
  clientThread: ThreadId;
}

/** Deferred notification batch size for sessions declared `notify: deferred`. */
export const DEFERRED_NOTIFY_BATCH = 16;

function notifyPolicy(kind: SessionDescription['notify']): NotifyPolicy {
  return kind === 'deferred' ? { kind: 'deferred', batch: DEFERRED_NOTIFY_BATCH } : { kind };
}

/** The UDP echo port of the description. */
function echoPort(sys: SystemDescription): number {
  for (const d of sys.domains)
    for (const c of d.components) if (c.kind === 'udp-echo') return c.port;
  return 7;
}

function domainOf(sys: SystemDescription, kind: string, nic?: string): DomainDescription {
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

/** Build the described system on a fresh sim engine for one experiment step. */
export function assemble(sys: SystemDescription, opts: StepOptions): AssembledSystem {
  const costs = sys.machine.costTable === 'modern' ? MODERN_X86_3_0 : PENTIUM4_XEON_2_66;
  const sim = new SimEngine({
    hz: sys.machine.hz,
    memoryBytes: sys.machine.memoryMiB * 1024 * 1024,
    costs,
    costScale: { ipc: opts.ipcScale },
    seed: opts.seed ?? 1,
  });
  const k = sim.kernel;
  const hz = sim.machine.hz;
  const cc = componentCosts(opts.calibration ?? CALIBRATION);
  const spaces = new Map<string, SpaceId>();
  for (const d of sys.domains) spaces.set(d.name, k.createSpace(d.name, { global: d.kernel }));
  const space = (name: string) => spaces.get(name)!;

  const drivers: {
    domain: string;
    driver: Dp83820Driver | null;
    thread: ThreadId;
    nics: string[];
  }[] = [];

  // The dataspace manager and its frames (sigma0 hands it physical memory).
  const memDomain = domainOf(sys, 'dataspace-manager');
  const mgr = memDomain.components.find((c) => c.kind === 'dataspace-manager')!;
  const poolBytes = mgr.pages * PAGE;
  const poolPaddr = k.allocateFrames(poolBytes);
  k.mapPhysical(space(memDomain.name), LAYOUT.POOL, poolPaddr, poolBytes, RW);
  const manager = new AnonymousManager({
    pool: { vaddr: LAYOUT.POOL, bytes: poolBytes },
    scanInterval: Math.round(PIN_SCAN_SECONDS * hz),
    pinQuota: { maxPinnedPages: mgr.pinQuotaPages, maxPinCycles: hz },
    costs: cc.dataspace,
    // Paper 4.4: a driver over its pin quota is disabled and its device reset to recover pins.
    onDriverDisabled: (thread) => drivers.find((d) => d.thread === thread)?.driver?.quotaExceeded(),
  });
  const managerId = k.createThread({
    name: 'dataspace-manager',
    space: space(memDomain.name),
    priority: memDomain.priority,
    body: manager.body,
  });

  // NICs, switches and ipbench clients.
  const port = echoPort(sys);
  const nics = sys.nics.map((nic, i) => {
    const device = sim.machine.attachDevice(
      nic.name,
      new Dp83820({ host: sim.machine, irqLine: nic.irq, mac: nic.mac }),
    );
    const sw = new Switch({ clock: sim.machine, ports: sys.load.clientsPerNic + 1 });
    device.port.connect(sw.port(0));
    sw.connect(0, device.port);
    const stackDomain = domainOf(sys, 'ip-stack', nic.name);
    const stackComp = stackDomain.components.find(
      (c) => c.kind === 'ip-stack' && c.nic === nic.name,
    );
    const targetIp = stackComp && stackComp.kind === 'ip-stack' ? stackComp.ip : '10.0.0.1';
    return { nic, device, sw, targetIp, index: i };
  });
  const clients: SimClient[] = [];
  for (const n of nics) {
    const prefix = n.targetIp.split('.').slice(0, 3).join('.');
    for (let j = 0; j < sys.load.clientsPerNic; j++) {
      const client = new SimClient({
        clock: sim.machine,
        mac: `02:00:00:${(0x10 + n.index).toString(16)}:00:${(0x10 + j).toString(16)}`,
        ip: `${prefix}.${100 + j}`,
        port: 9000 + j,
        targetMac: n.nic.mac,
        targetIp: n.targetIp,
        targetPort: port,
        packetSize: opts.packetSize,
      });
      client.attach(n.sw.port(j + 1));
      n.sw.connect(j + 1, client);
      clients.push(client);
    }
  }

  // Sessions: control regions mapped into both spaces; buffer dataspaces opened by the client.
  const sessions: SessionPlan[] = resolveSessions(sys).map((desc, index) => ({
    index,
    desc,
    nicIndex: sys.nics.findIndex((n) => n.name === desc.nic),
    region: LAYOUT.SESSION + index * 0x10_0000,
    buffers: LAYOUT.BUFFERS + index * 0x100_0000,
    dataspaceId: 0,
    clientThread: 0,
  }));
  for (const s of sessions) {
    const bytes = Math.ceil(netSessionLayout(s.desc.ringCapacity).byteLength / PAGE) * PAGE;
    const paddr = k.allocateFrames(bytes);
    k.mapPhysical(space(s.desc.client), s.region, paddr, bytes, RW);
    if (s.desc.driver !== s.desc.client)
      k.mapPhysical(space(s.desc.driver), s.region, paddr, bytes, RW);
  }

  // Drivers: one thread per driver domain; it starts once its sessions' dataspaces exist.
  for (const d of sys.domains) {
    for (const comp of d.components) {
      if (comp.kind !== 'dp83820-driver') continue;
      const drvSpace = space(d.name);
      const devices: Dp83820DeviceConfig[] = comp.nics.map((name, idx) => {
        const n = nics.find((x) => x.nic.name === name)!;
        const regs = LAYOUT.REGISTERS + idx * PAGE;
        k.mapDevice(drvSpace, regs, n.device);
        const dmaBytes = 16 * PAGE;
        const dmaV = LAYOUT.DMA + idx * 0x10_0000;
        const paddr = k.mapAnonymous(drvSpace, dmaV, dmaBytes, RW);
        return {
          registers: regs,
          irq: n.nic.irq,
          dma: { vaddr: dmaV, paddr, bytes: dmaBytes },
          holdoff: opts.holdoffUs / 100,
        };
      });
      const mine = sessions.filter((s) => s.desc.driver === d.name);
      const entry = {
        domain: d.name,
        driver: null as Dp83820Driver | null,
        thread: 0,
        nics: comp.nics,
      };
      entry.thread = k.createThread({
        name: `${d.name}/dp83820`,
        space: drvSpace,
        priority: d.priority,
        body: function* (tsys: Sys): Generator<KernelCall, void, unknown> {
          while (mine.some((s) => s.dataspaceId === 0)) yield* tsys.sleep(Math.round(hz * 10e-6));
          const sessionConfigs: Dp83820SessionConfig[] = mine.map((s) => ({
            device: comp.nics.indexOf(s.desc.nic),
            client: s.clientThread,
            region: s.region,
            capacity: s.desc.ringCapacity,
            dataspaces: [s.dataspaceId],
          }));
          entry.driver = new Dp83820Driver({
            devices,
            sessions: sessionConfigs,
            translation: (ts) =>
              TranslationCache.open(ts, managerId, {
                vaddr: LAYOUT.TRANSLATION_CACHE,
                entries: 4096,
              }),
            notifyAvoidance: !d.kernel,
          });
          yield* entry.driver.body(tsys);
        },
      });
      drivers.push(entry);
    }
  }
  const driverOf = (domain: string) => drivers.find((x) => x.domain === domain)!.thread;

  // Stacks: one thread per stack domain serving all its sessions; a region mapper as its pager.
  const stackStates: StackThreadState[] = [];
  const echoThreads: { stats: SocketEchoStats }[] = [];
  const stackDomains = sys.domains.filter((d) => d.components.some((c) => c.kind === 'ip-stack'));
  for (const d of stackDomains) {
    const mine = sessions.filter((s) => s.desc.client === d.name);
    const driverThread = driverOf(mine[0]!.desc.driver);
    const echoHere = d.components.some((c) => c.kind === 'udp-echo');
    const rm = new RegionMapper();
    const rmThread = k.createThread({
      name: `${d.name}/region-mapper`,
      space: space(d.name),
      priority: d.priority,
      body: rm.body,
    });
    const socketEcho = echoHere ? null : new SocketBridge(port, SOCKET_QUEUE_DATAGRAMS);
    const stackId = k.createThread({
      name: `${d.name}/ip-stack`,
      space: space(d.name),
      priority: d.kernel ? d.priority - 1 : d.priority,
      body: function* (tsys: Sys): Generator<KernelCall, void, unknown> {
        for (const s of mine) {
          const bytes = s.desc.buffers * s.desc.bufferSize;
          const ds = yield* dsClient.open(tsys, managerId, bytes);
          yield* dsClient.share(
            tsys,
            ds,
            driverThread,
            DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE,
          );
          yield* dsClient.share(tsys, ds, rmThread, DS_RIGHT_READ | DS_RIGHT_WRITE);
          yield* rmClient.attach(tsys, rmThread, {
            manager: managerId,
            dataspaceId: ds.id,
            vaddr: s.buffers,
            size: ds.size,
            offset: 0,
            writable: true,
          });
          s.dataspaceId = ds.id;
        }
        const body = stackThread({
          sessions: mine.map((s) => {
            const stackComp = d.components.find(
              (c) => c.kind === 'ip-stack' && c.nic === s.desc.nic,
            )!;
            const nic = sys.nics.find((n) => n.name === s.desc.nic)!;
            return {
              region: s.region,
              capacity: s.desc.ringCapacity,
              buffers: s.buffers,
              dataspaceId: s.dataspaceId,
              bufferCount: s.desc.buffers,
              bufferSize: s.desc.bufferSize,
              mac: nic.mac,
              ip: stackComp.kind === 'ip-stack' ? stackComp.ip : '0.0.0.0',
              netmask: stackComp.kind === 'ip-stack' ? stackComp.netmask : '255.255.255.0',
            };
          }),
          driver: () => driverThread,
          costs: cc.lwip,
          loopCosts: cc.stackLoop,
          echoPort: echoHere ? port : null,
          policy: notifyPolicy(mine[0]!.desc.notify),
          onReady: (state) => stackStates.push(state),
          ...(socketEcho
            ? {
                setup: (stacks: readonly Stack[]) => socketEcho.bind(stacks),
                onPoll: (ts: Sys) => socketEcho.wakeReader(ts),
                chargeTarget: () => socketEcho.activeSys,
              }
            : {}),
        });
        yield* body(tsys);
      },
    });
    k.setPager(stackId, rmThread);
    for (const s of mine) s.clientThread = stackId;
    if (socketEcho) {
      const echoDomain = domainOf(sys, 'udp-echo');
      const echoId = k.createThread({
        name: `${echoDomain.name}/udp-echo`,
        space: space(echoDomain.name),
        priority: echoDomain.priority,
        body: (ts) =>
          socketEcho.reader(
            ts,
            stackId,
            driverThread,
            costs.entries.syscall.cycles,
            costs.entries.copyPerByte.cycles,
          ),
      });
      socketEcho.readerThread = echoId;
      echoThreads.push(socketEcho);
    }
  }

  const counters = (): Record<string, number> => {
    const out: Record<string, number> = {};
    const put = (prefix: string, obj: object) => {
      for (const [key, v] of Object.entries(obj)) {
        if (typeof v === 'number') out[`${prefix}.${key}`] = v;
        else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) put(`${prefix}.${key}`, v);
      }
    };
    for (const n of nics) {
      put(n.nic.name, n.device.stats);
      put(`${n.nic.name}.switch`, n.sw.stats(0));
    }
    for (const dr of drivers) if (dr.driver) put(`${dr.domain}.driver`, dr.driver.stats);
    stackStates.forEach((st, i) => {
      st.stacks.forEach((stack, j) => {
        put(`stack${i}.${j}`, stack.counters);
      });
      st.devices.forEach((dev, j) => {
        put(`stack${i}.${j}.session`, dev.stats);
      });
      put(`stack${i}.thread`, st.stats);
    });
    echoThreads.forEach((e, i) => {
      put(`socket-echo${i}`, e.stats);
    });
    put('manager', manager.stats());
    put('kernel', sim.counters);
    return out;
  };

  const checkStarted = () => {
    const dead = k.failures;
    if (dead.length > 0) {
      throw new AssemblyError(
        `components failed during start-up: ${dead.map((f) => `${f.name}: ${f.error}`).join('; ')}`,
      );
    }
    for (const dr of drivers) {
      if (!dr.driver?.running)
        throw new AssemblyError(`driver in domain "${dr.domain}" did not start`);
    }
    if (stackStates.length !== stackDomains.length)
      throw new AssemblyError('an IP stack did not start');
  };

  const ready = () =>
    k.failures.length === 0 &&
    drivers.every((dr) => dr.driver?.running === true) &&
    stackStates.length === stackDomains.length;

  return { sim, clients, counters, ready, checkStarted };
}

/** Counters of the monolithic baseline's socket echo. */
export interface SocketEchoStats {
  /** Datagrams read through the socket interface and echoed. */
  echoed: number;
  /** Wake-ups the kernel sent the reader (one per queued datagram: no suppression). */
  wakeupsSent: number;
  /** Of those, how many found the reader not waiting (their cost is paid all the same). */
  wakeupsMissed: number;
  /** recvfrom/sendto system calls. */
  syscalls: number;
  /** Bytes copied to user space by recvfrom (sendto's copy is the stack's own). */
  copiedBytes: number;
}

const WAKE = Object.freeze({ label: 0x534b, words: Object.freeze([]) as readonly number[] });

/**
 * The monolithic baseline's socket interface: the in-kernel stack queues echo datagrams on a UDP
 * socket (bounded, like a socket receive buffer); a user-level echo process reads each one with
 * recvfrom (a system call and a copy to user space) and writes it back with sendto (a system
 * call and a copy into a new kernel buffer), as a Linux echo server does. The kernel wakes the
 * reader for every queued datagram: no notification suppression.
 */
class SocketBridge {
  readonly stats: SocketEchoStats = {
    echoed: 0,
    wakeupsSent: 0,
    wakeupsMissed: 0,
    syscalls: 0,
    copiedBytes: 0,
  };
  readerThread: ThreadId = 0;
  /** The reader's Sys while it runs stack code in its own context (the sendto path). */
  activeSys: Sys | null = null;
  private sockets: UdpSocket[] = [];
  private seen = 0;
  private readonly datagram = new UdpDatagram();
  private readonly user = new Uint8Array(2048);

  constructor(
    private readonly port: number,
    private readonly queue: number,
  ) {}

  bind(stacks: readonly Stack[]): void {
    this.sockets = stacks.map((s) => s.udpBind(this.port, { queueLength: this.queue }));
  }

  private queued(): number {
    let n = 0;
    for (const s of this.sockets) n += s.queued;
    return n;
  }

  /** In the stack thread after each pass: wake the reader once per newly queued datagram. */
  *wakeReader(sys: Sys): Generator<KernelCall, boolean, unknown> {
    const q = this.queued();
    let fresh = q - this.seen;
    this.seen = q;
    let woke = false;
    while (fresh-- > 0 && this.readerThread !== 0) {
      const r = yield* sys.ipc.send(this.readerThread, WAKE, ZERO);
      this.stats.wakeupsSent++;
      if (!r.ok) this.stats.wakeupsMissed++;
      woke = true;
    }
    return woke;
  }

  /** The user-level echo process. */
  *reader(
    sys: Sys,
    stackThread: ThreadId,
    driverThread: ThreadId,
    syscallCycles: number,
    copyPerByte: number,
  ): Generator<KernelCall, void, unknown> {
    const d = this.datagram;
    for (;;) {
      let got = false;
      for (let i = 0; i < this.sockets.length; i++) {
        const sock = this.sockets[i]!;
        if (!sock.recv(d)) continue;
        got = true;
        this.seen = Math.max(0, this.seen - 1);
        // recvfrom: kernel entry/exit and the copy to the user buffer.
        const len = d.payloadLength;
        sys.charge('Socket', syscallCycles + copyPerByte * len);
        this.user.set(d.pbuf!.bytes.subarray(d.payloadOffset, d.payloadOffset + len));
        const src = d.srcIp;
        const srcPort = d.srcPort;
        sock.release(d);
        // sendto: kernel entry/exit, then UDP/IP output runs in the caller's context down to the
        // driver's transmit queue; its copy into a kernel buffer is the stack's own one copy
        // (charged by the stack), so the socket interface adds one copy per echo, as the paper says.
        sys.charge('Socket', syscallCycles);
        this.stats.syscalls += 2;
        this.stats.copiedBytes += len;
        this.activeSys = sys;
        if (sock.sendTo(this.user, src, srcPort, 0, len)) this.stats.echoed++;
        this.activeSys = null;
      }
      if (got) {
        // The transmit path ends by kicking the driver, always (no suppression in the baseline).
        yield* sys.ipc.send(driverThread, WAKE, ZERO);
        continue;
      }
      // Block in recvfrom until the kernel wakes us; preemption control closes the race between
      // finding the queue empty and blocking.
      sys.preemption.begin();
      if (this.queued() > 0 || sys.preemption.preempted()) {
        sys.preemption.end();
        continue;
      }
      yield* sys.ipc.receive(stackThread, NEVER);
      sys.preemption.end();
    }
  }
}
