/**
 * Benchmark: host CPU per frame of the DP83820 model alone — no kernel, no driver components,
 * no sim accounting. A minimal host (the l4-kernel `EventQueue` run in device time, as the
 * threads engine's `RealTimeHost.runDue` runs it, and a memory with ranged block copies as the
 * threads engine's `SharedPhysicalMemory` offers them) and a few lines of "driver" that echo
 * every received frame: a wire peer sends 1024-byte frames at a fixed rate, the device DMAs them
 * into a receive ring, the interrupt handler copies each one to a transmit buffer, hands it to
 * the transmit ring and kicks, and recycles both rings. Every frame crosses the model twice
 * (receive and transmit).
 *
 * Old vs new side by side in one run: pass `--baseline DIR` with a copy of an earlier build of
 * this package's `dist/` (put it under the package, e.g. `bench/base/dist`, so its imports
 * resolve; `dist/` directories are git-ignored). Rounds alternate (base, current, base, ...)
 * so host noise hits both alike; the medians are compared, and the virtual-time outcome (final
 * device time, bus cycles, bursts, interrupts, frames) must be identical.
 *
 * Run: `pnpm --filter @udf/driver-dp83820 build && node --import tsx bench/host-cpu.ts
 * [--baseline bench/base/dist] [--echoes N] [--rounds N] [--frame BYTES] [--host-views engine|keyed|compare]` (from the package directory).
 *
 * @module
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type DeviceHost,
  type EventHandle,
  EventQueue,
  type InterruptLine,
  type MemoryRegion,
  type PhysicalMemory,
} from '@udf/l4-kernel';
import type { FrameEndpoint } from '@udf/netdev';
import {
  CMDSTS,
  CR,
  DESC_LAYOUT_32,
  IER_IE,
  ISR,
  mxdma,
  Reg,
  RFCR,
  RXCFG,
  TXCFG,
} from '../src/device/registers.js';
import { makeFrame } from '../src/testing/frames.js';

type Model = Pick<typeof import('../src/index.js'), 'Dp83820'>;

const HZ = 2.66e9;
const MEMORY_BYTES = 1 << 22;
/** Default frame: a UDP echo of 1024 bytes (14 + 20 + 8 header bytes and the payload). */
const FRAME = 1066;
const RING = 64;
const BUF = 2048;
const RX_DESCS = 0x1000;
const TX_DESCS = 0x2000;
const RX_BUFS = 0x10000;
const TX_BUFS = 0x10000 + RING * BUF;
const MAC = [0x02, 0, 0, 0, 0, 0x10];
const PEER = [0x02, 0, 0, 0, 0, 0x99];

/** Entries of the view cache (as the threads engine's `SharedPhysicalMemory` has). */
const VIEW_CACHE = 512;

/**
 * A direct-mapped cache of byte views, the same as the threads engine's (`physical-memory.ts`):
 * a ranged copy finds the view it needs again when the same (buffer, offset, length) recurs.
 */
class ViewCache {
  private readonly views: (Uint8Array | undefined)[] = new Array(VIEW_CACHE);
  misses = 0;
  get(bytes: Uint8Array, offset: number, length: number): Uint8Array {
    const i = ((offset >>> 2) ^ Math.imul(length, 0x9e3779b1)) & (VIEW_CACHE - 1);
    const v = this.views[i];
    if (
      v !== undefined &&
      v.buffer === bytes.buffer &&
      v.byteOffset === bytes.byteOffset + offset &&
      v.length === length
    ) {
      return v;
    }
    this.misses++;
    const w = bytes.subarray(offset, offset + length);
    this.views[i] = w;
    return w;
  }
}

/**
 * The view cache as it could be (`--host-views keyed`, a proposal for the threads engine): the
 * key is the caller's array itself (no `buffer`/`byteOffset` getter per look-up) and the index
 * mixes every bit of the offset (the cache above keeps only offset bits 2–10, so buffers 2 KiB
 * apart collide).
 */
