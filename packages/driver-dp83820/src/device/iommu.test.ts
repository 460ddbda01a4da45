/**
 * The attack the paper concedes ("nearly all hardware is unable to restrict what a driver can
 * access via DMA. On such a hardware platform, a malicious driver can always corrupt a system"),
 * at device level: a driver programs descriptors whose buffer pointers name memory of another
 * domain. Without an IOMMU the NIC overwrites (or leaks) it; behind an IOMMU the burst is
 * refused, counted, and the device halts until the supervisor resets it.
 */
import { IOMMU_READ, IOMMU_WRITE, IommuTable, PinPolicy, TranslationTable } from '@udf/dataspace';
import { describe, expect, it } from 'vitest';
import {
  cmdstsAt,
  makeFrame,
  RecordingPeer,
  sendAtLineRate,
  writeDesc,
} from '../testing/frames.js';
import { TestHost } from '../testing/test-host.js';
import { Dp83820 } from './dp83820.js';
import { CMDSTS, CR, DESC_LAYOUT_32, ISR, mxdma, Reg, RFCR } from './registers.js';

const MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const PEER = [0x02, 0x00, 0x00, 0x00, 0x00, 0x99];
const L32 = DESC_LAYOUT_32;
const PAGE = 4096;
const MEMORY = 1 << 20;
/** The driver's DMA region (descriptor rings), granted to the domain at setup. */
const RX_DESCS = 0x1000;
const TX_DESCS = 0x2000;
/** The driver's session buffers, entered by the manager. */
const BUFS = 0x10000;
const BUF = 2048;
/** Another domain's translation table: the victim. */
const VICTIM = 0xc0000;
/** The IOMMU table (no one's DMA may reach it). */
const IOMMU_AT = 0xf0000;
const FAULT_LINE = 7;

interface Setup {
  host: TestHost;
  dev: Dp83820;
  peer: RecordingPeer;
  iommu: IommuTable | null;
  victim: TranslationTable;
  w: (off: number, v: number) => void;
  r: (off: number) => number;
}

function setup(withIommu: boolean): Setup {
  const host = new TestHost({ memoryBytes: MEMORY });
  const buffer = host.memory.bytes.buffer as SharedArrayBuffer;
  const victim = new TranslationTable(buffer, VICTIM, 64);
  victim.format(PinPolicy.PIN_BIT);
  victim.install(0, 0x1234, Number.POSITIVE_INFINITY, true);
  let iommu: IommuTable | null = null;
  if (withIommu) {
    iommu = new IommuTable(buffer, IOMMU_AT, IommuTable.framesFor(MEMORY));
    iommu.format();
    iommu.grant(RX_DESCS, 2 * PAGE, IOMMU_READ | IOMMU_WRITE); // the realiser: rings
    iommu.grant(BUFS, 8 * PAGE, IOMMU_READ | IOMMU_WRITE); // the manager: session buffers
  }
  const dev = new Dp83820({
    host,
    irqLine: 5,
    mac: MAC,
    ...(iommu ? { iommu: { table: iommu, faultLine: FAULT_LINE } } : {}),
  });
  const peer = new RecordingPeer(host);
  dev.port.connect(peer);
  return {
    host,
    dev,
    peer,
    iommu,
    victim,
    w: (off, v) => dev.write32(off, v),
    r: (off) => dev.read32(off),
  };
}

/** The malicious driver's receive ring: slot 0 legitimate, slot 1 aimed at `target`, slot 2 legitimate. */
function hostileRx(s: Setup, target: number): void {
  writeDesc(s.host, L32, RX_DESCS, RX_DESCS + 16, BUFS, CMDSTS.INTR | BUF);
  writeDesc(s.host, L32, RX_DESCS + 16, RX_DESCS + 32, target, CMDSTS.INTR | BUF);
  writeDesc(s.host, L32, RX_DESCS + 32, 0, BUFS + BUF, CMDSTS.INTR | BUF);
  s.w(Reg.RFCR, RFCR.RFEN | RFCR.AAB | RFCR.APM);
  s.w(Reg.RXCFG, mxdma(512));
  s.w(Reg.RXDP, RX_DESCS);
  s.w(Reg.CR, CR.RXE);
}

