import { CMDSTS, ISR, SILICON_REVISION } from '@udf/driver-dp83820';
import { INTERRUPT_LABEL } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { testFrame } from '../test/nic-components.js';
import { ThreadsEngine } from './engine.js';
import { ThreadsEngineError } from './errors.js';

const DEVICES = new URL('../test/devices.ts', import.meta.url).href;
const NIC = new URL('../test/nic-components.ts', import.meta.url).href;
const SCRATCH = new URL('../test/dist-device.mjs', import.meta.url).href;
const IRQ = new URL('../test/irq-components.ts', import.meta.url).href;
const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];
const mac = (m: number[]) => m.map((x) => x.toString(16).padStart(2, '0')).join(':');

describe('the device worker ("hardware")', () => {
  it(
    'a driver domain resets a real Dp83820 through posted writes, reads registers back, and one frame goes by descriptor DMA from a region over an in-process wire into the other NIC, whose interrupt arrives as IPC',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: 2.66e9, interruptLines: 16 });
      const drv = e.createDomain('driver');
      const nicA = e.createDevice({
        name: 'a',
        component: { module: DEVICES, export: 'dp83820', config: { irqLine: 4, mac: mac(MAC_A) } },
        wire: { kind: 'link', device: 'b' },
      });
      const nicB = e.createDevice({
        name: 'b',
        component: { module: DEVICES, export: 'dp83820', config: { irqLine: 5, mac: mac(MAC_B) } },
        wire: { kind: 'link', device: 'a' },
      });
      e.mapDevice(drv, nicA, 0x1000_0000);
      e.mapDevice(drv, nicB, 0x1001_0000);
      const region = e.createRegion(0x4000);
      e.grantRegion(drv, 0x2000_0000, region);
      const out = new SharedArrayBuffer(8 * 16);
      const length = 1000;
      const rxCopy = new SharedArrayBuffer(length);
      const t = e.createThread({
        domain: drv,
        name: 'probe',
        component: {
          module: NIC,
          export: 'nicProbe',
          config: {
            regsA: 0x1000_0000,
            regsB: 0x1001_0000,
            unmapped: 0x1002_0000,
            mem: 0x2000_0000,
            irqLineB: 5,
            macA: MAC_A,
            macB: MAC_B,
            length,
            out,
            rxCopy,
          },
        },
      });
      await e.start();
      try {
        await e.join([t], 20_000);
      } finally {
        await e.stop();
      }
      expect(e.failures).toEqual([]);
      const o = new Float64Array(out);
      expect(o[0]).toBe(1);
      expect(o[13]).toBe(1); // no window where no device is mapped
      expect(o[1]).toBe(0); // CR after reset: RST self-cleared, TXE/RXE off
      expect(o[2]).toBe(0); // IMR reset
      expect(o[3]).toBe(0); // TXDP reset
      expect(o[4]).toBe(1); // SRR
      expect(o[12]).toBe(region.paddr); // translate
      expect(o[5]).toBe(1);
      expect(o[6]).toBe(INTERRUPT_LABEL);
      expect(o[7]! & ISR.RXOK).toBe(ISR.RXOK);
      expect(o[11]).toBe(1);
      const rx = o[8]!;
      expect(rx & CMDSTS.OWN).not.toBe(0); // filled by the device
      expect(rx & CMDSTS.OK).not.toBe(0);
      expect(rx & CMDSTS.SIZE_MASK).toBe(length);
      const tx = o[9]!;
      expect(tx & CMDSTS.OWN).toBe(0); // handed back
      expect(tx & CMDSTS.OK).not.toBe(0);
      expect(o[10]).toBe(0);
      expect(new Uint8Array(rxCopy)).toEqual(testFrame(MAC_B, MAC_A, length, 3));
      expect(SILICON_REVISION).toBeGreaterThan(0);
      const c = e.deviceCounters!;
      expect(c.mmioErrors).toBe(0);
      expect(c.eventErrors).toBe(0);
      expect(c.mmioEntries).toBeGreaterThan(10);
      expect(e.deviceError).toBeNull();
    },
  );

  it('a device is mapped into one domain only; bad device setup is a typed error', async () => {
    const e = new ThreadsEngine();
    const a = e.createDomain('a');
    const b = e.createDomain('b');
    const comp = { module: DEVICES, export: 'dp83820', config: { irqLine: 1, mac: mac(MAC_A) } };
    const d = e.createDevice({ name: 'nic', component: comp });
    e.mapDevice(a, d, 0x1000);
    const err = (f: () => void) => {
      try {
        f();
      } catch (x) {
        return x instanceof ThreadsEngineError ? x.code : 'other';
      }
      return 'none';
    };
    expect(err(() => e.mapDevice(a, d, 0x8000))).toBe('CONFIG'); // twice in one domain
    expect(err(() => e.mapDevice(b, d, 0x1000))).toBe('none'); // another domain: its own ring
    expect(err(() => e.createDevice({ name: 'nic', component: comp }))).toBe('CONFIG');
    expect(err(() => e.createDevice({ name: 'x', component: comp, mmioBytes: 3 }))).toBe('CONFIG');
    const d2 = e.createDevice({ name: 'nic2', component: comp });
    expect(err(() => e.mapDevice(a, d2, 0x1800))).toBe('OVERLAP');
    expect(
      err(() => e.grantRegion(a, 0, { paddr: 0x5000, buffer: new SharedArrayBuffer(4096) })),
    ).toBe('CONFIG');
  });

  it(
    'a device factory that throws fails start() with a typed error',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine();
      e.createDevice({ name: 'bad', component: { module: DEVICES, export: 'broken' } });
      await expect(e.start()).rejects.toMatchObject({ code: 'STATE' });
      expect(e.deviceError).toMatch(/no such hardware/);
    },
  );

  it(
    'when the device worker dies, a register read in a domain returns all ones instead of waiting for ever',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine();
      const d = e.createDomain('driver');
      const dev = e.createDevice({
        name: 'scratch',
        component: { module: SCRATCH, export: 'scratch', config: { irqLine: 1 } },
        mmioBytes: 16,
      });
      e.mapDevice(d, dev, 0x1000);
      const out = new SharedArrayBuffer(16);
      const gate = new SharedArrayBuffer(4);
      const t = e.createThread({
        domain: d,
        name: 'reader',
        component: { module: IRQ, export: 'lateReader', config: { regs: 0x1000, out, gate } },
      });
      await e.start();
      try {
        await (
          e as unknown as { deviceWorker: { terminate(): Promise<number> } }
        ).deviceWorker.terminate();
        for (let i = 0; i < 5000 && e.deviceError === null; i++) {
          await new Promise((r) => setTimeout(r, 2)); // until the exit event has arrived
        }
        expect(e.deviceError).toMatch(/exited/);
        Atomics.store(new Int32Array(gate), 0, 1);
        await e.join([t], 10_000);
        expect(new Float64Array(out)[0]).toBe(0xffff_ffff);
      } finally {
        await e.stop();
      }
    },
  );
});
