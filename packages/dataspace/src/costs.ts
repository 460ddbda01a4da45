/**
 * Cycle costs the dataspace framework charges on the sim engine (`sys.charge`). Every figure is
 * an instruction-count estimate for the paper's 2.66 GHz Pentium 4 Xeon (about one instruction
 * per cycle on this integer, cache-resident code; a last-level cache miss ~ 200 cycles is
 * charged only where a table line is likely cold). `bench/index.ts` measures the same
 * operations in JavaScript on the host to show their relative weight. Override any constant by
 * passing a partial table as `costs` to {@link AnonymousManager} or {@link TranslationCache}.
 *
 * @module
 */
import type { Cycles } from '@udf/l4-kernel';

/** The cost table of the dataspace framework; see {@link DATASPACE_COSTS}. */
export interface DataspaceCosts {
  /**
   * Driver: translation-cache hit (segment lookup, entry load, valid check, address arithmetic;
   * ~30 instructions plus one probably-warm cache line). Category `Translation`.
   */
  readonly lookupHit: Cycles;
  /** Driver: translation-cache miss detected (same path, failing the valid check). Category `Translation`. */
  readonly lookupMiss: Cycles;
  /** Driver: set or clear the advisory pin bit (one locked `or`/`and`, ~100 cycles on a P4). Category `Translation`. */
  readonly pinBit: Cycles;
  /** Driver: marshal a refill request and install the reply, excluding the IPC itself. Category `Translation`. */
  readonly refillClient: Cycles;
  /**
   * Manager: handle a refill (authority check, frame lookup, entry write, pin/lease bookkeeping;
   * ~250 instructions plus one cold table line). Category `Translation`.
   */
  readonly refillManager: Cycles;
  /** Manager: handle a map-on-fault request (rights check, map item construction; ~600 instructions). Charged as `User`. */
  readonly faultManager: Cycles;
  /** Manager: one entry examined by the periodic pin scan. Category `Translation`. */
  readonly pinScanEntry: Cycles;
  /**
   * Driver: validate one buffer reference against the session (hash lookup, 4 compares;
   * ~25 instructions). Charged by the driver to its own category (the paper counts it as `Driver`).
   */
  readonly validate: Cycles;
}

/** Default cost table (cycles of the paper's 2.66 GHz machine). */
export const DATASPACE_COSTS: DataspaceCosts = {
  lookupHit: 40,
  lookupMiss: 30,
  pinBit: 100,
  refillClient: 120,
  refillManager: 450,
  faultManager: 600,
  pinScanEntry: 8,
  validate: 25,
};

/** Merge overrides into the default table. */
export function resolveCosts(overrides?: Partial<DataspaceCosts>): DataspaceCosts {
  return { ...DATASPACE_COSTS, ...overrides };
}
