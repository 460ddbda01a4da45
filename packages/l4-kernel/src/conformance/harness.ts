/**
 * What the `Sys` conformance suite needs from an engine, and the small assertion kit its cases
 * use (no test framework: any runner calls {@link ConformanceCase.run} and reports the throw).
 *
 * @module
 */
import { UdfError } from '@udf/lockfree';
import type { InterruptLine } from '../machine/device-host.js';
import type { Rights, ThreadBody, ThreadId } from '../sys.js';
import { CONFORMANCE_BODIES } from './bodies.js';

/** The module specifier under which the conformance bodies are importable (this subpath). */
export const CONFORMANCE_MODULE = '@udf/l4-kernel/conformance';

/** Names of the conformance bodies (the factories exported by `bodies.ts`). */
export type ConformanceBodyName = keyof typeof CONFORMANCE_BODIES;

/**
 * A thread body as plain data: export `export` of `module` (always {@link CONFORMANCE_MODULE}
 * here) is a factory `(config) => ThreadBody`; `config` is structured-clone-safe data.
 */
export interface ConformanceComponent {
  /** Module specifier a worker can `import()`. */
  readonly module: string;
  /** Name of the factory export. */
  readonly export: ConformanceBodyName;
  /** The factory's config (plain data: numbers, strings, arrays, objects, `SharedArrayBuffer`s). */
  readonly config: unknown;
}

/** The reference to conformance body `name` with `config`. */
export function component(name: ConformanceBodyName, config: unknown = {}): ConformanceComponent {
  return { module: CONFORMANCE_MODULE, export: name, config };
}

/**
 * Build a conformance component in the current thread (what an engine whose threads share the
 * main thread, like the sim, does with {@link ConformanceThreadOptions.component}). The config
 * goes through `structuredClone` first, as it would on its way to a worker, so a case that put
 * something else than plain data into it fails here too.
 *
 * @throws {@link ConformanceError} for a module or export that is not a conformance body
 */
export function buildComponent(ref: ConformanceComponent): ThreadBody {
  const factory = Object.hasOwn(CONFORMANCE_BODIES, ref.export)
    ? (CONFORMANCE_BODIES as Record<string, unknown>)[ref.export]
    : undefined;
  if (ref.module !== CONFORMANCE_MODULE || typeof factory !== 'function') {
    throw new ConformanceError(`no conformance body ${ref.module}#${String(ref.export)}`);
  }
  return (factory as (config: unknown) => ThreadBody)(structuredClone(ref.config));
}

/** A thread as a conformance case describes it. */
export interface ConformanceThreadSpec {
  /** Name (a failure must name it). */
  readonly name: string;
  /** Address space, from {@link ConformanceEngine.createSpace}. */
  readonly space: number;
  /** Priority 0–255; default 100. Cases never rely on priorities across spaces for results. */
  readonly priority?: number;
  /** Pager thread id; default none. */
  readonly pager?: ThreadId;
  /** The component that provides its body (an engine builds it where the thread runs). */
  readonly component: ConformanceComponent;
}

/** A thread as an engine receives it from a case. */
export interface ConformanceThreadOptions extends ConformanceThreadSpec {
  /**
   * The component built in the calling thread ({@link buildComponent}), on first read: what an
   * engine that runs threads in the main thread (the sim, root-task domains) takes. An engine
   * that builds components elsewhere (workers) uses {@link ConformanceThreadSpec.component}
   * and never reads this.
   */
  readonly body: ThreadBody;
}

/**
 * An engine as the conformance suite drives it: the privileged setup a root task does, an
 * interrupt line a device would drive, and a way to let time pass. A fresh engine per case.
 */
