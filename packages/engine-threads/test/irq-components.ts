// Interrupt test components: ordinary `Sys` generators. They publish what they saw in a shared
// Float64 `out` buffer and take go-ahead signals from an Int32 `gate` (the test sets them).
import { type IpcResult, NEVER, type Sys } from '@udf/l4-kernel';

const ERR = ['ok', 'timeout', 'non-existing-partner', 'canceled', 'aborted'];
function code(r: IpcResult): number {
  return r.ok ? 0 : ERR.indexOf(r.error) + 1 + (r.phase === 'receive' ? 100 : 0);
}

/**
 * Interrupt handler. out: [0] irq thread (-1: attach failed), [1] deliveries, [2] last label,
 * [3] last word, [4] last sender, [5] acks that succeeded, [6] detached (1), [7] result code of
 * the receive after detach, [8] code of a reply with nothing outstanding, [9] done.
 * Acknowledges delivery n only once gate[0] >= n; after `rounds` deliveries it detaches, waits
 * for gate[1] (the test raised the line again), and receives from the interrupt thread with a
 * timeout, which must expire.
 */
export function isr(config: {
  line: number;
  rounds: number;
  out: SharedArrayBuffer;
  gate: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const gate = new Int32Array(config.gate);
    const a = yield* sys.irq.attach(config.line);
    if (!a.ok) {
      out[0] = -1;
      out[9] = 1;
      return;
    }
    const it = a.irqThread;
    // nothing outstanding yet: a reply fails in the send phase
    out[8] = code(yield* sys.ipc.reply(it, { label: 0, words: [] }));
    out[0] = it;
    let n = 0;
    while (n < config.rounds) {
      const r = yield* sys.ipc.receive(it, NEVER);
      if (!r.ok) continue;
      n++;
      out[2] = r.msg.label;
      out[3] = r.msg.words[0] ?? -1;
      out[4] = r.from;
      out[1] = n;
      while (Atomics.load(gate, 0) < n) yield* sys.sleep(sys.hz / 10_000);
      const ack = yield* sys.ipc.reply(it, { label: 0, words: [] });
      if (ack.ok) out[5] = (out[5] ?? 0) + 1;
    }
    yield* sys.irq.detach(config.line);
    out[6] = 1;
    while (Atomics.load(gate, 1) === 0) yield* sys.sleep(sys.hz / 10_000);
    out[7] = code(yield* sys.ipc.receive(it, sys.hz / 20)); // 50 ms
    out[9] = 1;
  };
}

/** A thread that is not the handler replies to interrupt thread `it`: out[0] = result code. */
export function stranger(config: {
  line: number;
  out: SharedArrayBuffer;
  gate: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const gate = new Int32Array(config.gate);
    while (Atomics.load(gate, 2) === 0) yield* sys.sleep(sys.hz / 10_000);
    const it = Atomics.load(gate, 3);
    out[0] = code(yield* sys.ipc.reply(it, { label: 0, words: [] }));
    // attaching a line that has a live handler is refused
    const a = yield* sys.irq.attach(config.line);
    out[1] = a.ok ? 1 : 2;
  };
}

/** Attaches, takes one interrupt without acknowledging it, and exits. out[0] = 1 when received. */
export function oneShot(config: { line: number; out: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const a = yield* sys.irq.attach(config.line);
    if (!a.ok) return;
    const r = yield* sys.ipc.receive(a.irqThread, NEVER);
    out[0] = r.ok ? 1 : -1;
  };
}

/**
 * Waits for gate[0], attaches, and takes one interrupt with `call` to the interrupt thread
 * after its first one (acknowledge + wait for the next). out: [1] attach ok, [2] first word,
 * [3] code of the call (after a second raise), [4] done.
 */
export function lateIsr(config: { line: number; out: SharedArrayBuffer; gate: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const gate = new Int32Array(config.gate);
    while (Atomics.load(gate, 0) === 0) yield* sys.sleep(sys.hz / 10_000);
    const a = yield* sys.irq.attach(config.line);
    out[1] = a.ok ? 1 : -1;
    if (!a.ok) return;
    const r = yield* sys.ipc.receive(a.irqThread, NEVER);
    out[2] = r.ok ? (r.msg.words[0] ?? -1) : -1;
    const c = yield* sys.ipc.call(a.irqThread, { label: 0, words: [] }, NEVER);
    out[3] = code(c);
    out[4] = 1;
  };
}

/**
 * Stress handler: on every interrupt consume the device's pending causes (exchange with 0),
 * then acknowledge. out: [0] irq thread, [1] causes consumed, [2] interrupts taken.
 */
export function consumer(config: {
  line: number;
  events: number;
  out: SharedArrayBuffer;
  pending: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const pending = new Int32Array(config.pending);
    const a = yield* sys.irq.attach(config.line);
    if (!a.ok) return;
    out[0] = a.irqThread;
    let total = 0;
    let taken = 0;
    while (total < config.events) {
      const r = yield* sys.ipc.receive(a.irqThread, NEVER);
      if (!r.ok) continue;
      taken++;
      total += Atomics.exchange(pending, 0, 0);
      out[1] = total;
      out[2] = taken;
      yield* sys.ipc.reply(a.irqThread, { label: 0, words: [] });
    }
  };
}

/** Reads register 4 of the window at `regs` once `gate[0]` is set; out[0] = value, out[1] = 1. */
export function lateReader(config: {
  regs: number;
  out: SharedArrayBuffer;
  gate: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const gate = new Int32Array(config.gate);
    const r = sys.mem.registers(config.regs)!;
    while (Atomics.load(gate, 0) === 0) yield* sys.sleep(sys.hz / 10_000);
    out[0] = r.read32(4);
    out[1] = 1;
  };
}

/**
 * The same interrupt protocol steps on any engine; out[2i+1] = result code of step i (see
 * `code`), out[2i+2] = detail, out[0] = steps done. The test raises the line (and leaves it
 * asserted) once out[20] is 1.
 */
export function irqProbe(config: { line: number; out: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    let i = 0;
    const rec = (c: number, detail: number) => {
      out[2 * i + 1] = c;
      out[2 * i + 2] = detail;
      i++;
      out[0] = i;
    };
    const bad = yield* sys.irq.attach(100_000);
    rec(bad.ok ? 0 : 1, 0); // invalid line
    const a = yield* sys.irq.attach(config.line);
    if (!a.ok) return;
    rec(0, 0);
    const it = a.irqThread;
    rec(code(yield* sys.ipc.reply(it, { label: 0, words: [] })), 0); // nothing outstanding
    out[20] = 1;
    const r = yield* sys.ipc.receive(it, NEVER);
    rec(
      code(r),
      r.ok ? r.msg.label * 1000 + (r.msg.words[0] ?? -1) + (r.from === it ? 0.5 : 0) : 0,
    );
    rec(code(yield* sys.ipc.reply(it, { label: 0, words: [] })), 0); // ack: still asserted
    rec(code(yield* sys.ipc.reply(it, { label: 0, words: [] })), 0); // not delivered yet: timeout
    const again = yield* sys.ipc.receive(it, sys.hz / 200); // redelivered (level-triggered)
    rec(code(again), again.ok ? again.msg.words[0]! : 0);
    yield* sys.irq.detach(config.line);
    rec(code(yield* sys.ipc.reply(it, { label: 0, words: [] })), 0); // detached: timeout
    rec(code(yield* sys.ipc.receive(it, sys.hz / 200)), 0); // nothing arrives: timeout
  };
}
