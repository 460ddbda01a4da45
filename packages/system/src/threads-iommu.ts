/**
 * `iommu: true` on the threads engine: one IOMMU table per driver whose NICs sit behind an
 * IOMMU, as {@link realizeSim} builds it. The table is a physical region of its own (shared
 * memory), formatted here with the driver's descriptor rings granted, mapped into the dataspace
 * manager's domain (the manager enters every frame it installs in the driver's translation
 * caches — the same engine-agnostic code as on the sim) and handed, as its `SharedArrayBuffer`,
 * to each of the driver's NICs in the device worker, where the `Dp83820` model checks every DMA
 * burst against it. The driver gets no mapping of it.
 *
 * @module
 */
import { IOMMU_READ, IOMMU_WRITE, IommuTable } from '@udf/dataspace';
import type { DomainId, PhysicalRegion, ThreadsEngine } from '@udf/engine-threads';
import { AssemblyError } from './errors.js';
import { type ComponentPlan, REGION_STRIDE, type SystemPlan } from './plan.js';

/** One driver's IOMMU table on the threads engine. */
export interface ThreadsIommu {
  /** The driver's domain (plan space name). */
  readonly driverSpace: string;
  /** The NICs it protects (plan device names). */
  readonly devices: readonly string[];
  /** Where the manager maps it (the plan's `iommu.vaddr` of the driver). */
  readonly vaddr: number;
  /** Frames the table covers (physical addresses `[0, frames × 4096)`). */
  readonly frames: number;
  /** The table's physical region (its buffer goes to the device worker). */
  readonly region: PhysicalRegion;
  /** A view of the table from the main thread (faults, last fault address, mapped frames). */
  readonly table: IommuTable;
}

/** Physical memory below the threads engine's first region (it starts regions at 1 MiB). */
const LOW_UNBACKED_BYTES = 0x10_0000;

/**
 * Frames an IOMMU table must cover on the threads engine. The engine hands out physical
 * addresses upwards from 1 MiB with an unbacked guard frame after every region, so the address
 * space it can reach is at most 1 MiB plus twice what is ever allocated: the planned physical
 * regions and what the memory source may hand the manager (its budgets fit the machine's memory,
 * checked by the realiser). Twice that again leaves room for the tables themselves (each a few
 * bytes per frame). Clamped to what fits the manager's mapping slot ({@link REGION_STRIDE}); a
 * frame beyond the table is never entered (the manager counts it in `outside`) and its DMA faults.
 */
export function threadsIommuFrames(plan: SystemPlan): number {
  const planned = plan.regions
    .filter((r) => r.purpose !== 'counters')
    .reduce((sum, r) => sum + Math.ceil(r.bytes / 4096) * 4096, 0);
  const reach = LOW_UNBACKED_BYTES + 2 * (planned + plan.machine.memoryBytes);
  const fit = (REGION_STRIDE - IommuTable.bytesFor(0)) & ~7;
  return Math.min(IommuTable.framesFor(2 * reach), fit);
}

/**
 * Create, format and map one IOMMU table per driver with an `iommu` slot in the plan (before
 * the engine starts).
 *
 * @param engine - the engine being set up
 * @param plan - the plan
 * @param regionPaddr - physical address of each planned region by name
 * @param manager - the dataspace manager's domain
 * @throws AssemblyError if a NIC behind an IOMMU has no driver, or a descriptor region is unknown
 */
export function createThreadsIommu(
  engine: ThreadsEngine,
  plan: SystemPlan,
  regionPaddr: ReadonlyMap<string, number>,
  manager: DomainId,
): ThreadsIommu[] {
  const frames = threadsIommuFrames(plan);
  const out: ThreadsIommu[] = [];
  const drivers = plan.components.filter(
    (c): c is Extract<ComponentPlan, { kind: 'dp83820-driver' }> => c.kind === 'dp83820-driver',
  );
  for (const dp of drivers) {
    if (dp.iommu === null) continue;
    const region = engine.createRegion(IommuTable.bytesFor(frames));
    const table = new IommuTable(region.buffer, 0, frames);
    table.format();
    for (const d of dp.devices) {
      const paddr = regionPaddr.get(d.dma.region);
      if (paddr === undefined) throw new AssemblyError(`no region ${d.dma.region}`);
      table.grant(paddr, d.dma.bytes, IOMMU_READ | IOMMU_WRITE);
    }
    engine.grantRegion(manager, dp.iommu.vaddr, region);
    out.push({
      driverSpace: dp.space,
      devices: dp.devices.map((d) => d.device),
      vaddr: dp.iommu.vaddr,
      frames,
      region,
      table,
    });
  }
  for (const dev of plan.devices) {
    if (dev.iommu && !out.some((t) => t.devices.includes(dev.name)))
      throw new AssemblyError(`${dev.name} is behind an IOMMU but no driver runs it`);
  }
  return out;
}