export interface ConformanceEngine {
  /** The clock rate bodies use to turn seconds into timeouts (`sys.hz` is the same). */
  readonly hz: number;
  /** Create an address space; returns its id. */
  createSpace(name: string): number;
  /** Create a thread, ready to run; returns its id. */
  createThread(options: ConformanceThreadOptions): ThreadId;
  /** Back `[vaddr, vaddr + bytes)` of a space with fresh zeroed memory (a root mapping). */
  mapAnonymous(space: number, vaddr: number, bytes: number, rights: Rights): void;
  /**
   * The interrupt line with this number, as a device drives it. Cases take it before their
   * first run and drive it only between runs (an engine may resolve it lazily).
   */
  interruptLine(line: number): InterruptLine;
  /**
   * Let `seconds` of (virtual or real) time pass, or stop earlier once every thread has exited
   * or is blocked for good (no timeout pending), or once `until()` (if given) holds. Cases are
   * written so that their results do not depend on which of these ends a run: every run ends
   * with the threads exited or blocked for good, except where a case passes `until`. An engine
   * on real time may therefore wait for that point past `seconds` (with a safety limit). The
   * first run starts the threads; later runs continue them. Must throw (or reject with) an
   * error whose `code` is `THREAD_FAILED` and whose `threadName` names the thread when a thread
   * body throws or misuses `Sys`.
   */
  run(seconds: number, until?: () => boolean): void | Promise<void>;
  /** Release the engine (stop workers); called once after the case, also when it failed. */
  close?(): void | Promise<void>;
}

/** Makes a fresh engine for one case. */
export type EngineFactory = () => ConformanceEngine;

/** An engine as a case drives it: threads are given by component only. */
export interface CaseEngine extends Omit<ConformanceEngine, 'createThread' | 'close'> {
  /** Create a thread, ready to run; returns its id. */
  createThread(spec: ConformanceThreadSpec): ThreadId;
}

/** One engine-independent assertion about `Sys` semantics. */
export interface ConformanceCase {
  /** What part of `Sys` it covers. */
  readonly area: 'ipc' | 'memory' | 'interrupts' | 'preemption' | 'failures';
  /** What it asserts, as a sentence (with the L4 X.2 or issue reference where it fixes one). */
  readonly name: string;
  /** Run it on a fresh engine; throws {@link ConformanceError} when the engine deviates. */
  run(make: EngineFactory): Promise<void>;
}

/** A conformance case found the engine deviating. Code `CONFORMANCE`. */
export class ConformanceError extends UdfError {
  /** @param message - what differed */
  constructor(message: string) {
    super('CONFORMANCE', message);
  }
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Deep equality of plain data; throws {@link ConformanceError} naming `what`. */
export function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!same(actual, expected)) {
    throw new ConformanceError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Every key of `expected` equals the same key of `actual` (deeply). */
export function expectMatch(
  actual: unknown,
  expected: Record<string, unknown>,
  what: string,
): void {
  if (typeof actual !== 'object' || actual === null) {
    throw new ConformanceError(
      `${what}: expected an object like ${show(expected)}, got ${show(actual)}`,
    );
  }
  for (const [k, v] of Object.entries(expected)) {
    if (!same((actual as Record<string, unknown>)[k], v)) {
      throw new ConformanceError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
    }
  }
}

/** Run `body` on a fresh engine from `make`, and close the engine afterwards. */
export async function withEngine(
  make: EngineFactory,
  body: (engine: CaseEngine) => Promise<void>,
): Promise<void> {
  const engine = make();
  const view: CaseEngine = {
    hz: engine.hz,
    createSpace: (name) => engine.createSpace(name),
    createThread: (spec) => {
      let built: ThreadBody | undefined;
      const options = { ...spec } as ConformanceThreadOptions;
      // lazy and not enumerable: an engine that spreads the options does not build the body
      Object.defineProperty(options, 'body', {
        get: () => {
          built ??= buildComponent(spec.component);
          return built;
        },
      });
      return engine.createThread(options);
    },
    mapAnonymous: (space, vaddr, bytes, rights) => engine.mapAnonymous(space, vaddr, bytes, rights),
    interruptLine: (line) => engine.interruptLine(line),
    run: (seconds, until) => engine.run(seconds, until),
  };
  try {
    await body(view);
  } finally {
    await engine.close?.();
  }
}

/** Run the engine and return the error it throws, or null. */
export async function runCatching(engine: CaseEngine, seconds: number): Promise<unknown> {
  try {
    await engine.run(seconds);
    return null;
  } catch (e) {
    return e;
  }
}
