import { describe, expect, it } from 'vitest';
import { SimEngine } from '../engine.js';
import { ThreadFailedError } from '../errors.js';
import { ANY_THREAD, type IpcResult, NEVER, type ThreadId } from '../sys.js';
import { EXIT_FAILED, EXIT_RETURNED, THREAD_EXIT_LABEL } from './kernel.js';

function setup() {
  const sim = new SimEngine();
  const space = sim.kernel.createSpace('s');
  return { sim, k: sim.kernel, space };
}

/** A supervisor that logs every message it receives. */
function supervisorLog(k: SimEngine['kernel'], space: number, log: IpcResult[]): ThreadId {
  return k.createThread({
    name: 'supervisor',
    space,
    priority: 200,
    body: function* (sys) {
      for (;;) log.push(yield* sys.ipc.receive(ANY_THREAD, NEVER));
    },
  });
}

describe('thread supervision', () => {
  it('a supervised thread that throws is reported to its supervisor and the run goes on', () => {
    const { sim, k, space } = setup();
    const log: IpcResult[] = [];
    const sup = supervisorLog(k, space, log);
    const worker = k.createThread({
      name: 'worker',
      space,
      body: function* (sys) {
        yield* sys.sleep(1000);
        throw new Error('driver bug');
      },
    });
    const notifier = k.superviseThread(worker, sup);
    expect(() => sim.runFor(1e5)).not.toThrow();
    expect(log).toHaveLength(1);
    const r = log[0]!;
    expect(r.ok && r.from).toBe(notifier);
    expect(r.ok && r.msg.label).toBe(THREAD_EXIT_LABEL);
    expect(r.ok && r.msg.words).toEqual([worker, EXIT_FAILED]);
    expect(k.failures).toHaveLength(0);
    expect(k.supervisedFailures.map((f) => f.name)).toEqual(['worker']);
    expect(k.threadInfo(worker)!.state).toBe('dead');
  });

  it('an unsupervised thread that throws still stops the run', () => {
    const { sim, k, space } = setup();
    k.createThread({
      name: 'worker',
      space,
      body: function* (sys) {
        yield* sys.sleep(10);
        throw new Error('bug');
      },
    });
    expect(() => sim.runFor(1e5)).toThrow(ThreadFailedError);
  });

  it('a body that returns is reported too (queued while the supervisor is busy)', () => {
    const { sim, k, space } = setup();
    const log: IpcResult[] = [];
    const sup = k.createThread({
      name: 'supervisor',
      space,
      body: function* (sys) {
        yield* sys.sleep(10_000); // busy when the worker exits
        log.push(yield* sys.ipc.receive(ANY_THREAD, NEVER));
      },
    });
    const worker = k.createThread({ name: 'worker', space, body: function* () {} });
    k.superviseThread(worker, sup);
    sim.runFor(1e5);
    expect(log.map((r) => r.ok && r.msg.words)).toEqual([[worker, EXIT_RETURNED]]);
  });

  it('restartThread runs a new body under the same id; partners of the old one were failed', () => {
    const { sim, k, space } = setup();
    const log: IpcResult[] = [];
    const sup = supervisorLog(k, space, log);
    const seen: string[] = [];
    const worker = k.createThread({
      name: 'worker',
      space,
      body: function* (sys) {
        yield* sys.ipc.receive(ANY_THREAD, NEVER);
        yield* sys.sleep(1e9); // holds the caller's call
      },
    });
    k.superviseThread(worker, sup);
    const caller = k.createThread({
      name: 'caller',
      space,
      priority: 50,
      body: function* (sys) {
        const r = yield* sys.ipc.call(worker, { label: 1, words: [] }, NEVER);
        seen.push(r.ok ? 'ok' : r.error);
        yield* sys.sleep(50_000); // the supervisor restarts the worker meanwhile
        const again = yield* sys.ipc.call(worker, { label: 2, words: [] }, NEVER);
        seen.push(again.ok ? `reply ${again.msg.words[0]}` : again.error);
      },
    });
    sim.runFor(1e4);
    // The worker took the call and is about to handle it: it dies of an injected fault.
    k.injectFailure(worker, new Error('injected'));
    sim.runFor(1e4);
    expect(seen).toEqual(['non-existing-partner']);
    expect(log.map((r) => r.ok && r.msg.words)).toEqual([[worker, EXIT_FAILED]]);
    k.restartThread(worker, function* (sys) {
      const r = yield* sys.ipc.receive(caller, NEVER);
      if (r.ok) yield* sys.ipc.reply(caller, { label: 0, words: [r.msg.label * 10] });
    });
    sim.runFor(1e5);
    expect(seen).toEqual(['non-existing-partner', 'reply 20']);
    expect(k.counters.threadsRestarted).toBe(1);
    // The restarted body returned: a second notice.
    expect(log.map((r) => r.ok && r.msg.words)).toEqual([
      [worker, EXIT_FAILED],
      [worker, EXIT_RETURNED],
    ]);
  });

  it('injectHang blocks the thread forever at its next kernel call, alive', () => {
    const { sim, k, space } = setup();
    let passes = 0;
    const worker = k.createThread({
      name: 'worker',
      space,
      body: function* (sys) {
        for (;;) {
          passes++;
          yield* sys.sleep(10_000);
        }
      },
    });
    sim.runFor(105_000);
    const before = passes;
    expect(before).toBeGreaterThan(5);
    k.injectHang(worker);
    sim.runFor(1_000_000);
    expect(passes - before).toBeLessThanOrEqual(1);
    expect(k.threadInfo(worker)!.state).toBe('receive-blocked');
    k.kill(worker);
    expect(k.threadInfo(worker)!.state).toBe('dead');
  });
});
