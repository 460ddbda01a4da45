/**
 * The `Sys` conformance suite: the engine-independent semantics of IPC, interrupts, memory,
 * preemption control (with the missed-wake-up latch) and thread failure, as one list of cases
 * that takes an engine factory. The sim engine runs it in this package's tests; the threads
 * engine runs the very same list. Every thread body is a component exported from this module
 * (`bodies.ts`), referenced as plain data `{ module: CONFORMANCE_MODULE, export, config }`, so an
 * engine can build it inside a worker; bodies report through a {@link Journal} in shared memory.
 *
 * ```ts
 * import { SYS_CONFORMANCE } from '@udf/l4-kernel/conformance';
 * for (const c of SYS_CONFORMANCE) it(`${c.area}: ${c.name}`, () => c.run(myEngineFactory));
 * ```
 *
 * @module
 */
import { FAILURE_CASES } from './failures.js';
import type { ConformanceCase } from './harness.js';
import { INTERRUPT_CASES } from './interrupts.js';
import { IPC_CASES } from './ipc.js';
import { MEMORY_CASES } from './memory.js';
import { PREEMPTION_CASES } from './preemption.js';

export * from './bodies.js';
export * from './harness.js';
export * from './journal.js';
export { FAILURE_CASES, INTERRUPT_CASES, IPC_CASES, MEMORY_CASES, PREEMPTION_CASES };

/** Every conformance case. */
export const SYS_CONFORMANCE: readonly ConformanceCase[] = [
  ...IPC_CASES,
  ...MEMORY_CASES,
  ...INTERRUPT_CASES,
  ...PREEMPTION_CASES,
  ...FAILURE_CASES,
];
