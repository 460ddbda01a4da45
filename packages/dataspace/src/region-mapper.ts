/**
 * Region maps (paper section 3): dataspaces attached to an address space at virtual ranges.
 * A page fault on an attached range is forwarded to the dataspace's manager, which maps the
 * page; detaching unmaps it.
 *
 * Design: one region-mapper thread per address space (SawMill's region mapper) is the pager of
 * that space's threads. On a fault it looks the address up in its {@link RegionMap}, asks the
 * dataspace's manager to map the page (`MAP`, one IPC; the map item lands in the region
 * mapper's own space) and replies to the faulting thread, which then retries its access. The
 * reply also carries the page as a map item, so the same body works as the pager of threads in
 * *another* space (the map is a no-op when both share a space). The region mapper needs read
 * (and for writable regions write) rights on each dataspace: the owner grants them with
 * `dsClient.share`.
 *
 * @module
 */
import {
  ANY_THREAD,
  type IpcResult,
  type Message,
  PAGE_FAULT_LABEL,
  PAGE_FAULT_REFUSED_LABEL,
  type Sys,
  type ThreadBody,
  type ThreadId,
} from '@udf/l4-kernel';
import type { DataspaceCall } from './call.js';
import { request } from './client.js';
import { DataspaceError } from './errors.js';
import { callAccepting } from './ipc.js';
import { isUint32, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE } from './page.js';
import { DS_ACCESS_WRITE, DsLabel, DsStatus } from './protocol.js';
import { revokeMappings } from './unmap.js';

/** Request labels of the region-mapper protocol. */
export const RegionLabel = {
  /** Attach: words manager, dataspace id, vaddr, size, dataspace offset, writable (0/1). */
  ATTACH: 0x4430,
  /** Detach the region starting at vaddr: words vaddr. Reply words: pages unmapped. */
  DETACH: 0x4431,
} as const;

/** One of the {@link RegionLabel} values. */
export type RegionLabel = (typeof RegionLabel)[keyof typeof RegionLabel];

/** Write bit in the page-fault message's access word (L4 `rwx` bits: read 4, write 2, execute 1). */
export const FAULT_ACCESS_WRITE = 2;

/** A dataspace attached to an address space. */
export interface Region {
  /** First virtual address (page aligned). */
  readonly vaddr: number;
  /** Bytes (a whole number of pages). */
  readonly size: number;
  /** The manager implementing the dataspace. */
  readonly manager: ThreadId;
  /** The dataspace. */
  readonly dataspaceId: number;
  /** Offset in the dataspace of the region's first byte (page aligned). */
  readonly offset: number;
  /** Whether the region is mapped writable. */
  readonly writable: boolean;
}

/** The regions of one address space: non-overlapping page-aligned ranges. */
export class RegionMap {
  private readonly regions: Region[] = [];

  /** Attach a region. Throws {@link DataspaceError} on bad geometry or overlap. */
  attach(region: Region): void {
    const { vaddr, size, offset } = region;
    if (
      !isUint32(vaddr) ||
      !isUint32(offset) ||
      !Number.isInteger(size) ||
      size <= 0 ||
      ((vaddr | offset | size) & PAGE_MASK) !== 0 ||
      vaddr + size > 2 ** 32 ||
      offset + size > 2 ** 32
    ) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `region ${vaddr}+${size} at offset ${offset} is not page-aligned or wraps`,
      );
    }
    for (const r of this.regions) {
      if (vaddr < r.vaddr + r.size && r.vaddr < vaddr + size) {
        throw new DataspaceError(
          'DS_REGION_OVERLAP',
          `region ${vaddr}+${size} overlaps ${r.vaddr}+${r.size}`,
        );
      }
    }
    this.regions.push({ ...region });
  }

  /** Detach the region starting at `vaddr`; returns it, or undefined if there is none. */
  detach(vaddr: number): Region | undefined {
    const i = this.regions.findIndex((r) => r.vaddr === vaddr);
    if (i < 0) return undefined;
    return this.regions.splice(i, 1)[0];
  }

  /** The region containing `addr`, or undefined. */
  find(addr: number): Region | undefined {
    for (const r of this.regions) if (addr >= r.vaddr && addr < r.vaddr + r.size) return r;
    return undefined;
  }

  /** Attached regions (a copy). */
  list(): Region[] {
    return this.regions.slice();
  }
}

/** Counters of a region mapper. */
export interface RegionMapperStats {
  /** Faults resolved by a manager. */
  faultsResolved: number;
  /** Faults outside every region, refused by the manager, or a write to a read-only region. */
  faultsRejected: number;
}

/** Options of {@link RegionMapper}. */
export interface RegionMapperOptions {
  /** Threads allowed to attach and detach (default: any). */
  readonly owners?: readonly ThreadId[];
}

