// The threads-engine bench (issue 16): in one run, side by side, on real workers and the NICs' UDP
// wires, with one closed-loop echo load (1024-byte payloads) from this thread:
//   1. isolated vs embedded: echoes/s and CPU per echo (target: isolated ≥ 0.9× embedded);
//   2. wake-up (notification) IPCs per echo with the paper's notification suppression (`notify:
//      when-asleep`, the default) vs notify-always in its strict sense (`notify: per-item`, the
//      baseline that wakes the peer after every enqueued frame and completion; target: ≥ 10×
//      fewer with suppression);
//   3. udf isolated vs a plain `node:dgram` echo server in a worker (target: ≥ 0.5×).
// Rounds are interleaved (the order reverses every round) and the ratios are medians of per-round
// ratios, so a change in the machine's load hits both sides of a ratio alike. Targets are
// reported, not asserted.
//
// Run: pnpm --filter @udf/system bench [-- --rounds N --seconds S --window W --json --ab X]
// (--ab: one more row against isolated, see AB below). Profiling one target: bench/profile.ts.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { detectCpuSource } from '@udf/system';
import { ClosedLoop } from './closed-loop.js';
import { sampleThreads, type ThreadSample, threadDeltas } from './proc.js';
import { appSystem, benchSystem, type EchoTarget, startPlainEcho, startUdf } from './targets.js';

