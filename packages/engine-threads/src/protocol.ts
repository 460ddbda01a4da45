/**
 * Messages between the engine (main thread) and a domain worker. Plain data only.
 *
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import type { ComponentRef } from './component.js';
import type { ThreadFailureKind } from './errors.js';
import type { KernelRequest } from './kernel-link.js';
import type { MemoryUpdate } from './mapping-db.js';
import type { PhysicalRegion } from './physical-memory.js';
import type { WireSpec } from './wire.js';

/** A device register window mapped into a domain: plain data. */
export interface DeviceMapping {
  /** Virtual address of the window. */
  readonly vaddr: number;
  /** Bytes of the window. */
  readonly size: number;
  /** The device's MMIO ring. */
  readonly ring: SharedArrayBuffer;
  /** The device worker's doorbell. */
  readonly bell: SharedArrayBuffer;
  /** The device's status page (status words a read takes without the device). */
  readonly status?: SharedArrayBuffer;
}

/** What the device worker is started with. */
export interface DeviceWorkerData {
  /** For the TypeScript bootstrap used under vitest: the entry module to import. */
  readonly entry?: string;
  /** The kernel region (interrupt delivery writes control blocks). */
  readonly kernel: SharedArrayBuffer;
  /** The interrupt table (null: no lines). */
  readonly irqTable: SharedArrayBuffer | null;
  /** Clock rate. */
  readonly hz: number;
  /** Shared-clock milliseconds of cycle 0. */
  readonly epochMs: number;
  /** Microseconds the worker spins on its doorbell before it waits. */
  readonly spinMicros: number;
  /** The worker's doorbell (one Int32 word): rung by every MMIO post. */
  readonly bell: SharedArrayBuffer;
  /** Every physical region at start (DMA reaches all memory). */
  readonly regions: readonly PhysicalRegion[];
  /** Regions created at run time arrive here (taken with `receiveMessageOnPort`). */
  readonly regionPort: MessagePort;
  /** The devices: model reference, MMIO ring, wire. */
  readonly devices: readonly {
    readonly name: string;
    readonly component: ComponentRef;
    /** One MMIO ring per domain the device is mapped into. */
    readonly rings: readonly SharedArrayBuffer[];
    /** The device's status page (`DeviceHost.statusWord` hands out its words). */
    readonly status: SharedArrayBuffer;
    readonly wire?: WireSpec;
  }[];
}

/** A report from the device worker. */
export type DeviceWorkerReport =
  | {
      readonly type: 'ready';
      /** Bound address of each UDP wire, by device name. */
      readonly addresses: Readonly<Record<string, { address: string; port: number }>>;
    }
  | { readonly type: 'stopped'; readonly counters: Readonly<Record<string, number>> }
  | { readonly type: 'failed'; readonly message: string };

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
    /** The thread's pager (0: none). */
    readonly pager: number;
  }[];
  /** The interrupt table (null: no interrupt lines). */
  readonly irqTable: SharedArrayBuffer | null;
  /** The domain's page table at start, with the regions it holds. */
  readonly memory: MemoryUpdate;
  /** The kernel link region (RPC slot and page-table generation per domain; `kernel-link.ts`). */
  readonly link: SharedArrayBuffer;
  /** The domain's memory port: page-table updates arrive here (taken with `receiveMessageOnPort`). */
  readonly memoryPort: MessagePort;
  /** Device register windows mapped into the domain. */
  readonly devices: readonly DeviceMapping[];
  /** The counter board (`counter-board.ts`): the scheduler publishes to record `domain`. */
  readonly board: SharedArrayBuffer;
}

/** A report (or kernel request) from a domain worker to the engine. */
export type WorkerReport =
  | { readonly type: 'ready' }
  | KernelRequest
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