/** A region-mapper thread: run {@link RegionMapper.body}, make it the pager of the space's threads. */
export class RegionMapper {
  /** The region map it serves. */
  readonly regions = new RegionMap();
  /** Counters. */
  readonly stats: RegionMapperStats = { faultsResolved: 0, faultsRejected: 0 };
  /** The thread body. */
  readonly body: ThreadBody;
  private readonly owners: ReadonlySet<ThreadId> | null;

  /** A region mapper with an empty map. */
  constructor(options: RegionMapperOptions = {}) {
    this.owners = options.owners === undefined ? null : new Set(options.owners);
    this.body = (sys: Sys) => this.run(sys);
  }

  private *run(sys: Sys): DataspaceCall<void> {
    let r: IpcResult = yield* sys.ipc.receive(ANY_THREAD);
    for (;;) {
      if (!r.ok) {
        r = yield* sys.ipc.receive(ANY_THREAD);
        continue;
      }
      const reply = yield* this.handle(sys, r.from, r.msg);
      r = yield* sys.ipc.replyWait(r.from, reply);
    }
  }

  private *handle(sys: Sys, from: ThreadId, msg: Message): DataspaceCall<Message> {
    const w = msg.words;
    if (msg.label === PAGE_FAULT_LABEL) return yield* this.fault(sys, w[0] ?? -1, w[1] ?? 0);
    if (this.owners !== null && !this.owners.has(from))
      return { label: DsStatus.ACCESS_DENIED, words: [] };
    if (msg.label === RegionLabel.ATTACH) {
      const [manager, dataspaceId, vaddr, size, offset, writable] = w;
      if (w.length !== 6) return { label: DsStatus.BAD_ARGUMENT, words: [] };
      try {
        this.regions.attach({
          manager: manager!,
          dataspaceId: dataspaceId!,
          vaddr: vaddr!,
          size: size!,
          offset: offset!,
          writable: writable === 1,
        });
      } catch {
        return { label: DsStatus.BAD_ARGUMENT, words: [] };
      }
      return { label: DsStatus.OK, words: [] };
    }
    if (msg.label === RegionLabel.DETACH) {
      const region = this.regions.detach(w[0] ?? -1);
      if (region === undefined) return { label: DsStatus.BAD_ARGUMENT, words: [] };
      yield* revokeMappings(sys, region.vaddr, region.size / PAGE_SIZE, true);
      return { label: DsStatus.OK, words: [region.size / PAGE_SIZE] };
    }
    return { label: DsStatus.BAD_REQUEST, words: [] };
  }

  private *fault(sys: Sys, addr: number, access: number): DataspaceCall<Message> {
    const region = isUint32(addr) ? this.regions.find(addr) : undefined;
    const write = (access & FAULT_ACCESS_WRITE) !== 0;
    if (region === undefined || (write && !region.writable)) {
      this.stats.faultsRejected++;
      return { label: PAGE_FAULT_REFUSED_LABEL, words: [] };
    }
    const page = addr - (addr & PAGE_MASK);
    const r = yield* callAccepting(sys, region.manager, {
      label: DsLabel.MAP,
      words: [
        region.dataspaceId,
        region.offset + (page - region.vaddr),
        write ? DS_ACCESS_WRITE : 0,
        page,
      ],
    });
    if (!r.ok || r.msg.label !== DsStatus.OK) {
      this.stats.faultsRejected++;
      return { label: PAGE_FAULT_REFUSED_LABEL, words: [] };
    }
    this.stats.faultsResolved++;
    const fpage = r.msg.items?.[0]?.fpage;
    const rights = fpage?.rights ?? { read: true, write: false, execute: false };
    return {
      label: 0,
      words: [],
      items: [{ kind: 'map', fpage: { base: page, sizeLog2: PAGE_SHIFT, rights }, sendBase: page }],
    };
  }
}

/** Attach a dataspace to the space a region mapper serves. */
function* attach(sys: Sys, regionMapper: ThreadId, region: Region): DataspaceCall<void> {
  yield* request(
    sys,
    regionMapper,
    {
      label: RegionLabel.ATTACH,
      words: [
        region.manager,
        region.dataspaceId,
        region.vaddr,
        region.size,
        region.offset,
        region.writable ? 1 : 0,
      ],
    },
    'attach',
  );
}

/** Detach the region at `vaddr`: its pages are unmapped. Returns the pages the region spanned. */
function* detach(sys: Sys, regionMapper: ThreadId, vaddr: number): DataspaceCall<number> {
  const reply = yield* request(
    sys,
    regionMapper,
    { label: RegionLabel.DETACH, words: [vaddr] },
    'detach',
  );
  return reply.words[0] ?? 0;
}

/** Client helpers of the region-mapper protocol. */
export const rmClient = {
  /** Attach a dataspace region to the region mapper's space (throws `DataspaceError` on refusal). */
  attach,
  /** Detach the region at a virtual address and unmap its pages; returns the pages it spanned. */
  detach,
} as const;

/** Create a region mapper and return its thread body. */
export function regionMapper(options: RegionMapperOptions = {}): ThreadBody {
  return new RegionMapper(options).body;
}
