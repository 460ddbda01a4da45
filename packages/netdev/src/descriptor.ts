/**
 * Work descriptors exchanged between a NIC driver and its client (paper section 4.2): each names
 * a buffer inside one of the session's dataspaces, never a raw address.
 *
 * Layout of one descriptor: four little-endian 32-bit words.
 *
 * | word | field | meaning |
 * |---|---|---|
 * | 0 | `dataspace` | id of a dataspace associated with the session |
 * | 1 | `offset` | byte offset of the buffer inside the dataspace |
 * | 2 | `length` | rx: buffer capacity when posted, frame length when returned; tx: frame length |
 * | 3 | `status` | a {@link DescStatus} when returned by the driver; `cookie` bits are the client's |
 *
 * @module
 */

/** Words per descriptor. */
export const DESC_WORDS = 4;
/** Index of the dataspace id word. */
export const DESC_DATASPACE = 0;
/** Index of the offset word. */
export const DESC_OFFSET = 1;
/** Index of the length word. */
export const DESC_LENGTH = 2;
/** Index of the status word. */
export const DESC_STATUS = 3;

/** Status of a descriptor returned by the driver. */
export const DescStatus = {
  /** The work was done: a frame was received into the buffer, or the frame was sent. */
  Ok: 0,
  /** The dataspace is not associated with the session. */
  ForeignDataspace: 1,
  /** The range lies (partly) outside the dataspace. */
  OutOfRange: 2,
  /** Length is zero, larger than the MTU, or too small for a receive buffer. */
  BadLength: 3,
  /** The driver could not translate the buffer to physical memory. */
  TranslationFailed: 4,
  /** The device reported an error (e.g. a receive error or a transmit abort). */
  DeviceError: 5,
  /** The buffer was returned unused because the session or device is shutting down. */
  Aborted: 6,
} as const;

/** A numeric descriptor status. */
export type DescStatus = (typeof DescStatus)[keyof typeof DescStatus];

/** Human-readable name of a status, for counters and logs. */
export function descStatusName(status: number): string {
  for (const [name, value] of Object.entries(DescStatus)) if (value === status) return name;
  return `Unknown(${status})`;
}

/** A buffer reference: a range of a dataspace. */
export interface BufferRef {
  readonly dataspace: number;
  readonly offset: number;
  readonly length: number;
}

/** Largest Ethernet frame without FCS that a session carries (1500 B payload + 14 B header). */
export const MAX_FRAME = 1514;
