import { describe, expect, it } from 'vitest';
import { SimEngine, type SimEngineOptions } from '../engine.js';
import { ThreadFailedError } from '../errors.js';
import { ANY_THREAD, type IpcResult, NEVER, type Sys, ZERO } from '../sys.js';
import { RW } from './space.js';

function setup(options: SimEngineOptions = {}) {
  const sim = new SimEngine(options);
  const space = sim.kernel.createSpace('s');
  const other = sim.kernel.createSpace('o');
  return { sim, k: sim.kernel, space, other };
}

const msg = (label: number, ...words: number[]) => ({ label, words });

describe('IPC rendezvous', () => {
  it('a send blocks until the receiver receives, then both continue', () => {
    const { sim, k, space } = setup();
    const log: string[] = [];
    const rx = k.createThread({
      name: 'rx',
      space,
      body: function* (sys) {
        sys.charge('User', 10_000);
        yield* sys.sleep(1); // let the sender run first
        log.push('rx receives');
        const r = yield* sys.ipc.receive(ANY_THREAD);
        log.push(`rx got ${r.ok ? r.msg.words[0] : r.error}`);
      },
    });
    k.createThread({
      name: 'tx',
      space,
      body: function* (sys) {
        log.push('tx sends');
        const r = yield* sys.ipc.send(rx, msg(1, 7));
        log.push(`tx done ${r.ok}`);
      },
    });
    sim.runFor(1e6);
    expect(log).toEqual(['tx sends', 'rx receives', 'rx got 7', 'tx done true']);
  });

  it('senders queue in FIFO order; receive from a given thread skips others', () => {
    const { sim, k, space } = setup();
    const got: number[] = [];
    let second = 0;
    const rx = k.createThread({
      name: 'rx',
      space,
      priority: 50,
      body: function* (sys) {
        const r = yield* sys.ipc.receive(second);
        if (r.ok) got.push(r.msg.words[0]!);
        for (let i = 0; i < 2; i++) {
          const x = yield* sys.ipc.receive(ANY_THREAD);
          if (x.ok) got.push(x.msg.words[0]!);
        }
      },
    });
    for (const v of [1, 2, 3]) {
      const id = k.createThread({
        name: `tx${v}`,
        space,
        priority: 100,
        body: function* (sys) {
          yield* sys.ipc.send(rx, msg(0, v));
        },
      });
      if (v === 2) second = id;
    }
    sim.runFor(1e6);
    expect(got).toEqual([2, 1, 3]);
  });

  it('call delivers the reply atomically; words are copied (mutating the sent array later has no effect)', () => {
    const { sim, k, space, other } = setup();
    const seen: number[] = [];
    const server = k.createThread({
      name: 'server',
      space: other,
      body: function* (sys) {
        let r = yield* sys.ipc.receive(ANY_THREAD);
        for (;;) {
          if (!r.ok) break;
          seen.push(r.msg.words[0]!);
          r = yield* sys.ipc.replyWait(r.from, msg(0, r.msg.words[0]! * 2));
        }
      },
    });
    const results: number[] = [];
    k.createThread({
      name: 'client',
      space,
      body: function* (sys) {
        const words = [0];
        for (let i = 1; i <= 3; i++) {
          words[0] = i;
          const r = yield* sys.ipc.call(server, { label: 1, words });
          words[0] = -1;
          if (r.ok) results.push(r.msg.words[0]!);
        }
      },
    });
    sim.runFor(1e6);
    expect(seen).toEqual([1, 2, 3]);
    expect(results).toEqual([2, 4, 6]);
  });

  it('a round trip between spaces costs 2 IPCs plus 2 address-space switches', () => {
    const { sim, k, space, other } = setup();
    const c = sim.costs;
    let start = 0;
    let end = 0;
    const server = k.createThread({
      name: 'server',
      space: other,
      body: function* (sys) {
        let r = yield* sys.ipc.receive(ANY_THREAD);
        for (;;) r = yield* sys.ipc.replyWait(r.from, msg(0));
      },
    });
    k.createThread({
      name: 'client',
      space,
      body: function* (sys) {
        yield* sys.ipc.call(server, msg(0)); // warm-up
        start = sys.now();
        yield* sys.ipc.call(server, msg(0));
        end = sys.now();
      },
    });
    sim.runFor(1e6);
    expect(end - start).toBe(2 * c.ipc + 2 * c.addressSpaceSwitch);
  });
});