// pnpm passes a `--` separator through
const ARGV = process.argv.slice(2).filter((a) => a !== '--');
const { values: args } = parseArgs({
  args: ARGV,
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '0.5' },
    window: { type: 'string', default: '32' },
    size: { type: 'string', default: '1024' },
    ab: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const WINDOW = Number(args.window);
const SIZE = Number(args.size);
for (const [k, v, ok] of [
  ['rounds', ROUNDS, Number.isInteger(ROUNDS) && ROUNDS >= 1],
  ['seconds', SECONDS, SECONDS > 0],
  ['warmup', WARMUP, WARMUP >= 0],
  ['window', WINDOW, Number.isInteger(WINDOW) && WINDOW >= 1 && WINDOW <= 4096],
  ['size', SIZE, Number.isInteger(SIZE) && SIZE >= 8 && SIZE <= 1472],
] as const) {
  if (!ok) throw new Error(`--${k}: ${v} is out of range`);
}
/**
 * `--ab spin:N`, `--ab holdoff:N`, `--ab slack:N` or `--ab base:DIR`: one more row, isolated
 * with a change, measured against plain isolated in the same rounds:
 * - `spin:N`: the engine's domain and device workers spin N µs on their doorbells before they
 *   sleep;
 * - `holdoff:N`: an N µs interrupt hold-off;
 * - `slack:N`: the system's workers are created with a timer slack of N ns (the engine's
 *   `timerSlackNs`; its default is 1000, Linux's own 50 000): how late a short timed
 *   `Atomics.wait` may end;
 * - `base:DIR`: the same system built from another checkout of udf at DIR (built, with its
 *   dependencies installed): a before/after comparison of a change in one run.
 */
const AB = (() => {
  if (args.ab === undefined) return null;
  const m = /^(spin|holdoff|slack|base):(.+)$/.exec(args.ab);
  if (m === null || (m[1] !== 'base' && !/^\d+$/.test(m[2]!)))
    throw new Error(`--ab: ${args.ab} is not spin:N, holdoff:N, slack:N or base:DIR`);
  const n = Number(m[2]);
  switch (m[1]) {
    case 'spin':
      return {
        label: `isolated, spin ${n} µs`,
        options: { engine: { spinMicros: n, deviceSpinMicros: n } },
      };
    case 'holdoff':
      return { label: `isolated, hold-off ${n} µs`, options: { holdoffUs: n } };
    case 'slack':
      return { label: `isolated, slack ${n} ns`, options: { engine: { timerSlackNs: n } } };
    default:
      return { label: 'isolated, base build', options: {}, base: m[2]! };
  }
})();

/** Start the A/B row's system (see {@link AB}). */
async function startAb(ab: NonNullable<typeof AB>): Promise<EchoTarget> {
  if ('base' in ab && ab.base !== undefined) {
    const url = pathToFileURL(resolve(ab.base, 'packages/system/bench/targets.ts')).href;
    const base = (await import(url)) as typeof import('./targets.js');
    return base.startUdf(
      ab.label,
      base.benchSystem(base.appSystem('isolated'), 'isolated-ab'),
      SIZE,
      ab.options,
    );
  }
  return startUdf(ab.label, benchSystem(isolated, 'isolated-ab'), SIZE, ab.options);
}

/** Untimed closed-loop load per target before the first round (V8 compiles the packet path). */
const FIRST_WARMUP_SECONDS = 1.5;

const COMMAND = `pnpm --filter @udf/system bench${ARGV.length > 0 ? ` -- ${ARGV.join(' ')}` : ''}`;
const log = (s: string) => {
  if (!args.json) console.log(s);
};
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** Component counters the bench reads (wake-ups and overruns), by the suffix of their flattened name. */
const COUNTER_SUFFIXES = {
  /** Interrupts delivered to the driver as IPC (each ends a receive: the driver was waiting). */
  interrupts: '.driver.interrupts',
  /** Client → driver wake-ups the driver received (the channel the session's policy governs). */
  clientToDriver: '.driver.clientNotifications',
  /** Driver → client wake-ups the stack received. */
  driverToClient: '.thread.wakeups',
  /** Frames the NIC dropped for want of a free receive descriptor (why the loop loses some). */
  rxOverruns: '.rxOverruns',
  /** Notification IPCs the driver sent to a client that was receiving (a wake-up) ... */
  driverNotified: '.driver.notificationsSent',
  /** ... and those that found the client not receiving (the zero-timeout send failed). */
  driverMissed: '.driver.notificationsMissed',
  /** Notification IPCs the stack sent to the driver, received ... */
  stackNotified: '.thread.notificationsSent',
  /** ... and not. */
  stackMissed: '.thread.notificationsMissed',
} as const;

/** One measured window of one target. */
interface Sample {
  readonly round: number;
  readonly target: string;
  readonly seconds: number;
  readonly echoed: number;
  readonly lost: number;
  readonly bad: number;
  readonly rttUs: number;
  readonly threads: Record<string, ThreadSample>;
  readonly counts: Record<keyof typeof COUNTER_SUFFIXES, number>;
  readonly hotThreads: readonly string[];
}

function sumBySuffix(c: Readonly<Record<string, number>>, suffix: string): number {
  let n = 0;
  for (const [k, v] of Object.entries(c)) if (k.endsWith(suffix)) n += v;
  return n;
}

async function measure(
  t: EchoTarget,
  round: number,
  warmup: number,
  seconds: number,
): Promise<Sample> {
  const source = cpuSource;
  const loop = new ClosedLoop(t.address, t.framing, SIZE, WINDOW);
  await loop.open();
  loop.start();
  await sleep(warmup);
  const c0 = t.counters();
  const s0 = sampleThreads(t.threads(), source);
  const m0 = loop.mark();
  await sleep(seconds);
  const m1 = loop.mark();
  const s1 = sampleThreads(t.threads(), source);
  const c1 = t.counters();
  await loop.close();
  const wake = (suffix: string) => sumBySuffix(c1, suffix) - sumBySuffix(c0, suffix);
  return {
    round,
    target: t.name,
    seconds: (m1.at - m0.at) / 1000,
    echoed: m1.echoed - m0.echoed,
    lost: m1.lost - m0.lost,
    bad: m1.bad - m0.bad,
    rttUs: loop.medianRttUs(m0, m1),
    threads: threadDeltas(s0, s1),
    counts: {
      interrupts: wake(COUNTER_SUFFIXES.interrupts),
      clientToDriver: wake(COUNTER_SUFFIXES.clientToDriver),
      driverToClient: wake(COUNTER_SUFFIXES.driverToClient),
      rxOverruns: wake(COUNTER_SUFFIXES.rxOverruns),
      driverNotified: wake(COUNTER_SUFFIXES.driverNotified),
      driverMissed: wake(COUNTER_SUFFIXES.driverMissed),
      stackNotified: wake(COUNTER_SUFFIXES.stackNotified),
      stackMissed: wake(COUNTER_SUFFIXES.stackMissed),
    },
    hotThreads: t.hotThreads,
  };
}

/** Figures of one sample, per echo where it says so. */
function figures(s: Sample) {
  const per = (x: number) => (s.echoed > 0 ? x / s.echoed : Number.NaN);
  let runNs = 0;
  let hotSleeps = 0;
  const cpuPercent: Record<string, number> = {};
  const cpuUsPerEchoByThread: Record<string, number> = {};
  const sleepsPerEchoByThread: Record<string, number> = {};
  const preemptionsPerEchoByThread: Record<string, number> = {};
  for (const [name, d] of Object.entries(s.threads)) {
    runNs += d.runNs;
    cpuPercent[name] = (100 * d.runNs) / (s.seconds * 1e9);
    cpuUsPerEchoByThread[name] = per(d.runNs / 1000);
    sleepsPerEchoByThread[name] = per(d.voluntary);
    preemptionsPerEchoByThread[name] = per(d.involuntary);
    if (s.hotThreads.includes(name)) hotSleeps += d.voluntary;
  }
  const w = s.counts;
  return {
    echoesPerSecond: s.echoed / s.seconds,
    cpuUsPerEcho: per(runNs / 1000),
    cpuPercent,
    ipcWakeupsPerEcho: per(w.interrupts + w.clientToDriver + w.driverToClient),
    notificationsPerEcho: per(w.driverNotified + w.driverMissed + w.stackNotified + w.stackMissed),
    clientToDriverPerEcho: per(w.clientToDriver),
    interruptsPerEcho: per(w.interrupts),
    driverToClientPerEcho: per(w.driverToClient),
    sleepsPerEcho: per(hotSleeps),
    rttUs: s.rttUs,
    lost: s.lost,
    rxOverruns: w.rxOverruns,
    cpuUsPerEchoByThread,
    sleepsPerEchoByThread,
    preemptionsPerEchoByThread,
  };
}
type Figures = ReturnType<typeof figures>;

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ------------------------------------------------------------------------------------------ run

const load0 = loadavg();
const started = performance.now();
log(
  `udf threads-engine bench: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${load0.map((x) => x.toFixed(2)).join(' ')}`,
);
log(`command: ${COMMAND}`);
log(
  `load: closed-loop UDP echo from the main thread, ${WINDOW} datagrams in flight, ${SIZE}-byte payloads, 127.0.0.1; ${ROUNDS} interleaved rounds of ${WARMUP} s warm-up + ${SECONDS} s measured per target`,
);

const isolated = appSystem('isolated');
const targets: EchoTarget[] = [];
let cpuSource: 'schedstat' | 'stat' = 'schedstat';
try {
  targets.push(await startUdf('isolated', benchSystem(isolated, 'isolated'), SIZE));
  targets.push(await startUdf('embedded', benchSystem(appSystem('embedded'), 'embedded'), SIZE));
  targets.push(
    await startUdf(
      'isolated, notify per item',
      benchSystem(isolated, 'isolated-per-item', 'per-item'),
      SIZE,
    ),
  );
  targets.push(await startPlainEcho('plain node:dgram echo'));
  if (AB !== null) targets.push(await startAb(AB));
  const source = detectCpuSource(Object.values(targets[0]!.threads()));
  if (source === 'none') throw new Error('no per-thread CPU times on this machine (Linux /proc)');
  cpuSource = source;
  for (const t of targets) await measure(t, -1, FIRST_WARMUP_SECONDS, 0.01);
  const samples: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) samples.push(await measure(t, r, WARMUP, SECONDS));
  }
  const load1 = loadavg();
  const restarts = Object.fromEntries(targets.map((t) => [t.name, t.restarts?.() ?? []]));
  for (const t of targets) await t.stop();
  const engineCounters = Object.fromEntries(targets.map((t) => [t.name, t.engineCounters()]));
  report(samples, load0, load1, engineCounters, restarts);
} catch (e) {
  for (const t of targets) await t.stop().catch(() => undefined);
  throw e;
}

