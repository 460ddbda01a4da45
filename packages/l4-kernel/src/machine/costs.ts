/**
 * The cost model: how many CPU cycles each kernel and hardware operation takes. Every constant
 * carries its source; estimates say so and give their reasoning. Nothing here is tuned to make
 * an experiment's result come out right.
 *
 * @module
 */
import { KernelError } from '../errors.js';

/** Names of the costs the kernel model charges. */
export type CostName =
  | 'syscall'
  | 'ipc'
  | 'ipcPerWord'
  | 'addressSpaceSwitch'
  | 'contextSwitch'
  | 'interruptEntry'
  | 'interruptMaskAck'
  | 'interruptUnmask'
  | 'pageFault'
  | 'mapPage'
  | 'unmapPage'
  | 'copyPerByte'
  | 'mmioRead'
  | 'mmioWrite';

/** One cost constant with its provenance. */
export interface CostEntry {
  /** Cycles (per operation, or per word / byte / page for the `per` entries). */
  readonly cycles: number;
  /** Where the number comes from: a publication, a datasheet, or an estimate with its reasoning. */
  readonly source: string;
  /** True when no direct measurement exists and the number is a reasoned estimate. */
  readonly estimate: boolean;
}

/** A machine's cost table: clock rate plus one {@link CostEntry} per {@link CostName}. */
export interface CostTable {
  /** Human-readable name of the machine the table describes. */
  readonly name: string;
  /** Clock rate in Hz. */
  readonly hz: number;
  /** The constants. */
  readonly entries: Readonly<Record<CostName, CostEntry>>;
}

/** Every cost name, in table order. */
export const COST_NAMES: readonly CostName[] = [
  'syscall',
  'ipc',
  'ipcPerWord',
  'addressSpaceSwitch',
  'contextSwitch',
  'interruptEntry',
  'interruptMaskAck',
  'interruptUnmask',
  'pageFault',
  'mapPage',
  'unmapPage',
  'copyPerByte',
  'mmioRead',
  'mmioWrite',
];

/**
 * The paper's machine: a 2.66 GHz Pentium 4 Xeon (NetBurst), L4Ka-style kernel, untagged TLB
 * (every address-space switch flushes it), IO-APIC interrupts, 64-bit PCI. IPC and the
 * address-space switch are published Pentium 4 measurements of L4Ka::Hazelnut (the paper's
 * Prime ran on an L4 kernel of that family); every other entry is an estimate and says so.
 */
