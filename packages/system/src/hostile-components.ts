/**
 * Hostile domains as components (issue 18, "Hostile domains"): a client stack and a driver that
 * misbehave towards their peer through the session region and by IPC, built like any component
 * from a plain-data reference (see {@link ComponentRef}), so a realiser can put them in any
 * placement and any engine can build them where the domain runs. Engine-agnostic: they see only
 * `Sys`.
 *
 * Each wraps the honest component (`stackServer` of `@udf/lwip-lite`, `dp83820DriverServer` of
 * `@udf/driver-dp83820`) and runs it on a {@link Sys} of its own making: the same kernel, with
 * the misbehaviour slipped in between the honest component's own operations.
 *
 * - **Garbage descriptors**: pushed into the rings this end produces — a client's `rxFree` and
 *   `txReq` (dataspaces not its own, ranges past its dataspace's end, bad lengths, random words),
 *   a driver's `rxUsed` and `txDone` (offsets that start no buffer, lengths beyond a buffer,
 *   foreign dataspaces, random words). None names a buffer the peer really holds, so every one is
 *   garbage the peer must count and drop.
 * - **Corrupt ring indices**: the indices this end owns (a client's `rxFree`/`txReq` tail and
 *   `rxUsed`/`txDone` head, and its notification bit) overwritten with garbage, and restored
 *   `glitchSeconds` later — the peer must count every corrupt read, treat the ring as empty or
 *   full meanwhile, and carry on once the indices make sense again.
 * - **Notification flood**: whenever the honest component would block waiting for work, it
 *   instead sends its peer `burst` wake-up IPCs (zero timeout) every `periodSeconds`.
 *
 * Acts start `startSeconds` after the thread does and repeat every `everySeconds`, `acts` times;
 * the flood lasts from the first act to `everySeconds` after the last. What was done is counted
 * on the domain's counters page under `<prefix>.hostile` (the stack's prefix, or the driver's).
 *
 * @module
 */
import { CountersPage } from '@udf/dataspace';
import {
  type Dp83820ServerConfig,
  DRIVER_NOTIFY_LABEL,
  dp83820DriverServer,
} from '@udf/driver-dp83820';
import {
  type IpcResult,
  type KernelCall,
  type Message,
  NEVER,
  type Sys,
  type SysCall,
  type ThreadId,
  type Timeout,
  ZERO,
} from '@udf/l4-kernel';
import { RING_HEAD_OFFSET, RING_SLOTS_OFFSET, RING_TAIL_OFFSET } from '@udf/lockfree';
import { type StackServerConfig, stackServer } from '@udf/lwip-lite';
import { DESC_WORDS, NetSessionClient, NetSessionDriver, netSessionLayout } from '@udf/netdev';

/** What a hostile component does, and when (plain data). */
export interface HostileBehaviour {
  /** Virtual seconds after the thread starts until the first act. */
  readonly startSeconds: number;
  /** Seconds between acts. */
  readonly everySeconds: number;
  /** Number of acts. */
  readonly acts: number;
  /** Garbage descriptors pushed into each ring this end produces, per act (0: none). */
  readonly garbage?: number;
  /**
   * Overwrite the ring indices and the notification bit this end owns with garbage at each act,
   * restored this many seconds later (absent: indices untouched).
   */
  readonly glitchSeconds?: number;
  /**
   * At each act, write "awake" into the peer's notification bit — a word the peer owns, in
   * memory both share — so the peer looks busy to whoever watches the region (the device
   * supervisor's hang check).
   */
  readonly fakeAwake?: boolean;
  /**
   * At each act, random words over the whole session region — rings, indices, notification
   * bits, control words, the peer's as well as its own — never restored.
   */
  readonly scribble?: boolean;
  /** Flood the peer with wake-ups instead of sleeping (absent: no flood). */
  readonly flood?: { readonly burst: number; readonly periodSeconds: number };
  /** Which sessions misbehave, by position in the component's configuration (default: all). */
  readonly sessions?: readonly number[];
  /** Seed of the garbage (default 1). */
  readonly seed?: number;
}

/** Counters of a hostile component, under `<prefix>.hostile` on its counters page. */
export interface HostileStats {
  /** Acts done. */
  acts: number;
  /** Garbage descriptors the rings took (a full ring takes none). */
  garbageWritten: number;
  /** Times the owned indices were overwritten (each restored later). */
  glitches: number;
  /** Times the peer's notification bit was overwritten with "awake". */
  fakedAwake: number;
  /** Words of random garbage written over whole session regions. */
  wordsScribbled: number;
  /** Wake-up IPCs sent to the peer by the flood, and how many reached it. */
  floodSent: number;
  floodDelivered: number;
}

