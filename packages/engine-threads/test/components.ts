// Test components: ordinary `Sys` generators (they import nothing from the engine). Each writes
// what it observed into a shared `out` buffer (Float64 slots) that the test reads afterwards.
import { ANY_THREAD, type IpcResult, NEVER, type Sys, ZERO } from '@udf/l4-kernel';

/** Error codes as numbers in `out` slots. */
export const CODES = [
  'ok',
  'timeout',
  'non-existing-partner',
  'canceled',
  'aborted',
  'message-overflow',
  'malformed-item',
] as const;
function code(r: IpcResult): number {
  return r.ok ? 0 : CODES.indexOf(r.error) + (r.phase === 'receive' ? 100 : 0);
}

/** Echo server: replyWait loop answering `[w0 + 1, ...rest]` with the request's label. */
export function pong(config: { out?: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const out = config.out ? new Float64Array(config.out) : null;
    let r = yield* sys.ipc.receive(ANY_THREAD);
    let served = 0;
    for (;;) {
      if (!r.ok) {
        r = yield* sys.ipc.receive(ANY_THREAD);
        continue;
      }
      served++;
      if (out !== null) out[0] = served;
      const w = r.msg.words;
      r = yield* sys.ipc.replyWait(r.from, {
        label: r.msg.label,
        words: [(w[0] ?? 0) + 1, ...w.slice(1)],
      });
    }
  };
}

/** Client: `rounds` calls to `server`; out = [done, ok rounds, wrong replies, first error code]. */
export function ping(config: { server: number; rounds: number; out: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    let wrong = 0;
    let okRounds = 0;
    for (let i = 0; i < config.rounds; i++) {
      const r = yield* sys.ipc.call(config.server, { label: 7, words: [i, 0.5, -3] });
      if (!r.ok) {
        out[3] = code(r);
        break;
      }
      if (r.from !== config.server || r.msg.label !== 7 || r.msg.words[0] !== i + 1) wrong++;
      else if (r.msg.words[1] !== 0.5 || r.msg.words[2] !== -3) wrong++;
      else okRounds++;
    }
    out[1] = okRounds;
    out[2] = wrong;
    out[0] = 1;
  };
}

/** Runs a list of single operations and records each result code and wall duration. */
export function probe(config: {
  out: SharedArrayBuffer;
  ops: (
    | { op: 'receive'; from: number; timeout?: number }
    | { op: 'send'; to: number; timeout?: number; words?: number; garbage?: boolean }
    | { op: 'call'; to: number; timeout?: number }
    | { op: 'replyWait'; to: number; timeout?: number }
    | { op: 'sleep'; cycles: number }
    | { op: 'self' }
    | { op: 'attach'; line: number }
    | { op: 'cancelable'; from: number }
  )[];
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    let i = 0;
    for (const o of config.ops) {
      const t0 = performance.now();
      let c = 0;
      let from = 0;
      const to = (x: number | undefined) => (x === undefined ? NEVER : x);
      let r: IpcResult | null = null;
      switch (o.op) {
        case 'receive':
          r = yield* sys.ipc.receive(o.from, to(o.timeout));
          break;
        case 'send':
          r = yield* sys.ipc.send(
            o.to,
            {
              label: 1,
              words:
                o.garbage === true ? [1, 2n as unknown as number] : new Array(o.words ?? 1).fill(1),
            },
            to(o.timeout),
          );
          break;
        case 'call':
          r = yield* sys.ipc.call(o.to, { label: 1, words: [1] }, to(o.timeout));
          break;
        case 'replyWait':
          r = yield* sys.ipc.replyWait(o.to, { label: 1, words: [] }, to(o.timeout));
          break;
        case 'sleep':
          yield* sys.sleep(o.cycles);
          break;
        case 'self':
          from = sys.self;
          break;
        case 'attach': {
          const a = yield* sys.irq.attach(o.line);
          c = a.ok ? 0 : 1;
          break;
        }
        case 'cancelable':
          out[0] = 2; // tell the test this thread is about to block
          r = yield* sys.ipc.receive(o.from, NEVER);
          break;
      }
      if (r !== null) {
        c = code(r);
        from = r.from;
      }
      out[3 * i + 1] = c;
      out[3 * i + 2] = from;
      out[3 * i + 3] = performance.now() - t0;
      i++;
    }
    out[0] = 1;
  };
}

/** A thread that receives from nobody forever (a partner that never answers). */
export function* silent(sys: Sys) {
  for (;;) yield* sys.sleep(NEVER);
}

/** Waits `delayCycles`, optionally receives one message first, then throws. */
export function crasher(config: { delayCycles: number; receiveFirst: boolean }) {
  return function* (sys: Sys) {
    if (config.receiveFirst) yield* sys.ipc.receive(ANY_THREAD);
    yield* sys.sleep(config.delayCycles);
    throw new Error('component bug');
  };
}

/** Not a function export. */
export const notAComponent = 42;

/** Server receiving `count` messages from any thread; out = [done, from ids...]. */
export function collector(config: { count: number; out: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    for (let i = 0; i < config.count; ) {
      const r = yield* sys.ipc.receive(ANY_THREAD);
      if (r.ok) out[1 + i++] = r.from;
    }
    out[0] = 1;
  };
}

/** Sends one message to `to`; out = [done, result code]. */
export function sender(config: { to: number; out: SharedArrayBuffer; slot: number }) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const r = yield* sys.ipc.send(config.to, { label: 2, words: [sys.self] });
    out[config.slot] = code(r) + 1;
  };
}

