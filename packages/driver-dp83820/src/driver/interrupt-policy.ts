/**
 * Which interrupt causes the driver enables, as a named policy. The DP83820 can interrupt for
 * many causes (ISR); the driver chooses which through IMR, through the per-descriptor
 * CMDSTS.INTR bit, and by switching causes on and off at run time. How many interrupts a packet
 * costs is therefore a driver decision, not a property of the card, and at 0 µs hold-off it
 * dominates the CPU cost of every user-level placement.
 *
 * Two policies are named:
 *
 * - `ns83820` — the scheme of Linux's `drivers/net/ns83820.c` v0.20 (Linux 2.4.21, 2.6.9):
 *   `ns83820_setup_rx` unmasks RXDESC, RXIDLE, RXORN, RXSOVR, RXRCMP, TXDESC and TXIDLE (and PHY,
 *   not modelled; `ISR_RXOK` is commented out there); the ISR switches TXOK on only when TXIDLE
 *   arrives with frames outstanding (`tx_done_idx != tx_free_idx`) and off again once every frame
 *   is reaped; `ns83820_hard_start_xmit` sets CMDSTS.INTR on one transmit descriptor in every
 *   `NR_TX_DESC / 4` (`tx_intr_idx` advances by `NR_TX_DESC/4`), so TXDESC fires once per 32
 *   frames with the default 128-descriptor ring. Every receive descriptor carries CMDSTS.INTR
 *   (`ns83820_add_rx_skb`), so RXDESC is the per-packet receive interrupt.
 * - `prime` — the paper's driver (section 4.5): the receive causes, and for transmission only the
 *   eventual "transmit queue empty" interrupt (TXIDLE, raised when the engine runs out of
 *   descriptors); no per-descriptor transmit interrupt, no TXDESC and no TXOK. Frames still on
 *   the wire when TXIDLE is read are reaped at the next interrupt. A client relies on the
 *   eventual interrupt instead of notifying the driver of every outgoing packet (notification
 *   avoidance) only while one is due ({@link txInterruptDue}).
 *
 * The functions below are pure: the driver calls them where it writes IMR and CMDSTS.
 *
 * @module
 */
import { CMDSTS, ISR } from '../device/registers.js';

/** The named interrupt policies. */
export type InterruptPolicyName = 'ns83820' | 'prime';

/** Every policy name, for schemas and command lines. */
export const INTERRUPT_POLICIES: readonly InterruptPolicyName[] = ['ns83820', 'prime'];

/** The default policy of the user-level driver (the paper's). */
export const DEFAULT_INTERRUPT_POLICY: InterruptPolicyName = 'prime';

/** Receive causes both policies enable, plus bus errors (RMABT). */
const RX_AND_ERRORS = ISR.RXDESC | ISR.RXIDLE | ISR.RXORN | ISR.RXSOVR | ISR.RXRCMP | ISR.RMABT;

/**
 * The IMR a driver writes when it enables interrupts (TXOK excluded: it is switched on on
 * demand, see {@link txOkAfterIdle}).
 *
 * @param policy - the driver's interrupt policy
 */
export function baseImr(policy: InterruptPolicyName): number {
  switch (policy) {
    case 'ns83820':
      return (RX_AND_ERRORS | ISR.TXDESC | ISR.TXIDLE) >>> 0;
    case 'prime':
      return (RX_AND_ERRORS | ISR.TXIDLE) >>> 0;
  }
}

/**
 * Whether the ISR should switch TXOK on after reading `isr`: ns83820 does when TXIDLE arrives
 * while frames are still outstanding (the engine fetched them all, the last ones are still on the
 * wire), so that their completion interrupts once more; the caller switches it off when every
 * transmit slot is reaped. Prime does not: the transmit-idle interrupt is its eventual transmit
 * interrupt, and completed frames are reaped at the next interrupt of any cause.
 *
 * @param policy - the driver's interrupt policy
 * @param isr - the ISR value just read
 * @param txOutstanding - transmit descriptors handed to the device and not yet reaped
 */
export function txOkAfterIdle(
  policy: InterruptPolicyName,
  isr: number,
  txOutstanding: number,
): boolean {
  return policy === 'ns83820' && (isr & ISR.TXIDLE) !== 0 && txOutstanding > 0;
}

/**
 * Whether a transmit interrupt is still due, so that the driver may sleep without asking its
 * clients to notify it of new frames (the paper's notification avoidance, section 4.5). One is
 * due while frames are outstanding and either the transmit engine has been kicked since the
 * driver last saw TXIDLE (it will go idle and say so) or TXOK is enabled (the last frame's
 * completion will say so). A TXIDLE the driver has already read promises nothing more: under
 * `prime`, frames still on the wire then complete silently.
 *
 * @param txIdlePending - the engine was kicked after the last ISR read that showed TXIDLE
 * @param txOkEnabled - TXOK is set in IMR
 * @param txOutstanding - transmit descriptors handed to the device and not yet reaped
 */
export function txInterruptDue(
  txIdlePending: boolean,
  txOkEnabled: boolean,
  txOutstanding: number,
): boolean {
  return txOutstanding > 0 && (txIdlePending || txOkEnabled);
}

/**
 * The CMDSTS.INTR bit for the transmit descriptor at `slot` of a ring of `txSlots`: ns83820
 * requests an interrupt on one descriptor in every `txSlots / 4`; prime on none.
 *
 * @param policy - the driver's interrupt policy
 * @param slot - index of the descriptor in the transmit ring
 * @param txSlots - transmit ring size (a multiple of 4)
 */
export function txDescriptorIntr(
  policy: InterruptPolicyName,
  slot: number,
  txSlots: number,
): number {
  if (policy !== 'ns83820') return 0;
  const every = Math.max(1, txSlots >>> 2);
  return slot % every === 0 ? CMDSTS.INTR >>> 0 : 0;
}
