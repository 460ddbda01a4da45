/**
 * The device-supervisor protocol (paper section 4.4: "disabling the driver and resetting the
 * device to recover pinned pages"). The dataspace manager cannot touch a device; a privileged
 * device supervisor holds each NIC's register window and owns the reset path. When a driver
 * exceeds its pin quota the manager calls the supervisor ({@link DRIVER_DISABLE_LABEL}, words
 * `[driverThread]`) and waits for the reply before it recovers the driver's pins: the reply
 * comes once the driver's devices are reset (their DMA stopped). The supervisor then tells the
 * driver ({@link DRIVER_DISABLED_LABEL}, no words); an honest driver stops its devices, returns
 * every buffer it holds to its clients `Aborted`, and replies.
 *
 * @module
 */

/** Manager → supervisor: disable the driver thread in word 0 and reset its devices. */
export const DRIVER_DISABLE_LABEL = 0x4453;
/** Supervisor → driver: you are disabled (pin quota exceeded); stop and abort. */
export const DRIVER_DISABLED_LABEL = 0x4444;
/**
 * Supervisor → manager, after a driver died (or hung, or was disabled) and its devices were
 * reset: recover every pin of the driver thread in word 0 and drop its translation caches (their
 * tables are unmapped from the driver and their frames freed), so the restarted driver opens
 * fresh ones. Reply: label `DsStatus.OK`, words `[caches dropped, pins recovered]`; only the
 * supervisor the manager was configured with may ask.
 */
export const DRIVER_RECOVER_LABEL = 0x4452;
/**
 * Driver → supervisor, once all its sessions are open: the session-open records, words
 * `[session, dataspace, session, dataspace, ...]`. The supervisor keeps them and hands them to
 * the driver it restarts, which re-associates the dataspaces without the clients' help.
 */
export const SESSIONS_OPENED_LABEL = 0x534f;
/** Supervisor's reply label: the driver's devices are reset. */
export const SUPERVISOR_OK = 0;
/** Supervisor's reply label: unknown driver or requester; nothing was reset. */
export const SUPERVISOR_REFUSED = 1;
