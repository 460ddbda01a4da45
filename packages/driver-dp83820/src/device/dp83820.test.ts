import { wireSeconds } from '@udf/netdev';
import { describe, expect, it } from 'vitest';
import {
  BROADCAST,
  buildRxChain,
  cmdstsAt,
  makeFrame,
  RecordingPeer,
  sendAtLineRate,
  writeDesc,
} from '../testing/frames.js';
import { TestHost } from '../testing/test-host.js';
import { Dp83820 } from './dp83820.js';
import {
  CFG,
  CMDSTS,
  CR,
  DESC_LAYOUT_32,
  DESC_LAYOUT_64,
  IER_IE,
  ISR,
  mxdma,
  Reg,
  RFCR,
} from './registers.js';

const MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const PEER = [0x02, 0x00, 0x00, 0x00, 0x00, 0x99];
const L32 = DESC_LAYOUT_32;
const RX_DESCS = 0x1000;
const TX_DESCS = 0x2000;
const RX_BUFS = 0x10000;
const TX_BUFS = 0x40000;
const BUF = 2048;

function setup(options: { memoryBytes?: number } = {}) {
  const host = new TestHost(options);
  const dev = new Dp83820({ host, irqLine: 5, mac: MAC });
  const peer = new RecordingPeer(host);
  dev.port.connect(peer);
  const line = host.irq(5);
  const r = (off: number) => dev.read32(off);
  const w = (off: number, v: number) => dev.write32(off, v);
  return { host, dev, peer, line, r, w };
}

/** What a driver does before receiving: filter on, burst size, chain at RXDP, RXE. */
function startRx(s: ReturnType<typeof setup>, n = 8, ring = true) {
  buildRxChain(s.host, L32, RX_DESCS, RX_BUFS, n, BUF, ring);
  s.w(Reg.RFCR, RFCR.RFEN | RFCR.AAB | RFCR.APM);
  s.w(Reg.RXCFG, mxdma(512));
  s.w(Reg.RXDP, RX_DESCS);
  s.w(Reg.CR, CR.RXE);
}

describe('Dp83820 register file', () => {
  it('CR.RST returns every register to its reset value and self-clears', () => {
    const s = setup();
    s.w(Reg.IMR, 0xffff);
    s.w(Reg.IER, 1);
    s.w(Reg.IHR, 3);
    s.w(Reg.TXDP, 0x1234);
    s.w(Reg.RFCR, RFCR.RFEN);
    s.w(Reg.CR, CR.RST);
    expect(s.r(Reg.CR) & CR.RST).toBe(0);
    expect(s.r(Reg.IMR)).toBe(0);
    expect(s.r(Reg.IER)).toBe(0);
    expect(s.r(Reg.IHR)).toBe(0);
    expect(s.r(Reg.TXDP)).toBe(0);
    expect(s.r(Reg.RFCR)).toBe(0);
  });

  it('reads the station address from the perfect-match memory via RFCR/RFDR, as ns83820 does', () => {
    const s = setup();
    const mac: number[] = [];
    for (let i = 0; i < 3; i++) {
      s.w(Reg.RFCR, i * 2);
      const d = s.r(Reg.RFDR);
      mac.push(d & 0xff, (d >>> 8) & 0xff);
    }
    expect(mac).toEqual(MAC);
  });

  it('reports link up, 1000 Mb/s and a 64-bit bus in CFG', () => {
    const s = setup();
    const cfg = s.r(Reg.CFG);
    expect(cfg & CFG.LNKSTS).not.toBe(0);
    expect(cfg & CFG.PCI64_DET).not.toBe(0);
    // Linux decodes speed as ((cfg ^ polarity) / SPDSTS0) & 3 with inverted SPDSTS bits: 2 = 1000.
    const decoded = (((cfg ^ (CFG.SPDSTS | CFG.DUPSTS)) >>> 0) / CFG.SPDSTS0) & 3;
    expect(decoded).toBe(2);
  });

  it('ISR is clear-on-read and collects causes even when masked', () => {
    const s = setup();
    s.w(Reg.CR, CR.SWI);
    expect(s.r(Reg.ISR) & ISR.SWI).not.toBe(0);
    expect(s.r(Reg.ISR)).toBe(0);
    expect(s.line.raises).toBe(0);
  });
});

