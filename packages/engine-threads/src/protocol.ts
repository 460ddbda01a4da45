/**
 * Messages between the engine (main thread) and a domain worker. Plain data only.
 *
 * @module
 */
import type { ComponentRef } from './component.js';
import type { ThreadFailureKind } from './errors.js';
import type { RegionGrant } from './memory.js';

/** What a domain worker is started with (its `workerData`). */
export interface DomainWorkerData {
  /** For the TypeScript bootstrap used under vitest: the entry module to import. */
  readonly entry?: string;
  /** The kernel region (control blocks, doorbells). */
  readonly kernel: SharedArrayBuffer;
  /** This domain's index. */
  readonly domain: number;
  /** Clock rate for cycle conversions. */
  readonly hz: number;
  /** Shared-clock milliseconds of cycle 0. */
  readonly epochMs: number;
  /** Preemption latch enabled. */
  readonly latch: boolean;
  /** Spin before sleeping, in microseconds. */
  readonly spinMicros: number;
  /** The domain's threads. */
  readonly threads: readonly {
    readonly id: number;
    readonly priority: number;
    readonly component: ComponentRef;
  }[];
  /** The interrupt table (null: no interrupt lines). */
  readonly irqTable: SharedArrayBuffer | null;
  /** Regions granted to the domain. */
  readonly regions: readonly RegionGrant[];
}

/** A report from a domain worker to the engine. */
export type WorkerReport =
  | { readonly type: 'ready' }
  | {
      readonly type: 'exit';
      readonly id: number;
      readonly kind?: ThreadFailureKind;
      readonly message?: string;
      readonly stack?: string;
    }
  | {
      readonly type: 'stopped';
      readonly how: 'done' | 'stopped';
      readonly counters: Readonly<Record<string, number>>;
    };
