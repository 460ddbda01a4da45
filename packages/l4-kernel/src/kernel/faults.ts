import { type Message, PAGE_FAULT_LABEL } from '../sys.js';
import { KernelInterrupts } from './interrupts.js';
import { WHOLE_SPACE } from './kernel-state.js';
import { type AddressSpace, revokeRights } from './space.js';
import type { Thread } from './thread.js';

/** Page faults and unmap (internal layer of the kernel). */
export abstract class KernelFaults extends KernelInterrupts {
  // ---------------------------------------------------------------- page faults and memory

  protected pageFault(t: Thread, vaddr: number, access: number): void {
    this.counters.pageFaults++;
    this.spend(t, this.cKernel, this.costs.pageFault);
    this.tracer?.record(this.machine.clock, 'fault', t.id, t.pager, vaddr);
    const msg: Message = { label: PAGE_FAULT_LABEL, words: [vaddr, access] };
    this.ipcSend(
      t,
      t.pager,
      msg,
      Number.POSITIVE_INFINITY,
      true,
      Number.POSITIVE_INFINITY,
      WHOLE_SPACE,
    );
  }

  /** Revoke `bits` (default all) of the mappings derived from a page range; see revokeRights. */
  protected unmapRange(
    s: AddressSpace,
    vpage: number,
    count: number,
    self: boolean,
    bits = 7,
  ): number {
    let n = 0;
    for (let i = 0; i < count; i++) {
      const m = s.pages.get(vpage + i);
      if (m !== undefined) n += revokeRights(m, bits, self);
    }
    return n;
  }
}
