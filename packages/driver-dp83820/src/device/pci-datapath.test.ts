import { describe, expect, it } from 'vitest';
import { buildRxChain, makeFrame, RecordingPeer, sendAtLineRate } from '../testing/frames.js';
import { TestHost } from '../testing/test-host.js';
import { Dp83820 } from './dp83820.js';
import { type BusRequest, PciBus } from './pci-bus.js';
import {
  CFG,
  CR,
  DESC_LAYOUT_32,
  linuxData64,
  mxdma,
  Reg,
  RFCR,
  rxDrainThresholdBytes,
  TXCFG,
  txDrainThresholdBytes,
  txFillThresholdBytes,
} from './registers.js';
import { burstClocks, DEFAULT_DP83820_TIMING, PCI_33MHZ, PCI_66MHZ } from './timing.js';

const MAC = [0x02, 0, 0, 0, 0, 0x01];
const PEER = [0x02, 0, 0, 0, 0, 0x99];

/** One master writing `bursts` bursts of `bytes` back to back; returns the bus clocks used. */
function busClocks(dataBytes: number | undefined, bytes: number, bursts: number, clockHz: number) {
  const host = new TestHost();
  const bus = new PciBus(host, { pciClockHz: clockHz });
  let left = bursts;
  const master: BusRequest = {
    busBytes: bytes,
    busRead: false,
    busDac: false,
    ...(dataBytes !== undefined ? { busDataBytes: dataBytes } : {}),
    busComplete() {
      if (--left > 0) bus.request(master);
    },
  };
  bus.request(master);
  host.runFor(0.01);
  return bus.stats.busyCycles / (host.hz / clockHz);
}

describe('the PCI data path', () => {
  it('a master with DATA64_EN off moves half the data per bus clock of its data phases', () => {
    for (const clock of [PCI_33MHZ, PCI_66MHZ]) {
      const overhead = burstClocks(DEFAULT_DP83820_TIMING, 0, false, false);
      const wide = busClocks(8, 512, 100, clock) / 100 - overhead;
      const narrow = busClocks(4, 512, 100, clock) / 100 - overhead;
      expect(wide).toBeCloseTo(64, 0);
      expect(narrow).toBeCloseTo(128, 0);
    }
  });

  it('reports PCI64_DET only in a 64-bit slot, and loads DATA64_EN from the EEPROM', () => {
    const host = new TestHost();
    const cases = [
      { busBytes: 8, eeprom64: true, det: true, data64: true, width: 8 },
      { busBytes: 8, eeprom64: false, det: true, data64: false, width: 4 },
      { busBytes: 4, eeprom64: true, det: false, data64: true, width: 4 },
    ];
    for (const c of cases) {
      const dev = new Dp83820({
        host,
        irqLine: 5,
        mac: MAC,
        eeprom64: c.eeprom64,
        timing: { pciBusBytes: c.busBytes },
      });
      const cfg = dev.read32(Reg.CFG);
      expect((cfg & CFG.PCI64_DET) !== 0).toBe(c.det);
      expect((cfg & CFG.DATA64_EN) !== 0).toBe(c.data64);
      expect(dev.dataBytes).toBe(c.width);
    }
  });

  it("Linux's EEPROM-decides rule keeps DATA64_EN only when the EEPROM set it in a 64-bit slot", () => {
    expect(linuxData64(CFG.PCI64_DET | CFG.DATA64_EN)).toBe(CFG.DATA64_EN);
    expect(linuxData64(CFG.PCI64_DET)).toBe(0);
    expect(linuxData64(CFG.DATA64_EN)).toBe(0);
  });

  it('a driver writing CFG without DATA64_EN narrows the data path; writing it back widens it', () => {
    const host = new TestHost();
    const dev = new Dp83820({ host, irqLine: 5, mac: MAC });
    expect(dev.dataBytes).toBe(8);
    dev.write32(Reg.CFG, dev.read32(Reg.CFG) & ~CFG.DATA64_EN);
    expect(dev.dataBytes).toBe(4);
    dev.write32(Reg.CFG, dev.read32(Reg.CFG) | CFG.DATA64_EN);
    expect(dev.dataBytes).toBe(8);
  });

  it('receiving the same frames occupies the bus almost twice as long with the EEPROM leaving DATA64_EN clear', () => {
    const busy = (eeprom64: boolean) => {
      const host = new TestHost({ memoryBytes: 1 << 22 });
      const dev = new Dp83820({ host, irqLine: 5, mac: MAC, eeprom64 });
      dev.port.connect(new RecordingPeer(host));
      buildRxChain(host, DESC_LAYOUT_32, 0x1000, 0x10000, 64, 2048, true);
      dev.write32(Reg.RFCR, RFCR.RFEN | RFCR.AAB | RFCR.APM);
      dev.write32(Reg.RXCFG, mxdma(512));
      dev.write32(Reg.RXDP, 0x1000);
      dev.write32(Reg.CR, CR.RXE);
      const frames = Array.from({ length: 40 }, (_, i) => makeFrame(MAC, PEER, 1024, i));
      const before = dev.bus.stats.busyCycles;
      sendAtLineRate(host, dev.port, frames);
      host.runFor(0.002);
      expect(dev.stats.rxDelivered).toBe(40);
      return dev.bus.stats.busyCycles - before;
    };
    const ratio = busy(false) / busy(true);
    expect(ratio).toBeGreaterThan(1.6);
    expect(ratio).toBeLessThan(2);
  });

  it('decodes the fill and drain thresholds Linux and FreeBSD program', () => {
    // Linux ns83820: TXCFG_MXDMA512 | ((1600 / 32) * 0x100); RXCFG drain field left 0.
    const linuxTx = (TXCFG.CSI | TXCFG.HBI | TXCFG.ATP | mxdma(512) | ((1600 / 32) << 8)) >>> 0;
    expect(txFillThresholdBytes(linuxTx)).toBe(1600);
    expect(txDrainThresholdBytes(linuxTx)).toBe(0);
    // FreeBSD if_nge: NGE_TXCFG_FILL(64) | NGE_TXCFG_DRAIN(6400); NGE_RXCFG_DRAIN(64).
    const bsdTx = (((64 >> 5) << 8) | (6400 >> 5)) >>> 0;
    expect(txFillThresholdBytes(bsdTx)).toBe(64);
    expect(txDrainThresholdBytes(bsdTx)).toBe(6400);
    expect(rxDrainThresholdBytes(((64 >> 3) << 1) & 0x3e)).toBe(64);
  });
});
