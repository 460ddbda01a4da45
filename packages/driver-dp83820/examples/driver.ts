import {
  AnonymousManager,
  DS_RIGHT_READ,
  DS_RIGHT_TRANSLATE,
  DS_RIGHT_WRITE,
  dsClient,
  TranslationCache,
} from '@udf/dataspace';
import { Dp83820, Dp83820Driver } from '@udf/driver-dp83820';
import { RW, SimEngine, type Sys } from '@udf/l4-kernel';
import { netSessionLayout } from '@udf/netdev';

const sim = new SimEngine();
const k = sim.kernel;

// The NIC and what is on the other end of its cable (here: a sink that counts frames).
const nic = sim.machine.attachDevice(
  'nic0',
  new Dp83820({ host: sim.machine, irqLine: 9, mac: '02:00:00:00:00:10' }),
);
const wirePeer = { frames: 0, receive: (_frame: Uint8Array) => void wirePeer.frames++ };
nic.port.connect(wirePeer);

// A dataspace manager with 1 MiB of frames, for the client's buffers and the translation cache.
const memory = k.createSpace('memory');
k.mapPhysical(memory, 0x1000_0000, k.allocateFrames(1 << 20, 1 << 20), 1 << 20, RW);
const manager = new AnonymousManager({
  pool: { vaddr: 0x1000_0000, bytes: 1 << 20 },
  // Paper 4.4: a driver over its pin quota is disabled and its device reset.
  pinQuota: { maxPinnedPages: 256, maxPinCycles: sim.machine.hz },
  onDriverDisabled: (id) => {
    if (id === driverThread) driver?.quotaExceeded();
  },
});
const managerThread = k.createThread({
  name: 'dsm',
  space: memory,
  priority: 150,
  body: manager.body,
});

// The driver's space: the register window, DMA memory for the descriptor rings, the session region.
const driverSpace = k.createSpace('driver');
const clientSpace = k.createSpace('client');
k.mapDevice(driverSpace, 0x2000_0000, nic); // registers → sys.mem.registers(0x2000_0000)
const dmaPaddr = k.mapAnonymous(driverSpace, 0x2100_0000, 16 * 4096, RW);
const regionBytes = Math.ceil(netSessionLayout(64).byteLength / 4096) * 4096;
const regionPaddr = k.mapAnonymous(driverSpace, 0x3000_0000, regionBytes, RW);
k.mapPhysical(clientSpace, 0x3000_0000, regionPaddr, regionBytes, RW); // shared with the client

// The client opens its buffer dataspace and lets the driver translate it.
const session = { buffersDs: 0, stackThread: 0 };
let driver = null as Dp83820Driver | null; // built in the driver thread
const driverThread = k.createThread({
  name: 'dp83820',
  space: driverSpace,
  priority: 200,
  body: function* (sys: Sys) {
    while (session.buffersDs === 0) yield* sys.sleep(10_000);
    driver = new Dp83820Driver({
      devices: [
        {
          registers: 0x2000_0000,
          irq: 9,
          dma: { vaddr: 0x2100_0000, paddr: dmaPaddr, bytes: 16 * 4096 },
          holdoff: 1, // IHR units of 100 µs
        },
      ],
      sessions: [
        {
          device: 0,
          client: session.stackThread,
          region: 0x3000_0000,
          capacity: 64,
          dataspaces: [session.buffersDs],
        },
      ],
      translation: (ts) =>
        TranslationCache.open(ts, managerThread, { vaddr: 0x2800_0000, entries: 1024 }),
    });
    yield* driver.body(sys);
  },
});
session.stackThread = k.createThread({
  name: 'client',
  space: clientSpace,
  priority: 100,
  body: function* (sys: Sys) {
    const ds = yield* dsClient.open(sys, managerThread, 64 * 2048);
    const rights = DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE;
    yield* dsClient.share(sys, ds, driverThread, rights);
    session.buffersDs = ds.id;
    // A client would now post receive buffers and submit frames on the session's rings.
  },
});

sim.runFor(Math.round(sim.machine.hz * 0.01)); // 10 ms of virtual time
console.log(`driver running: ${driver?.running}, frames on the wire: ${wirePeer.frames}`);
