// Test components for the memory slow path: a small script interpreter (each step is plain
// data, so a test writes a scenario as config) and a pager. They import nothing from the
// engine. Results go into a shared Float64 `out` buffer, one slot per step.
import {
  type Access,
  ANY_THREAD,
  type Fpage,
  type IpcResult,
  type MapGrantItem,
  PAGE_FAULT_LABEL,
  PAGE_FAULT_REFUSED_LABEL,
  type Sys,
} from '@udf/l4-kernel';

/** Names a result slot can hold, encoded as `-1000 - index`. */
export const NAMES = [
  'ok',
  'timeout',
  'non-existing-partner',
  'canceled',
  'aborted',
  'message-overflow',
  'malformed-item',
  'unmapped',
  'no-pager',
  'rights',
  'not-contiguous',
  'out-of-range',
  'null',
] as const;
/** A slot value as a number or a name. */
export function decode(v: number): number | string {
  return v <= -1000 ? NAMES[-1000 - v]! : v;
}
const enc = (name: string) => -1000 - NAMES.indexOf(name as (typeof NAMES)[number]);
const ipc = (r: IpcResult) => (r.ok ? enc('ok') : enc(r.error));

/** One step of a {@link script}. */
export type Step =
  | { op: 'poke'; vaddr: number; value: number; kind?: Access }
  | { op: 'peek'; vaddr: number }
  | { op: 'send'; to: number | 'last'; items: MapGrantItem[]; label?: number }
  | { op: 'receive'; from?: number; window?: Fpage }
  | { op: 'call'; to: number | 'last'; window?: Fpage; items?: MapGrantItem[] }
  | { op: 'reply'; to: number | 'last' }
  | { op: 'unmap'; fpage: Fpage; self?: boolean }
  | { op: 'translate'; vaddr: number }
  | { op: 'signal'; flag: number }
  | { op: 'wait'; flag: number };

/** Runs `steps` in order; slot i of `out` holds step i's result, slot `steps.length` = 1 when done. */
export function script(config: { steps: Step[]; out: SharedArrayBuffer; sync: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const sync = new Int32Array(config.sync);
    let last = 0;
    const target = (t: number | 'last') => (t === 'last' ? last : t);
    for (let i = 0; i < config.steps.length; i++) {
      const s = config.steps[i]!;
      let v = 0;
      switch (s.op) {
        case 'poke': {
          const m = yield* sys.mem.access(s.vaddr, 4, s.kind ?? 'write');
          if ('error' in m) v = enc(m.error);
          else {
            m.words[0] = s.value;
            v = enc('ok');
          }
          break;
        }
        case 'peek': {
          const m = yield* sys.mem.access(s.vaddr, 4, 'read');
          v = 'error' in m ? enc(m.error) : m.words[0]!;
          break;
        }
        case 'send':
          v = ipc(
            yield* sys.ipc.send(target(s.to), { label: s.label ?? 0, words: [], items: s.items }),
          );
          break;
        case 'receive': {
          const r = yield* sys.ipc.receive(s.from ?? ANY_THREAD, undefined, s.window);
          if (r.ok) last = r.from;
          v = ipc(r);
          break;
        }
        case 'call': {
          const r = yield* sys.ipc.call(
            target(s.to),
            { label: 1, words: [], items: s.items },
            undefined,
            s.window,
          );
          v = ipc(r);
          break;
        }
        case 'reply':
          v = ipc(yield* sys.ipc.reply(target(s.to), { label: 0, words: [] }));
          break;
        case 'unmap':
          v = yield* sys.mem.unmap(s.fpage, s.self ?? false);
          break;
        case 'translate':
          v = sys.mem.translate(s.vaddr) ?? enc('null');
          break;
        case 'signal':
          Atomics.store(sync, s.flag, 1);
          break;
        case 'wait':
          while (Atomics.load(sync, s.flag) === 0) yield* sys.sleep(sys.hz * 0.0002);
          break;
      }
      out[i] = v;
    }
    out[config.steps.length] = 1;
  };
}

