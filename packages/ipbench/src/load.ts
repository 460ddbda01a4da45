/**
 * The engine-agnostic heart of an ipbench client: pacing, the pending-packet table, the
 * warm-up / measurement / cool-down windows and result accounting. Transports (Ethernet frames
 * on a sim link, a UDP socket) wrap it.
 */
import type { Clock, Scheduled } from './clock.js';
import { checkNumber, IpbenchError } from './errors.js';
import { WIRE_OVERHEAD_BYTES } from './frames.js';
import { PROBE_HEADER_LEN, probeIntact, probeSeq, probeTimestamp } from './probe.js';

/**
 * The settings of one client run.
 *
 * @remarks **Offered rate convention** (as ipbench's `latency` test): `rateMbps` counts UDP
 * payload bits per second, `packetSize` is the UDP payload in bytes. The send interval is
 * `8 · packetSize / rate`; achieved throughput is `8 · echoes · packetSize / window`. Headers,
 * preamble and inter-frame gap are not counted, so 1000 Mb/s offered with 1024-byte packets
 * needs ≈ 1064 Mb/s of wire.
 */
export interface ClientRun {
  /** Offered load of this client in Mb/s of UDP payload (10^6 bits per second). */
  rateMbps: number;
  /** UDP payload bytes per packet (at least {@link PROBE_HEADER_LEN}). Default 1024. */
  packetSize?: number;
  /** Seconds sent before measuring starts (ipbench `warmup`). Default 0.05. */
  warmupS?: number;
  /** Seconds of measurement (cap when `samples` is set). Default 0.5. */
  durationS?: number;
  /** Seconds sent after measuring ends (ipbench `cooldown`). Default 0.05. */
  cooldownS?: number;
  /** End measuring after this many echoed packets (ipbench `samples`); `durationS` caps it. */
  samples?: number;
  /**
   * Where in the first send interval the first probe goes out, as a fraction of the interval in
   * [0, 1). Default 0.5. Original ipbench sends at the very start (phase 0); then with no warm-up
   * every client's first probe falls at the start of the window, so a window holding `x` intervals
   * counts `ceil(x)` probes per client — at a low rate one probe per client as the throughput. At
   * 0.5 it counts the nearest whole number instead; a generator with several clients can spread
   * them over the interval (`(i + 0.5) / clients`).
   */
  phase?: number;
}

/** What one client measured in its measurement window. */
export interface ClientResult {
  /** Offered load, bits/s of UDP payload (ipbench `throughput_requested`). */
  requestedBps: number;
  /** Echoed payload bits/s received in the window (ipbench `throughput_achieved`). */
  achievedBps: number;
  /** Payload bits/s sent in the window (ipbench `throughput_sent`). */
  sentBps: number;
  /** UDP payload bytes per packet. */
  size: number;
  /** Length of the measurement window in µs. */
  durationUs: number;
  /** Packets sent in the window. */
  sends: number;
  /** Echoes received in the window that matched a pending packet (each one gives an RTT). */
  recvs: number;
  /** Echoes in the window that matched no pending packet (too old, or a duplicate). */
  late: number;
  /** Echoes with a failed integrity word, timestamp or checksum, over the whole run. */
  bad: number;
  /** Packets sent in the window never echoed by the end of cool-down. */
  lost: number;
  /** Round-trip times of the `recvs` echoes, in µs. */
  rttUs: Float64Array;
}

/** A load generator that the {@link Ramp} can drive, whatever its engine or transport. */
export interface LoadClient {
  /** Runs one warm-up / measure / cool-down cycle; resolves when cool-down ends. */
  start(run: ClientRun): Promise<ClientResult>;
  /** True while a run is in progress. */
  readonly running: boolean;
  /**
   * The warm-up and measurement this client will really apply to `run`, when it differs (e.g. a
   * remote original ipbench rounds the warm-up up to whole seconds). The `Ramp` opens the CPU
   * meter's window from it.
   */
  effectiveWindow?(run: ClientRun): { warmupS: number; durationS: number };
}

