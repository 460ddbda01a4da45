// The echo servers the bench loads: udf placements on the threads engine (real workers, the NIC's
// UDP wire on 127.0.0.1), and a plain `node:dgram` echo server in one worker — what a user gets
// without udf.
import { Worker } from 'node:worker_threads';
import type { ThreadsEngineOptions } from '@udf/engine-threads';
import {
  loadSystem,
  parseSystem,
  plan,
  realizeThreads,
  type SystemDescription,
  startThreadsSystem,
  stepOverrides,
  type ThreadsSystem,
} from '@udf/system';
import type { Address, Framing } from './closed-loop.js';

/** Something the closed loop can load. */
export interface EchoTarget {
  /** Row name. */
  readonly name: string;
  /** Where the loop sends. */
  readonly address: Address;
  /** How it frames its payloads. */
  readonly framing: Framing;
  /** Linux thread id of each thread that serves (domain workers, device worker; or the echo). */
  threads(): Record<string, number>;
  /** Threads whose sleeps are the driver's and the stack's wake-ups (or the echo's). */
  readonly hotThreads: readonly string[];
  /** Component counters (udf), flattened; empty for the plain echo. */
  counters(): Record<string, number>;
  /** Engine counters per domain, available after {@link EchoTarget.stop} (udf). */
  engineCounters(): Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * Causes of the driver restarts so far (udf isolated and clustered; none for the others). A restarted driver
   * runs in a fresh worker whose CPU time the bench does not see: rows with restarts undercount.
   */
  restarts(): readonly string[];
  /** The device worker's counters, available after {@link EchoTarget.stop} (udf; null before). */
  deviceCounters(): Readonly<Record<string, number>> | null;
  /** Shut down. */
  stop(): Promise<void>;
}

const APPS = new URL('../../../apps/', import.meta.url);

/** A placement from `apps/<name>/system.yaml`. */
export function appSystem(name: string): SystemDescription {
  return loadSystem(new URL(`${name}/system.yaml`, APPS).pathname);
}

/**
 * A placement as the bench runs it: renamed (its own pin-time quota: an idle NIC's posted
 * receive buffers are within the manager's allowance), and with `notify` every session's
 * notification policy set
 * (`per-item`: each end wakes the other after every enqueued frame, buffer and completion instead
 * of only when the other announced sleep).
 */
export function benchSystem(
  sys: SystemDescription,
  name: string,
  notify?: 'when-asleep' | 'per-item',
): SystemDescription {
  const domains = sys.domains;
  if (notify === undefined) return parseSystem({ ...sys, name, domains });
  const stacks = sys.domains.flatMap((d) =>
    d.components.flatMap((c) => (c.kind === 'ip-stack' ? [{ domain: d.name, nic: c.nic }] : [])),
  );
  const drivers = sys.domains.flatMap((d) =>
    d.components.flatMap((c) =>
      c.kind === 'dp83820-driver' ? c.nics.map((nic) => ({ domain: d.name, nic })) : [],
    ),
  );
  const sessions = stacks.map((s) => {
    const driver = drivers.find((d) => d.nic === s.nic);
    if (driver === undefined) throw new Error(`no driver for ${s.nic}`);
    return { driver: driver.domain, client: s.domain, nic: s.nic, notify };
  });
  return parseSystem({ ...sys, name, domains, sessions });
}

/** Settings of {@link startUdf} beyond the description (for an A/B row). */
export interface UdfOptions {
  /** Engine options (doorbell spins). */
  readonly engine?: ThreadsEngineOptions;
  /** The NICs' interrupt hold-off, µs (default the description's). */
  readonly holdoffUs?: number;
}

/** Start a udf placement on the threads engine, its NIC on a UDP wire on 127.0.0.1. */
export async function startUdf(
  name: string,
  sys: SystemDescription,
  payloadBytes: number,
  options: UdfOptions = {},
): Promise<EchoTarget> {
  const p = plan(
    sys,
    stepOverrides({
      packetSize: payloadBytes,
      ...(options.holdoffUs !== undefined ? { holdoffUs: options.holdoffUs } : {}),
    }),
  );
  if (p.devices.length !== 1) throw new Error(`${name}: the bench drives one NIC`);
  const built: ThreadsSystem = realizeThreads(p, {
    wire: { kind: 'load', via: 'udp' },
    ...(options.engine ? { engine: options.engine } : {}),
  });
  await startThreadsSystem(built);
  const dev = p.devices[0]!;
  const client = dev.clients[0]!;
  const address = built.wires()[dev.name]!;
  const domains = built.domains;
  const hot = domains.filter((d) =>
    p.components.some(
      (c) => c.space === d && (c.kind === 'dp83820-driver' || c.kind === 'ip-stack'),
    ),
  );
  return {
    name,
    address,
    framing: {
      kind: 'ethernet',
      me: { mac: client.mac, ip: client.ip, port: client.port },
      target: { mac: dev.mac, ip: client.targetIp, port: p.load.echoPort },
    },
    threads: () => built.threadIds(),
    hotThreads: hot,
    counters: () => built.counters(),
    engineCounters: () => built.engine.counters,
    deviceCounters: () => built.engine.deviceCounters,
    restarts: () => built.restart?.records().map((r) => r.cause) ?? [],
    stop: () => built.stop(),
  };
}

const PLAIN_ECHO = `
const { parentPort } = require('node:worker_threads');
const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: s.address().port, tid }));
`;

/** A plain `node:dgram` echo server in one worker thread. */
export async function startPlainEcho(name: string): Promise<EchoTarget> {
  const w = new Worker(PLAIN_ECHO, { eval: true });
  const { port, tid } = await new Promise<{ port: number; tid: number }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return {
    name,
    address: { address: '127.0.0.1', port },
    framing: { kind: 'datagram' },
    threads: () => ({ echo: tid }),
    hotThreads: ['echo'],
    counters: () => ({}),
    engineCounters: () => ({}),
    deviceCounters: () => null,
    restarts: () => [],
    stop: async () => {
      await w.terminate();
    },
  };
}