/**
 * A pager: answers page faults. `policy` per fault number (the last one repeats): 'map' maps
 * the page of its own space at `source` (with `rights`) to the fault address; 'none' replies
 * without a mapping (the client faults again); 'refuse' replies PAGE_FAULT_REFUSED_LABEL.
 * Records each fault's address and access bits in `out` (pairs from slot 1; slot 0 = count).
 */
export function pager(config: {
  source: number;
  rights?: { read: boolean; write: boolean; execute: boolean };
  policy: ('map' | 'none' | 'refuse')[];
  out: SharedArrayBuffer;
  seed?: number;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    if (config.seed !== undefined) {
      const m = yield* sys.mem.access(config.source, 4, 'write');
      if (!('error' in m)) m.words[0] = config.seed;
    }
    let faults = 0;
    for (;;) {
      const r = yield* sys.ipc.receive(ANY_THREAD);
      if (!r.ok || r.msg.label !== PAGE_FAULT_LABEL) continue;
      const [addr, access] = r.msg.words as [number, number];
      out[1 + 2 * faults] = addr;
      out[2 + 2 * faults] = access;
      const policy = config.policy[Math.min(faults, config.policy.length - 1)]!;
      faults++;
      out[0] = faults;
      if (policy === 'refuse') {
        yield* sys.ipc.reply(r.from, { label: PAGE_FAULT_REFUSED_LABEL, words: [] });
      } else if (policy === 'none') {
        yield* sys.ipc.reply(r.from, { label: 0, words: [] });
      } else {
        const rights = config.rights ?? { read: true, write: true, execute: false };
        yield* sys.ipc.reply(r.from, {
          label: 0,
          words: [],
          items: [
            { kind: 'map', fpage: { base: config.source, sizeLog2: 12, rights }, sendBase: addr },
          ],
        });
      }
    }
  };
}

/**
 * A device that does DMA on request: register 0 holds a physical address, writing register 4
 * stores its value there (`store32`), reading register 8 loads the word there (`load32`);
 * register 12 counts refused addresses.
 */
export function dmaDevice(host: {
  memory: { load32(p: number): number; store32(p: number, v: number): void };
}) {
  let addr = 0;
  let refused = 0;
  return {
    mmioSize: 16,
    read32(o: number): number {
      if (o === 0) return addr;
      if (o === 12) return refused;
      if (o !== 8) return 0;
      try {
        return host.memory.load32(addr) >>> 0;
      } catch {
        refused++;
        return 0xffffffff;
      }
    },
    write32(o: number, v: number): void {
      if (o === 0) addr = v >>> 0;
      else if (o === 4) {
        try {
          host.memory.store32(addr, v);
        } catch {
          refused++;
        }
      }
    },
  };
}

/**
 * Asks a memory source (by call: label 0x4d53, words [vaddr, bytes]) for memory, writes into
 * it, then has the DMA device read it and write next to it. out: [0] reply label, [1] paddr
 * from the reply, [2] translate(vaddr), [3] word the device read, [4] word the device wrote
 * (read through the view), [5] refused DMA addresses, [6] done.
 */
export function dmaClient(config: {
  source: number;
  vaddr: number;
  bytes: number;
  regs: number;
  out: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const r = yield* sys.ipc.call(config.source, {
      label: 0x4d53,
      words: [config.vaddr, config.bytes],
    });
    out[0] = r.ok ? r.msg.label : -1;
    const paddr = r.ok ? r.msg.words[0]! : 0;
    out[1] = paddr;
    out[2] = sys.mem.translate(config.vaddr) ?? -1;
    const v = yield* sys.mem.access(config.vaddr, config.bytes, 'write');
    if ('error' in v) {
      out[6] = -1;
      return;
    }
    v.words[0] = 0x1234;
    const dev = sys.mem.registers(config.regs)!;
    dev.write32(0, paddr);
    out[3] = dev.read32(8);
    dev.write32(0, paddr + 16);
    dev.write32(4, 0xbeef);
    dev.read32(0); // a read flushes the posted writes
    out[4] = v.words[4]!;
    out[5] = dev.read32(12);
    out[6] = 1;
  };
}

