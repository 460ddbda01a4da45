/**
 * Cycle accounting per thread and per category. Every virtual cycle that passes is charged to
 * exactly one (thread, category) pair — idle time to the idle thread's `Idle` — so the cycles of
 * a window always sum to its duration, and the paper's Figure 1(a) is {@link Accounting.profile}.
 *
 * @module
 */
import type { Category, Cycles, ThreadId } from '../sys.js';

/** A frozen copy of the accounting totals at one instant; diff two to get a window. */
export interface AccountingSnapshot {
  /** Virtual time of the snapshot. */
  readonly at: Cycles;
  /** Cycles per thread (index = thread id) per category index. */
  readonly cells: readonly (readonly number[] | undefined)[];
  /** Category names by index at snapshot time. */
  readonly categories: readonly string[];
}

/** One thread's share of a window. */
export interface ThreadCycles {
  /** Thread id. */
  readonly id: ThreadId;
  /** Thread name. */
  readonly name: string;
  /** Cycles by category (categories with zero cycles omitted). */
  readonly byCategory: Readonly<Record<string, Cycles>>;
  /** All cycles of the thread in the window. */
  readonly total: Cycles;
}

/** Accounting over an interval `[start, end)`. */
export interface AccountingWindow {
  /** Window start (virtual time). */
  readonly start: Cycles;
  /** Window end (virtual time). */
  readonly end: Cycles;
  /** Cycles by category over all threads (zero categories omitted). */
  readonly byCategory: Readonly<Record<string, Cycles>>;
  /** Per-thread breakdown, threads with no cycles omitted, ordered by id. */
  readonly byThread: readonly ThreadCycles[];
  /** Sum of all charged cycles; equals `end - start`. */
  readonly total: Cycles;
}

/** The running totals. The kernel adds; users snapshot and diff. */
export class Accounting {
  private readonly cats: string[] = [];
  private readonly catIndex = new Map<string, number>();
  private readonly cells: number[][] = [];
  private readonly names: string[] = [];
  private readonly clock: () => Cycles;

  /** @param clock - reads current virtual time (for snapshots) */
  constructor(clock: () => Cycles) {
    this.clock = clock;
  }

  /** The index of a category, interning it on first use. */
  categoryIndex(category: Category): number {
    let i = this.catIndex.get(category);
    if (i === undefined) {
      i = this.cats.length;
      this.cats.push(category);
      this.catIndex.set(category, i);
    }
    return i;
  }

  /** Name of a category index. */
  categoryName(index: number): string {
    return this.cats[index]!;
  }

  /** Register a thread's name for reports. */
  nameThread(id: ThreadId, name: string): void {
    this.names[id] = name;
  }

  /** Charge `cycles` to (thread, category index). */
  add(thread: ThreadId, category: number, cycles: Cycles): void {
    let row = this.cells[thread];
    if (row === undefined) {
      row = [];
      this.cells[thread] = row;
    }
    while (row.length <= category) row.push(0);
    row[category]! += cycles;
  }

  /** Copy the totals now. */
  snapshot(): AccountingSnapshot {
    return {
      at: this.clock(),
      cells: this.cells.map((r) => (r === undefined ? undefined : r.slice())),
      categories: this.cats.slice(),
    };
  }

  /** Cycles charged between two snapshots (default `to`: now). Pass no `from` for "since 0". */
  window(from?: AccountingSnapshot, to: AccountingSnapshot = this.snapshot()): AccountingWindow {
    const byCategory: Record<string, Cycles> = {};
    const byThread: ThreadCycles[] = [];
    let total = 0;
    for (let id = 0; id < to.cells.length; id++) {
      const row = to.cells[id];
      if (row === undefined) continue;
      const before = from?.cells[id];
      const mine: Record<string, Cycles> = {};
      let tt = 0;
      for (let c = 0; c < row.length; c++) {
        const d = row[c]! - (before?.[c] ?? 0);
        if (d === 0) continue;
        const name = to.categories[c]!;
        mine[name] = d;
        byCategory[name] = (byCategory[name] ?? 0) + d;
        tt += d;
      }
      if (tt !== 0) {
        byThread.push({ id, name: this.names[id] ?? `thread-${id}`, byCategory: mine, total: tt });
        total += tt;
      }
    }
    return { start: from?.at ?? 0, end: to.at, byCategory, byThread, total };
  }

  /**
   * Percent of the window's cycles per category (the paper's Figure 1(a) when restricted to its
   * categories). Default window: since time 0.
   */
  profile(window: AccountingWindow = this.window()): Record<string, number> {
    const out: Record<string, number> = {};
    if (window.total === 0) return out;
    for (const [k, v] of Object.entries(window.byCategory)) out[k] = (100 * v) / window.total;
    return out;
  }
}