describe('IPC timeouts', () => {
  it('zero timeout: send to a thread not waiting fails with timeout (send phase)', () => {
    const { sim, k, space } = setup();
    let r: IpcResult | undefined;
    const idle = k.createThread({
      name: 'busy',
      space,
      priority: 10,
      body: function* (sys) {
        yield* sys.sleep(NEVER);
      },
    });
    k.createThread({
      name: 'tx',
      space,
      body: function* (sys) {
        r = yield* sys.ipc.send(idle, msg(0), ZERO);
      },
    });
    sim.runFor(1e5);
    expect(r).toEqual({ ok: false, error: 'timeout', phase: 'send', from: idle });
  });

  it('zero timeout: receive with nothing pending fails with timeout (receive phase)', () => {
    const { sim, k, space } = setup();
    let r: IpcResult | undefined;
    k.createThread({
      name: 'rx',
      space,
      body: function* (sys) {
        r = yield* sys.ipc.receive(ANY_THREAD, ZERO);
      },
    });
    sim.runFor(1e5);
    expect(r).toMatchObject({ ok: false, error: 'timeout', phase: 'receive' });
  });

  it('relative timeout: a receive returns timeout after the given cycles', () => {
    const { sim, k, space } = setup();
    let r: IpcResult | undefined;
    let t0 = 0;
    let t1 = 0;
    k.createThread({
      name: 'rx',
      space,
      body: function* (sys) {
        t0 = sys.now();
        r = yield* sys.ipc.receive(ANY_THREAD, 50_000);
        t1 = sys.now();
      },
    });
    sim.runFor(1e6);
    expect(r).toMatchObject({ ok: false, error: 'timeout', phase: 'receive' });
    // The timeout counts from the kernel entry (after the IPC cost).
    expect(t1 - t0).toBe(sim.costs.ipc + 50_000);
  });

  it('relative timeout on send: the sender leaves the queue and the receiver never sees it', () => {
    const { sim, k, space } = setup();
    let r: IpcResult | undefined;
    let late: IpcResult | undefined;
    const rx = k.createThread({
      name: 'rx',
      space,
      body: function* (sys) {
        yield* sys.sleep(100_000);
        late = yield* sys.ipc.receive(ANY_THREAD, ZERO);
      },
    });
    k.createThread({
      name: 'tx',
      space,
      body: function* (sys) {
        r = yield* sys.ipc.send(rx, msg(0), 10_000);
      },
    });
    sim.runFor(1e6);
    expect(r).toMatchObject({ ok: false, error: 'timeout', phase: 'send' });
    expect(late).toMatchObject({ ok: false, error: 'timeout' });
  });

  it('never timeout: a receive with no sender stays blocked', () => {
    const { sim, k, space } = setup();
    let returned = false;
    const id = k.createThread({
      name: 'rx',
      space,
      body: function* (sys) {
        yield* sys.ipc.receive(ANY_THREAD, NEVER);
        returned = true;
      },
    });
    sim.runFor(1e9);
    expect(returned).toBe(false);
    expect(k.threadInfo(id)?.state).toBe('receive-blocked');
  });
});