class KeyedViewCache {
  private readonly sources: (Uint8Array | null)[] = new Array(VIEW_CACHE).fill(null);
  private readonly offsets = new Float64Array(VIEW_CACHE);
  private readonly lengths = new Int32Array(VIEW_CACHE);
  private readonly views: (Uint8Array | null)[] = new Array(VIEW_CACHE).fill(null);
  misses = 0;
  get(bytes: Uint8Array, offset: number, length: number): Uint8Array {
    const h = Math.imul(offset ^ Math.imul(length, 0x9e3779b1), 0x85ebca6b);
    const i = (h ^ (h >>> 15)) & (VIEW_CACHE - 1);
    if (this.sources[i] === bytes && this.offsets[i] === offset && this.lengths[i] === length) {
      return this.views[i]!;
    }
    this.misses++;
    const w = bytes.subarray(offset, offset + length);
    this.sources[i] = bytes;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.views[i] = w;
    return w;
  }
}

/**
 * One region of shared memory with the ranged copies of the threads engine's memory and its
 * view caches, so the host's own cost is what the device worker's is, the same for both builds.
 */
class BenchMemory implements PhysicalMemory {
  readonly size = MEMORY_BYTES;
  readonly u8 = new Uint8Array(new SharedArrayBuffer(MEMORY_BYTES));
  private readonly dv = new DataView(this.u8.buffer);
  private readonly i32 = new Int32Array(this.u8.buffer);
  readonly memoryViews: ViewCache | KeyedViewCache;
  readonly callerViews: ViewCache | KeyedViewCache;
  constructor(keyed: boolean) {
    this.memoryViews = keyed ? new KeyedViewCache() : new ViewCache();
    this.callerViews = keyed ? new KeyedViewCache() : new ViewCache();
  }

  contains(paddr: number, length: number): boolean {
    return paddr >= 0 && length >= 0 && paddr + length <= MEMORY_BYTES;
  }
  read32(paddr: number): number {
    return this.dv.getUint32(paddr, true);
  }
  write32(paddr: number, value: number): void {
    this.dv.setUint32(paddr, value >>> 0, true);
  }
  load32(paddr: number): number {
    return Atomics.load(this.i32, paddr >> 2) >>> 0;
  }
  store32(paddr: number, value: number): void {
    Atomics.store(this.i32, paddr >> 2, value | 0);
  }
  copyIn(paddr: number, src: Uint8Array): boolean {
    if (!this.contains(paddr, src.length)) return false;
    this.u8.set(src, paddr);
    return true;
  }
  copyOut(paddr: number, dst: Uint8Array): boolean {
    if (!this.contains(paddr, dst.length)) return false;
    dst.set(this.u8.subarray(paddr, paddr + dst.length));
    return true;
  }
  copyInRange(paddr: number, src: Uint8Array, srcOffset: number, length: number): boolean {
    if (!this.contains(paddr, length)) return false;
    this.u8.set(this.callerViews.get(src, srcOffset, length), paddr);
    return true;
  }
  copyOutRange(paddr: number, dst: Uint8Array, dstOffset: number, length: number): boolean {
    if (!this.contains(paddr, length)) return false;
    dst.set(this.memoryViews.get(this.u8, paddr, length), dstOffset);
    return true;
  }
  allocateRegion(): { paddr: number; region: MemoryRegion } {
    throw new Error('not used');
  }
}

/** Device time as `RealTimeHost` keeps it: inside an event, the time it was due. */
class BenchHost implements DeviceHost {
  readonly hz = HZ;
  readonly memory: BenchMemory;
  time = 0;
  events = 0;
  raised = false;
  raises = 0;
  private readonly queue = new EventQueue();
  constructor(keyedViews: boolean) {
    this.memory = new BenchMemory(keyedViews);
  }
  private readonly line: InterruptLine = {
    number: 5,
    raise: () => {
      this.raised = true;
      this.raises++;
    },
    lower: () => {},
  };
  now(): number {
    return this.time;
  }
  schedule(at: number, fn: () => void): EventHandle {
    return this.queue.push(at, fn);
  }
  irq(): InterruptLine {
    return this.line;
  }
  /** Run the next event; false if none is left. */
  step(): boolean {
    const ev = this.queue.pop();
    if (ev === null) return false;
    const fn = ev.fn!;
    ev.fn = null;
    if (ev.at > this.time) this.time = ev.at;
    this.events++;
    fn();
    return true;
  }
}

/** What one run measured. */
interface Outcome {
  cpuNs: number;
  echoes: number;
  events: number;
  /** Views the host made per echo (misses of its view caches). */
  hostViews: number;
  /** Virtual-time outcome: must be identical between builds. */
  signature: string;
}