export const PENTIUM4_XEON_2_66: CostTable = {
  name: 'Pentium 4 Xeon 2.66 GHz (paper section 5)',
  hz: 2.66e9,
  entries: {
    syscall: {
      cycles: 432,
      estimate: true,
      source:
        'Estimate from a measurement on another kernel: a sysenter `getpid` round trip is 432 ' +
        'cycles (Maeda, "Kernel Mode Linux", Linux Journal 6516, Table 2; the CPU is not named ' +
        'there, the article is of the Pentium 4 era). Taken as kernel entry/exit plus dispatch of ' +
        'a non-IPC system call (yield, attach, unmap).',
    },
    ipc: {
      cycles: 266,
      estimate: false,
      source:
        'L4Ka::Hazelnut IPC performance page (l4ka.org, "Hazelnut", IPC Performance table): short ' +
        'IPC inside one address space on a Pentium 4/1400 MHz, 266 cycles, fast path, ping-pong ' +
        'benchmark. One-way, including kernel entry and exit. Measured at 1.4 GHz; cycles are ' +
        'taken as clock-independent (the path is core-bound, its TLB refills are in ' +
        '`addressSpaceSwitch`). An inter-space IPC costs `ipc` + `addressSpaceSwitch` = 1008 ' +
        "cycles, the same table's large-address-space figure.",
    },
    ipcPerWord: {
      cycles: 2,
      estimate: true,
      source:
        'Estimate: one message register copied UTCB-to-UTCB (a load and a store, L1 hits). The ' +
        'L4Ka Pistachio ia32 pingpong graphs show a small linear per-register increment.',
    },
    addressSpaceSwitch: {
      cycles: 742,
      estimate: false,
      source:
        'Derived from the L4Ka::Hazelnut IPC performance table (Pentium 4/1400 MHz): short IPC ' +
        'between large address spaces 1008 cycles minus short IPC inside one space 266 cycles: ' +
        'the CR3 write, the TLB flush of an untagged-TLB Pentium 4 and the refills of the ' +
        'ping-pong working set (the Pistachio ia32 page counts at least 5 TLB misses: code, ' +
        'stack, data, UTCB, KIP). (The 699-cycle small-space figure uses segment-based small ' +
        'spaces, which this model does not.)',
    },
    contextSwitch: {
      cycles: 300,
      estimate: true,
      source:
        'Estimate: thread switch inside one space outside the IPC path (preemption, yield): about ' +
        'an intra-space IPC (266 cycles on the Pentium 4, Hazelnut), which is itself a thread ' +
        'switch plus kernel entry/exit, rounded up for the scheduler queue update.',
    },
    interruptEntry: {
      cycles: 1000,
      estimate: true,
      source:
        'Estimate: hardware interrupt delivery through an IDT gate plus iret on NetBurst. The Linux ' +
        '2.5/2.6 switch to sysenter was motivated by int 0x80/iret being much slower on the ' +
        'Pentium 4 than on the Pentium III (linux-kernel, Dec 2002; recalled, no cycle count ' +
        're-checked); interrupt delivery uses the same microcoded gate path. For scale, the whole ' +
        'sysenter getpid round trip is 432 cycles (see `syscall`).',
    },
    interruptMaskAck: {
      cycles: 2000,
      estimate: true,
      source:
        'Estimate: mask the IO-APIC redirection entry (index write, data write, read-back to flush, ' +
        'all uncached accesses to the chipset) and EOI to the local APIC: ~0.75 us, i.e. three ' +
        'uncached chipset accesses of ~0.25 us each. (An earlier citation of a 2001 linux-kernel ' +
        'measurement of 2-3 us could not be re-found and is withdrawn.)',
    },
    interruptUnmask: {
      cycles: 1200,
      estimate: true,
      source:
        'Estimate: unmask the IO-APIC redirection entry (index write, data write: two uncached ' +
        'accesses, ~0.45 us) when the handler replies to its interrupt thread.',
    },
    pageFault: {
      cycles: 1000,
      estimate: true,
      source:
        'Estimate: page-fault exception entry and exit, same gate path as `interruptEntry`; the ' +
        'IPC to the pager is charged separately as `ipc`.',
    },
    mapPage: {
      cycles: 300,
      estimate: true,
      source:
        'Estimate: per page of a map/grant item: page-table entry write plus mapping-database ' +
        'node insert (a few cache misses on P4, ~100 cycles each).',
    },
    unmapPage: {
      cycles: 400,
      estimate: true,
      source:
        'Estimate: per page revoked: mapping-database walk, page-table entry clear, invlpg (a ' +
        'serialising instruction on P4).',
    },
    copyPerByte: {
      cycles: 1.5,
      estimate: true,
      source:
        'Estimate: memcpy of data not in cache (DMA-written packets): dual-channel DDR-266 peaks ' +
        'at 4.2 GB/s; a copy reads and writes each byte, ~1.8 GB/s effective, i.e. ~1.5 cycles ' +
        'per byte at 2.66 GHz. For components to use (the kernel copies only message registers).',
    },
    mmioRead: {
      cycles: 2000,
      estimate: true,
      source:
        'Estimate: uncached PCI read is non-posted: host-bridge arbitration, address phase, target ' +
        'decode and wait states, data return at 66 MHz, plus the CPU stall: ~0.75 us (an ' +
        "estimate: no measurement for the paper's chipset is published; the device model's " +
        'own bus timing charges the bus occupancy separately).',
    },
    mmioWrite: {
      cycles: 250,
      estimate: true,
      source:
        'Estimate: a posted write costs the CPU only the uncached store leaving the core (UC ' +
        'stores drain the store buffer): ~100 ns.',
    },
  },
};

/**
 * A modern x86 server core (3 GHz class, tagged TLB with PCID, syscall/sysret, x2APIC), for
 * "what if the paper's system ran today" comparisons.
 */
export const MODERN_X86_3_0: CostTable = {
  name: 'Modern x86-64 3.0 GHz (PCID, x2APIC, PCIe)',
  hz: 3.0e9,
  entries: {
    syscall: {
      cycles: 100,
      estimate: true,
      source: 'Estimate: syscall/sysret round trip ~70 cycles plus dispatch.',
    },
    ipc: {
      cycles: 250,
      estimate: true,
      source:
        'Estimate: Elphinstone & Heiser 2013 ("From L3 to seL4", SOSP) tabulate seL4 one-way IPC ' +
        'on recent x86 at a few hundred cycles; the exact table entry could not be re-checked, so ' +
        'this is an estimate of that order, minus `addressSpaceSwitch` (50).',
    },
    ipcPerWord: {
      cycles: 1,
      estimate: true,
      source: 'Estimate: one register-to-register message word.',
    },
    addressSpaceSwitch: {
      cycles: 50,
      estimate: true,
      source:
        'Estimate: CR3 write with PCID keeps the TLB; only the write itself and a few misses.',
    },
    contextSwitch: {
      cycles: 60,
      estimate: true,
      source: 'Estimate: about 20% of `ipc`, as for the Pentium 4 row.',
    },
    interruptEntry: {
      cycles: 300,
      estimate: true,
      source: 'Estimate: interrupt gate plus iretq on a current core.',
    },
    interruptMaskAck: {
      cycles: 600,
      estimate: true,
      source: 'Estimate: IO-APIC mask (uncached, ~150 ns) plus an x2APIC EOI (an MSR write).',
    },
    interruptUnmask: {
      cycles: 450,
      estimate: true,
      source: 'Estimate: IO-APIC unmask, one uncached access (~150 ns).',
    },
    pageFault: {
      cycles: 500,
      estimate: true,
      source: 'Estimate: exception entry and exit.',
    },
    mapPage: { cycles: 100, estimate: true, source: 'Estimate: PTE write plus mapping node.' },
    unmapPage: { cycles: 200, estimate: true, source: 'Estimate: PTE clear plus invlpg.' },
    copyPerByte: {
      cycles: 0.2,
      estimate: true,
      source: 'Estimate: ~15 GB/s effective copy bandwidth for uncached data at 3 GHz.',
    },
    mmioRead: {
      cycles: 2500,
      estimate: true,
      source:
        'Estimate: PCIe non-posted read round trip ~0.8 us (order of magnitude commonly reported ' +
        'for PCIe register reads; no single measurement re-checked).',
    },
    mmioWrite: {
      cycles: 100,
      estimate: true,
      source: 'Estimate: posted write leaving the core.',
    },
  },
};