/** Configuration of {@link hostileStackServer}: an honest stack's, plus what it does wrong. */
export interface HostileStackConfig extends StackServerConfig {
  readonly hostile: HostileBehaviour;
}

/** Configuration of {@link hostileDriverServer}: an honest driver's, plus what it does wrong. */
export interface HostileDriverConfig extends Dp83820ServerConfig {
  readonly hostile: HostileBehaviour;
}

/** The client's wake-up label towards a driver (any label will do; this is the stack's). */
const CLIENT_NOTIFY: Message = Object.freeze({ label: 0x4e53, words: Object.freeze([]) });
const DRIVER_NOTIFY: Message = Object.freeze({
  label: DRIVER_NOTIFY_LABEL,
  words: Object.freeze([]),
});

/** mulberry32: seeded garbage. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** One session region as the hostile end sees it. */
interface Target {
  /** Raw 32-bit words of the region. */
  readonly words: Uint32Array;
  /** Word indices of the indices and bit this end owns. */
  readonly owned: readonly number[];
  /** Word index of the peer's notification bit. */
  readonly peerBit: number;
  /** Push one descriptor into each ring this end produces; returns how many took it. */
  push(ds: number, off: number, len: number, status: number): number;
  /** The dataspace this end's honest part names in its descriptors (0 if none seen yet). */
  own(): number;
  /** The peer's thread. */
  readonly peer: ThreadId;
}

/**
 * The misbehaviour, driven from a wrapped `Sys`: acts are due by virtual time and done at the
 * honest component's next operation; the flood replaces its blocking receives.
 */
class Hostility {
  readonly stats: HostileStats = {
    acts: 0,
    garbageWritten: 0,
    glitches: 0,
    fakedAwake: 0,
    wordsScribbled: 0,
    floodSent: 0,
    floodDelivered: 0,
  };
  private readonly rnd: () => number;
  private nextAct: number;
  private restoreAt = Number.POSITIVE_INFINITY;
  private saved: number[][] = [];
  private readonly floodUntil: number;
  private readonly start: number;

  constructor(
    private readonly b: HostileBehaviour,
    private readonly sys: Sys,
    private readonly targets: readonly Target[],
    private readonly notify: Message,
    private readonly garbage: (rnd: () => number, i: number, own: number) => readonly number[],
  ) {
    this.rnd = random(b.seed ?? 1);
    this.start = sys.now() + b.startSeconds * sys.hz;
    this.nextAct = this.start;
    this.floodUntil = this.start + b.acts * b.everySeconds * sys.hz;
  }

  /** Do what is due (no kernel call: memory only). */
  tick(): void {
    const now = this.sys.now();
    if (now >= this.restoreAt) this.restore();
    if (now < this.nextAct || this.stats.acts >= this.b.acts) return;
    this.stats.acts++;
    this.nextAct += this.b.everySeconds * this.sys.hz;
    for (const t of this.targets) {
      const own = t.own(); // before the garbage lands on top of what the honest part posted
      for (let i = 0; i < (this.b.garbage ?? 0); i++) {
        const [ds, off, len, status] = this.garbage(this.rnd, i, own);
        this.stats.garbageWritten += t.push(ds!, off!, len!, status!);
      }
    }
    if (this.b.scribble) {
      for (const t of this.targets) {
        for (let w = 0; w < t.words.length; w++) Atomics.store(t.words, w, this.rnd());
        this.stats.wordsScribbled += t.words.length;
      }
    }
    if (this.b.fakeAwake) {
      for (const t of this.targets) Atomics.store(t.words, t.peerBit, 0);
      this.stats.fakedAwake++;
    }
    if (this.b.glitchSeconds !== undefined && this.saved.length === 0) {
      this.saved = this.targets.map((t) => t.owned.map((w) => t.words[w]!));
      for (const t of this.targets) {
        for (const w of t.owned) Atomics.store(t.words, w, (this.rnd() | 0x4000_0000) >>> 0);
      }
      this.stats.glitches++;
      this.restoreAt = now + this.b.glitchSeconds * this.sys.hz;
    }
  }

  private restore(): void {
    this.targets.forEach((t, i) => {
      t.owned.forEach((w, j) => {
        Atomics.store(t.words, w, this.saved[i]![j]!);
      });
    });
    this.saved = [];
    this.restoreAt = Number.POSITIVE_INFINITY;
  }

  private flooding(): boolean {
    const now = this.sys.now();
    return this.b.flood !== undefined && now >= this.start && now < this.floodUntil;
  }