// ------------------------------------------------------------------------------------- report

function report(
  samples: readonly Sample[],
  loadStart: readonly number[],
  loadEnd: readonly number[],
  engineCounters: Record<string, unknown>,
  restarts: Record<string, readonly string[]>,
) {
  const names = [...new Set(samples.map((s) => s.target))];
  const byTarget = new Map<string, Figures[]>(names.map((n) => [n, []]));
  const byRound = new Map<number, Map<string, Figures>>();
  for (const s of samples) {
    const f = figures(s);
    byTarget.get(s.target)!.push(f);
    if (!byRound.has(s.round)) byRound.set(s.round, new Map());
    byRound.get(s.round)!.set(s.target, f);
  }
  const med = (name: string, pick: (f: Figures) => number) => median(byTarget.get(name)!.map(pick));
  const range = (name: string, pick: (f: Figures) => number) => {
    const xs = byTarget.get(name)!.map(pick);
    return [Math.min(...xs), Math.max(...xs)] as const;
  };
  // median over rounds of a / b
  const ratio = (a: string, b: string, pick: (f: Figures) => number) =>
    median(
      [...byRound.values()].map((m) => {
        const fa = m.get(a);
        const fb = m.get(b);
        return fa && fb ? pick(fa) / pick(fb) : Number.NaN;
      }),
    );

  const byThread = (name: string) =>
    Object.fromEntries(
      Object.keys(byTarget.get(name)![0]!.cpuPercent).map((k) => [
        k,
        {
          cpuUsPerEcho: med(name, (f) => f.cpuUsPerEchoByThread[k] ?? Number.NaN),
          sleepsPerEcho: med(name, (f) => f.sleepsPerEchoByThread[k] ?? Number.NaN),
          preemptionsPerEcho: med(name, (f) => f.preemptionsPerEchoByThread[k] ?? Number.NaN),
        },
      ]),
    );
  const [ISO, EMB, ALW, PLAIN, AB_ROW] = names as [string, string, string, string, string?];
  const eps = (f: Figures) => f.echoesPerSecond;
  const cpu = (f: Figures) => f.cpuUsPerEcho;
  const ipc = (f: Figures) => f.ipcWakeupsPerEcho;
  const ntf = (f: Figures) => f.notificationsPerEcho;
  const c2d = (f: Figures) => f.clientToDriverPerEcho;
  const slp = (f: Figures) => f.sleepsPerEcho;
  const ratios = {
    isolatedOverEmbedded: {
      echoesPerSecond: ratio(ISO, EMB, eps),
      cpuPerEcho: ratio(ISO, EMB, cpu),
    },
    alwaysOverWhenAsleep: {
      notifications: ratio(ALW, ISO, ntf),
      ipcWakeups: ratio(ALW, ISO, ipc),
      clientToDriver: ratio(ALW, ISO, c2d),
      workerSleeps: ratio(ALW, ISO, slp),
    },
    isolatedOverPlain: {
      echoesPerSecond: ratio(ISO, PLAIN, eps),
      cpuPerEcho: ratio(ISO, PLAIN, cpu),
    },
    ...(AB_ROW !== undefined
      ? {
          abOverIsolated: {
            row: AB_ROW,
            echoesPerSecond: ratio(AB_ROW, ISO, eps),
            cpuPerEcho: ratio(AB_ROW, ISO, cpu),
            overPlain: ratio(AB_ROW, PLAIN, eps),
          },
        }
      : {}),
  };
  const targetsMet = {
    isolatedVsEmbedded: ratios.isolatedOverEmbedded.echoesPerSecond >= 0.9,
    suppression: ratios.alwaysOverWhenAsleep.notifications >= 10,
    isolatedVsPlain: ratios.isolatedOverPlain.echoesPerSecond >= 0.5,
  };
  const wallSeconds = (performance.now() - started) / 1000;

  if (args.json) {
    const summary = Object.fromEntries(
      names.map((n) => [
        n,
        {
          echoesPerSecond: med(n, eps),
          echoesPerSecondRange: range(n, eps),
          cpuUsPerEcho: med(n, cpu),
          notificationsPerEcho: med(n, ntf),
          ipcWakeupsPerEcho: med(n, ipc),
          interruptsPerEcho: med(n, (f) => f.interruptsPerEcho),
          clientToDriverPerEcho: med(n, c2d),
          driverToClientPerEcho: med(n, (f) => f.driverToClientPerEcho),
          workerSleepsPerEcho: med(n, slp),
          rttUs: med(n, (f) => f.rttUs),
          lost: byTarget.get(n)!.reduce((a, f) => a + f.lost, 0),
          rxOverruns: byTarget.get(n)!.reduce((a, f) => a + f.rxOverruns, 0),
          byThread: byThread(n),
          cpuPercent: Object.fromEntries(
            Object.keys(byTarget.get(n)![0]!.cpuPercent).map((k) => [
              k,
              med(n, (f) => f.cpuPercent[k] ?? Number.NaN),
            ]),
          ),
        },
      ]),
    );
    console.log(
      JSON.stringify(
        {
          command: COMMAND,
          node: process.version,
          cpus: availableParallelism(),
          cpuSource,
          loadAverageStart: loadStart,
          loadAverageEnd: loadEnd,
          wallSeconds,
          options: { rounds: ROUNDS, seconds: SECONDS, warmup: WARMUP, window: WINDOW, size: SIZE },
          summary,
          ratios,
          targetsMet,
          samples: samples.map((s) => ({ ...s, figures: figures(s) })),
          engineCountersOverLife: engineCounters,
          driverRestarts: restarts,
        },
        null,
        2,
      ),
    );
    return;
  }

  const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
  const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
  log('');
  log('medians over rounds (echo/s also min–max); per echo = per datagram echoed');
  log(
    `${'target'.padEnd(24)} ${'echo/s'.padStart(7)} ${'(min–max)'.padStart(15)} ${'CPU µs/echo'.padStart(11)} ${'notif/echo'.padStart(10)} ${'IPC wake/echo'.padStart(13)} ${'cli→drv'.padStart(8)} ${'sleeps/echo'.padStart(11)} ${'RTT µs'.padStart(7)} ${'lost'.padStart(5)} ${'ovrn'.padStart(5)}  CPU % by thread`,
  );
  for (const n of names) {
    const [lo, hi] = range(n, eps);
    const pct = Object.keys(byTarget.get(n)![0]!.cpuPercent)
      .map((k) => `${k} ${f0(med(n, (f) => f.cpuPercent[k] ?? Number.NaN))}`)
      .join(', ');
    const udf = n !== PLAIN;
    log(
      `${n.padEnd(24)} ${f0(med(n, eps)).padStart(7)} ${`(${f0(lo)}–${f0(hi)})`.padStart(15)} ${f1(med(n, cpu)).padStart(11)} ${(udf ? f3(med(n, ntf)) : '-').padStart(10)} ${(udf ? f3(med(n, ipc)) : '-').padStart(13)} ${(udf ? f3(med(n, c2d)) : '-').padStart(8)} ${f3(med(n, slp)).padStart(11)} ${f0(med(n, (f) => f.rttUs)).padStart(7)} ${String(byTarget.get(n)!.reduce((a, f) => a + f.lost, 0)).padStart(5)} ${(udf ? String(byTarget.get(n)!.reduce((a, f) => a + f.rxOverruns, 0)) : '-').padStart(5)}  ${pct}`,
    );
  }
  log('');
  log(
    'per thread (medians): CPU µs / sleeps (voluntary switches) / preemptions (involuntary) per echo',
  );
  for (const n of names) {
    const parts = Object.entries(byThread(n)).map(
      ([k, v]) =>
        `${k} ${f1(v.cpuUsPerEcho)} / ${f2(v.sleepsPerEcho)} / ${f2(v.preemptionsPerEcho)}`,
    );
    log(`  ${n.padEnd(24)} ${parts.join(';  ')}`);
  }
  const restarted = Object.entries(restarts).filter(([, n]) => n.length > 0);
  if (restarted.length > 0)
    log(
      `  DRIVER RESTARTS (a restarted driver's worker is not metered: its row undercounts CPU): ${restarted.map(([k, n]) => `${k}: ${n.join(' ')}`).join('; ')}`,
    );
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const r = ratios;
  log('');
  log('ratios (median of per-round ratios):');
  log(
    `  1. isolated / embedded    echo/s ${f2(r.isolatedOverEmbedded.echoesPerSecond)}×  (target ≥ 0.9×: ${verdict(targetsMet.isolatedVsEmbedded)});  CPU per echo ${f2(r.isolatedOverEmbedded.cpuPerEcho)}×`,
  );
  log(
    `  2. notify per item (always) / when-asleep   notification IPCs ${f2(r.alwaysOverWhenAsleep.notifications)}×  (target ≥ 10×: ${verdict(targetsMet.suppression)});  IPC wake-ups received ${f2(r.alwaysOverWhenAsleep.ipcWakeups)}×;  client→driver ${f1(r.alwaysOverWhenAsleep.clientToDriver)}×;  worker sleeps ${f2(r.alwaysOverWhenAsleep.workerSleeps)}×`,
  );
  log(
    `  3. isolated / plain dgram echo/s ${f2(r.isolatedOverPlain.echoesPerSecond)}×  (target ≥ 0.5×: ${verdict(targetsMet.isolatedVsPlain)});  CPU per echo ${f2(r.isolatedOverPlain.cpuPerEcho)}×`,
  );
  const ab = r.abOverIsolated;
  if (ab !== undefined)
    log(
      `  A/B: ${ab.row} / isolated   echo/s ${f2(ab.echoesPerSecond)}×;  CPU per echo ${f2(ab.cpuPerEcho)}×;  over the plain echo ${f2(ab.overPlain)}×`,
    );
  log('');
  log(
    "notif/echo: notification IPCs the driver and the stack issued to each other (zero-timeout sends, delivered or not: each is a kernel entry) — `notify: per-item` (notify-always in its strict sense) issues one per enqueued frame and per completion, the paper's policy only to a peer that announced sleep; IPC wake/echo: IPC receives that woke the driver or the stack (driver interrupts + client→driver notifications + driver→client notifications, from the components' counters pages); cli→drv: the client→driver part, which the session's notify policy governs; lost: probes not echoed within 200 ms (re-sent); ovrn: NIC receive overruns (no free descriptor); sleeps/echo: voluntary context switches (real futex sleeps) of the driver and stack workers (of the echo worker for plain), /proc/self/task/TID/status. CPU: schedstat run time of every domain worker and the device worker (the plain echo's worker), load generator excluded.",
  );
  log(
    `load average at end ${loadEnd.map((x) => x.toFixed(2)).join(' ')}; ${wallSeconds.toFixed(0)} s`,
  );
}