/**
 * The cycle costs the kernel charges, as plain numeric fields for the hot path, built from a
 * {@link CostTable} and optional per-entry scale factors (the sensitivity study's IPC x0.5 / x2).
 */
export class CostModel {
  /** The table the model was built from. */
  readonly table: CostTable;
  /** Scale factors applied to the table's entries (absent entries are 1). */
  readonly scale: Readonly<Partial<Record<CostName, number>>>;
  /** See {@link CostName} `syscall`. */
  readonly syscall: number;
  /** See {@link CostName} `ipc`. */
  readonly ipc: number;
  /** See {@link CostName} `ipcPerWord`. */
  readonly ipcPerWord: number;
  /** See {@link CostName} `addressSpaceSwitch`. */
  readonly addressSpaceSwitch: number;
  /** See {@link CostName} `contextSwitch`. */
  readonly contextSwitch: number;
  /** See {@link CostName} `interruptEntry`. */
  readonly interruptEntry: number;
  /** See {@link CostName} `interruptMaskAck`. */
  readonly interruptMaskAck: number;
  /** See {@link CostName} `interruptUnmask`. */
  readonly interruptUnmask: number;
  /** See {@link CostName} `pageFault`. */
  readonly pageFault: number;
  /** See {@link CostName} `mapPage`. */
  readonly mapPage: number;
  /** See {@link CostName} `unmapPage`. */
  readonly unmapPage: number;
  /** See {@link CostName} `copyPerByte`. */
  readonly copyPerByte: number;
  /** See {@link CostName} `mmioRead`. */
  readonly mmioRead: number;
  /** See {@link CostName} `mmioWrite`. */
  readonly mmioWrite: number;

  /**
   * @param table - the machine's cost table (default {@link PENTIUM4_XEON_2_66})
   * @param scale - per-entry multipliers, e.g. `{ ipc: 2 }`
   * @throws KernelError `CONFIG` if a scale factor or a table entry is negative or not finite
   */
  constructor(
    table: CostTable = PENTIUM4_XEON_2_66,
    scale: Partial<Record<CostName, number>> = {},
  ) {
    this.table = table;
    this.scale = { ...scale };
    const v = (name: CostName): number => {
      const e = table.entries[name];
      const f = scale[name] ?? 1;
      if (!e || !Number.isFinite(e.cycles) || e.cycles < 0) {
        throw new KernelError('CONFIG', `cost table entry ${name} missing or invalid`);
      }
      if (!Number.isFinite(f) || f < 0) {
        throw new KernelError('CONFIG', `scale factor for ${name} must be finite and >= 0`);
      }
      return e.cycles * f;
    };
    this.syscall = v('syscall');
    this.ipc = v('ipc');
    this.ipcPerWord = v('ipcPerWord');
    this.addressSpaceSwitch = v('addressSpaceSwitch');
    this.contextSwitch = v('contextSwitch');
    this.interruptEntry = v('interruptEntry');
    this.interruptMaskAck = v('interruptMaskAck');
    this.interruptUnmask = v('interruptUnmask');
    this.pageFault = v('pageFault');
    this.mapPage = v('mapPage');
    this.unmapPage = v('unmapPage');
    this.copyPerByte = v('copyPerByte');
    this.mmioRead = v('mmioRead');
    this.mmioWrite = v('mmioWrite');
  }

  /** A new model over the same table with these scale factors multiplied into the current ones. */
  scaled(factors: Partial<Record<CostName, number>>): CostModel {
    const s: Partial<Record<CostName, number>> = { ...this.scale };
    for (const name of COST_NAMES) {
      const f = factors[name];
      if (f !== undefined) s[name] = (s[name] ?? 1) * f;
    }
    return new CostModel(this.table, s);
  }

  /** The effective cycles of a cost (table value times scale). */
  get(name: CostName): number {
    return this[name];
  }
}