/** Defaults for {@link ClientRun} fields. */
export const RUN_DEFAULTS = Object.freeze({
  packetSize: 1024,
  warmupS: 0.05,
  durationS: 0.5,
  cooldownS: 0.05,
  phase: 0.5,
});

/** A fully defaulted and checked {@link ClientRun}. */
export interface ResolvedRun {
  /** See {@link ClientRun.rateMbps}. */
  rateMbps: number;
  /** See {@link ClientRun.packetSize}. */
  packetSize: number;
  /** See {@link ClientRun.warmupS}. */
  warmupS: number;
  /** See {@link ClientRun.durationS}. */
  durationS: number;
  /** See {@link ClientRun.cooldownS}. */
  cooldownS: number;
  /** See {@link ClientRun.samples}; 0 means "by duration". */
  samples: number;
  /** See {@link ClientRun.phase}; absent means the default, {@link RUN_DEFAULTS}`.phase`. */
  phase?: number;
}

/** Applies defaults and validates a run; throws `IPBENCH_BAD_CONFIG` on nonsense. */
export function resolveRun(run: ClientRun, defaults: Partial<ClientRun> = {}): ResolvedRun {
  const r = { ...RUN_DEFAULTS, ...defaults, ...stripUndefined(run) };
  return {
    rateMbps: checkNumber('rateMbps', r.rateMbps as number, (v) => v > 0, 'a positive number'),
    packetSize: checkNumber(
      'packetSize',
      r.packetSize,
      (v) => Number.isInteger(v) && v >= PROBE_HEADER_LEN && v <= 65507,
      `an integer in [${PROBE_HEADER_LEN}, 65507]`,
    ),
    warmupS: checkNumber('warmupS', r.warmupS, (v) => v >= 0, 'a non-negative number'),
    durationS: checkNumber('durationS', r.durationS, (v) => v > 0, 'a positive number'),
    cooldownS: checkNumber('cooldownS', r.cooldownS, (v) => v >= 0, 'a non-negative number'),
    samples: checkNumber(
      'samples',
      r.samples ?? 0,
      (v) => Number.isInteger(v) && v >= 0,
      'a non-negative integer',
    ),
    phase: checkNumber('phase', r.phase, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** How a {@link LoadEngine} puts a probe on its transport. */
export interface ProbeSender {
  /** Sends probe `seq` stamped `timestamp` (cycles) with `size` bytes of payload. */
  sendProbe(seq: number, timestamp: number, size: number): void;
}

/** Probes sent in one turn of the pacing loop at most (see `#pump`). */
const MAX_BURST = 256;
/** Pending-table slots at most (one second of packets up to ≈ 1 M packets/s; 17 MB). */
const MAX_PENDING = 1 << 20;
/** RTT slots allocated before a run at most; more are allocated as echoes arrive. */
const MAX_INITIAL_SAMPLES = 1 << 20;

const EMPTY = 0;
const PENDING = 1;
const PENDING_MEASURED = 2;

/**
 * Paces probes on a {@link Clock}, matches echoes against a pending table and keeps counters.
 *
 * @remarks Send `k` is due at `t0 + (k + phase) · interval` but never before the previous send has left a
 * link of `linkMbps` (each frame occupies the link for its payload plus
 * {@link WIRE_OVERHEAD_BYTES}). On each wake-up every due probe is sent (in bursts of at most
 * 256, yielding to the event loop in between), so a coarse real clock catches up like ipbench's
 * `predicted_sends` loop, and a sim clock wakes once per packet. The pending table holds one
 * second of packets (ipbench's `packet_list`), at least 64 and at most 2^20.
 */
export class LoadEngine {
  readonly #clock: Clock;
  readonly #sender: ProbeSender;
  readonly #linkMbps: number;
  #run: ResolvedRun | null = null;
  #done: ((r: ClientResult) => void) | null = null;
  #fail: ((e: Error) => void) | null = null;
  #timer: Scheduled | null = null;
  #endTimer: Scheduled | null = null;

  #t0 = 0;
  /** `t0` plus the phase offset: send `k` is due at `#first + k · interval`. */
  #first = 0;
  #interval = 0;
  #wireTime = 0;
  #k = 0;
  #nextSend = 0;
  #warmEnd = 0;
  #measureEnd = Number.POSITIVE_INFINITY;
  #endAt = Number.POSITIVE_INFINITY;
  #measured = false;

  #seqs = new Float64Array(0);
  #times = new Float64Array(0);
  #state = new Uint8Array(0);
  #rtt = new Float64Array(0);
  #sends = 0;
  #recvs = 0;
  #late = 0;
  #bad = 0;
  #lost = 0;

  /**
   * @param clock - time source for pacing and timestamps
   * @param sender - transport hook
   * @param linkMbps - the client's own NIC speed (Infinity for none)
   */
  constructor(clock: Clock, sender: ProbeSender, linkMbps: number) {
    this.#clock = clock;
    this.#sender = sender;
    this.#linkMbps = linkMbps;
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.#run !== null;
  }

  /**
   * Begins a run; `done` is called once at the end of cool-down, or `fail` once if it is
   * aborted.
   */
  begin(run: ResolvedRun, done: (r: ClientResult) => void, fail?: (e: Error) => void): void {
    if (this.#run) throw new IpbenchError('IPBENCH_BUSY', 'client is already running');
    const hz = this.#clock.hz;
    this.#run = run;
    this.#done = done;
    this.#fail = fail ?? null;
    this.#t0 = this.#clock.now();
    this.#interval = (hz * 8 * run.packetSize) / (run.rateMbps * 1e6);
    this.#wireTime =
      Number.isFinite(this.#linkMbps) && this.#linkMbps > 0
        ? (hz * 8 * (run.packetSize + WIRE_OVERHEAD_BYTES)) / (this.#linkMbps * 1e6)
        : 0;
    this.#k = 0;
    this.#first = this.#t0 + (run.phase ?? RUN_DEFAULTS.phase) * this.#interval;
    this.#nextSend = this.#first;
    this.#warmEnd = this.#t0 + run.warmupS * hz;
    this.#measureEnd = this.#warmEnd + run.durationS * hz;
    this.#endAt = this.#measureEnd + run.cooldownS * hz;
    this.#measured = false;
    const perSecond = Math.ceil((run.rateMbps * 1e6) / (8 * run.packetSize));
    const table = Math.min(Math.max(64, perSecond), MAX_PENDING);
    if (this.#seqs.length !== table) {
      this.#seqs = new Float64Array(table);
      this.#times = new Float64Array(table);
      this.#state = new Uint8Array(table);
    } else {
      this.#state.fill(EMPTY);
    }
    const expected = Math.ceil(perSecond * run.durationS * 1.05) + 16;
    // Sized for the expected echoes but never more than MAX_INITIAL_SAMPLES up front: a huge
    // rate × duration must not allocate before a single echo has arrived (it grows on demand).
    const rttCap = Math.min(
      run.samples > 0 ? Math.min(run.samples, expected) : expected,
      MAX_INITIAL_SAMPLES,
    );
    if (this.#rtt.length < rttCap) this.#rtt = new Float64Array(rttCap);
    this.#sends = this.#recvs = this.#late = this.#bad = this.#lost = 0;
    this.#endTimer = this.#clock.schedule(Math.ceil(this.#measureEnd), () => this.#endMeasure());
    this.#pump();
  }

  /** Stops the run now: no result; the run's `fail` gets an `IPBENCH_ABORTED` error. */
  abort(): void {
    const fail = this.#run ? this.#fail : null;
    this.#timer?.cancel();
    this.#endTimer?.cancel();
    this.#run = null;
    this.#done = null;
    this.#fail = null;
    fail?.(new IpbenchError('IPBENCH_ABORTED', 'run aborted'));
  }

  /** Counts an echo that failed below the probe (checksum, truncation) as bad. */
  countBad(): void {
    this.#bad++;
  }

  /** Handles an echoed probe payload at `buf[off, off + len)`. Allocates nothing. */
  handleEcho(buf: Uint8Array, off: number, len: number): void {
    if (!this.#run) return;
    if (len < PROBE_HEADER_LEN || !probeIntact(buf, off)) {
      this.#bad++;
      return;
    }
    const seq = probeSeq(buf, off);
    const slot = seq % this.#seqs.length;
    const state = this.#state[slot]!;
    let sent = -1;
    if (state !== EMPTY && this.#seqs[slot] === seq) {
      sent = this.#times[slot]!;
      if (probeTimestamp(buf, off) !== Math.round(sent)) {
        this.#bad++;
        return;
      }
      this.#state[slot] = EMPTY;
    }
    const now = this.#clock.now();
    if (!this.#inWindow(now)) return;
    if (sent < 0) {
      this.#late++;
      return;
    }
    if (this.#recvs === this.#rtt.length) {
      const grown = new Float64Array(this.#rtt.length * 2 + 16);
      grown.set(this.#rtt);
      this.#rtt = grown;
    }
    this.#rtt[this.#recvs++] = ((now - sent) * 1e6) / this.#clock.hz;
    if (this.#run.samples > 0 && this.#recvs >= this.#run.samples) this.#endMeasure();
  }

  #pump = (): void => {
    this.#timer = null;
    if (!this.#run) return;
    const now = this.#clock.now();
    // At most MAX_BURST sends per turn: a client that has fallen behind (asked for more than the
    // host can send) yields to the event loop between bursts instead of blocking it.
    let burst = 0;
    while (this.#nextSend <= now && this.#nextSend < this.#endAt) {
      if (burst++ === MAX_BURST) {
        this.#timer = this.#clock.schedule(now, this.#pump);
        return;
      }
      this.#emit(now);
      this.#k++;
      const ideal = this.#first + this.#k * this.#interval;
      this.#nextSend = Math.max(ideal, this.#nextSend + this.#wireTime);
    }
    if (this.#nextSend < this.#endAt) {
      this.#timer = this.#clock.schedule(Math.ceil(this.#nextSend), this.#pump);
    }
  };

  #emit(now: number): void {
    const seq = this.#k;
    const slot = seq % this.#seqs.length;
    const prev = this.#state[slot]!;
    if (prev === PENDING_MEASURED) this.#lost++;
    this.#seqs[slot] = seq;
    this.#times[slot] = now;
    const measuring = this.#inWindow(now);
    this.#state[slot] = measuring ? PENDING_MEASURED : PENDING;
    if (measuring) this.#sends++;
    this.#sender.sendProbe(seq, now, this.#run!.packetSize);
  }

  /**
   * True at `now` inside the measurement window. Its start is decided by the clock, as
   * ipbench's `now >= warmup_time`, not by a timer: a real clock's late timer would otherwise
   * count probes sent (and echoes received) after warm-up ended as warm-up traffic.
   */
  #inWindow(now: number): boolean {
    return !this.#measured && now >= this.#warmEnd;
  }

  #endMeasure(): void {
    if (this.#measured || !this.#run) return;
    this.#endTimer?.cancel();
    this.#measured = true;
    const now = this.#clock.now();
    this.#measureEnd = now;
    this.#endAt = now + this.#run.cooldownS * this.#clock.hz;
    this.#clock.schedule(Math.ceil(this.#endAt), () => this.#finish());
  }

  #finish(): void {
    const run = this.#run;
    const done = this.#done;
    if (!run || !done) return;
    this.#timer?.cancel();
    for (let i = 0; i < this.#state.length; i++) {
      if (this.#state[i] === PENDING_MEASURED) this.#lost++;
    }
    const windowCycles = this.#measureEnd - this.#warmEnd;
    const seconds = windowCycles / this.#clock.hz;
    const bits = 8 * run.packetSize;
    const result: ClientResult = {
      requestedBps: run.rateMbps * 1e6,
      achievedBps: seconds > 0 ? (bits * this.#recvs) / seconds : 0,
      sentBps: seconds > 0 ? (bits * this.#sends) / seconds : 0,
      size: run.packetSize,
      durationUs: seconds * 1e6,
      sends: this.#sends,
      recvs: this.#recvs,
      late: this.#late,
      bad: this.#bad,
      lost: this.#lost,
      rttUs: this.#rtt.slice(0, this.#recvs),
    };
    this.#run = null;
    this.#done = null;
    this.#fail = null;
    done(result);
  }
}
