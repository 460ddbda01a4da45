/**
 * The optional trace: IPCs, interrupts, page faults, context switches, preemptions and thread
 * exits, in virtual-time order. Off by default; when off the kernel holds `null` and pays one
 * null check per traced site.
 *
 * @module
 */
import type { Cycles, ThreadId } from '../sys.js';

/** Kinds of trace records. */
export type TraceKind = 'ipc' | 'irq' | 'fault' | 'switch' | 'preempt' | 'exit';

/**
 * One trace record. Field meaning by kind: `ipc` a=from b=to c=label; `irq` a=interrupt thread
 * b=handler c=line; `fault` a=thread b=pager c=address; `switch` a=thread now running;
 * `preempt` a=preempted thread; `exit` a=thread c=1 if it died of an exception.
 */
export interface TraceRecord {
  /** Virtual time. */
  readonly time: Cycles;
  /** Kind. */
  readonly kind: TraceKind;
  /** First thread involved. */
  readonly a: ThreadId;
  /** Second thread involved (0 if none). */
  readonly b: ThreadId;
  /** Label, line, address or flag, by kind. */
  readonly c: number;
}

/** Collects trace records, optionally forwarding each to a sink. */
export class Tracer {
  /** Records so far (empty when a sink consumes them and `keep` is false). */
  readonly records: TraceRecord[] = [];
  private readonly sink: ((r: TraceRecord) => void) | null;
  private readonly keep: boolean;

  /**
   * @param sink - optional consumer of each record
   * @param keep - keep records in {@link Tracer.records} (default true)
   */
  constructor(sink: ((r: TraceRecord) => void) | null = null, keep = true) {
    this.sink = sink;
    this.keep = keep;
  }

  /** Append a record. */
  record(time: Cycles, kind: TraceKind, a: ThreadId, b: ThreadId, c: number): void {
    const r: TraceRecord = { time, kind, a, b, c };
    if (this.keep) this.records.push(r);
    this.sink?.(r);
  }
}
