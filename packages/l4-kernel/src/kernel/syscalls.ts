import { PAGE_SHIFT } from '../machine/memory.js';
import { type Fpage, type Message, NIL_THREAD, type ThreadId } from '../sys.js';
import { validFpage } from './kernel-state.js';
import { KernelLifecycle } from './lifecycle.js';
import { rightsBits } from './space.js';
import type { CallRecord, Thread } from './thread.js';

/** Kernel-call dispatch (internal layer of the kernel). */
export abstract class KernelCalls extends KernelLifecycle {
  // ---------------------------------------------------------------- kernel calls

  protected exec(t: Thread, c: CallRecord): void {
    this.counters.kernelCalls++;
    const a = c.args;
    const a0 = a[0];
    const a1 = a[1];
    const a2 = a[2];
    const a3 = a[3];
    a[0] = a[1] = a[2] = a[3] = undefined;
    this.switchCat = this.cIPC;
    switch (c.op) {
      case 'send':
        this.ipcSend(t, a0 as ThreadId, a1 as Message, a2 as number, false, 0, undefined);
        return;
      case 'call':
        this.ipcSend(
          t,
          a0 as ThreadId,
          a1 as Message,
          a2 as number,
          true,
          a2 as number,
          a3 as Fpage,
        );
        return;
      case 'reply':
        this.ipcSend(t, a0 as ThreadId, a1 as Message, 0, false, 0, undefined);
        return;
      case 'replyWait':
        this.ipcReplyWait(t, a0 as ThreadId, a1 as Message, a2 as number, a3 as Fpage);
        return;
      case 'receive':
        this.spendIpc(t, 0);
        this.ipcReceive(t, a0 as ThreadId, a1 as number, a2 as Fpage, true);
        return;
      case 'sleep':
        this.spend(t, this.cKernel, this.costs.syscall);
        t.resume = undefined;
        this.block(t, NIL_THREAD, a0 as number, undefined, true);
        return;
      case 'yield':
        this.spend(t, this.cKernel, this.costs.syscall);
        t.resume = undefined;
        if (this.current === t && this.rqHead[t.priority] !== null) {
          t.state = 'ready';
          this.rqPushTail(t);
          this.current = null;
          this.switchCat = this.cKernel;
          this.switchCost = this.costs.contextSwitch;
        }
        return;
      case 'attach':
        this.spend(t, this.cKernel, this.costs.syscall);
        t.resume = this.attach(t, a0 as number);
        return;
      case 'detach':
        this.spend(t, this.cKernel, this.costs.syscall);
        this.detach(t, a0 as number);
        t.resume = undefined;
        return;
      case 'fault':
        this.pageFault(t, a0 as number, a1 as number);
        return;
      case 'unmap': {
        const f = a0 as Fpage;
        let n = 0;
        if (t.space !== null && validFpage(f)) {
          n = this.unmapRange(
            t.space,
            f.base >>> PAGE_SHIFT,
            2 ** (f.sizeLog2 - PAGE_SHIFT),
            a1 === true,
            rightsBits(f.rights),
          );
        }
        this.spend(t, this.cKernel, this.costs.syscall + n * this.costs.unmapPage);
        t.resume = n;
        return;
      }
      default:
        this.counters.badCalls++;
        t.resume = undefined;
    }
  }
}
