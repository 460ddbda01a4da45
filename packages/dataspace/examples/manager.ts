import {
  AnonymousManager,
  DS_RIGHT_READ,
  DS_RIGHT_TRANSLATE,
  DS_RIGHT_WRITE,
  dsClient,
  Session,
  TranslationCache,
  ValidationStatus,
} from '@udf/dataspace';
import { RW, SimEngine } from '@udf/l4-kernel';

const sim = new SimEngine();
const k = sim.kernel;

// Assembler: give the manager 1 MiB of physical memory (sigma0's role) and start it.
const managerSpace = k.createSpace('memory');
const pool = k.allocateFrames(1 << 20, 1 << 20);
k.mapPhysical(managerSpace, 0x1000_0000, pool, 1 << 20, RW);
const manager = new AnonymousManager({
  pool: { vaddr: 0x1000_0000, bytes: 1 << 20 },
  pinQuota: { maxPinnedPages: 64, maxPinCycles: 2_660_000 }, // 1 ms at 2.66 GHz
  onDriverDisabled: (driver) => console.log(`reset the device of driver ${driver}`),
});
const managerId = k.createThread({
  name: 'dsm',
  space: managerSpace,
  priority: 200,
  body: manager.body,
});

// Session setup: the client opens a dataspace and lets the driver translate it.
const shared = { dataspaceId: 0 };
const driverId = k.createThread({
  name: 'driver',
  space: k.createSpace('driver'),
  body: function* (sys) {
    while (shared.dataspaceId === 0) yield* sys.sleep(1_000);
    const tc = yield* TranslationCache.open(sys, managerId, { vaddr: 0x2000_0000, entries: 256 });
    const session = new Session();
    session.add(yield* tc.add(shared.dataspaceId)); // size comes from the manager

    // Hot path, per work descriptor (dataspace, offset, length) read from a client ring:
    const [ds, offset, length] = [shared.dataspaceId, 8192 + 64, 1514];
    if (session.validate(ds, offset, length) !== ValidationStatus.OK) return; // counted drop
    let paddr = tc.pin(ds, offset); // translate + pin, no IPC on a hit
    if (paddr < 0) {
      yield* tc.refill(sys, ds, offset); // miss: one IPC to the manager
      paddr = tc.pin(ds, offset);
    }
    console.log(`DMA 1514 bytes at physical 0x${paddr.toString(16)}`);
    tc.unpin(ds, offset); // DMA complete
    console.log(`foreign reference: ${session.validate(ds + 1, 0, 64)}`);
  },
});
k.createThread({
  name: 'client',
  space: k.createSpace('client'),
  body: function* (sys) {
    const ds = yield* dsClient.open(sys, managerId, 64 * 1024);
    yield* dsClient.share(sys, ds, driverId, DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE);
    shared.dataspaceId = ds.id;
  },
});
sim.runFor(sim.machine.hz / 1000); // 1 ms of virtual time
