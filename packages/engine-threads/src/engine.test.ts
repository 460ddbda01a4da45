import { describe, expect, it } from 'vitest';
import { CODES } from '../test/components.js';
import { ThreadsEngine } from './engine.js';
import { ThreadFailedError, ThreadsEngineError } from './errors.js';

const COMPONENTS = new URL('../test/components.ts', import.meta.url).href;
const ref = (exp: string, config?: unknown) => ({ module: COMPONENTS, export: exp, config });
const out = (n = 16) => new SharedArrayBuffer(8 * n);
const HZ = 1e9; // 1 cycle = 1 ns, so timeouts read easily
const ms = (x: number) => x * 1e6;

async function run(engine: ThreadsEngine, wait: number[], limit = 20_000): Promise<void> {
  await engine.start();
  try {
    await engine.join(wait, limit);
  } finally {
    await engine.stop();
  }
}
const codeOf = (name: (typeof CODES)[number], phase: 'send' | 'receive') =>
  CODES.indexOf(name) + (phase === 'receive' ? 100 : 0);

describe('ThreadsEngine IPC across worker domains', () => {
  it.each([0, 50])(
    'ping-pong: call / replyWait across two domains, words and label intact (spin %i µs before sleeping)',
    { timeout: 30_000 },
    async (spinMicros) => {
      const e = new ThreadsEngine({ hz: HZ, spinMicros });
      const a = e.createDomain('client');
      const b = e.createDomain('server');
      const served = out();
      const server = e.createThread({
        domain: b,
        name: 'pong',
        component: ref('pong', { out: served }),
      });
      const o = out();
      const client = e.createThread({
        domain: a,
        name: 'ping',
        component: ref('ping', { server, rounds: 5000, out: o }),
      });
      await run(e, [client]);
      expect(e.failures).toEqual([]);
      expect([...new Float64Array(o).slice(0, 4)]).toEqual([1, 5000, 0, 0]);
      expect(new Float64Array(served)[0]).toBe(5000);
      // both schedulers stopped by themselves and reported their counters
      expect(e.counters.server?.calls).toBeGreaterThanOrEqual(5000);
      // each message is counted once, by the worker that transferred it: requests and replies
      expect(e.counters.client!.messages! + e.counters.server!.messages!).toBe(10_000);
    },
  );

  it.each([
    ['a worker', false],
    ['a root-task domain (main thread)', true],
  ])(
    'counters are readable while the domains run, and grow (client in %s)',
    { timeout: 60_000 },
    async (_, root) => {
      const e = new ThreadsEngine({ hz: HZ });
      const a = e.createDomain('client', { root });
      const b = e.createDomain('server');
      const server = e.createThread({ domain: b, name: 'pong', component: ref('pong', {}) });
      const client = e.createThread({
        domain: a,
        name: 'ping',
        component: ref('ping', { server, rounds: 1e12, out: out() }),
      });
      void client;
      let second: ThreadsEngine['counters'] = {};
      expect(e.counters).toEqual({});
      expect(e.domainCounters(a)).toBeNull();
      await e.start();
      try {
        // waits for progress (bounded only so that a broken engine fails instead of hanging)
        const until = async (what: () => boolean) => {
          for (let i = 0; i < 20_000 && !what(); i++) {
            if (e.failures.length > 0) throw e.failures[0];
            await new Promise((r) => setTimeout(r, 1));
          }
          expect(what()).toBe(true);
        };
        await until(() => (e.counters.server?.calls ?? 0) > 100);
        const first = e.counters;
        expect(first.client?.calls).toBeGreaterThan(0);
        expect(first.client?.how).toBeUndefined(); // still running: no final report
        await until(() => (e.domainCounters(b)?.calls ?? 0) > 2 * first.server!.calls!);
        second = e.counters;
        expect(second.server!.messages!).toBeGreaterThan(first.server!.messages!);
        expect(second.client!.messages!).toBeGreaterThan(first.client!.messages!);
        expect(e.failures).toEqual([]);
      } finally {
        await e.stop();
      }
      // after stop: each domain's final report (how: 0, stopped), at least what was read running
      expect(e.counters.server?.how).toBe(0);
      expect(e.counters.client?.how).toBe(0);
      expect(e.counters.server!.calls!).toBeGreaterThanOrEqual(second.server!.calls!);
      expect(e.domainCounters(a)!.messages!).toBeGreaterThanOrEqual(second.client!.messages!);
    },
  );

  it(
    'two clients in one domain share a server in another (ANY_THREAD replyWait)',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const a = e.createDomain('clients');
      const b = e.createDomain('server');
      const server = e.createThread({ domain: b, name: 'pong', component: ref('pong', {}) });
      const o1 = out();
      const o2 = out();
      const c1 = e.createThread({
        domain: a,
        name: 'c1',
        component: ref('ping', { server, rounds: 2000, out: o1 }),
      });
      const c2 = e.createThread({
        domain: a,
        name: 'c2',
        component: ref('ping', { server, rounds: 2000, out: o2 }),
      });
      await run(e, [c1, c2]);
      expect([...new Float64Array(o1).slice(0, 4)]).toEqual([1, 2000, 0, 0]);
      expect([...new Float64Array(o2).slice(0, 4)]).toEqual([1, 2000, 0, 0]);
    },
  );

  it(
    'contention: 8 callers in 3 domains, 2 servers, some calls with short timeouts: every reply matches its request',
    { timeout: 60_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const sd = e.createDomain('servers');
      const served = [out(), out()];
      const servers = served.map((o, i) =>
        e.createThread({ domain: sd, name: `server${i}`, component: ref('pong', { out: o }) }),
      );
      const domains = [e.createDomain('c0'), e.createDomain('c1'), e.createDomain('c2')];
      const o = out(64);
      const rounds = 2000;
      const callers: number[] = [];
      for (let i = 0; i < 8; i++) {
        callers.push(
          e.createThread({
            domain: domains[i % 3]!,
            name: `caller${i}`,
            priority: 50 + i,
            component: ref('caller', {
              servers,
              rounds,
              // half the callers give up quickly, racing timeouts against deliveries
              timeout: i % 2 === 0 ? undefined : 20_000,
              out: o,
              slot: 4 * i,
            }),
          }),
        );
      }
      await run(e, callers, 50_000);
      expect(e.failures).toEqual([]);
      const r = new Float64Array(o);
      let ok = 0;
      for (let i = 0; i < 8; i++) {
        const [good, wrong, timeouts, other] = [...r.slice(4 * i, 4 * i + 4)];
        expect({ caller: i, wrong, other }).toEqual({ caller: i, wrong: 0, other: 0 });
        expect(good! + timeouts!).toBe(rounds);
        if (i % 2 === 0) expect(timeouts).toBe(0);
        ok += good!;
      }
      console.log(
        'contention [ok, wrong, timeouts, other] per caller:',
        JSON.stringify([...r.slice(0, 32)]),
      );
      const servedTotal = served.reduce((n, b) => n + new Float64Array(b)[0]!, 0);
      // every successful call was served; a timed-out call may have been served too
      expect(servedTotal).toBeGreaterThanOrEqual(ok);
    },
  );

  it('ANY_THREAD receive takes senders from several domains', { timeout: 30_000 }, async () => {
    const e = new ThreadsEngine({ hz: HZ });
    const s = e.createDomain('server');
    const d1 = e.createDomain('d1');
    const d2 = e.createDomain('d2');
    const o = out();
    const server = e.createThread({
      domain: s,
      name: 'collector',
      component: ref('collector', { count: 3, out: o }),
    });
    const so = out();
    const senders = [d1, d2, d2].map((d, i) =>
      e.createThread({
        domain: d,
        name: `s${i}`,
        component: ref('sender', { to: server, out: so, slot: i }),
      }),
    );
    await run(e, [server, ...senders]);
    const got = new Float64Array(o);
    expect(got[0]).toBe(1);
    expect([...got.slice(1, 4)].sort()).toEqual([...senders].sort());
    expect([...new Float64Array(so).slice(0, 3)]).toEqual([1, 1, 1]); // ok + 1
  });

  it(
    'timeouts: zero, relative and never, in wall time scaled by hz',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const a = e.createDomain('a');
      const b = e.createDomain('b');
      const silent = e.createThread({ domain: b, name: 'silent', component: ref('silent') });
      const o = out(32);
      const p = e.createThread({
        domain: a,
        name: 'probe',
        component: ref('probe', {
          out: o,
          ops: [
            { op: 'receive', from: silent, timeout: 0 },
            { op: 'receive', from: silent, timeout: ms(50) },
            { op: 'send', to: silent, timeout: 0 },
            { op: 'send', to: silent, timeout: ms(30) },
            { op: 'call', to: silent, timeout: ms(20) },
            { op: 'sleep', cycles: ms(40) },
            { op: 'sleep', cycles: 0 },
            { op: 'receive', from: 0, timeout: ms(10) }, // from nil: waits out the timeout
            { op: 'send', to: silent, timeout: ms(5), garbage: true }, // a BigInt word
          ],
        }),
      });
      await run(e, [p]);
      const r = new Float64Array(o);
      expect(e.failures).toEqual([]);
      const at = (i: number) => ({ code: r[3 * i + 1], from: r[3 * i + 2], ms: r[3 * i + 3]! });
      expect(r[0]).toBe(1);
      expect(at(0)).toMatchObject({ code: codeOf('timeout', 'receive'), from: silent });
      expect(at(1)).toMatchObject({ code: codeOf('timeout', 'receive'), from: silent });
      expect(at(2)).toMatchObject({ code: codeOf('timeout', 'send'), from: silent });
      expect(at(3)).toMatchObject({ code: codeOf('timeout', 'send'), from: silent });
      expect(at(4)).toMatchObject({ code: codeOf('timeout', 'send'), from: silent });
      // a timeout never fires early (lower bounds only; upper bounds are a machine's business)
      expect(at(1).ms).toBeGreaterThanOrEqual(49);
      expect(at(3).ms).toBeGreaterThanOrEqual(29);
      expect(at(4).ms).toBeGreaterThanOrEqual(19);
      expect(at(5).ms).toBeGreaterThanOrEqual(39);
      expect(at(7)).toMatchObject({ code: codeOf('timeout', 'receive'), from: 0 });
      expect(at(7).ms).toBeGreaterThanOrEqual(9);
      expect(at(8).code).toBe(codeOf('malformed-item', 'send')); // refused, not thrown in a lock
    },
  );

  it('non-existing partners: unknown ids, nil, self', { timeout: 30_000 }, async () => {
    const e = new ThreadsEngine({ hz: HZ });
    const a = e.createDomain('a');
    const o = out(32);
    const p = e.createThread({
      domain: a,
      name: 'probe',
      component: ref('probe', {
        out: o,
        ops: [
          { op: 'send', to: 999 },
          { op: 'send', to: 0 },
          { op: 'send', to: 1 }, // itself
          { op: 'receive', from: 999 },
          { op: 'call', to: -7 },
          { op: 'send', to: 999, words: 65 },
        ],
      }),
    });
    expect(p).toBe(1);
    await run(e, [p]);
    const r = new Float64Array(o);
    const nep = codeOf('non-existing-partner', 'send');
    expect([r[1], r[4], r[7], r[10], r[13]]).toEqual([
      nep,
      nep,
      nep,
      codeOf('non-existing-partner', 'receive'),
      nep,
    ]);
    // an overflowing message to nobody: the partner check comes first (as on the sim); the
    // overflow is a transfer-time error and there is no transfer
    expect(r[16]).toBe(nep);
  });

  it('replyWait with a nil reply target only receives (L4 X.2)', { timeout: 30_000 }, async () => {
    const e = new ThreadsEngine({ hz: HZ });
    const a = e.createDomain('a');
    const b = e.createDomain('b');
    const o = out(32);
    const p = e.createThread({
      domain: a,
      name: 'server',
      component: ref('probe', { out: o, ops: [{ op: 'replyWait', to: 0, timeout: ms(10_000) }] }),
    });
    const so = out();
    const s = e.createThread({
      domain: b,
      name: 'sender',
      component: ref('sender', { to: p, out: so, slot: 0 }),
    });
    await run(e, [p, s]);
    const r = new Float64Array(o);
    expect([r[1], r[2]]).toEqual([0, s]);
  });

  it(
    'a dead thread fails its queued senders and its waiting callers with non-existing-partner',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const a = e.createDomain('victims');
      const b = e.createDomain('buggy');
      // never receives: the caller queues on it
      const q = e.createThread({
        domain: b,
        name: 'crash-queued',
        component: ref('crasher', { delayCycles: ms(100), receiveFirst: false }),
      });
      // takes the call, then dies instead of replying: the caller waits for the reply
      const r = e.createThread({
        domain: b,
        name: 'crash-replying',
        component: ref('crasher', { delayCycles: ms(100), receiveFirst: true }),
      });
      const o1 = out(8);
      const o2 = out(8);
      const v1 = e.createThread({
        domain: a,
        name: 'v1',
        component: ref('probe', { out: o1, ops: [{ op: 'call', to: q }] }),
      });
      const v2 = e.createThread({
        domain: a,
        name: 'v2',
        component: ref('probe', { out: o2, ops: [{ op: 'call', to: r }] }),
      });
      await run(e, [q, r, v1, v2]);
      expect(new Float64Array(o1)[1]).toBe(codeOf('non-existing-partner', 'send'));
      expect(new Float64Array(o2)[1]).toBe(codeOf('non-existing-partner', 'receive'));
      expect(e.failures).toHaveLength(2);
      for (const f of e.failures) {
        expect(f).toBeInstanceOf(ThreadFailedError);
        expect(f.code).toBe('THREAD_FAILED');
        expect(f.domain).toBe('buggy');
        expect(f.message).toContain('component bug');
      }
      expect(e.failures.map((f) => f.threadName).sort()).toEqual([
        'crash-queued',
        'crash-replying',
      ]);
      expect(e.threadState(q)).toBe('dead');
    },
  );

  it(
    'a domain worker that dies fails its threads and their partners',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const a = e.createDomain('victims');
      const b = e.createDomain('crashing');
      const x = e.createThread({ domain: b, name: 'exiter', component: ref('exiter') });
      const idle = e.createThread({ domain: b, name: 'bystander', component: ref('silent') });
      const o1 = out(8);
      const o2 = out(8);
      const v1 = e.createThread({
        domain: a,
        name: 'v1',
        component: ref('probe', { out: o1, ops: [{ op: 'call', to: x }] }),
      });
      const v2 = e.createThread({
        domain: a,
        name: 'v2',
        component: ref('probe', { out: o2, ops: [{ op: 'receive', from: idle }] }),
      });
      await run(e, [x, idle, v1, v2]);
      // v1's call was taken, then the domain died before replying; v2 waited on a thread of it
      expect(new Float64Array(o1)[1]).toBe(codeOf('non-existing-partner', 'receive'));
      expect(new Float64Array(o2)[1]).toBe(codeOf('non-existing-partner', 'receive'));
      expect(e.failures.map((f) => [f.code, f.threadName]).sort()).toEqual([
        ['DOMAIN_FAILED', 'bystander'],
        ['DOMAIN_FAILED', 'exiter'],
      ]);
      expect(e.threadState(idle)).toBe('dead');
    },
  );

  it(
    'a component that does not load is a typed failure naming the thread',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const a = e.createDomain('a');
      const t = e.createThread({ domain: a, name: 'broken', component: ref('notAComponent') });
      await run(e, [t]);
      expect(e.failures).toHaveLength(1);
      expect(e.failures[0]).toMatchObject({
        code: 'COMPONENT_LOAD',
        threadName: 'broken',
        thread: t,
      });
    },
  );

  it(
    'the preemption latch: a failed zero-timeout wake-up inside the window aborts the next receive',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const a = e.createDomain('a');
      const b = e.createDomain('b');
      const sync = new SharedArrayBuffer(4);
      const o = out();
      const s = e.createThread({
        domain: a,
        name: 'sleeper',
        component: ref('latchSleeper', { sync, out: o }),
      });
      const w = e.createThread({
        domain: b,
        name: 'waker',
        component: ref('latchWaker', { sleeper: s, sync, out: o }),
      });
      await run(e, [s, w]);
      const r = new Float64Array(o);
      expect(r[4]).toBe(codeOf('timeout', 'send')); // the wake-up failed: not receiving yet
      expect(r[1]).toBe(1); // preempted() reports it
      expect(r[2]).toBe(codeOf('aborted', 'receive'));
      expect(r[3]).toBe(0); // begin() clears the latch
    },
  );

  it(
    'grantRegion: a domain reaches only its regions; two domains share one',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const a = e.createDomain('a');
      const b = e.createDomain('b');
      const region = new SharedArrayBuffer(4096);
      new Uint8Array(region)[16] = 9;
      e.grantRegion(a, 0x10000, region);
      e.grantRegion(b, 0x20000, region);
      const oa = out();
      const ta = e.createThread({
        domain: a,
        name: 'a',
        component: ref('memoryUser', {
          vaddr: 0x10010,
          length: 32,
          value: 77,
          outside: 0x20000,
          out: oa,
        }),
      });
      await run(e, [ta]);
      expect([...new Float64Array(oa).slice(0, 4)]).toEqual([1, 9, 1, 32]); // [done, byte read, outside access refused, view length]
      expect(new Uint8Array(region)[16]).toBe(77);
      expect(() => e.grantRegion(a, 0, region)).toThrow(ThreadsEngineError);
    },
  );

  it('priorities order a domain ready queue', { timeout: 30_000 }, async () => {
    const e = new ThreadsEngine({ hz: HZ });
    const a = e.createDomain('a');
    const log = new SharedArrayBuffer(4 * 64);
    const lo = e.createThread({
      domain: a,
      name: 'lo',
      priority: 10,
      component: ref('logger', { tag: 1, steps: 3, log }),
    });
    const hi = e.createThread({
      domain: a,
      name: 'hi',
      priority: 200,
      component: ref('logger', { tag: 2, steps: 3, log }),
    });
    await run(e, [lo, hi]);
    expect([...new Int32Array(log).slice(1, 7)]).toEqual([2, 2, 2, 1, 1, 1]);
  });

  it(
    'cancelIpc and abortIpc end a blocked receive; attaching a line out of range fails',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: HZ });
      const a = e.createDomain('a');
      const b = e.createDomain('b');
      const silent = e.createThread({ domain: b, name: 'silent', component: ref('silent') });
      const o = out(32);
      const p = e.createThread({
        domain: a,
        name: 'probe',
        component: ref('probe', {
          out: o,
          ops: [
            { op: 'attach', line: 300 },
            { op: 'cancelable', from: silent },
            { op: 'cancelable', from: silent },
          ],
        }),
      });
      await e.start();
      try {
        const r = new Float64Array(o);
        for (const how of ['cancel', 'abort'] as const) {
          while (!(r[0] === 2 && e.threadState(p) === 'receive-blocked')) {
            await new Promise((res) => setTimeout(res, 5));
          }
          r[0] = 0;
          expect(how === 'cancel' ? e.cancelIpc(p) : e.abortIpc(p)).toBe(true);
        }
        await e.join([p], 10_000);
        expect(r[1]).toBe(1); // attach refused (invalid-line)
        expect(r[4]).toBe(codeOf('canceled', 'receive'));
        expect(r[7]).toBe(codeOf('aborted', 'receive'));
        expect(e.cancelIpc(silent)).toBe(true); // sleeping forever is a blocked IPC too
      } finally {
        await e.stop();
      }
    },
  );

  it('setup misuse is a typed error', () => {
    const e = new ThreadsEngine();
    expect(() => e.createThread({ domain: 3, name: 'x', component: ref('pong') })).toThrow(
      expect.objectContaining({ code: 'NO_SUCH_DOMAIN' }),
    );
    const d = e.createDomain('d');
    expect(() =>
      e.createThread({ domain: d, name: 'x', priority: 300, component: ref('pong') }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(() =>
      e.createThread({ domain: d, name: 'x', component: ref('pong', { f: () => 1 }) }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(() => new ThreadsEngine({ hz: 0 })).toThrow(ThreadsEngineError);
  });
});
