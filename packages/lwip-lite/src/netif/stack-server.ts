/**
 * The IP stack server as a component factory: built inside the stack's domain from plain data
 * (see {@link ComponentRef}). For each of its sessions it opens a buffer dataspace from the
 * dataspace manager, shares it with the driver (translate rights) and its region mapper, attaches
 * it, and opens the session with the driver by IPC (paper section 4.2); then it runs
 * `stackThread` of `@udf/lwip-lite`, keeping the stack's counters on the domain's counters page.
 *
 * With `socket` set (the monolithic baseline) the thread also builds the socket layer and
 * publishes it for the user process's kernel half, which serves its `recvfrom`/`sendto` calls
 * (see {@link SocketLayer}); the configuration stays plain data.
 *
 * @module
 */
import {
  CountersPage,
  DS_RIGHT_READ,
  DS_RIGHT_TRANSLATE,
  DS_RIGHT_WRITE,
  dsClient,
  rmClient,
  SESSION_OPEN_LABEL,
  SESSION_OPEN_OK,
} from '@udf/dataspace';
import type { KernelCall, Sys, ThreadId } from '@udf/l4-kernel';
import type { NotifyPolicy } from '@udf/netdev';
import { LwipError } from '../error.js';
import type { LwipCosts } from '../iface/costs.js';
import type { StackSocketConfig } from '../socket/server.js';
import { type StackThreadCosts, stackThread } from './stack-thread.js';

/** One session of a {@link StackServerConfig}, with the interface the stack puts on it. */
export interface StackServerSession {
  readonly index: number;
  readonly controlVaddr: number;
  readonly ringCapacity: number;
  readonly buffersVaddr: number;
  readonly bufferCount: number;
  readonly bufferSize: number;
  readonly mac: string;
  readonly ip: string;
  readonly netmask: string;
}

/** Plain configuration of {@link stackServer}. */
export interface StackServerConfig {
  /** The dataspace manager's thread. */
  readonly manager: ThreadId;
  /** The driver thread every session goes to. */
  readonly driver: ThreadId;
  /** The stack's region mapper (its pager). */
  readonly regionMapper: ThreadId;
  readonly sessions: readonly StackServerSession[];
  readonly policy: NotifyPolicy;
  readonly echoPort: number | null;
  readonly costs: Partial<LwipCosts>;
  readonly loopCosts: Partial<StackThreadCosts>;
  /** The domain's counters page and this stack's prefix. */
  readonly counters: { readonly vaddr: number; readonly prefix: string };
  /** The socket layer a user process calls into (the monolithic baseline), or absent. */
  readonly socket?: StackSocketConfig;
}

/** Build the stack server's thread body from plain configuration. */
export function stackServer(
  config: StackServerConfig,
): (sys: Sys) => Generator<KernelCall, void, unknown> {
  return function* (sys: Sys): Generator<KernelCall, void, unknown> {
    const page = yield* CountersPage.open(sys, config.counters.vaddr);
    const dataspaceIds = new Map<number, number>();
    for (const s of config.sessions) {
      const ds = yield* dsClient.open(sys, config.manager, s.bufferCount * s.bufferSize);
      yield* dsClient.share(
        sys,
        ds,
        config.driver,
        DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE,
      );
      yield* dsClient.share(sys, ds, config.regionMapper, DS_RIGHT_READ | DS_RIGHT_WRITE);
      yield* rmClient.attach(sys, config.regionMapper, {
        manager: config.manager,
        dataspaceId: ds.id,
        vaddr: s.buffersVaddr,
        size: ds.size,
        offset: 0,
        writable: true,
      });
      dataspaceIds.set(s.index, ds.id);
      // Open the session with the driver: control region, ring capacity, buffer dataspace.
      const r = yield* sys.ipc.call(config.driver, {
        label: SESSION_OPEN_LABEL,
        words: [s.index, s.controlVaddr, s.ringCapacity, ds.id],
      });
      if (!r.ok || r.msg.label !== SESSION_OPEN_OK)
        throw new LwipError('SESSION', `session ${s.index}: the driver refused to open it`);
    }
    const prefix = config.counters.prefix;
    const body = stackThread({
      sessions: config.sessions.map((s) => ({
        region: s.controlVaddr,
        capacity: s.ringCapacity,
        buffers: s.buffersVaddr,
        dataspaceId: dataspaceIds.get(s.index)!,
        bufferCount: s.bufferCount,
        bufferSize: s.bufferSize,
        mac: s.mac,
        ip: s.ip,
        netmask: s.netmask,
      })),
      driver: () => config.driver,
      costs: config.costs,
      loopCosts: config.loopCosts,
      echoPort: config.echoPort,
      policy: config.policy,
      onReady: (state) => {
        // The stack's counters live on its domain's counters page from here on.
        state.stacks.forEach((stack, j) => {
          page.bind(`${prefix}.${j}`, stack.counters);
        });
        state.devices.forEach((dev, j) => {
          page.bind(`${prefix}.${j}.session`, dev.stats);
        });
        page.bind(`${prefix}.thread`, state.stats);
        if (state.socket !== null) page.bind(`${prefix}.socket`, state.socket.stats);
        page.ready();
      },
      ...(config.socket ? { socket: config.socket } : {}),
    });
    yield* body(sys);
  };
}
