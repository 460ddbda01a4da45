/**
 * The hostile-domain experiment (issue 18) on the sim engine: a clustered driver (one driver
 * domain, two NICs) serving two client domains, one stack per NIC — {@link HOSTILE_PLACEMENT} —
 * with the stack on nic0 and/or the driver replaced by the hostile components of
 * `hostile-components.ts`, under an ipbench echo load on both NICs. {@link runHostile} returns
 * the clients' results per NIC and every counter; `hostile.test.ts` checks them and
 * `docs/restart.md` reports them.
 *
 * @module
 */
import type { ClientResult } from '@udf/ipbench';
import type { ComponentRef } from './components.js';
import type { HostileBehaviour } from './hostile-components.js';
import { parseSystem } from './load.js';
import { plan } from './plan.js';
import { type AssembledSystem, type RealizeSimOptions, realizeSim } from './realize-sim.js';
import { startUp } from './runner.js';
import type { SystemDescription } from './schema.js';

/** A clustered driver (nic0, nic1) with a stack domain on each NIC: `stack-a` on nic0, `stack-b` on nic1. */
export const HOSTILE_PLACEMENT: SystemDescription = parseSystem({
  name: 'clustered-two-clients',
  nics: [
    { name: 'nic0', model: 'dp83820', irq: 11, mac: '02:00:00:00:00:01', holdoffUs: 100 },
    { name: 'nic1', model: 'dp83820', irq: 10, mac: '02:00:00:00:01:01', holdoffUs: 100 },
  ],
  domains: [
    { name: 'memory', priority: 150, components: [{ kind: 'dataspace-manager' }] },
    {
      name: 'drivers',
      priority: 200,
      components: [{ kind: 'dp83820-driver', nics: ['nic0', 'nic1'] }],
    },
    {
      name: 'stack-a',
      priority: 100,
      components: [
        { kind: 'ip-stack', nic: 'nic0', ip: '10.0.0.1' },
        { kind: 'udp-echo', port: 7 },
      ],
    },
    {
      name: 'stack-b',
      priority: 100,
      components: [
        { kind: 'ip-stack', nic: 'nic1', ip: '10.0.1.1' },
        { kind: 'udp-echo', port: 7 },
      ],
    },
  ],
});

/** Options of {@link runHostile}. */
export interface HostileRunOptions {
  /** The stack on nic0 (`stack-a`) misbehaves so (absent: honest). */
  readonly stack?: HostileBehaviour;
  /** The driver misbehaves so (absent: honest). */
  readonly driver?: HostileBehaviour;
  /** Offered load per client, Mb/s (default 100). */
  readonly mbps?: number;
  /** Seconds of load (default 0.03). */
  readonly seconds?: number;
}

/** What {@link runHostile} measured. */
export interface HostileRun {
  /** The system, after the run. */
  readonly built: AssembledSystem;
  /** The ipbench clients' results by NIC. */
  readonly results: Record<string, ClientResult[]>;
  /** Every counter at the end. */
  readonly counters: Record<string, number>;
}

/**
 * The substitute that puts the hostile components in {@link HOSTILE_PLACEMENT}: `stack` for the
 * stack of domain `stack-a`, `driver` for the driver.
 */
export function hostileSubstitute(hostile: {
  readonly stack?: HostileBehaviour;
  readonly driver?: HostileBehaviour;
}): NonNullable<RealizeSimOptions['substitute']> {
  return (ref: ComponentRef, component) => {
    if (hostile.stack && component.kind === 'ip-stack' && component.space === 'stack-a')
      return {
        module: '@udf/system/hostile-components',
        export: 'hostileStackServer',
        config: { ...(ref.config as object), hostile: hostile.stack },
      };
    if (hostile.driver && component.kind === 'dp83820-driver')
      return {
        module: '@udf/system/hostile-components',
        export: 'hostileDriverServer',
        config: { ...(ref.config as object), hostile: hostile.driver },
      };
    return ref;
  };
}

/** Run an echo load on both NICs of {@link HOSTILE_PLACEMENT} with the hostile components in place. */
export async function runHostile(options: HostileRunOptions = {}): Promise<HostileRun> {
  const built = realizeSim(plan(HOSTILE_PLACEMENT, { durationMs: 4, warmupMs: 1 }), {
    substitute: hostileSubstitute(options),
  });
  startUp(built);
  const results: Record<string, ClientResult[]> = {};
  let done = 0;
  let at = 0;
  for (const d of built.plan.devices) {
    const mine: ClientResult[] = [];
    results[d.name] = mine;
    for (let j = 0; j < d.clients.length; j++) {
      void built.clients[at++]!.start({
        rateMbps: options.mbps ?? 100,
        warmupS: 0.001,
        durationS: options.seconds ?? 0.03,
        cooldownS: 0.005,
      }).then((r) => {
        mine.push(r);
        done++;
      });
    }
  }
  const ms = built.sim.machine.hz / 1000;
  while (done < built.clients.length) {
    built.sim.runFor(ms);
    await Promise.resolve();
  }
  return { built, results, counters: built.counters() };
}