function victimBytes(s: Setup): Uint8Array {
  return s.host.memory.bytes.slice(VICTIM, VICTIM + 256);
}

describe('DMA into another domain, receive side', () => {
  it('without an IOMMU, a received frame overwrites the victim (the attack succeeds)', () => {
    const s = setup(false);
    hostileRx(s, VICTIM);
    const frames = [0, 1, 2].map((i) => makeFrame(MAC, PEER, 200, i));
    sendAtLineRate(s.host, s.dev.port, frames);
    s.host.runFor(100e-6);
    expect(s.host.memory.bytes.subarray(VICTIM, VICTIM + 200)).toEqual(frames[1]);
    expect(s.victim.formatted).toBe(false); // its header is now frame bytes
    expect(s.dev.stats.rxDelivered).toBe(3);
    expect(s.dev.stats.iommuFaults).toBe(0);
  });

  it('behind an IOMMU, the burst is refused: no byte moves, counted, device halted, fault raised', () => {
    const s = setup(true);
    const before = victimBytes(s);
    hostileRx(s, VICTIM);
    const frames = [0, 1, 2].map((i) => makeFrame(MAC, PEER, 200, i));
    sendAtLineRate(s.host, s.dev.port, frames);
    s.host.runFor(100e-6);
    expect(victimBytes(s)).toEqual(before);
    expect(s.victim.formatted).toBe(true);
    expect(s.victim.frame(0)).toBe(0x1234);
    // The legitimate frame before the hostile slot was delivered; nothing after it.
    expect(s.host.memory.bytes.subarray(BUFS, BUFS + 200)).toEqual(frames[0]);
    expect(s.dev.stats.rxDelivered).toBe(1);
    expect(cmdstsAt(s.host, L32, RX_DESCS + 16) & CMDSTS.OWN).toBe(0); // never written back
    expect(s.dev.stats.iommuFaults).toBe(1);
    expect(s.dev.iommuFaulted).toBe(true);
    expect(s.iommu!.faults).toBe(1);
    expect(s.iommu!.lastFaultAddress).toBe(VICTIM);
    expect(s.iommu!.lastFaultAccess).toBe(IOMMU_WRITE);
    expect(s.host.irq(FAULT_LINE).level).toBe(true);
    expect(s.r(Reg.ISR) & ISR.RTABT).not.toBe(0);
  });

  it('a halted device moves nothing, whatever the driver kicks, until CR.RST; then it works again', () => {
    const s = setup(true);
    hostileRx(s, VICTIM);
    sendAtLineRate(
      s.host,
      s.dev.port,
      [0, 1].map((i) => makeFrame(MAC, PEER, 200, i)),
    );
    s.host.runFor(50e-6);
    expect(s.dev.iommuFaulted).toBe(true);
    // The driver re-points the ring at its own buffer and kicks: still halted.
    writeDesc(s.host, L32, RX_DESCS + 16, 0, BUFS + 2 * BUF, CMDSTS.INTR | BUF);
    s.w(Reg.CR, CR.RXE);
    s.w(Reg.CR, CR.TXE);
    sendAtLineRate(s.host, s.dev.port, [makeFrame(MAC, PEER, 200, 9)]);
    s.host.runFor(50e-6);
    expect(s.dev.stats.rxDelivered).toBe(1);
    expect(s.dev.stats.iommuFaults).toBe(1);
    // The supervisor resets the device: the fault clears and the line drops.
    s.w(Reg.CR, CR.RST);
    expect(s.dev.iommuFaulted).toBe(false);
    expect(s.host.irq(FAULT_LINE).level).toBe(false);
    hostileRx(s, BUFS + 3 * BUF); // an honest ring this time
    sendAtLineRate(
      s.host,
      s.dev.port,
      [0, 1, 2].map((i) => makeFrame(MAC, PEER, 200, i)),
    );
    s.host.runFor(100e-6);
    expect(s.dev.stats.rxDelivered).toBe(4);
    expect(s.dev.stats.iommuFaults).toBe(1);
  });

  it('refuses a descriptor ring outside the domain (the fetch itself)', () => {
    const s = setup(true);
    s.w(Reg.RFCR, RFCR.RFEN | RFCR.APM);
    s.w(Reg.RXDP, VICTIM);
    s.w(Reg.CR, CR.RXE);
    sendAtLineRate(s.host, s.dev.port, [makeFrame(MAC, PEER, 200, 0)]);
    s.host.runFor(50e-6);
    expect(s.dev.stats.iommuFaults).toBe(1);
    expect(s.iommu!.lastFaultAddress).toBe(VICTIM);
    expect(s.iommu!.lastFaultAccess).toBe(IOMMU_READ);
    expect(s.victim.formatted).toBe(true);
  });

  it('refuses a receive into a frame the domain may only read', () => {
    const s = setup(true);
    s.iommu!.setAccess((BUFS + 4 * BUF) / PAGE, IOMMU_READ);
    hostileRx(s, BUFS + 4 * BUF);
    sendAtLineRate(
      s.host,
      s.dev.port,
      [0, 1].map((i) => makeFrame(MAC, PEER, 200, i)),
    );
    s.host.runFor(50e-6);
    expect(s.dev.stats.rxDelivered).toBe(1);
    expect(s.dev.stats.iommuFaults).toBe(1);
    expect(
      s.host.memory.bytes.subarray(BUFS + 4 * BUF, BUFS + 4 * BUF + 200).every((b) => b === 0),
    ).toBe(true);
  });
});