  /** A receive of the honest component: a blocking one floods the peer instead, while due. */
  *receive(
    from: ThreadId,
    timeout: Timeout | undefined,
  ): Generator<KernelCall, IpcResult, unknown> {
    const sys = this.sys;
    this.tick();
    if ((timeout ?? NEVER) !== NEVER) return yield* sys.ipc.receive(from, timeout);
    if (!this.flooding()) {
      // Sleep no later than the next act or restore is due (a timeout then looks to the honest
      // part like a spurious wake-up): the acts keep their schedule while it sleeps.
      const due = Math.min(
        this.restoreAt,
        this.stats.acts < this.b.acts ? this.nextAct : Number.POSITIVE_INFINITY,
      );
      if (due === Number.POSITIVE_INFINITY) return yield* sys.ipc.receive(from, timeout);
      const r = yield* sys.ipc.receive(from, Math.max(1, due - sys.now()));
      this.tick();
      return r;
    }
    // The flood paces itself (a burst, then a real pause outside the honest part's preemption
    // window), so it costs its peer wake-ups, not the CPU of its own priority level: a client
    // that merely spins starves its equals for a timeslice whatever the driver does.
    const f = this.b.flood!;
    const period = Math.max(1, Math.round(f.periodSeconds * sys.hz));
    sys.preemption.end();
    for (let i = 0; i < f.burst; i++) {
      for (const t of this.targets) {
        this.stats.floodSent++;
        const r = yield* sys.ipc.send(t.peer, this.notify, ZERO);
        if (r.ok) this.stats.floodDelivered++;
      }
    }
    yield* sys.sleep(period);
    this.tick();
    // Back in a window of the honest part's; it rolls back and re-checks for work.
    sys.preemption.begin();
    return ABORTED;
  }
}

const ABORTED: IpcResult = Object.freeze({
  ok: false,
  error: 'aborted',
  phase: 'receive',
  from: 0,
});

/** `sys`, with every operation preceded by the hostility's due acts and receives flooding. */
function hostileSys(sys: Sys, h: Hostility): Sys {
  const ipc = sys.ipc;
  return {
    self: sys.self,
    hz: sys.hz,
    now: () => sys.now(),
    charge: (category, cycles) => {
      h.tick();
      sys.charge(category, cycles);
    },
    yieldCpu: () => sys.yieldCpu(),
    sleep: (cycles) => sys.sleep(cycles),
    ipc: {
      send: (to, msg, timeout) => ipc.send(to, msg, timeout),
      receive: (from, timeout, window) =>
        window === undefined
          ? (h.receive(from, timeout) as SysCall<IpcResult>)
          : ipc.receive(from, timeout, window),
      call: (to, msg, timeout, window) => ipc.call(to, msg, timeout, window),
      reply: (to, msg) => ipc.reply(to, msg),
      replyWait: (to, msg, timeout, window) => ipc.replyWait(to, msg, timeout, window),
    },
    irq: sys.irq,
    mem: sys.mem,
    preemption: sys.preemption,
  };
}

/** The words of a session region at `vaddr` in the caller's space. */
function* regionWords(
  sys: Sys,
  vaddr: number,
  capacity: number,
): Generator<KernelCall, Uint32Array, unknown> {
  const bytes = netSessionLayout(capacity).byteLength;
  const v = yield* sys.mem.access(vaddr, bytes, 'write');
  if (!('buffer' in v)) throw new Error(`hostile: no session region at ${vaddr}: ${v.error}`);
  return new Uint32Array(v.buffer, v.byteOffset, bytes / 4);
}

/** Word indices of what one side owns in a session region. */
function ownedWords(capacity: number, side: 'client' | 'driver'): number[] {
  const o = netSessionLayout(capacity);
  const head = (ring: number) => (ring + RING_HEAD_OFFSET) / 4;
  const tail = (ring: number) => (ring + RING_TAIL_OFFSET) / 4;
  return side === 'client'
    ? [tail(o.rxFree), tail(o.txReq), head(o.rxUsed), head(o.txDone), o.clientBit / 4]
    : [tail(o.rxUsed), tail(o.txDone), head(o.rxFree), head(o.txReq), o.driverBit / 4];
}

function chosen<T>(all: readonly T[], b: HostileBehaviour): T[] {
  return b.sessions === undefined ? [...all] : b.sessions.map((i) => all[i]!);
}

/**
 * A client stack that misbehaves towards its driver (see the module comment): garbage in
 * `rxFree`/`txReq`, its own indices corrupted for a while, wake-up floods. Its honest part is
 * `stackServer` of `@udf/lwip-lite`, which serves its frames meanwhile.
 */
