import {
  ANY_THREAD,
  EXIT_FAILED,
  EXIT_RETURNED,
  type IpcResult,
  NEVER,
  type Sys,
  THREAD_EXIT_LABEL,
  type ThreadId,
} from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { ThreadsEngine } from './engine.js';

const COMPONENTS = new URL('../test/components.ts', import.meta.url).href;
const ref = (exp: string, config?: unknown) => ({ module: COMPONENTS, export: exp, config });
const HZ = 1e9; // 1 cycle = 1 ns
const ms = (x: number) => x * 1e6;
const COUNTER = 0x40000;

type Log = (string | number)[];
const show = (r: IpcResult): string | number =>
  r.ok
    ? r.msg.label === THREAD_EXIT_LABEL
      ? `exit ${r.msg.words.join(' ')}`
      : (r.msg.words[0] ?? 0)
    : `${r.phase} ${r.error}`;

/** A root-task supervisor that logs every notice it receives (and who it came from). */
function supervisorBody(log: Log, from: ThreadId[]) {
  return function* (sys: Sys) {
    for (;;) {
      const r = yield* sys.ipc.receive(ANY_THREAD);
      if (r.ok) {
        log.push(show(r));
        from.push(r.from);
      }
    }
  };
}

async function until(cond: () => boolean, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('supervised threads on the threads engine', () => {
  it(
    'a supervised thread that throws: its supervisor gets THREAD_EXIT_LABEL [thread, EXIT_FAILED] from the notifier, its caller non-existing-partner, and the run goes on',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const root = e.createDomain('root', { root: true });
      const drv = e.createDomain('driver');
      e.mapAnonymous(drv, COUNTER, 4096, { read: true, write: true, execute: false });
      const server = e.createThread({
        domain: drv,
        name: 'server',
        component: ref('countingServer', { vaddr: COUNTER, throwAt: 3 }),
      });
      const notices: Log = [];
      const from: ThreadId[] = [];
      const sup = e.createThread({
        domain: root,
        name: 'sup',
        body: supervisorBody(notices, from),
      });
      const notifier = e.superviseThread(server, sup);
      const calls: Log = [];
      const client = e.createThread({
        domain: root,
        name: 'client',
        body: function* (sys: Sys) {
          for (let i = 0; i < 4; i++)
            calls.push(show(yield* sys.ipc.call(server, { label: 1, words: [] })));
        },
      });
      await e.start();
      try {
        await e.join([client], 10_000);
        await until(() => notices.length === 1);
      } finally {
        await e.stop();
      }
      expect(calls).toEqual([1, 2, 'receive non-existing-partner', 'send non-existing-partner']);
      expect(notices).toEqual([`exit ${server} ${EXIT_FAILED}`]);
      expect(from).toEqual([notifier]);
      expect(e.failures).toEqual([]);
      expect(e.supervisedFailures.map((f) => f.threadName)).toEqual(['server']);
      expect(e.restartStats.exitNotices).toBe(1);
    },
  );

  it(
    'a supervised thread that returns sends EXIT_RETURNED; a terminated worker (killWorker) sends EXIT_FAILED; an unsupervised thread still fails the run',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const root = e.createDomain('root', { root: true });
      const a = e.createDomain('a');
      const b = e.createDomain('b');
      const c = e.createDomain('c');
      const returner = e.createThread({
        domain: a,
        name: 'returner',
        component: ref('sender', { to: 0, out: new SharedArrayBuffer(64), slot: 0 }),
      });
      const sleeper = e.createThread({ domain: b, name: 'sleeper', component: ref('silent') });
      const loner = e.createThread({ domain: c, name: 'loner', component: ref('silent') });
      const notices: Log = [];
      const sup = e.createThread({ domain: root, name: 'sup', body: supervisorBody(notices, []) });
      e.superviseThread(returner, sup);
      e.superviseThread(sleeper, sup);
      await e.start();
      try {
        await until(() => notices.length === 1);
        await e.killWorker(sleeper);
        await until(() => notices.length === 2);
        await e.killWorker(loner);
        await until(() => e.failures.length === 1);
      } finally {
        await e.stop();
      }
      expect(notices).toEqual([
        `exit ${returner} ${EXIT_RETURNED}`,
        `exit ${sleeper} ${EXIT_FAILED}`,
      ]);
      expect(e.failures.map((f) => [f.code, f.threadName])).toEqual([['DOMAIN_FAILED', 'loner']]);
    },
  );

  it(
    'a hung worker is stopped with worker.terminate() and restarted with the same thread id: the caller names the same thread, the domain keeps its memory',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const root = e.createDomain('root', { root: true });
      const drv = e.createDomain('driver');
      e.mapAnonymous(drv, COUNTER, 4096, { read: true, write: true, execute: false });
      const server = e.createThread({
        domain: drv,
        name: 'server',
        component: ref('countingServer', { vaddr: COUNTER }),
      });
      const notices: Log = [];
      const sup = e.createThread({ domain: root, name: 'sup', body: supervisorBody(notices, []) });
      e.superviseThread(server, sup);
      const calls: Log = [];
      let restarted: Promise<void> | null = null;
      const client = e.createThread({
        domain: root,
        name: 'client',
        body: function* (sys: Sys) {
          const call = (timeout = NEVER) => sys.ipc.call(server, { label: 1, words: [] }, timeout);
          for (let i = 0; i < 3; i++) calls.push(show(yield* call()));
          e.injectHang(server);
          yield* sys.sleep(ms(20)); // (the worker takes the hang at its next step)
          calls.push(show(yield* call(ms(50))));
          e.stopThread(server); // the next kernel call waits until the worker is gone
          calls.push(show(yield* call()));
          calls.push(e.threadState(server));
          restarted = e.restartThread(server);
          calls.push(show(yield* call())); // queued until the fresh worker runs it
          calls.push(show(yield* call()));
        },
      });
      await e.start();
      try {
        await e.join([client], 20_000);
        await restarted;
      } finally {
        await e.stop();
      }
      // the hung server took request 4 into its block and never ran: 3 replies before the hang,
      // then the count goes on from the domain's memory in the fresh worker
      expect(calls).toEqual([
        1,
        2,
        3,
        'receive timeout',
        'send non-existing-partner',
        'dead',
        4,
        5,
      ]);
      expect(notices).toEqual([]); // stopped on purpose: no notice, as the sim's kill
      expect(e.failures).toEqual([]);
      expect(e.restartStats).toMatchObject({ workersTerminated: 1, threadsRestarted: 1 });
    },
  );

  it(
    'a worker terminated again and again under a call load never leaves a lock held: the caller never hangs and every call returns',
    { timeout: 60_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const load = e.createDomain('load');
      const drv = e.createDomain('driver');
      e.mapAnonymous(drv, COUNTER, 4096, { read: true, write: true, execute: false });
      const server = e.createThread({
        domain: drv,
        name: 'server',
        component: ref('countingServer', { vaddr: COUNTER }),
      });
      const out = new SharedArrayBuffer(64);
      const stop = new SharedArrayBuffer(4);
      const client = e.createThread({
        domain: load,
        name: 'hammer',
        component: ref('hammer', { server, out, stop, timeout: ms(2000) }),
      });
      const root = e.createDomain('root', { root: true });
      const sup = e.createThread({ domain: root, name: 'sup', body: supervisorBody([], []) });
      e.superviseThread(server, sup);
      const o = new Float64Array(out);
      await e.start();
      try {
        for (let i = 0; i < 15; i++) {
          const before = o[1]!;
          await until(() => o[1]! > before + 50);
          await e.restartThread(server); // stop (terminate) and start afresh
        }
        const before = o[1]!;
        await until(() => o[1]! > before + 50);
        Atomics.store(new Int32Array(stop), 0, 1);
        await e.join([client], 10_000);
      } finally {
        await e.stop();
      }
      expect(o[0]).toBe(1);
      expect(o[3]).toBe(0); // no call hung (2 s) on a lock or a lost wake-up
      expect(o[2]).toBeGreaterThan(0); // callers saw the terminations as non-existing-partner
      expect(e.failures).toEqual([]);
      expect(e.restartStats.threadsRestarted).toBe(15);
    },
  );

  it(
    'stop and restart are refused for a domain shared with a live unsupervised thread (embedded)',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const root = e.createDomain('root', { root: true });
      const shared = e.createDomain('shared');
      const drv = e.createThread({ domain: shared, name: 'driver', component: ref('silent') });
      e.createThread({ domain: shared, name: 'stack', component: ref('silent') });
      const sup = e.createThread({ domain: root, name: 'sup', body: supervisorBody([], []) });
      e.superviseThread(drv, sup);
      await e.start();
      try {
        expect(() => e.stopThread(drv)).toThrow(expect.objectContaining({ code: 'CONFIG' }));
        await expect(e.restartThread(drv)).rejects.toMatchObject({ code: 'CONFIG' });
        expect(() => e.stopThread(sup)).toThrow(expect.objectContaining({ code: 'CONFIG' }));
      } finally {
        await e.stop();
      }
    },
  );
});
