/**
 * The session-open protocol (paper section 4.2): after sharing its buffer dataspace with the
 * driver, the client opens the session by IPC, naming the session (its index in the plan), the
 * control region's address, the ring capacity and the dataspace. The driver checks each word
 * against its own configuration and the sender's identity before it associates the dataspace.
 *
 * Message words: `[session, controlVaddr, ringCapacity, dataspaceId]`.
 *
 * @module
 */

/** Label of a session-open request (client → driver). */
export const SESSION_OPEN_LABEL = 0x5345;
/** Label of the driver's reply when the session is open. */
export const SESSION_OPEN_OK = 0x4f4b;
/** Label of the driver's reply when the request did not match its configuration. */
export const SESSION_OPEN_REFUSED = 0x4e4f;