describe('Dp83820 receive', () => {
  it('writes arriving frames into the posted chain with OWN, OK, length and INTR causes', () => {
    const s = setup();
    startRx(s);
    const frames = [60, 1000, 1514].map((n, i) => makeFrame(MAC, PEER, n, i));
    sendAtLineRate(s.host, s.dev.port, frames);
    s.host.runFor(100e-6);
    for (let i = 0; i < 3; i++) {
      const c = cmdstsAt(s.host, L32, RX_DESCS + i * L32.size);
      expect(c & CMDSTS.OWN).not.toBe(0);
      expect(c & CMDSTS.OK).not.toBe(0);
      expect(c & CMDSTS.DEST_MASK).toBe(CMDSTS.DEST_SELF);
      expect(c & CMDSTS.SIZE_MASK).toBe(frames[i]!.length);
      const got = s.host.memory.bytes.subarray(
        RX_BUFS + i * BUF,
        RX_BUFS + i * BUF + frames[i]!.length,
      );
      expect(got).toEqual(frames[i]);
    }
    expect(cmdstsAt(s.host, L32, RX_DESCS + 3 * L32.size) & CMDSTS.OWN).toBe(0);
    const isr = s.r(Reg.ISR);
    expect(isr & ISR.RXOK).not.toBe(0);
    expect(isr & ISR.RXDESC).not.toBe(0);
    expect(s.dev.stats.rxDelivered).toBe(3);
  });

  it('filters: broadcast accepted with AAB, foreign unicast rejected without AAU', () => {
    const s = setup();
    startRx(s);
    s.dev.port.receive(makeFrame(BROADCAST, PEER, 60));
    s.dev.port.receive(makeFrame([0x02, 0, 0, 0, 0, 0x42], PEER, 60));
    s.host.runFor(50e-6);
    expect(cmdstsAt(s.host, L32, RX_DESCS) & CMDSTS.DEST_MASK).toBe(CMDSTS.DEST_BROADCAST);
    expect(s.dev.stats.rxFiltered).toBe(1);
    expect(s.dev.stats.rxDelivered).toBe(1);
  });

  it('takes DMA time on the bus: delivery completes after the frame arrived, not at once', () => {
    const s = setup();
    startRx(s);
    s.dev.port.receive(makeFrame(MAC, PEER, 1514));
    s.host.runUntil(s.host.now());
    expect(cmdstsAt(s.host, L32, RX_DESCS) & CMDSTS.OWN).toBe(0);
    s.host.runFor(10e-6);
    expect(cmdstsAt(s.host, L32, RX_DESCS) & CMDSTS.OWN).not.toBe(0);
    // 1514 B at 533 MB/s is at least 2.8 µs of data phases alone.
    expect(s.dev.bus.stats.busyCycles).toBeGreaterThan(s.host.cycles(2.8e-6));
  });

  it('signals RXIDLE at the end of the chain and resumes from the FIFO after a refill and RXE kick', () => {
    const s = setup();
    startRx(s, 2, false);
    s.w(Reg.IMR, ISR.RXIDLE);
    s.w(Reg.IER, IER_IE);
    sendAtLineRate(
      s.host,
      s.dev.port,
      [0, 1, 2].map((i) => makeFrame(MAC, PEER, 200, i)),
    );
    s.host.runFor(50e-6);
    expect(s.dev.stats.rxDelivered).toBe(2);
    expect(s.line.level).toBe(true);
    expect(s.r(Reg.ISR) & ISR.RXIDLE).not.toBe(0);
    // Refill: the driver links a fresh descriptor, points RXDP at it and kicks.
    const fresh = RX_DESCS + 2 * L32.size;
    writeDesc(s.host, L32, fresh, 0, RX_BUFS + 2 * BUF, CMDSTS.INTR | BUF);
    s.w(Reg.RXDP, fresh);
    s.w(Reg.CR, CR.RXE);
    s.host.runFor(20e-6);
    expect(s.dev.stats.rxDelivered).toBe(3);
    expect(s.host.memory.bytes[RX_BUFS + 2 * BUF + 20]).toBe((2 + 20) & 0xff);
  });

  it('overruns when no descriptor is free: the 32 KiB FIFO fills, later frames are missed (RXORN, MIB)', () => {
    const s = setup();
    startRx(s, 1, false);
    writeDesc(s.host, L32, RX_DESCS, 0, RX_BUFS, CMDSTS.OWN); // not available
    const frames = Array.from({ length: 40 }, (_, i) => makeFrame(MAC, PEER, 1514, i));
    sendAtLineRate(s.host, s.dev.port, frames);
    s.host.runFor(1e-3);
    const fits = Math.floor((32 * 1024) / 1514);
    expect(s.dev.stats.rxOverruns).toBe(40 - fits);
    expect(s.r(Reg.MIB_RX_MISSED)).toBe(40 - fits);
    const isr = s.r(Reg.ISR);
    expect(isr & ISR.RXORN).not.toBe(0);
    expect(isr & ISR.RXIDLE).not.toBe(0);
  });

  it('drops frames while the receiver is disabled', () => {
    const s = setup();
    s.dev.port.receive(makeFrame(MAC, PEER, 60));
    expect(s.dev.stats.rxDisabledDrops).toBe(1);
  });
});

