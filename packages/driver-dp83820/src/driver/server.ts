/**
 * The DP83820 driver server as a component factory: built inside its domain from plain data
 * (structured-clone safe: numbers, strings, arrays, plain objects), so a realiser can name it as
 * `{ module: '@udf/driver-dp83820', export: 'dp83820DriverServer', config }` and any engine can
 * build it where the domain runs.
 *
 * The thread first accepts one session-open IPC per configured session (paper section 4.2; see
 * `SESSION_OPEN_LABEL` in `@udf/dataspace`): the request must come from the session's client
 * thread and name the session's control region and ring capacity; its dataspace is then the
 * session's buffer dataspace. Then it runs {@link Dp83820Driver} with a translation cache opened
 * from the dataspace manager.
 *
 * Receive steering (several sessions on one device): a session with `steering` has its buffer
 * dataspace mapped by the server into the driver's space at `steering.buffersAt` (one map
 * request per page to the manager; the client shared the dataspace with read and write rights)
 * and its IPv4 address registered with the driver. A page the manager refuses leaves the session
 * unmapped: frames for it that land in other sessions' buffers are then dropped and counted.
 *
 * @module
 */
import {
  DsStatus,
  dsClient,
  SESSION_OPEN_LABEL,
  SESSION_OPEN_OK,
  SESSION_OPEN_REFUSED,
  SESSIONS_OPENED_LABEL,
  TranslationCache,
} from '@udf/dataspace';
import { ANY_THREAD, type KernelCall, NEVER, type Sys, type ThreadId } from '@udf/l4-kernel';
import type { NotifyPolicy } from '@udf/lockfree';
import type { Dp83820DeviceConfig, Dp83820SessionConfig } from './config.js';
import type { Dp83820DriverCosts } from './costs.js';
import { Dp83820Driver } from './driver.js';

/** One session the server expects to be opened. */
export interface Dp83820ServerSession {
  /** The session's index, as the client names it in its session-open request. */
  readonly index: number;
  /** Index into `devices` of the device the session uses. */
  readonly device: number;
  /** The only thread allowed to open it. */
  readonly client: ThreadId;
  /** Where its control region (rings) is mapped, in both spaces. */
  readonly controlVaddr: number;
  /** Descriptors per ring. */
  readonly capacity: number;
  /** When the driver wakes the client (default: only when it is asleep, the paper's policy). */
  readonly notify?: NotifyPolicy;
  /**
   * Receive steering on a shared device: the session's IPv4 address (`10.0.0.1` = `0x0a000001`),
   * where to map its buffer dataspace in the driver's space, and its size in bytes.
   */
  readonly steering?: {
    readonly ipv4: number;
    readonly buffersAt: number;
    readonly bytes: number;
  };
}

/** Plain configuration of {@link dp83820DriverServer}. */
export interface Dp83820ServerConfig {
  readonly devices: readonly Dp83820DeviceConfig[];
  readonly sessions: readonly Dp83820ServerSession[];
  /** The dataspace manager's thread. */
  readonly manager: ThreadId;
  /** Where the translation cache is mapped and how many entries it has. */
  readonly translationCache: { readonly vaddr: number; readonly entries: number };
  readonly notifyAvoidance?: boolean;
  readonly costs?: Partial<Dp83820DriverCosts>;
  /** The device supervisor's thread (see `Dp83820DriverConfig.supervisor`). */
  readonly supervisor?: ThreadId;
  /** The domain's counters page (see `Dp83820DriverConfig.counters`). */
  readonly counters?: { readonly vaddr: number; readonly prefix: string };
  /**
   * Supervised by the device supervisor (which may restart the driver): once every session is
   * open, send it the session-open records (`SESSIONS_OPENED_LABEL` in `@udf/dataspace`).
   */
  readonly supervised?: boolean;
  /**
   * A restart: the session-open records the supervisor kept, `[session, dataspace]` pairs. The
   * server re-associates those dataspaces instead of waiting for session-open requests.
   */
  readonly reopened?: readonly (readonly [number, number])[];
}

/** Build the driver server's thread body from plain configuration. */
export function dp83820DriverServer(
  config: Dp83820ServerConfig,
): (sys: Sys) => Generator<KernelCall, void, unknown> {
  return function* (sys: Sys): Generator<KernelCall, void, unknown> {
    const opened = new Map<number, number>(config.reopened ?? []);
    const fresh = config.reopened === undefined;
    while (opened.size < config.sessions.length) {
      const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
      if (!r.ok) continue;
      const [index, controlVaddr, capacity, dataspace] = r.msg.words;
      const s = config.sessions.find((x) => x.index === index);
      const valid =
        r.msg.label === SESSION_OPEN_LABEL &&
        s !== undefined &&
        !opened.has(s.index) &&
        s.controlVaddr === controlVaddr &&
        s.capacity === capacity &&
        s.client === r.from &&
        Number.isInteger(dataspace);
      if (valid) opened.set(s!.index, dataspace!);
      yield* sys.ipc.reply(r.from, {
        label: valid ? SESSION_OPEN_OK : SESSION_OPEN_REFUSED,
        words: [],
      });
    }
    if (fresh && config.supervised && config.supervisor !== undefined) {
      const words: number[] = [];
      for (const [index, ds] of opened) words.push(index, ds);
      yield* sys.ipc.send(config.supervisor, { label: SESSIONS_OPENED_LABEL, words }, NEVER);
    }
    const sessions: Dp83820SessionConfig[] = [];
    for (const s of config.sessions) {
      const ds = opened.get(s.index)!;
      let steering = {};
      if (s.steering) {
        const { ipv4, buffersAt, bytes } = s.steering;
        let mapped = true;
        for (let off = 0; mapped && off < bytes; off += 4096) {
          const st = yield* dsClient.map(sys, config.manager, ds, off, true, buffersAt + off);
          mapped = st === DsStatus.OK;
        }
        steering = mapped
          ? { address: { ipv4 }, dataspacesAt: [buffersAt] }
          : { address: { ipv4 } };
      }
      sessions.push({
        device: s.device,
        client: s.client,
        region: s.controlVaddr,
        capacity: s.capacity,
        ...(s.notify ? { notify: s.notify } : {}),
        dataspaces: [ds],
        ...steering,
      });
    }
    const driver = new Dp83820Driver({
      devices: config.devices,
      sessions,
      translation: (ts) =>
        TranslationCache.open(ts, config.manager, {
          vaddr: config.translationCache.vaddr,
          entries: config.translationCache.entries,
        }),
      ...(config.notifyAvoidance !== undefined ? { notifyAvoidance: config.notifyAvoidance } : {}),
      ...(config.costs !== undefined ? { costs: config.costs } : {}),
      ...(config.supervisor !== undefined ? { supervisor: config.supervisor } : {}),
      ...(config.counters !== undefined ? { counters: config.counters } : {}),
    });
    yield* driver.body(sys);
  };
}