/** The cases {@link hostileReport} runs: a name and what misbehaves. */
export const HOSTILE_CASES: Readonly<Record<string, HostileRunOptions>> = {
  'none (baseline)': {},
  'client: garbage descriptors': {
    stack: { startSeconds: 0.005, everySeconds: 0.002, acts: 10, garbage: 16 },
  },
  'client: corrupt ring indices': {
    stack: { startSeconds: 0.005, everySeconds: 0.005, acts: 3, glitchSeconds: 0.0005 },
  },
  'client: wake-up flood': {
    stack: {
      startSeconds: 0.005,
      everySeconds: 0.01,
      acts: 2,
      flood: { burst: 4, periodSeconds: 5e-6 },
    },
  },
  'driver: garbage descriptors': {
    driver: { startSeconds: 0.005, everySeconds: 0.002, acts: 10, garbage: 8 },
  },
  'driver: wake-up flood': {
    driver: {
      startSeconds: 0.005,
      everySeconds: 0.01,
      acts: 2,
      flood: { burst: 4, periodSeconds: 5e-6 },
    },
  },
};

/** One case of {@link HOSTILE_CASES} as {@link hostileCases} measured it. */
export interface HostileCaseResult {
  /** The case's name, a key of {@link HOSTILE_CASES}. */
  readonly case: string;
  /** Who misbehaves: the client on nic0 (`stack-a`), the driver, or nobody (the baseline). */
  readonly hostile: 'none' | 'client' | 'driver';
  /** What it does: `garbage descriptors`, `corrupt ring indices`, `wake-up flood` or `-`. */
  readonly behaviour: string;
  /** Probes sent and lost by the ipbench clients of each NIC. */
  readonly nics: Readonly<Record<string, { readonly sent: number; readonly lost: number }>>;
  /** The honest side's NICs: nic1 for a hostile client, both otherwise. */
  readonly honestNics: readonly string[];
  /** Probes the honest side's clients sent, and lost. */
  readonly honestSent: number;
  readonly honestLost: number;
  /** How often the hostile end misbehaved (garbage descriptors, index glitches, wake-ups); 0 for the baseline. */
  readonly hostileActs: number;
  /** {@link HostileCaseResult.hostileActs} in words, e.g. `320 garbage descriptors`. */
  readonly hostileDid: string;
  /** The counters the other side kept of it, by name (empty for the baseline). */
  readonly counted: Readonly<Record<string, number>>;
  /** {@link HostileCaseResult.counted} in words, e.g. `driver: 160 foreign + 80 out of range + 80 bad length`. */
  readonly countedText: string;
  /** Driver restarts by the device supervisor during the run. */
  readonly restarts: number;
}

/** Options of {@link hostileCases}. */
export interface HostileCasesOptions {
  /** Offered load per ipbench client, Mb/s (default 100). */
  readonly mbps?: number;
  /** Seconds of load per case (default 0.03). */
  readonly seconds?: number;
}

/**
 * Run every case of {@link HOSTILE_CASES} on {@link HOSTILE_PLACEMENT} (sim engine, 4 ipbench
 * clients per NIC) and return what each cost and what was counted. Deterministic: the same
 * options give the same results.
 */
export async function hostileCases(
  options: HostileCasesOptions = {},
): Promise<HostileCaseResult[]> {
  const rows: HostileCaseResult[] = [];
  for (const [name, behaviour] of Object.entries(HOSTILE_CASES)) {
    const r = await runHostile({
      ...behaviour,
      mbps: options.mbps ?? 100,
      seconds: options.seconds ?? 0.03,
    });
    rows.push(hostileCase(name, behaviour, r));
  }
  return rows;
}