describe('IPC errors', () => {
  it('returns non-existing-partner for invalid ids, never throws', () => {
    const { sim, k, space } = setup();
    const rs: IpcResult[] = [];
    k.createThread({
      name: 't',
      space,
      body: function* (sys) {
        rs.push(yield* sys.ipc.send(9999, msg(0)));
        rs.push(yield* sys.ipc.send(-5, msg(0)));
        rs.push(yield* sys.ipc.call(Number.NaN, msg(0)));
        rs.push(yield* sys.ipc.receive(9999));
        rs.push(yield* sys.ipc.send(sys.self, msg(0)));
      },
    });
    sim.runFor(1e6);
    expect(rs.map((r) => (r.ok ? 'ok' : `${r.error}/${r.phase}`))).toEqual([
      'non-existing-partner/send',
      'non-existing-partner/send',
      'non-existing-partner/send',
      'non-existing-partner/receive',
      'non-existing-partner/send',
    ]);
  });

  it('a partner that dies releases blocked senders and callers with non-existing-partner', () => {
    const { sim, k, space } = setup({ threadFailures: 'record' });
    const rs: IpcResult[] = [];
    const victim = k.createThread({
      name: 'victim',
      space,
      priority: 10,
      body: function* (sys) {
        yield* sys.ipc.receive(sys.self + 100, ZERO); // returns an error; then
        yield* sys.sleep(10_000);
        throw new Error('component bug');
      },
    });
    k.createThread({
      name: 'sender',
      space,
      body: function* (sys) {
        rs.push(yield* sys.ipc.send(victim, msg(0)));
        rs.push(yield* sys.ipc.send(victim, msg(0)));
      },
    });
    sim.runFor(1e6);
    expect(rs.map((r) => (r.ok ? 'ok' : r.error))).toEqual([
      'non-existing-partner',
      'non-existing-partner',
    ]);
    expect(k.threadInfo(victim)?.state).toBe('dead');
    expect((k.threadInfo(victim)?.error as Error).message).toBe('component bug');
    expect(sim.counters.threadsFailed).toBe(1);
    expect(k.failures[0]?.name).toBe('victim');
  });

  it('a caller waiting for a reply gets non-existing-partner (receive phase) when the server dies', () => {
    const { sim, k, space } = setup({ threadFailures: 'record' });
    let r: IpcResult | undefined;
    const server = k.createThread({
      name: 'server',
      space,
      body: function* (sys) {
        yield* sys.ipc.receive(ANY_THREAD);
        throw new Error('crash while serving');
      },
    });
    k.createThread({
      name: 'client',
      space,
      body: function* (sys) {
        r = yield* sys.ipc.call(server, msg(0));
      },
    });
    sim.runFor(1e6);
    expect(r).toEqual({ ok: false, error: 'non-existing-partner', phase: 'receive', from: server });
  });

  it('cancelIpc and abortIpc end a blocked (not started) IPC with canceled', () => {
    const { sim, k, space } = setup();
    const rs: IpcResult[] = [];
    const a = k.createThread({
      name: 'a',
      space,
      body: function* (sys) {
        rs.push(yield* sys.ipc.receive(ANY_THREAD));
        rs.push(yield* sys.ipc.receive(ANY_THREAD));
      },
    });
    sim.machine.schedule(10_000, () => k.cancelIpc(a));
    sim.machine.schedule(20_000, () => k.abortIpc(a));
    sim.runFor(1e6);
    // X.2: aborting an IPC that has not started (udf transfers are atomic, so a blocked IPC
    // never has) returns canceled, like cancelling it (issue 12 item 8).
    expect(rs.map((r) => (r.ok ? 'ok' : r.error))).toEqual(['canceled', 'canceled']);
  });

  it('reply to a thread not waiting fails; replyWait then does not receive', () => {
    const { sim, k, space } = setup();
    const rs: IpcResult[] = [];
    const other = k.createThread({
      name: 'other',
      space,
      priority: 10,
      body: function* (sys) {
        yield* sys.sleep(NEVER);
      },
    });
    k.createThread({
      name: 't',
      space,
      body: function* (sys) {
        rs.push(yield* sys.ipc.reply(other, msg(0)));
        rs.push(yield* sys.ipc.replyWait(other, msg(0)));
      },
    });
    sim.runFor(1e6);
    expect(rs).toEqual([
      { ok: false, error: 'timeout', phase: 'send', from: other },
      { ok: false, error: 'timeout', phase: 'send', from: other },
    ]);
  });

  it('more than 63 words overflow at transfer time, reported to both partners (issue 12 item 7)', () => {
    const { sim, k, space } = setup();
    let r: IpcResult | undefined;
    let r63: IpcResult | undefined;
    const got: IpcResult[] = [];
    const rx = k.createThread({
      name: 'rx',
      space,
      priority: 10,
      body: function* (sys) {
        for (;;) got.push(yield* sys.ipc.receive(ANY_THREAD));
      },
    });
    const tx = k.createThread({
      name: 'tx',
      space,
      body: function* (sys) {
        r = yield* sys.ipc.send(rx, { label: 0, words: new Array(64).fill(1) });
        r63 = yield* sys.ipc.send(rx, { label: 0, words: new Array(63).fill(1) });
      },
    });
    sim.runFor(1e6);
    expect(r).toEqual({ ok: false, error: 'message-overflow', phase: 'send', from: rx });
    expect(r63?.ok).toBe(true);
    expect(got[0]).toEqual({ ok: false, error: 'message-overflow', phase: 'receive', from: tx });
    expect(got[1]?.ok).toBe(true);
  });

  it('rejects malformed messages and items with malformed-item', () => {
    const { sim, k, space } = setup();
    k.mapAnonymous(space, 0x10000, 0x1000, RW);
    const rs: IpcResult[] = [];
    const rx = k.createThread({
      name: 'rx',
      space: k.createSpace('rx'),
      priority: 10,
      body: function* (sys) {
        for (;;) yield* sys.ipc.receive(ANY_THREAD); // no window: accepts no items
      },
    });
    k.createThread({
      name: 'tx',
      space,
      body: function* (sys) {
        const fp = { base: 0x10000, sizeLog2: 12, rights: RW };
        rs.push(yield* sys.ipc.send(rx, null as never));
        rs.push(yield* sys.ipc.send(rx, { label: 0, words: 5 } as never));
        const bad = { base: 0x10001, sizeLog2: 12, rights: RW };
        rs.push(
          yield* sys.ipc.send(rx, {
            label: 0,
            words: [],
            items: [{ kind: 'map', fpage: bad, sendBase: 0 }],
          }),
        );
        rs.push(
          yield* sys.ipc.send(rx, {
            label: 0,
            words: [],
            items: [{ kind: 'lend' as 'map', fpage: fp, sendBase: 0 }],
          }),
        );
      },
    });
    sim.runFor(1e6);
    expect(rs.map((r) => (r.ok ? 'ok' : `${r.error}/${r.phase}`))).toEqual(
      new Array(4).fill('malformed-item/send'),
    );
  });
});

