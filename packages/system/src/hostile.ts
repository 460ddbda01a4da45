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
  const sum = (rs: ClientResult[], f: (r: ClientResult) => number) =>
    rs.reduce((n, r) => n + f(r), 0);
  for (const [name, options] of Object.entries(HOSTILE_CASES)) {
    const r = await runHostile({ ...options, mbps });
    const c = r.counters;
    const n = (k: string) => c[k] ?? 0;
    const nic = (x: string) =>
      `${sum(r.results[x]!, (v) => v.sends)}/${sum(r.results[x]!, (v) => v.lost)}`.padEnd(16);
    const h = options.driver ? 'drivers.driver.hostile' : 'stack0.hostile';
    const did = options.stack?.glitchSeconds
      ? `${n(`${h}.glitches`)} index glitches`
      : options.stack?.flood || options.driver?.flood
        ? `${n(`${h}.floodDelivered`)} wake-ups`
        : options.stack || options.driver
          ? `${n(`${h}.garbageWritten`)} garbage descriptors`
          : '-';
    const s0 = (k: string) => n(`drivers.driver.sessions.0.${k}`);
    const counted = options.stack?.glitchSeconds
      ? `driver: ${s0('corruptReads')} corrupt reads (session 1: ${n('drivers.driver.sessions.1.corruptReads')})`
      : options.stack?.flood
        ? `driver: ${s0('notifications')} notifications, ${n('drivers.driver.idleWakeups')} idle wake-ups`
        : options.stack
          ? `driver: ${s0('foreignDataspace')} foreign + ${s0('outOfRange')} out of range + ${s0('badLength')} bad length`
          : options.driver?.flood
            ? `stacks: ${n('stack0.thread.idleWakeups') + n('stack1.thread.idleWakeups')} idle wake-ups`
            : options.driver
              ? `stacks: ${n('stack0.0.session.corrupt') + n('stack1.0.session.corrupt')} corrupt, dropped`
              : '-';
    lines.push(
      `${name.padEnd(30)}${nic('nic0')}${nic('nic1')}${did.padEnd(25)}${counted}; restarts ${n('supervisor.driversRestarted')}`,
    );
  }
  return lines.join('\n');
}
