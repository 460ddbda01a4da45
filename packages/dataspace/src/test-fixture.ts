/**
 * Test fixture (not exported): a sim engine with an anonymous manager over a frame pool, and
 * helpers to run component code as threads and collect what they saw.
 *
 * @module
 */

import { RW, SimEngine, type SpaceId, type Sys, type ThreadId } from '@udf/l4-kernel';
import { AnonymousManager, type AnonymousManagerOptions } from './anonymous-manager.js';
import type { DataspaceCall } from './call.js';

/** Where the fixture maps the manager's pool. */
export const POOL_VADDR = 0x1000_0000;

/** A sim world with one anonymous manager. */
export interface World {
  readonly sim: SimEngine;
  readonly manager: AnonymousManager;
  readonly managerId: ThreadId;
  readonly managerSpace: SpaceId;
  readonly poolPaddr: number;
  /** Create a space. */
  space(name: string): SpaceId;
  /** Run `body` as a thread in `space`; returns its id. Exceptions are kept in `sim.kernel.failures`. */
  thread(
    name: string,
    space: SpaceId,
    body: (sys: Sys) => DataspaceCall<void>,
    options?: { pager?: ThreadId; priority?: number },
  ): ThreadId;
  /** Run the sim for `cycles`, then throw the first thread failure, if any. */
  run(cycles?: number): void;
}

/** Build a {@link World}; `poolBytes` defaults to 1 MiB. */
export function world(options: Partial<AnonymousManagerOptions> = {}, poolBytes = 1 << 20): World {
  const sim = new SimEngine({ memoryBytes: 16 << 20 });
  const k = sim.kernel;
  const managerSpace = k.createSpace('dataspace-manager');
  const poolPaddr = k.allocateFrames(poolBytes, 1 << 20);
  k.mapPhysical(managerSpace, POOL_VADDR, poolPaddr, poolBytes, RW);
  const manager = new AnonymousManager({
    ...options,
    pool: { vaddr: POOL_VADDR, bytes: poolBytes },
  });
  const managerId = k.createThread({
    name: 'manager',
    space: managerSpace,
    priority: 200,
    body: manager.body,
  });
  return {
    sim,
    manager,
    managerId,
    managerSpace,
    poolPaddr,
    space: (name) => k.createSpace(name),
    thread: (name, space, body, opts = {}) =>
      k.createThread({ name, space, body, priority: opts.priority ?? 100, pager: opts.pager }),
    run(cycles = 10_000_000) {
      sim.runFor(cycles);
      const failure = k.failures[0];
      if (failure !== undefined) throw failure.error;
    },
  };
}
