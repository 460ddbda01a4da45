/**
 * The IOMMU with the real user-level driver on the sim engine: a legitimate echo load is
 * unaffected, and a driver that aims its receive ring at another domain's memory corrupts it
 * without an IOMMU, while behind one the device faults, the fault interrupt reaches a
 * supervisor thread and the victim stays intact.
 *
 * The malicious driver is played by the test writing the driver's descriptor ring directly (its
 * DMA region is mapped only into the driver's space: only the driver could write it).
 */
import { ANY_THREAD, NEVER, type ThreadId } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { makeFrame } from '../testing/frames.js';
import { buildRig, type Rig } from '../testing/sim-rig.js';
import { CR, DESC_LAYOUT_32, Reg } from './registers.js';

const MAC0 = [0x02, 0, 0, 0, 0, 0x10];
const PEER = [0x02, 0, 0, 0, 0, 0x99];
const PAGE = 4096;
const FAULT_LINE = 20;
const PATTERN = 0x5a;

function echoRig(iommu: boolean): Rig {
  return buildRig({
    keepFrames: false,
    hooks: [{ onRx: (len, _s, bytes) => bytes.subarray(0, len) }],
    ...(iommu ? { iommu: true } : {}),
  });
}

/** Offer `frames` frames of `size` bytes at `mbps` and run until they are all due, plus 2 ms. */
function offer(rig: Rig, frames: number, size: number, mbps: number): void {
  const hz = rig.sim.machine.hz;
  rig.sim.runFor(hz * 0.001);
  const gap = (size * 8) / (mbps * 1e6);
  const input = Array.from({ length: frames }, (_, i) => makeFrame(MAC0, PEER, size, i));
  rig.peers[0]!.send(rig.devices[0]!.port, input, gap);
  rig.sim.runFor(hz * (frames * gap + 0.002));
}

describe('a legitimate echo load behind the IOMMU', () => {
  it('echoes every frame, exactly as without it, with no fault', () => {
    const plain = echoRig(false);
    const guarded = echoRig(true);
    offer(plain, 2_000, 1024, 300);
    offer(guarded, 2_000, 1024, 300);
    const a = plain.devices[0]!.stats;
    const b = guarded.devices[0]!.stats;
    expect(guarded.peers[0]!.count).toBe(2_000);
    expect(b.iommuFaults).toBe(0);
    expect(guarded.iommu!.faults).toBe(0);
    // The check charges nothing on the sim: the two runs are the same run.
    expect({ ...b, iommuFaults: 0 }).toEqual(a);
    expect(guarded.sim.now()).toBe(plain.sim.now());
    // Mapped: the descriptor rings and the session's buffer pages the driver translated.
    const ringPages = guarded.dmaRegions[0]!.bytes / PAGE;
    const bufferPages = (2 * guarded.rxBufferBytes) / PAGE;
    expect(guarded.iommu!.mappedFrames()).toBeGreaterThan(ringPages);
    expect(guarded.iommu!.mappedFrames()).toBeLessThanOrEqual(ringPages + bufferPages);
  });
});

/** Re-aim every receive descriptor the device owns at `victim` (what a malicious driver does). */
function aimRxRingAt(rig: Rig, victim: number): number {
  const mem = rig.sim.machine.memory;
  const L = DESC_LAYOUT_32;
  const start = rig.devices[0]!.read32(Reg.RXDP) >>> 0;
  let at = start;
  let n = 0;
  do {
    mem.write32(at + L.bufptr, victim);
    n++;
    at = mem.read32(at + L.link) >>> 0;
  } while (at !== 0 && at !== start && n < 1024);
  return n;
}

interface Attack {
  rig: Rig;
  victim: number;
  intact: () => boolean;
  seen: { faults: number; address: number }[];
}

/** An echo rig whose driver turns hostile after start-up; a supervisor watches the IOMMU fault line. */
function attack(iommu: boolean): Attack {
  const seen: Attack['seen'] = [];
  const box: { rig: Rig | null } = { rig: null };
  const rig = buildRig({
    keepFrames: false,
    hooks: [{ onRx: (len, _s, bytes) => bytes.subarray(0, len) }],
    ...(iommu ? { iommu: { faultLine: FAULT_LINE } } : {}),
    supervisor: function* (sys) {
      if (!iommu) return;
      const attached = yield* sys.irq.attach(FAULT_LINE);
      if (!attached.ok) throw new Error(attached.error);
      const irq: ThreadId = attached.irqThread;
      for (;;) {
        const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
        if (!r.ok || r.from !== irq) continue;
        const table = box.rig!.iommu!;
        seen.push({ faults: table.faults, address: table.lastFaultAddress });
        // The real supervisor writes CR.RST through its own register window.
        box.rig!.devices[0]!.write32(Reg.CR, CR.RST);
        yield* sys.ipc.reply(irq, { label: 0, words: [] });
      }
    },
  });
  box.rig = rig;
  // Another domain's memory: a page of the kernel's, never given to the driver.
  const victim = rig.sim.kernel.allocateFrames(PAGE);
  const page = new Uint8Array(PAGE).fill(PATTERN);
  rig.sim.machine.memory.copyIn(victim, page);
  const intact = () => {
    const now = new Uint8Array(PAGE);
    rig.sim.machine.memory.copyOut(victim, now);
    return now.every((b) => b === PATTERN);
  };
  return { rig, victim, intact, seen };
}

describe('a malicious driver aims the NIC at another domain', () => {
  function run(a: Attack): void {
    const hz = a.rig.sim.machine.hz;
    a.rig.sim.runFor(hz * 0.001); // the driver starts and posts its receive ring
    expect(aimRxRingAt(a.rig, a.victim)).toBeGreaterThan(0);
    const frames = Array.from({ length: 4 }, (_, i) => makeFrame(MAC0, PEER, 512, i));
    a.rig.peers[0]!.send(a.rig.devices[0]!.port, frames);
    a.rig.sim.runFor(hz * 0.001);
  }

  it('without an IOMMU, the received frame overwrites the victim (the attack succeeds)', () => {
    const a = attack(false);
    run(a);
    expect(a.intact()).toBe(false);
    const got = new Uint8Array(512);
    a.rig.sim.machine.memory.copyOut(a.victim, got);
    expect(got).toEqual(makeFrame(MAC0, PEER, 512, 3)); // the last frame in wins
    expect(a.rig.devices[0]!.stats.iommuFaults).toBe(0);
  });

  it('behind an IOMMU, the DMA is refused and counted, the supervisor sees the fault and resets the device', () => {
    const a = attack(true);
    run(a);
    expect(a.intact()).toBe(true);
    const dev = a.rig.devices[0]!;
    expect(dev.stats.iommuFaults).toBe(1);
    expect(dev.stats.rxDelivered).toBe(0);
    expect(a.seen).toEqual([{ faults: 1, address: a.victim }]);
    expect(dev.iommuFaulted).toBe(false); // reset by the supervisor
  });
});