describe('Dp83820 transmit', () => {
  function postTx(s: ReturnType<typeof setup>, lengths: number[], layout = L32) {
    lengths.forEach((n, i) => {
      const at = TX_DESCS + i * layout.size;
      s.host.memory.bytes.set(makeFrame(PEER, MAC, n, i), TX_BUFS + i * BUF);
      const last = i === lengths.length - 1;
      writeDesc(s.host, layout, at, last ? 0 : at + layout.size, TX_BUFS + i * BUF, CMDSTS.OWN | n);
    });
  }

  it('sends a chain onto the wire at line rate and writes back OWN clear + OK', () => {
    const s = setup();
    s.w(Reg.TXCFG, mxdma(512));
    postTx(s, [1514, 1514, 1514]);
    s.w(Reg.TXDP, TX_DESCS);
    const t0 = s.host.now();
    s.w(Reg.CR, CR.TXE);
    s.host.runFor(200e-6);
    expect(s.peer.frames.map((f) => f.length)).toEqual([1514, 1514, 1514]);
    expect(s.peer.frames[2]).toEqual(makeFrame(PEER, MAC, 1514, 2));
    const perFrame = s.host.cycles(wireSeconds(1514, 1e9));
    expect(s.peer.times[2]! - s.peer.times[0]!).toBeGreaterThanOrEqual(2 * perFrame - 2);
    expect(s.peer.times[0]! - t0).toBeGreaterThan(perFrame);
    for (let i = 0; i < 3; i++) {
      const c = cmdstsAt(s.host, L32, TX_DESCS + i * L32.size);
      expect(c & CMDSTS.OWN).toBe(0);
      expect(c & CMDSTS.OK).not.toBe(0);
    }
    const isr = s.r(Reg.ISR);
    expect(isr & ISR.TXOK).not.toBe(0);
    expect(isr & ISR.TXIDLE).not.toBe(0);
  });

  it('sends a frame split over MORE fragments as one frame', () => {
    const s = setup();
    const frame = makeFrame(PEER, MAC, 1000, 7);
    s.host.memory.bytes.set(frame.subarray(0, 400), TX_BUFS);
    s.host.memory.bytes.set(frame.subarray(400), TX_BUFS + BUF);
    writeDesc(s.host, L32, TX_DESCS, TX_DESCS + 16, TX_BUFS, CMDSTS.OWN | CMDSTS.MORE | 400);
    writeDesc(s.host, L32, TX_DESCS + 16, 0, TX_BUFS + BUF, CMDSTS.OWN | 600);
    s.w(Reg.TXDP, TX_DESCS);
    s.w(Reg.CR, CR.TXE);
    s.host.runFor(50e-6);
    expect(s.peer.frames).toEqual([frame]);
  });

  it('goes TXIDLE on a descriptor it does not own, keeps TXDP there, and resumes on a TXE kick', () => {
    const s = setup();
    postTx(s, [100, 100, 100]);
    // The third descriptor is not handed over yet.
    const third = TX_DESCS + 2 * L32.size;
    s.host.memory.write32(third + L32.cmdsts, 100);
    s.w(Reg.TXDP, TX_DESCS);
    s.w(Reg.CR, CR.TXE);
    s.host.runFor(50e-6);
    expect(s.peer.frames.length).toBe(2);
    expect(s.r(Reg.ISR) & ISR.TXIDLE).not.toBe(0);
    expect(s.r(Reg.TXDP)).toBe(third);
    s.host.memory.write32(third + L32.cmdsts, CMDSTS.OWN | 100);
    s.w(Reg.CR, CR.TXE);
    s.host.runFor(50e-6);
    expect(s.peer.frames.length).toBe(3);
  });

  it('uses the 64-bit descriptor layout when CFG.M64ADDR is set', () => {
    const s = setup();
    s.w(Reg.CFG, CFG.M64ADDR);
    postTx(s, [300, 400], DESC_LAYOUT_64);
    s.w(Reg.TXDP_HI, 0);
    s.w(Reg.TXDP, TX_DESCS);
    s.w(Reg.CR, CR.TXE);
    s.host.runFor(50e-6);
    expect(s.peer.frames.map((f) => f.length)).toEqual([300, 400]);
    expect(cmdstsAt(s.host, DESC_LAYOUT_64, TX_DESCS + 24) & CMDSTS.OWN).toBe(0);
  });
});