describe('thread failure (issue 12 item 11: loud, not stuck)', () => {
  function failureOf(run: () => void): ThreadFailedError {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(ThreadFailedError);
      return e as ThreadFailedError;
    }
    throw new Error('the run did not fail');
  }

  it('an exception kills only its thread and stops the run with ThreadFailedError naming it; the rest goes on', () => {
    const { sim, k, space } = setup();
    let ticks = 0;
    const bad = k.createThread({
      name: 'bad',
      space,
      body: function* (sys) {
        yield* sys.sleep(5000);
        if (sys.self > 0) throw new TypeError('boom');
      },
    });
    k.createThread({
      name: 'good',
      space,
      body: function* (sys: Sys) {
        for (;;) {
          ticks++;
          yield* sys.sleep(1000);
        }
      },
    });
    const e = failureOf(() => sim.runFor(100_000));
    expect(e.code).toBe('THREAD_FAILED');
    expect(e.threadId).toBe(bad);
    expect(e.threadName).toBe('bad');
    expect((e.cause as Error).message).toBe('boom');
    expect(e.message).toMatch(/bad/);
    expect(sim.counters.threadsFailed).toBe(1);
    const before = ticks;
    expect(() => sim.runFor(100_000)).not.toThrow();
    expect(ticks).toBeGreaterThan(before + 10);
  });

  it("with threadFailures: 'record' a death is only recorded", () => {
    const { sim, k, space } = setup({ threadFailures: 'record' });
    k.createThread({
      name: 'bad',
      space,
      body: function* (sys) {
        if (sys.self > 0) throw new TypeError('boom');
        yield* sys.yieldCpu();
      },
    });
    expect(() => sim.runFor(100_000)).not.toThrow();
    expect(k.failures.map((f) => f.name)).toEqual(['bad']);
  });

  it('yielding something that is not a kernel call kills the thread, loudly, and is counted', () => {
    const { sim, k, space } = setup();
    const id = k.createThread({
      name: 'confused',
      space,
      body: function* () {
        yield 42 as never;
      },
    });
    expect(failureOf(() => sim.runFor(1000)).threadName).toBe('confused');
    expect(k.threadInfo(id)?.state).toBe('dead');
    expect(sim.counters.badCalls).toBe(1);
  });

  it('a kernel operation called without yield* kills the thread, loudly (it would silently not happen)', () => {
    const { sim, k, space } = setup();
    let sent = false;
    const rx = k.createThread({
      name: 'rx',
      space,
      body: function* (sys) {
        const r = yield* sys.ipc.receive(ANY_THREAD);
        sent = r.ok;
      },
    });
    k.createThread({
      name: 'forgetful',
      space,
      body: function* (sys) {
        sys.ipc.send(rx, msg(1)); // missing yield*
        yield* sys.sleep(10);
      },
    });
    const e = failureOf(() => sim.runFor(1e6));
    expect(e.threadName).toBe('forgetful');
    expect((e.cause as Error).message).toMatch(/without yield\*/);
    expect(sent).toBe(false);
  });
});