/**
 * The preemption latch step by step. `sync` words: [phase]. Sleeper: begin(); phase=1; wait for
 * phase 2 (the waker's zero-timeout send failed); record preempted(); receive → aborted.
 * out = [done, preempted before, receive code, preempted after end+begin].
 */
export function latchSleeper(config: { sync: SharedArrayBuffer; out: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const sync = new Int32Array(config.sync);
    const out = new Float64Array(config.out);
    sys.preemption.begin();
    Atomics.store(sync, 0, 1);
    while (Atomics.load(sync, 0) !== 2) yield* sys.sleep(sys.hz / 10_000);
    out[1] = sys.preemption.preempted() ? 1 : 0;
    const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
    out[2] = code(r);
    sys.preemption.end();
    sys.preemption.begin();
    out[3] = sys.preemption.preempted() ? 1 : 0;
    sys.preemption.end();
    out[0] = 1;
  };
}

/** The waker for {@link latchSleeper}: waits for phase 1, sends with zero timeout, phase = 2. out[4] = send code. */
export function latchWaker(config: {
  sleeper: number;
  sync: SharedArrayBuffer;
  out: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const sync = new Int32Array(config.sync);
    const out = new Float64Array(config.out);
    while (Atomics.load(sync, 0) !== 1) yield* sys.sleep(sys.hz / 10_000);
    const r = yield* sys.ipc.send(config.sleeper, { label: 3, words: [] }, ZERO);
    out[4] = code(r);
    Atomics.store(sync, 0, 2);
  };
}

/** Reads `length` bytes at `vaddr` (out[1] = first byte or -error), writes `value` there; out[2] = outside access error. */
export function memoryUser(config: {
  vaddr: number;
  length: number;
  value: number;
  outside: number;
  out: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const v = yield* sys.mem.access(config.vaddr, config.length, 'write');
    if ('ok' in v) out[1] = -1;
    else {
      out[1] = v.bytes[0]!;
      v.bytes[0] = config.value;
      out[3] = v.bytes.length;
    }
    const w = yield* sys.mem.access(config.outside, 4, 'read');
    out[2] = 'ok' in w ? 1 : 0;
    out[0] = 1;
  };
}

/** Appends `tag` to a shared log each time it runs, `steps` times (priority order test). */
export function logger(config: { tag: number; steps: number; log: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const log = new Int32Array(config.log);
    for (let i = 0; i < config.steps; i++) {
      const at = Atomics.add(log, 0, 1);
      log[1 + at] = config.tag;
      yield* sys.yieldCpu();
    }
  };
}

/**
 * Calls the servers round-robin `rounds` times with `[i, self]`, optionally with a timeout;
 * out[slot..slot+3] = [ok, wrong replies, timeouts, other errors].
 */
export function caller(config: {
  servers: number[];
  rounds: number;
  timeout?: number;
  out: SharedArrayBuffer;
  slot: number;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    let ok = 0;
    let wrong = 0;
    let timeouts = 0;
    let other = 0;
    for (let i = 0; i < config.rounds; i++) {
      const server = config.servers[i % config.servers.length]!;
      const r = yield* sys.ipc.call(
        server,
        { label: 5, words: [i, sys.self] },
        config.timeout ?? NEVER,
      );
      if (r.ok) {
        if (r.from === server && r.msg.words[0] === i + 1 && r.msg.words[1] === sys.self) ok++;
        else wrong++;
      } else if (r.error === 'timeout') timeouts++;
      else other++;
    }
    out[config.slot] = ok;
    out[config.slot + 1] = wrong;
    out[config.slot + 2] = timeouts;
    out[config.slot + 3] = other;
  };
}

/** Takes one message, then ends its whole worker (a domain crash, not a thread failure). */
export function* exiter(sys: Sys) {
  yield* sys.ipc.receive(ANY_THREAD);
  process.exit(3);
}

/**
 * A server whose state lives in its domain's memory (not in the worker): it counts requests in
 * the word at `vaddr` and replies `[count]`; with `throwAt`, it throws when the count reaches it.
 */
export function countingServer(config: { vaddr: number; throwAt?: number }) {
  return function* (sys: Sys) {
    const v = yield* sys.mem.access(config.vaddr, 4, 'write');
    if ('ok' in v) throw new Error('no counter page');
    const count = new Int32Array(v.buffer, v.byteOffset, 1);
    let r = yield* sys.ipc.receive(ANY_THREAD);
    for (;;) {
      if (!r.ok) {
        r = yield* sys.ipc.receive(ANY_THREAD);
        continue;
      }
      const n = Atomics.add(count, 0, 1) + 1;
      if (n === config.throwAt) throw new Error('driver bug');
      r = yield* sys.ipc.replyWait(r.from, { label: 1, words: [n] });
    }
  };
}

/**
 * Calls `server` in a loop until `stop[0]` is set; out = [done, ok replies, errors, hung (a
 * call that did not return within `timeout`)]: the load under which a server is killed.
 */
export function hammer(config: {
  server: number;
  out: SharedArrayBuffer;
  stop: SharedArrayBuffer;
  timeout: number;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const stop = new Int32Array(config.stop);
    while (Atomics.load(stop, 0) === 0) {
      const r = yield* sys.ipc.call(config.server, { label: 1, words: [] }, config.timeout);
      if (r.ok) out[1] = out[1]! + 1;
      else if (r.error === 'timeout') out[3] = out[3]! + 1;
      else {
        out[2] = out[2]! + 1;
        yield* sys.sleep(100_000); // (0.1 ms at 1 GHz) while it restarts
      }
    }
    out[0] = 1;
  };
}
