import { describe, expect, it } from 'vitest';
import { CMDSTS, ISR } from '../device/registers.js';
import { baseImr, txDescriptorIntr, txInterruptDue, txOkAfterIdle } from './interrupt-policy.js';

describe('interrupt policies', () => {
  it('ns83820 unmasks what Linux ns83820 v0.20 unmasks: RXDESC, TXDESC, TXIDLE, not RXOK or TXOK', () => {
    const imr = baseImr('ns83820');
    for (const cause of [
      ISR.RXDESC,
      ISR.RXIDLE,
      ISR.RXORN,
      ISR.RXSOVR,
      ISR.RXRCMP,
      ISR.TXDESC,
      ISR.TXIDLE,
    ])
      expect(imr & cause).toBe(cause);
    expect(imr & ISR.RXOK).toBe(0);
    expect(imr & ISR.TXOK).toBe(0);
  });

  it('prime unmasks the receive causes and TXIDLE, but no per-descriptor transmit cause', () => {
    const imr = baseImr('prime');
    expect(imr & ISR.RXDESC).toBe(ISR.RXDESC);
    expect(imr & ISR.TXIDLE).toBe(ISR.TXIDLE);
    expect(imr & ISR.TXDESC).toBe(0);
    expect(imr & ISR.TXOK).toBe(0);
  });

  it('ns83820 requests a transmit descriptor interrupt once per NR_TX_DESC/4 frames; prime never', () => {
    const marked = (p: 'ns83820' | 'prime') =>
      Array.from({ length: 128 }, (_, i) => txDescriptorIntr(p, i, 128)).filter((v) => v !== 0);
    expect(marked('ns83820')).toEqual([
      CMDSTS.INTR >>> 0,
      CMDSTS.INTR >>> 0,
      CMDSTS.INTR >>> 0,
      CMDSTS.INTR >>> 0,
    ]);
    expect(marked('prime')).toEqual([]);
  });

  it('ns83820 switches TXOK on only when TXIDLE arrives with frames outstanding; prime never', () => {
    expect(txOkAfterIdle('ns83820', ISR.TXIDLE, 3)).toBe(true);
    expect(txOkAfterIdle('ns83820', ISR.TXIDLE, 0)).toBe(false);
    expect(txOkAfterIdle('ns83820', ISR.RXDESC, 3)).toBe(false);
    expect(txOkAfterIdle('prime', ISR.TXIDLE, 3)).toBe(false);
  });

  it('a transmit interrupt is due only while frames are outstanding and TXIDLE or TXOK is still to come', () => {
    expect(txInterruptDue(true, false, 2)).toBe(true);
    expect(txInterruptDue(false, true, 2)).toBe(true);
    // TXIDLE already read, TXOK off (prime): frames on the wire complete silently.
    expect(txInterruptDue(false, false, 2)).toBe(false);
    expect(txInterruptDue(true, true, 0)).toBe(false);
  });
});