describe('DMA from another domain, transmit side', () => {
  function hostileTx(s: Setup, source: number): void {
    s.host.memory.bytes.set(makeFrame(PEER, MAC, 200, 0), BUFS);
    writeDesc(s.host, L32, TX_DESCS, TX_DESCS + 16, BUFS, CMDSTS.OWN | 200);
    writeDesc(s.host, L32, TX_DESCS + 16, 0, source, CMDSTS.OWN | 256);
    s.w(Reg.TXCFG, mxdma(512));
    s.w(Reg.TXDP, TX_DESCS);
    s.w(Reg.CR, CR.TXE);
  }

  it('without an IOMMU, the victim\u2019s memory leaks onto the wire', () => {
    const s = setup(false);
    hostileTx(s, VICTIM);
    s.host.runFor(100e-6);
    expect(s.peer.frames.length).toBe(2);
    expect(s.peer.frames[1]).toEqual(victimBytes(s));
  });

  it('behind an IOMMU, the read is refused: nothing of the victim leaves, device halted', () => {
    const s = setup(true);
    hostileTx(s, VICTIM);
    s.host.runFor(100e-6);
    expect(s.peer.frames.length).toBe(1);
    expect(s.peer.frames[0]).toEqual(makeFrame(PEER, MAC, 200, 0));
    expect(s.dev.stats.iommuFaults).toBe(1);
    expect(s.iommu!.lastFaultAccess).toBe(IOMMU_READ);
    expect(s.r(Reg.ISR) & ISR.RTABT).not.toBe(0);
  });
});

describe('the IOMMU does not disturb legitimate DMA', () => {
  it('delivers and sends everything inside the domain, with no fault', () => {
    const s = setup(true);
    hostileRx(s, BUFS + 2 * BUF); // three honest slots
    const frames = [0, 1, 2].map((i) => makeFrame(MAC, PEER, 1514, i));
    sendAtLineRate(s.host, s.dev.port, frames);
    s.host.memory.bytes.set(makeFrame(PEER, MAC, 1000, 5), BUFS + 5 * BUF);
    writeDesc(s.host, L32, TX_DESCS, 0, BUFS + 5 * BUF, CMDSTS.OWN | 1000);
    s.w(Reg.TXCFG, mxdma(512));
    s.w(Reg.TXDP, TX_DESCS);
    s.w(Reg.CR, CR.TXE);
    s.host.runFor(200e-6);
    expect(s.dev.stats.rxDelivered).toBe(3);
    expect(s.peer.frames).toEqual([makeFrame(PEER, MAC, 1000, 5)]);
    expect(s.dev.stats.iommuFaults).toBe(0);
    expect(s.iommu!.faults).toBe(0);
  });

  it('refuses a device built on an unformatted table', () => {
    const host = new TestHost({ memoryBytes: MEMORY });
    const table = new IommuTable(host.memory.bytes.buffer as SharedArrayBuffer, IOMMU_AT, 256);
    expect(() => new Dp83820({ host, irqLine: 5, mac: MAC, iommu: { table } })).toThrow(
      /not formatted/,
    );
  });
});