/** What one run of a case measured, named. */
function hostileCase(name: string, options: HostileRunOptions, r: HostileRun): HostileCaseResult {
  const n = (k: string) => r.counters[k] ?? 0;
  const pick = (...keys: string[]) => Object.fromEntries(keys.map((k) => [k, n(k)]));
  const nics: Record<string, { sent: number; lost: number }> = {};
  for (const [nic, rs] of Object.entries(r.results))
    nics[nic] = {
      sent: rs.reduce((x, v) => x + v.sends, 0),
      lost: rs.reduce((x, v) => x + v.lost, 0),
    };
  const hostile = options.stack ? 'client' : options.driver ? 'driver' : 'none';
  const b = options.stack ?? options.driver;
  const behaviour = b?.glitchSeconds
    ? 'corrupt ring indices'
    : b?.flood
      ? 'wake-up flood'
      : b
        ? 'garbage descriptors'
        : '-';
  const h = options.driver ? 'drivers.driver.hostile' : 'stack0.hostile';
  const acts =
    behaviour === 'corrupt ring indices'
      ? n(`${h}.glitches`)
      : behaviour === 'wake-up flood'
        ? n(`${h}.floodDelivered`)
        : b
          ? n(`${h}.garbageWritten`)
          : 0;
  const hostileDid =
    behaviour === '-'
      ? '-'
      : `${acts} ${behaviour === 'corrupt ring indices' ? 'index glitches' : behaviour === 'wake-up flood' ? 'wake-ups' : 'garbage descriptors'}`;
  const s0 = 'drivers.driver.sessions.0.';
  let counted: Record<string, number> = {};
  let countedText = '-';
  if (hostile === 'client' && behaviour === 'corrupt ring indices') {
    counted = pick(`${s0}corruptReads`, 'drivers.driver.sessions.1.corruptReads');
    countedText = `driver: ${n(`${s0}corruptReads`)} corrupt reads (session 1: ${n('drivers.driver.sessions.1.corruptReads')})`;
  } else if (hostile === 'client' && behaviour === 'wake-up flood') {
    counted = pick(`${s0}notifications`, 'drivers.driver.idleWakeups');
    countedText = `driver: ${n(`${s0}notifications`)} notifications, ${n('drivers.driver.idleWakeups')} idle wake-ups`;
  } else if (hostile === 'client') {
    counted = pick(`${s0}foreignDataspace`, `${s0}outOfRange`, `${s0}badLength`);
    countedText = `driver: ${n(`${s0}foreignDataspace`)} foreign + ${n(`${s0}outOfRange`)} out of range + ${n(`${s0}badLength`)} bad length`;
  } else if (hostile === 'driver' && behaviour === 'wake-up flood') {
    counted = pick('stack0.thread.idleWakeups', 'stack1.thread.idleWakeups');
    countedText = `stacks: ${n('stack0.thread.idleWakeups') + n('stack1.thread.idleWakeups')} idle wake-ups`;
  } else if (hostile === 'driver') {
    counted = pick('stack0.0.session.corrupt', 'stack1.0.session.corrupt');
    countedText = `stacks: ${n('stack0.0.session.corrupt') + n('stack1.0.session.corrupt')} corrupt, dropped`;
  }
  const honestNics = hostile === 'client' ? ['nic1'] : Object.keys(nics);
  return {
    case: name,
    hostile,
    behaviour,
    nics,
    honestNics,
    honestSent: honestNics.reduce((x, k) => x + (nics[k]?.sent ?? 0), 0),
    honestLost: honestNics.reduce((x, k) => x + (nics[k]?.lost ?? 0), 0),
    hostileActs: acts,
    hostileDid,
    counted,
    countedText,
    restarts: n('supervisor.driversRestarted'),
  };
}

/**
 * Run every case of {@link HOSTILE_CASES} at `mbps` per ipbench client (4 clients per NIC) and
 * format one line per case: probes sent and lost on the hostile client's NIC (nic0) and the
 * honest one's (nic1), what the hostile end did, and what the other side counted.
 */
export async function hostileReport(mbps = 100): Promise<string> {
  const lines = [
    `hostile domains on a clustered driver (sim): ${mbps} Mb/s per client, 4 clients per NIC, 30 ms`,
    'case                          nic0 sent/lost  nic1 sent/lost  hostile end did          counted by the other side',
  ];
  const nic = (r: HostileCaseResult, x: string) =>
    `${r.nics[x]?.sent ?? 0}/${r.nics[x]?.lost ?? 0}`.padEnd(16);
  for (const r of await hostileCases({ mbps })) {
    lines.push(
      `${r.case.padEnd(30)}${nic(r, 'nic0')}${nic(r, 'nic1')}${r.hostileDid.padEnd(25)}${r.countedText}; restarts ${r.restarts}`,
    );
  }
  return lines.join('\n');
}
