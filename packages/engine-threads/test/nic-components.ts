// A driver-side probe for the DP83820 on the threads engine: an ordinary `Sys` component that
// resets the NICs through CR.RST, reads registers back, and moves one frame from NIC A's
// transmit descriptor to NIC B's receive buffer over an in-process wire, taking B's receive
// interrupt as IPC. Results go to `out` (Float64 slots), the frame bytes to `rxCopy`.
import { CMDSTS, CR, IER_IE, ISR, mxdma, Reg, RFCR, SILICON_REVISION } from '@udf/driver-dp83820';
import { NEVER, type Sys } from '@udf/l4-kernel';

/** Builds an Ethernet frame: dst, src, ethertype 0x88b5, payload pattern. */
export function testFrame(dst: number[], src: number[], length: number, seed: number): Uint8Array {
  const f = new Uint8Array(length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  for (let i = 14; i < length; i++) f[i] = (i * 7 + seed) & 0xff;
  return f;
}

/**
 * out: [0] done, [1] CR after reset (RST self-clears), [2] IMR, [3] TXDP after reset,
 * [4] SRR == SILICON_REVISION, [5] irq attach ok, [6] interrupt label, [7] ISR read in the
 * handler, [8] rx CMDSTS, [9] tx CMDSTS, [10] bytes that differ, [11] ack ok, [12] the
 * physical address of the region (translate), [13] reads of a register window not mapped
 * (null = 1), [14] tx frames on B's wire when only the TX side is wired to UDP (unused).
 */
export function nicProbe(config: {
  regsA: number;
  regsB: number;
  unmapped: number;
  mem: number;
  irqLineB: number;
  macA: number[];
  macB: number[];
  length: number;
  out: SharedArrayBuffer;
  rxCopy: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const a = sys.mem.registers(config.regsA)!;
    const b = sys.mem.registers(config.regsB)!;
    out[13] = sys.mem.registers(config.unmapped) === null ? 1 : 0;
    // reset through CR.RST after dirtying registers; reads flush the posted writes first
    a.write32(Reg.IMR, 0xffff);
    a.write32(Reg.TXDP, 0x1234);
    a.write32(Reg.CR, CR.RST);
    out[1] = a.read32(Reg.CR);
    out[2] = a.read32(Reg.IMR);
    out[3] = a.read32(Reg.TXDP);
    out[4] = a.read32(Reg.SRR) === SILICON_REVISION ? 1 : 0;
    b.write32(Reg.CR, CR.RST);

    const mem = yield* sys.mem.access(config.mem, 0x4000, 'write');
    if (!('bytes' in mem)) return;
    const pa = sys.mem.translate(config.mem);
    if (pa === null) return;
    out[12] = pa;
    const w32 = new Uint32Array(mem.buffer, mem.byteOffset, 0x4000 / 4);
    // layout in the region: rx desc @0, tx desc @0x20, tx buf @0x800, rx buf @0x1000
    const RXD = 0;
    const TXD = 0x20;
    const TXB = 0x800;
    const RXB = 0x1000;
    const frame = testFrame(config.macB, config.macA, config.length, 3);
    mem.bytes.set(frame, TXB);

    // B: interrupt handler for its line, receive filter, one descriptor, RXE
    const att = yield* sys.irq.attach(config.irqLineB);
    out[5] = att.ok ? 1 : 0;
    if (!att.ok) return;
    w32[(RXD + 0) / 4] = 0; // link: end of chain
    w32[(RXD + 4) / 4] = pa + RXB;
    w32[(RXD + 12) / 4] = 0;
    Atomics.store(w32, (RXD + 8) / 4, 2048); // OWN clear: the device may fill it (published last)
    b.write32(Reg.RFCR, RFCR.RFEN | RFCR.AAB | RFCR.APM);
    b.write32(Reg.RXCFG, mxdma(512));
    b.write32(Reg.RXDP, pa + RXD);
    b.write32(Reg.IMR, ISR.RXOK);
    b.write32(Reg.IER, IER_IE);
    b.write32(Reg.CR, CR.RXE);

    // A: one descriptor handed to the device, TXE
    w32[(TXD + 0) / 4] = 0;
    w32[(TXD + 4) / 4] = pa + TXB;
    w32[(TXD + 12) / 4] = 0;
    Atomics.store(w32, (TXD + 8) / 4, (CMDSTS.OWN | frame.length) >>> 0);
    a.write32(Reg.TXCFG, mxdma(512));
    a.write32(Reg.TXDP, pa + TXD);
    a.write32(Reg.CR, CR.TXE);

    // B's receive interrupt arrives as IPC from its interrupt thread
    const r = yield* sys.ipc.receive(att.irqThread, NEVER);
    out[6] = r.ok ? r.msg.label : 999;
    out[7] = b.read32(Reg.ISR); // clear-on-read: lowers the line
    const ack = yield* sys.ipc.reply(att.irqThread, { label: 0, words: [] });
    out[11] = ack.ok ? 1 : 0;
    out[8] = Atomics.load(w32, (RXD + 8) / 4) >>> 0;
    // the transmit write-back may trail the receive: wait for OWN to clear
    for (let i = 0; i < 10_000 && (Atomics.load(w32, (TXD + 8) / 4) & CMDSTS.OWN) !== 0; i++) {
      yield* sys.sleep(sys.hz / 10_000);
    }
    out[9] = Atomics.load(w32, (TXD + 8) / 4) >>> 0;
    const got = mem.bytes.subarray(RXB, RXB + frame.length);
    let diff = 0;
    for (let i = 0; i < frame.length; i++) if (got[i] !== frame[i]) diff++;
    out[10] = diff;
    new Uint8Array(config.rxCopy).set(got);
    yield* sys.irq.detach(config.irqLineB);
    out[0] = 1;
  };
}

/**
 * One NIC on a UDP wire: reset, post one receive descriptor, take the receive interrupt, copy
 * the frame to `rxCopy`, then transmit `testFrame(peerMac, mac, length, 9)`.
 * out: [0] done, [1] ready to receive, [2] rx CMDSTS, [3] tx CMDSTS.
 */
export function udpProbe(config: {
  regs: number;
  mem: number;
  irqLine: number;
  mac: number[];
  peerMac: number[];
  length: number;
  out: SharedArrayBuffer;
  rxCopy: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const n = sys.mem.registers(config.regs)!;
    n.write32(Reg.CR, CR.RST);
    const mem = yield* sys.mem.access(config.mem, 0x4000, 'write');
    if (!('bytes' in mem)) return;
    const pa = sys.mem.translate(config.mem)!;
    const w32 = new Uint32Array(mem.buffer, mem.byteOffset, 0x4000 / 4);
    const RXD = 0;
    const TXD = 0x20;
    const TXB = 0x800;
    const RXB = 0x1000;
    const att = yield* sys.irq.attach(config.irqLine);
    if (!att.ok) return;
    w32[RXD / 4] = 0;
    w32[(RXD + 4) / 4] = pa + RXB;
    Atomics.store(w32, (RXD + 8) / 4, 2048);
    n.write32(Reg.RFCR, RFCR.RFEN | RFCR.AAB | RFCR.APM);
    n.write32(Reg.RXCFG, mxdma(512));
    n.write32(Reg.RXDP, pa + RXD);
    n.write32(Reg.IMR, ISR.RXOK);
    n.write32(Reg.IER, IER_IE);
    n.write32(Reg.CR, CR.RXE);
    n.read32(Reg.CR); // flush the posted writes: the receiver is on when this returns
    out[1] = 1;
    const r = yield* sys.ipc.receive(att.irqThread, NEVER);
    if (!r.ok) return;
    n.read32(Reg.ISR);
    yield* sys.ipc.reply(att.irqThread, { label: 0, words: [] });
    const rx = Atomics.load(w32, (RXD + 8) / 4) >>> 0;
    out[2] = rx;
    new Uint8Array(config.rxCopy).set(mem.bytes.subarray(RXB, RXB + (rx & CMDSTS.SIZE_MASK)));
    const frame = testFrame(config.peerMac, config.mac, config.length, 9);
    mem.bytes.set(frame, TXB);
    w32[TXD / 4] = 0;
    w32[(TXD + 4) / 4] = pa + TXB;
    Atomics.store(w32, (TXD + 8) / 4, (CMDSTS.OWN | frame.length) >>> 0);
    n.write32(Reg.TXCFG, mxdma(512));
    n.write32(Reg.TXDP, pa + TXD);
    n.write32(Reg.CR, CR.TXE);
    for (let i = 0; i < 10_000 && (Atomics.load(w32, (TXD + 8) / 4) & CMDSTS.OWN) !== 0; i++) {
      yield* sys.sleep(sys.hz / 10_000);
    }
    out[3] = Atomics.load(w32, (TXD + 8) / 4) >>> 0;
    out[0] = 1;
  };
}

/**
 * A frame reflector: the smallest driver that keeps a Dp83820 busy. Receive ring and transmit
 * ring of `ring` descriptors in one region; on each receive interrupt it reads ISR, sends every
 * received frame back with source and destination addresses swapped (copied into a transmit
 * buffer), returns the receive descriptors, kicks TXE/RXE, and acknowledges. Runs until the
 * engine stops. out: [0] ready, [1] frames reflected, [2] frames dropped (transmit ring full),
 * [3] interrupts.
 */
export function reflector(config: {
  regs: number;
  mem: number;
  irqLine: number;
  ring: number;
  out: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const n = sys.mem.registers(config.regs)!;
    const N = config.ring;
    const BUF = 2048;
    const RXD = 0;
    const TXD = N * 16;
    const RXB = 0x1_0000;
    const TXB = RXB + N * BUF;
    const bytes = TXB + N * BUF;
    const mem = yield* sys.mem.access(config.mem, bytes, 'write');
    if (!('bytes' in mem)) throw new Error('no memory');
    const pa = sys.mem.translate(config.mem)!;
    const w32 = new Uint32Array(mem.buffer, mem.byteOffset, bytes / 4);
    const b = mem.bytes;
    n.write32(Reg.CR, CR.RST);
    for (let i = 0; i < N; i++) {
      const rd = (RXD + i * 16) / 4;
      w32[rd] = pa + RXD + ((i + 1) % N) * 16;
      w32[rd + 1] = pa + RXB + i * BUF;
      Atomics.store(w32, rd + 2, BUF);
      const td = (TXD + i * 16) / 4;
      w32[td] = pa + TXD + ((i + 1) % N) * 16;
      w32[td + 1] = pa + TXB + i * BUF;
      Atomics.store(w32, td + 2, 0);
    }
    const att = yield* sys.irq.attach(config.irqLine);
    if (!att.ok) throw new Error('attach failed');
    n.write32(Reg.RFCR, RFCR.RFEN | RFCR.AAB | RFCR.APM);
    n.write32(Reg.RXCFG, mxdma(512));
    n.write32(Reg.TXCFG, mxdma(512));
    n.write32(Reg.RXDP, pa + RXD);
    n.write32(Reg.TXDP, pa + TXD);
    n.write32(Reg.IMR, ISR.RXOK | ISR.RXDESC);
    n.write32(Reg.IER, IER_IE);
    n.write32(Reg.CR, CR.RXE);
    n.read32(Reg.CR);
    out[0] = 1;
    let rx = 0;
    let tx = 0;
    let reflected = 0;
    let dropped = 0;
    let irqs = 0;
    for (;;) {
      const r = yield* sys.ipc.receive(att.irqThread);
      if (!r.ok) continue;
      irqs++;
      n.read32(Reg.ISR); // clear-on-read: the line goes low unless more arrive
      let sent = false;
      for (;;) {
        const rd = (RXD + rx * 16) / 4;
        const c = Atomics.load(w32, rd + 2) >>> 0;
        if ((c & CMDSTS.OWN) === 0) break; // not filled yet
        const len = c & CMDSTS.SIZE_MASK;
        const td = (TXD + tx * 16) / 4;
        if ((Atomics.load(w32, td + 2) & CMDSTS.OWN) !== 0 || len > BUF) {
          dropped++;
        } else {
          const src = RXB + rx * BUF;
          const dst = TXB + tx * BUF;
          b.copyWithin(dst, src, src + len);
          b.copyWithin(dst, src + 6, src + 12); // destination := sender
          b.copyWithin(dst + 6, src, src + 6); // source := us
          Atomics.store(w32, td + 2, (CMDSTS.OWN | len) >>> 0);
          tx = (tx + 1) % N;
          reflected++;
          sent = true;
        }
        Atomics.store(w32, rd + 2, BUF); // back to the device
        rx = (rx + 1) % N;
      }
      if (sent) n.write32(Reg.CR, CR.TXE | CR.RXE);
      else n.write32(Reg.CR, CR.RXE);
      out[1] = reflected;
      out[2] = dropped;
      out[3] = irqs;
      yield* sys.ipc.reply(att.irqThread, { label: 0, words: [] });
    }
  };
}