/**
 * Stress: `rounds` times, call `to` with a map item of the page at `base` (which holds `value`)
 * landing at `sendBase` of its window, then unmap it again (`items: false`: the same calls
 * without an item and without the unmap, for comparison). out: [0] rounds completed, [1]
 * failed calls, [2] pages unmap removed in all, [3] elapsed milliseconds.
 */
export function mapLoop(config: {
  to: number;
  base: number;
  value: number;
  sendBase: number;
  rounds: number;
  items?: boolean;
  out: SharedArrayBuffer;
}) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const withItems = config.items !== false;
    const m = yield* sys.mem.access(config.base, 4, 'write');
    if ('error' in m) throw new Error(`no page at ${config.base}: ${m.error}`);
    m.words[0] = config.value;
    const fpage = {
      base: config.base,
      sizeLog2: 12,
      rights: { read: true, write: true, execute: false },
    };
    const items = withItems ? [{ kind: 'map' as const, fpage, sendBase: config.sendBase }] : [];
    const t0 = performance.now();
    for (let i = 0; i < config.rounds; i++) {
      const r = yield* sys.ipc.call(config.to, {
        label: config.value,
        words: [config.sendBase],
        items,
      });
      if (!r.ok) out[1]!++;
      if (withItems) out[2]! += yield* sys.mem.unmap(fpage, false);
      out[0] = i + 1;
    }
    out[3] = performance.now() - t0;
  };
}

/**
 * Stress partner of {@link mapLoop}: receives with `window`, reads the word where an item
 * landed (must equal the label; messages without items are just answered), replies. out: [0] messages, [1] wrong or missing words.
 */
export function mapServer(config: { window: Fpage; out: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    for (;;) {
      const r = yield* sys.ipc.receive(ANY_THREAD, undefined, config.window);
      if (!r.ok) continue;
      out[0]!++;
      if (r.msg.items !== undefined && r.msg.items.length > 0) {
        const v = yield* sys.mem.access(config.window.base + r.msg.words[0]!, 4, 'read');
        if ('error' in v || v.words[0] !== r.msg.label) out[1]!++;
      }
      yield* sys.ipc.reply(r.from, { label: 0, words: [] });
    }
  };
}

/**
 * A region mapper (SawMill's role, as `@udf/dataspace`'s): the pager of threads in its OWN
 * domain. On a fault it asks `manager` (another domain) for the page with a one-page receive
 * window at the fault address, then answers the faulting thread with a map item of that page
 * from its own space to the same place (which maps nothing new: it is already there).
 * out: [0] faults served.
 */
export function regionMapper(config: { manager: number; out: SharedArrayBuffer }) {
  return function* (sys: Sys) {
    const out = new Float64Array(config.out);
    const rw = { read: true, write: true, execute: false };
    for (;;) {
      const r = yield* sys.ipc.receive(ANY_THREAD);
      if (!r.ok || r.msg.label !== PAGE_FAULT_LABEL) continue;
      const [addr, access] = r.msg.words as [number, number];
      const page = Math.floor(addr / 4096) * 4096;
      yield* sys.ipc.call(
        config.manager,
        { label: PAGE_FAULT_LABEL, words: [addr, access] },
        undefined,
        { base: page, sizeLog2: 12, rights: rw },
      );
      out[0]!++;
      yield* sys.ipc.reply(r.from, {
        label: 0,
        words: [],
        items: [{ kind: 'map', fpage: { base: page, sizeLog2: 12, rights: rw }, sendBase: addr }],
      });
    }
  };
}