function runOnce(model: Model, echoes: number, frame: number, keyedViews: boolean): Outcome {
  const host = new BenchHost(keyedViews);
  const mem = host.memory;
  const dev = new model.Dp83820({ host, irqLine: 5, mac: MAC });
  let sent = 0;
  const peer: FrameEndpoint = {
    receive: () => {
      sent++;
    },
  };
  dev.port.connect(peer);
  const L = DESC_LAYOUT_32;
  const desc = (base: number, i: number) => base + i * L.size;
  for (let i = 0; i < RING; i++) {
    const r = desc(RX_DESCS, i);
    mem.write32(r + L.link, desc(RX_DESCS, (i + 1) % RING));
    mem.write32(r + L.bufptr, RX_BUFS + i * BUF);
    mem.store32(r + L.cmdsts, CMDSTS.INTR | BUF);
    const t = desc(TX_DESCS, i);
    mem.write32(t + L.link, desc(TX_DESCS, (i + 1) % RING));
    mem.write32(t + L.bufptr, TX_BUFS + i * BUF);
    mem.store32(t + L.cmdsts, 0);
  }
  // What the driver programs (device-driver.ts): 512-byte bursts, fill threshold 1600, IHR 100 µs.
  dev.write32(
    Reg.TXCFG,
    (TXCFG.CSI | TXCFG.HBI | TXCFG.ATP | mxdma(512) | ((1600 / 32) << 8)) >>> 0,
  );
  dev.write32(Reg.RXCFG, (RXCFG.AEP | RXCFG.ARP | RXCFG.AIRL | RXCFG.STRIPCRC | mxdma(512)) >>> 0);
  dev.write32(Reg.RFCR, RFCR.RFEN | RFCR.AAB | RFCR.APM);
  dev.write32(Reg.RXDP, RX_DESCS);
  dev.write32(Reg.TXDP, TX_DESCS);
  dev.write32(Reg.IMR, ISR.RXOK | ISR.TXOK | ISR.RXIDLE | ISR.RXORN);
  dev.write32(Reg.IHR, 1);
  dev.write32(Reg.IER, IER_IE);
  dev.write32(Reg.CR, CR.RXE);

  const pool = Array.from({ length: 16 }, (_, i) => makeFrame(MAC, PEER, frame, i));
  const gap = Math.ceil(((frame * 8) / 450e6) * HZ); // 450 Mb/s offered
  let arrived = 0;
  const arrive = (): void => {
    dev.port.receive(pool[arrived % pool.length]!);
    arrived++;
    if (arrived < echoes) host.schedule(arrived * gap, arrive);
  };
  host.schedule(gap, arrive);

  let rxNext = 0;
  let txTail = 0;
  let txHead = 0;
  let dropped = 0;
  const interrupt = (): void => {
    dev.read32(Reg.ISR);
    let kick = 0;
    for (;;) {
      const t = desc(TX_DESCS, txHead);
      if (txHead === txTail || (mem.load32(t + L.cmdsts) & CMDSTS.OWN) !== 0) break;
      txHead = (txHead + 1) % RING;
    }
    for (;;) {
      const r = desc(RX_DESCS, rxNext);
      const cmd = mem.load32(r + L.cmdsts);
      if ((cmd & CMDSTS.OWN) === 0) break;
      const len = cmd & CMDSTS.SIZE_MASK;
      const next = (txTail + 1) % RING;
      if (next === txHead) dropped++;
      else {
        const from = RX_BUFS + rxNext * BUF;
        mem.u8.copyWithin(TX_BUFS + txTail * BUF, from, from + len);
        mem.store32(desc(TX_DESCS, txTail) + L.cmdsts, CMDSTS.OWN | len);
        txTail = next;
        kick |= CR.TXE;
      }
      mem.store32(r + L.cmdsts, CMDSTS.INTR | BUF);
      rxNext = (rxNext + 1) % RING;
      kick |= CR.RXE;
    }
    if (kick !== 0) dev.write32(Reg.CR, kick);
  };

  const c0 = process.cpuUsage();
  while (host.step()) {
    if (host.raised) {
      host.raised = false;
      interrupt();
    }
  }
  const c = process.cpuUsage(c0);
  const s = dev.stats;
  const b = dev.bus.stats;
  return {
    cpuNs: (c.user + c.system) * 1000,
    echoes: sent,
    events: host.events,
    hostViews: (mem.memoryViews.misses + mem.callerViews.misses) / Math.max(1, sent),
    signature: [
      host.time,
      s.rxDelivered,
      s.txSent,
      s.rxOverruns,
      s.interrupts,
      b.bursts,
      b.bytes,
      b.busyCycles,
      b.waitCycles,
      dropped,
      host.raises,
    ].join(','),
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function load(dir: string): Promise<Model> {
  return (await import(pathToFileURL(resolve(dir, 'index.js')).href)) as Model;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Run the bench: the current build (`dist/`) and, if given, a baseline build, interleaved.
 *
 * @param options - `baseline`: a directory holding an earlier `dist/`; `echoes` per run;
 *   `rounds`; `frame` bytes; `hostViews`: the host's view cache as the threads engine has it
 *   (default), as proposed (`keyed`, see {@link KeyedViewCache}), or both for the current build
 *   (`compare`)
 */
export async function hostCpuBench(
  options: {
    baseline?: string;
    echoes?: number;
    rounds?: number;
    frame?: number;
    hostViews?: 'engine' | 'keyed' | 'compare';
  } = {},
): Promise<void> {
  const here = new URL('..', import.meta.url).pathname;
  const views = options.hostViews ?? 'engine';
  const current = await load(resolve(here, 'dist'));
  const sides: { name: string; model: Model; keyed: boolean; runs: Outcome[] }[] = [];
  if (views === 'compare') {
    // One build, the host's view cache as it is and as proposed.
    sides.push({ name: 'current, engine views', model: current, keyed: false, runs: [] });
    sides.push({ name: 'current, keyed views', model: current, keyed: true, runs: [] });
  } else {
    const keyed = views === 'keyed';
    if (options.baseline !== undefined) {
      sides.push({ name: 'baseline', model: await load(options.baseline), keyed, runs: [] });
    }
    sides.push({ name: 'current', model: current, keyed, runs: [] });
  }
  const echoes = options.echoes ?? 50_000;
  const frame = options.frame ?? FRAME;
  const rounds = options.rounds ?? 9;
  for (const side of sides) runOnce(side.model, 2000, frame, side.keyed); // warm-up
  for (let i = 0; i < rounds; i++) {
    for (const side of sides) side.runs.push(runOnce(side.model, echoes, frame, side.keyed));
  }
  const rows = sides.map((side) => {
    const first = side.runs[0]!;
    const ns = median(side.runs.map((r) => r.cpuNs / r.echoes));
    return {
      build: side.name,
      echoes: first.echoes,
      deviceEventsPerEcho: +(first.events / first.echoes).toFixed(2),
      hostViewsPerEcho: +first.hostViews.toFixed(2),
      medianHostNsPerEcho: Math.round(ns),
      medianHostNsPerFrame: Math.round(ns / 2),
      signature: first.signature,
    };
  });
  const cache =
    views === 'compare'
      ? 'the host view cache as the threads engine has it vs keyed (proposed)'
      : `host view cache ${views === 'keyed' ? 'keyed (proposed)' : 'as the threads engine has it'}`;
  console.log(
    `DP83820 model alone, host CPU (user+sys) per echoed ${frame}-byte frame (one receive + one transmit), ${rounds} interleaved rounds, ${cache}, medians:`,
  );
  console.table(rows.map(({ signature: _s, ...r }) => r));
  if (rows.length === 2) {
    const [base, cur] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const same = sides.every((s) => s.runs.every((r) => r.signature === base.signature));
    console.log(
      `virtual-time outcome identical: ${same}; ${cur.build} / ${base.build} host CPU per frame: ${(cur.medianHostNsPerEcho / base.medianHostNsPerEcho).toFixed(3)}`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const echoes = arg('--echoes');
  const rounds = arg('--rounds');
  const frame = arg('--frame');
  await hostCpuBench({
    baseline: arg('--baseline'),
    echoes: echoes === undefined ? undefined : Number(echoes),
    rounds: rounds === undefined ? undefined : Number(rounds),
    frame: frame === undefined ? undefined : Number(frame),
    hostViews: arg('--host-views') as 'engine' | 'keyed' | 'compare' | undefined,
  });
}