export function hostileStackServer(
  config: HostileStackConfig,
): (sys: Sys) => Generator<KernelCall, void, unknown> {
  const { hostile, ...honest } = config;
  return function* (sys: Sys): Generator<KernelCall, void, unknown> {
    const page = yield* CountersPage.open(sys, honest.counters.vaddr);
    const targets: Target[] = [];
    for (const s of chosen(honest.sessions, hostile)) {
      const words = yield* regionWords(sys, s.controlVaddr, s.ringCapacity);
      // A second producer on the same rings, in the same thread as the honest one: the rings
      // read their producer index from memory on every push, so the two never collide.
      const net = new NetSessionClient({
        buffer: words.buffer as SharedArrayBuffer,
        byteOffset: words.byteOffset,
        capacity: s.ringCapacity,
      });
      const o = netSessionLayout(s.ringCapacity);
      targets.push({
        words,
        owned: ownedWords(s.ringCapacity, 'client'),
        peerBit: o.driverBit / 4,
        peer: honest.driver,
        // The last receive buffer the honest part posted names its dataspace.
        own: () => {
          const tail = words[(o.rxFree + RING_TAIL_OFFSET) / 4]!;
          const slot = (tail - 1) & (s.ringCapacity - 1);
          return words[(o.rxFree + RING_SLOTS_OFFSET) / 4 + slot * DESC_WORDS]!;
        },
        push: (ds, off, len) =>
          (net.postRx(ds, off, len) ? 1 : 0) + (net.submitTx(ds, off, len) ? 1 : 0),
      });
    }
    // Every descriptor is invalid whatever the driver holds: another dataspace (ids are small
    // integers: the neighbours of ours are other clients'), a range past the end of ours, a
    // length no buffer has, random words.
    const bytes = Math.max(...honest.sessions.map((s) => s.bufferCount * s.bufferSize));
    const garbage = (rnd: () => number, i: number, own: number): readonly number[] => {
      switch (i % 4) {
        case 0: // somebody else's dataspace, a buffer-like range
          return [own + 1 + (rnd() % 4), 0, 1518, 0];
        case 1: // past the end of our dataspace
          return [own, bytes + 4096 * (rnd() % 256), 1518, 0];
        case 2: // no length at all, inside a buffer of ours but at no buffer's start
          return [own, 8 + 64 * (rnd() % 16), 0, 0];
        default:
          return [rnd(), rnd(), rnd(), rnd()];
      }
    };
    const h = new Hostility(hostile, sys, targets, CLIENT_NOTIFY, garbage);
    page.bind(`${honest.counters.prefix}.hostile`, h.stats);
    yield* stackServer(honest)(hostileSys(sys, h));
  };
}

/**
 * A driver that misbehaves towards its clients (see the module comment): garbage in
 * `rxUsed`/`txDone`, its own indices corrupted for a while, wake-up floods. Its honest part is
 * `dp83820DriverServer` of `@udf/driver-dp83820`, which serves every session meanwhile.
 */
export function hostileDriverServer(
  config: HostileDriverConfig,
): (sys: Sys) => Generator<KernelCall, void, unknown> {
  const { hostile, ...honest } = config;
  return function* (sys: Sys): Generator<KernelCall, void, unknown> {
    const targets: Target[] = [];
    for (const s of chosen(honest.sessions, hostile)) {
      const words = yield* regionWords(sys, s.controlVaddr, s.capacity);
      const net = new NetSessionDriver({
        buffer: words.buffer as SharedArrayBuffer,
        byteOffset: words.byteOffset,
        capacity: s.capacity,
      });
      targets.push({
        words,
        owned: ownedWords(s.capacity, 'driver'),
        peerBit: netSessionLayout(s.capacity).clientBit / 4,
        peer: s.client,
        own: () => 0,
        push: (ds, off, len, st) =>
          (net.deliverRx(ds, off, len, st) ? 1 : 0) + (net.completeTx(ds, off, len, st) ? 1 : 0),
      });
    }
    const garbage = (rnd: () => number, i: number): readonly number[] => {
      switch (i % 4) {
        case 0: // an offset inside a dataspace that starts no buffer
          return [1 + (rnd() % 64), 8 + 64 * (rnd() % 64), 60, 0];
        case 1: // a buffer start with a length no buffer has
          return [1 + (rnd() % 64), 2048 * (rnd() % 64), 0x1_0000, 0];
        case 2: // far past any dataspace
          return [1 + (rnd() % 64), 0x4000_0000 + (rnd() % 0x100_0000), 60, 0];
        default:
          return [rnd(), rnd(), rnd(), rnd()];
      }
    };
    const h = new Hostility(hostile, sys, targets, DRIVER_NOTIFY, garbage);
    if (honest.counters !== undefined) {
      const page = yield* CountersPage.open(sys, honest.counters.vaddr);
      page.bind(`${honest.counters.prefix}.hostile`, h.stats);
    }
    yield* dp83820DriverServer(honest)(hostileSys(sys, h));
  };
}
