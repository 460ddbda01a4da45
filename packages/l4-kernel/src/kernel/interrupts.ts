import type { Line } from '../machine/machine.js';
import { ANY_THREAD, INTERRUPT_LABEL, NIL_THREAD, type ThreadId } from '../sys.js';
import { KernelIpc } from './ipc.js';
import { IRQ_DELIVERED, IRQ_IDLE, IRQ_QUEUED, type Thread } from './thread.js';

/** Interrupts as IPC (internal layer of the kernel). */
export abstract class KernelInterrupts extends KernelIpc {
  // ---------------------------------------------------------------- interrupts

  protected irqThreadFor(line: Line): Thread {
    let t = this.irqThreads[line.number];
    if (t === undefined) {
      t = this.addThread(`irq-${line.number}`, 'interrupt', null, 255, NIL_THREAD);
      t.line = line;
      t.irqMsg = Object.freeze({ label: INTERRUPT_LABEL, words: Object.freeze([line.number]) });
      this.irqThreads[line.number] = t;
    }
    return t;
  }

  /** Machine hook: an unmasked line was raised. */
  onInterrupt(line: Line): void {
    const it = this.irqThreads[line.number];
    if (it === undefined || it.handler === null) {
      this.counters.spuriousInterrupts++;
      return;
    }
    line.masked = true;
    this.irqQueue.push(line);
  }

  protected serviceInterrupts(): void {
    const q = this.irqQueue;
    while (q.length > 0) {
      const line = q.shift()!;
      const it = this.irqThreads[line.number]!;
      this.tracer?.record(this.machine.clock, 'irq', it.id, it.handler?.id ?? 0, line.number);
      this.spend(it, this.cKernel, this.costs.interruptEntry + this.costs.interruptMaskAck);
      const h = it.handler;
      if (h === null || h.state === 'dead') {
        line.masked = false;
        continue;
      }
      this.spend(it, this.cIPC, this.costs.ipc);
      if (h.state === 'receive-blocked' && (h.recvFrom === ANY_THREAD || h.recvFrom === it.id)) {
        it.irqState = IRQ_DELIVERED;
        this.counters.ipcMessages++;
        this.counters.interrupts++;
        h.resume = { ok: true, from: it.id, msg: it.irqMsg! };
        this.tracer?.record(this.machine.clock, 'ipc', it.id, h.id, INTERRUPT_LABEL);
        this.wake(h);
        this.switchCat = this.cIPC;
      } else {
        it.irqState = IRQ_QUEUED;
        this.sqPush(h, it);
      }
    }
  }

  /** The handler replied to its interrupt thread: unmask, redeliver if still asserted. */
  protected acknowledge(h: Thread, it: Thread): void {
    if (it.irqState !== IRQ_DELIVERED) return;
    it.irqState = IRQ_IDLE;
    const line = it.line;
    if (line === null) return; // an exit notifier: nothing to unmask
    this.spend(h, this.cKernel, this.costs.interruptUnmask);
    line.masked = false;
    if (line.asserted) this.onInterrupt(line);
  }

  protected attach(
    t: Thread,
    lineNo: number,
  ): { ok: true; irqThread: ThreadId } | { ok: false; error: string } {
    if (!Number.isInteger(lineNo) || lineNo < 0 || lineNo >= 256) {
      return { ok: false, error: 'invalid-line' };
    }
    const line = this.machine.irq(lineNo);
    const it = this.irqThreadFor(line);
    if (it.handler !== null && it.handler !== t && it.handler.state !== 'dead') {
      return { ok: false, error: 'busy' };
    }
    it.handler = t;
    if (line.masked && it.irqState === IRQ_IDLE) line.masked = false;
    if (line.asserted && !line.masked) this.onInterrupt(line);
    return { ok: true, irqThread: it.id };
  }

  protected detach(t: Thread, lineNo: number): void {
    const it = this.irqThreads[lineNo];
    if (it === undefined || it.handler !== t) return;
    if (it.irqState === IRQ_QUEUED) this.sqRemove(it);
    it.irqState = IRQ_IDLE;
    it.handler = null;
  }
}