describe('Dp83820 bad DMA addresses', () => {
  it('raises RMABT and stops, without throwing, for a descriptor pointer outside memory', () => {
    const s = setup({ memoryBytes: 1 << 20 });
    startRx(s);
    s.w(Reg.RXDP, 0x7fff_0000);
    s.w(Reg.CR, CR.RXE);
    expect(() => {
      s.dev.port.receive(makeFrame(MAC, PEER, 100));
      s.host.runFor(20e-6);
    }).not.toThrow();
    expect(s.r(Reg.ISR) & ISR.RMABT).not.toBe(0);
    expect(s.dev.stats.busErrors).toBe(1);
  });

  it('raises RMABT for a transmit buffer outside memory and sends nothing', () => {
    const s = setup({ memoryBytes: 1 << 20 });
    writeDesc(s.host, L32, TX_DESCS, 0, 0xffff_f000, CMDSTS.OWN | 1000);
    s.w(Reg.TXDP, TX_DESCS);
    s.w(Reg.CR, CR.TXE);
    s.host.runFor(20e-6);
    expect(s.r(Reg.ISR) & ISR.RMABT).not.toBe(0);
    expect(s.peer.frames.length).toBe(0);
  });
});

describe('Dp83820 interrupt hold-off (IHR)', () => {
  /** A burst of `n` frames at line rate with an ISR that reads ISR 2 µs after each raise. */
  function burst(ihr: number, n: number) {
    const s = setup();
    startRx(s, 64);
    s.w(Reg.IMR, ISR.RXOK | ISR.RXDESC);
    s.w(Reg.IHR, ihr);
    s.w(Reg.IER, IER_IE);
    s.line.onRaise = () => {
      s.host.schedule(s.host.now() + s.host.cycles(2e-6), () => s.r(Reg.ISR));
    };
    sendAtLineRate(
      s.host,
      s.dev.port,
      Array.from({ length: n }, (_, i) => makeFrame(MAC, PEER, 1514, i)),
    );
    s.host.runFor(2e-3);
    expect(s.dev.stats.rxDelivered).toBe(n);
    return s.line.raises;
  }

  it('IHR=0 interrupts for about every frame of a burst', () => {
    expect(burst(0, 40)).toBeGreaterThanOrEqual(38);
  });

  it('IHR=1 (100 µs) coalesces a 490 µs burst of 40 frames into about 5 interrupts', () => {
    const raises = burst(1, 40);
    expect(raises).toBeGreaterThanOrEqual(4);
    expect(raises).toBeLessThanOrEqual(6);
  });

  it('delays the first interrupt by the hold-off time', () => {
    const s = setup();
    startRx(s);
    s.w(Reg.IMR, ISR.RXOK);
    s.w(Reg.IHR, 1);
    s.w(Reg.IER, IER_IE);
    s.dev.port.receive(makeFrame(MAC, PEER, 60));
    s.host.runFor(90e-6);
    expect(s.line.level).toBe(false);
    s.host.runFor(20e-6);
    expect(s.line.level).toBe(true);
  });
});

