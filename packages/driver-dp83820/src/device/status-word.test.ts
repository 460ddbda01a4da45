import { localStatusWord, type StatusWord } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { TestHost } from '../testing/test-host.js';
import { Dp83820 } from './dp83820.js';
import { CR, IER_IE, ISR, Reg } from './registers.js';

const LINE = 5;
const MAC = [0x02, 0, 0, 0, 0, 0x01];

/** A host that offers status words, as the threads engine does (here: plain fields). */
class StatusHost extends TestHost {
  readonly words = new Map<number, { word: StatusWord; line: number | undefined }>();
  statusWord(offset: number, line?: number): StatusWord {
    const word = localStatusWord();
    this.words.set(offset, { word, line });
    return word;
  }
  /** A CPU's read of the register from its word: take the bits, lower the line. */
  cpuRead(offset: number): number {
    const w = this.words.get(offset)!;
    const v = w.word.take();
    if (w.line !== undefined) this.irq(w.line).lower();
    return v;
  }
}

function rig(holdoff = 0) {
  const host = new StatusHost();
  const dev = new Dp83820({ host, irqLine: LINE, mac: MAC });
  dev.write32(Reg.IMR, ISR.SWI);
  dev.write32(Reg.IER, IER_IE);
  dev.write32(Reg.IHR, holdoff);
  return { host, dev, line: host.irq(LINE) };
}

describe('ISR in a host status word (a read that needs no answer from the device)', () => {
  it('the device takes a word for ISR that names its interrupt line, and keeps the causes in it', () => {
    const { host, dev, line } = rig();
    expect(host.words.get(Reg.ISR)?.line).toBe(LINE);
    dev.write32(Reg.CR, CR.SWI);
    expect(host.words.get(Reg.ISR)!.word.load() & ISR.SWI).toBe(ISR.SWI);
    expect(line.level).toBe(true);
  });

  it('after a CPU read from the word and the device learning of it, the line is low and stays low', () => {
    const { host, dev, line } = rig();
    dev.write32(Reg.CR, CR.SWI);
    const v = host.cpuRead(Reg.ISR);
    expect(v & ISR.SWI).toBe(ISR.SWI);
    dev.statusRead(Reg.ISR, v);
    expect(line.level).toBe(false);
    host.runFor(0.001);
    expect(line.level).toBe(false);
    expect(line.raises).toBe(1);
  });

  it('a cause posted between the read and the device learning of it raises the line again then (not lost)', () => {
    const { host, dev, line } = rig();
    dev.write32(Reg.CR, CR.SWI);
    const v = host.cpuRead(Reg.ISR);
    dev.write32(Reg.CR, CR.SWI); // the device still thinks its line is up: nothing yet
    expect(line.level).toBe(false);
    dev.statusRead(Reg.ISR, v);
    expect(line.level).toBe(true);
    expect(line.raises).toBe(2);
    expect(host.cpuRead(Reg.ISR) & ISR.SWI).toBe(ISR.SWI);
  });

  it('with a hold-off, such a cause arms the timer when the device learns of the read', () => {
    const { host, dev, line } = rig(1); // 100 µs
    dev.write32(Reg.CR, CR.SWI);
    host.runFor(100e-6);
    expect(line.level).toBe(true);
    const v = host.cpuRead(Reg.ISR);
    dev.write32(Reg.CR, CR.SWI);
    dev.statusRead(Reg.ISR, v);
    expect(line.level).toBe(false);
    host.runFor(99e-6);
    expect(line.level).toBe(false);
    host.runFor(2e-6);
    expect(line.level).toBe(true);
  });

  it('an ordinary read of ISR on such a host still returns and clears the word', () => {
    const { host, dev, line } = rig();
    dev.write32(Reg.CR, CR.SWI);
    expect(dev.read32(Reg.ISR) & ISR.SWI).toBe(ISR.SWI);
    expect(host.words.get(Reg.ISR)!.word.load()).toBe(0);
    expect(line.level).toBe(false);
  });

  it('statusRead of another offset does nothing', () => {
    const { dev, line } = rig();
    dev.write32(Reg.CR, CR.SWI);
    dev.statusRead(Reg.IMR, 0);
    expect(line.level).toBe(true);
  });
});
