/**
 * Driver–client sessions (paper section 4.2) and buffer-reference validation (section 4.4).
 *
 * A session is long-lived: dataspaces are associated with it once, at setup, and stay for its
 * lifetime. Work descriptors then name buffers as (dataspace, offset, length), and validation is
 * "the dataspace belongs to this session and the range lies inside it". Many client-level
 * sessions (UDP flows, TCP connections) ride on one driver session; they all validate here.
 *
 * @module
 */
import { DataspaceError } from './errors.js';
import { MAX_REFERENCE_END } from './page.js';

/**
 * Result of {@link Session.validate}: `OK` or the reason a buffer reference is dropped.
 * Numeric so the hot path allocates nothing.
 */
export const ValidationStatus = {
  /** The reference lies inside a dataspace of the session. */
  OK: 0,
  /** The dataspace is not associated with this session (unknown, closed, or another client's). */
  FOREIGN_DATASPACE: 1,
  /** The range ends past the end of the dataspace. */
  OUT_OF_RANGE: 2,
  /** The length is not an integer in `[1, 2^32)` (zero, negative, NaN, fractional, too large). */
  BAD_LENGTH: 3,
  /** The offset is not a 32-bit unsigned integer, or offset + length passes 2^32 (wrap-around). */
  OVERFLOW: 4,
} as const;

/** One of the {@link ValidationStatus} values. */
export type ValidationStatus = (typeof ValidationStatus)[keyof typeof ValidationStatus];

/** Number of distinct {@link ValidationStatus} values (length of {@link Session.counters}). */
export const VALIDATION_STATUS_COUNT = 5;

/** What a session knows of an associated dataspace: its id and its size in bytes (from the manager). */
export interface SessionDataspace {
  /** Dataspace id as its manager assigned it. */
  readonly id: number;
  /** Size in bytes as the manager reported it (never as a client claimed it). */
  readonly size: number;
}

/** Options of a {@link Session}. */
export interface SessionOptions {
  /** A number naming the session in counters and logs. Default 0. */
  readonly id?: number;
  /** Most dataspaces the session may hold. Default 16. */
  readonly maxDataspaces?: number;
}

/**
 * The driver side of a driver–client session: the dataspaces associated with it and the
 * cheap, allocation-free validation of buffer references against them.
 */
export class Session {
  /** The session's number. */
  readonly id: number;
  /** Most dataspaces the session may hold. */
  readonly maxDataspaces: number;
  /**
   * Validation results by {@link ValidationStatus} (index `OK` counts accepted references).
   * Float64 so the counters do not wrap at 2^32.
   */
  readonly counters: Float64Array = new Float64Array(VALIDATION_STATUS_COUNT);
  private readonly sizes = new Map<number, number>();

  /** An empty session. */
  constructor(options: SessionOptions = {}) {
    this.id = options.id ?? 0;
    this.maxDataspaces = options.maxDataspaces ?? 16;
    if (!Number.isInteger(this.maxDataspaces) || this.maxDataspaces <= 0) {
      throw new DataspaceError('DS_BAD_ARGUMENT', `maxDataspaces must be a positive integer`);
    }
  }

  /**
   * Associate a dataspace with the session for its lifetime. Setup path: throws
   * {@link DataspaceError} on a bad id or size, a duplicate, or a full session.
   */
  add(dataspace: SessionDataspace): void {
    const { id, size } = dataspace;
    if (!Number.isInteger(id) || id <= 0) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `dataspace id must be a positive integer, got ${id}`,
      );
    }
    if (!Number.isInteger(size) || size <= 0 || size > MAX_REFERENCE_END) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `dataspace size must be an integer in [1, 2^32], got ${size}`,
      );
    }
    if (this.sizes.has(id)) {
      throw new DataspaceError('DS_DUPLICATE', `dataspace ${id} is already in session ${this.id}`);
    }
    if (this.sizes.size >= this.maxDataspaces) {
      throw new DataspaceError(
        'DS_SESSION_FULL',
        `session ${this.id} holds ${this.maxDataspaces} dataspaces already`,
      );
    }
    this.sizes.set(id, size);
  }

  /** Remove a dataspace (session teardown or the dataspace was closed). Returns whether it was there. */
  remove(id: number): boolean {
    return this.sizes.delete(id);
  }

  /** True if the dataspace is associated with the session. */
  has(id: number): boolean {
    return this.sizes.has(id);
  }

  /** Size in bytes of an associated dataspace, or -1. */
  sizeOf(id: number): number {
    return this.sizes.get(id) ?? -1;
  }

  /** Ids of the associated dataspaces (a fresh array: not for the hot path). */
  dataspaceIds(): number[] {
    return [...this.sizes.keys()];
  }

  /**
   * Validate a buffer reference `(dataspaceId, offset, length)` taken from a work descriptor.
   * Hot path: no allocation, no throw; counts the result in {@link counters}.
   */
  validate(dataspaceId: number, offset: number, length: number): ValidationStatus {
    const status = this.check(dataspaceId, offset, length);
    this.counters[status]++;
    return status;
  }

  /** Count of references that ended with `status`. */
  count(status: ValidationStatus): number {
    return this.counters[status]!;
  }

  /** References rejected for any reason. */
  get dropped(): number {
    const c = this.counters;
    return c[1]! + c[2]! + c[3]! + c[4]!;
  }

  private check(dataspaceId: number, offset: number, length: number): ValidationStatus {
    const size = this.sizes.get(dataspaceId);
    if (size === undefined) return ValidationStatus.FOREIGN_DATASPACE;
    // `x >>> 0 === x` holds exactly for integers in [0, 2^32): it rejects NaN, negatives,
    // fractions and anything a 32-bit descriptor field could not have carried.
    if (length >>> 0 !== length || length === 0) return ValidationStatus.BAD_LENGTH;
    if (offset >>> 0 !== offset) return ValidationStatus.OVERFLOW;
    const end = offset + length;
    if (end > MAX_REFERENCE_END) return ValidationStatus.OVERFLOW;
    if (end > size) return ValidationStatus.OUT_OF_RANGE;
    return ValidationStatus.OK;
  }
}