describe('Dp83820 descriptor hand-off and DMA (issue 11 item 2)', () => {
  type Op = [string, number];
  /** Log every access the device makes to physical memory from now on. */
  function spy(s: ReturnType<typeof setup>): Op[] {
    const log: Op[] = [];
    const m = s.host.memory;
    for (const name of ['read32', 'write32', 'load32', 'store32', 'copyIn', 'copyOut'] as const) {
      const orig = m[name].bind(m) as (...a: number[]) => unknown;
      (m as unknown as Record<string, unknown>)[name] = (...a: never[]) => {
        log.push([name, a[0] as number]);
        return orig(...(a as number[]));
      };
    }
    return log;
  }
  const inRange = (op: Op, at: number, len: number) => op[1] >= at && op[1] < at + len;

  it('receive: reads CMDSTS first (atomic load), writes the frame by block copies, publishes CMDSTS last (atomic store)', () => {
    const s = setup();
    startRx(s, 4);
    const log = spy(s);
    const frame = makeFrame(MAC, PEER, 1500, 1);
    s.dev.port.receive(frame);
    s.host.runFor(100e-6);
    expect(s.host.memory.bytes.subarray(RX_BUFS, RX_BUFS + frame.length)).toEqual(frame);
    const desc = log.filter((op) => inRange(op, RX_DESCS, L32.size));
    expect(desc[0]).toEqual(['load32', RX_DESCS + L32.cmdsts]);
    expect(desc.at(-1)).toEqual(['store32', RX_DESCS + L32.cmdsts]);
    expect(desc.filter((op) => op[1] === RX_DESCS + L32.cmdsts).map((op) => op[0])).toEqual([
      'load32',
      'store32',
    ]);
    const data = log.filter((op) => inRange(op, RX_BUFS, BUF));
    expect(data.length).toBeGreaterThan(0);
    expect(data.every((op) => op[0] === 'copyIn')).toBe(true);
    expect(data.length).toBeLessThanOrEqual(Math.ceil(frame.length / 512) * 2); // bursts, not bytes
  });

  it('transmit: reads CMDSTS first, reads the frame by block copies, publishes CMDSTS last', () => {
    const s = setup();
    const frame = makeFrame(PEER, MAC, 1000, 2);
    s.host.memory.bytes.set(frame, TX_BUFS);
    writeDesc(s.host, L32, TX_DESCS, 0, TX_BUFS, CMDSTS.OWN | frame.length);
    s.w(Reg.TXCFG, mxdma(512));
    s.w(Reg.TXDP, TX_DESCS);
    const log = spy(s);
    s.w(Reg.CR, CR.TXE);
    s.host.runFor(100e-6);
    expect(s.peer.frames).toEqual([frame]);
    const desc = log.filter((op) => inRange(op, TX_DESCS, L32.size));
    expect(desc[0]).toEqual(['load32', TX_DESCS + L32.cmdsts]);
    expect(desc.at(-1)).toEqual(['store32', TX_DESCS + L32.cmdsts]);
    const data = log.filter((op) => inRange(op, TX_BUFS, BUF));
    expect(data.length).toBeGreaterThan(0);
    expect(data.every((op) => op[0] === 'copyOut')).toBe(true);
  });
});
