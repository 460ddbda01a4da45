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
/** Supervisor's reply label: the driver's devices are reset. */
export const SUPERVISOR_OK = 0;
/** Supervisor's reply label: unknown driver or requester; nothing was reset. */
export const SUPERVISOR_REFUSED = 1;
