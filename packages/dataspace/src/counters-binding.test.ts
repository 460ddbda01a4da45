import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  COUNTERS_PAGE_BYTES,
  COUNTERS_VALUES_OFFSET,
  CountersPage,
  readCountersPage,
} from './counters-page.js';

/** The page's value slots, as another thread holding the region sees them. */
function slotsOf(buffer: SharedArrayBuffer, byteOffset = 0): Float64Array {
  return new Float64Array(buffer, byteOffset + COUNTERS_VALUES_OFFSET, 8);
}

describe('counters page binding', () => {
  it('keeps the object, and every field (nested too) reads and writes through the page', () => {
    const buffer = new SharedArrayBuffer(COUNTERS_PAGE_BYTES);
    const page = new CountersPage(buffer, 0);
    const counters = {
      rx: 1,
      label: 'stack',
      drops: { short: 2, bad: 3 },
      tx: 4,
      bytes: new Uint8Array(2),
      nothing: null,
    };
    const bound = page.bind('s', counters);
    expect(bound).toBe(counters);
    const slots = slotsOf(buffer);
    expect(Array.from(slots.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    // Writes land in the page...
    counters.rx++;
    counters.drops.bad += 10;
    counters.tx = 40;
    expect(Array.from(slots.subarray(0, 4))).toEqual([2, 2, 13, 40]);
    // ...and what the page holds (say, written by another thread) is what a read returns.
    slots[1] = 77;
    slots[3] = 5;
    expect(counters.drops.short).toBe(77);
    expect(counters.tx).toBe(5);
    expect(readCountersPage(buffer, 0).counters).toEqual({
      's.rx': 2,
      's.drops.short': 77,
      's.drops.bad': 13,
      's.tx': 5,
    });
    // The rest of the object is untouched.
    expect(Object.keys(counters)).toEqual(['rx', 'label', 'drops', 'tx', 'bytes', 'nothing']);
    expect(Object.keys(counters.drops)).toEqual(['short', 'bad']);
    expect(counters.label).toBe('stack');
    expect(counters.bytes).toBeInstanceOf(Uint8Array);
    expect(counters.nothing).toBeNull();
    expect(JSON.parse(JSON.stringify(counters))).toMatchObject({ rx: 2, drops: { short: 77 } });
  });

  it('keeps non-counter properties as they were: attributes, symbols, accessors, the prototype', () => {
    const tag = Symbol('tag');
    class Stats {
      hits = 0;
      get double(): number {
        return this.hits * 2;
      }
    }
    const stats = new Stats();
    Object.defineProperty(stats, 'hidden', {
      value: 9,
      enumerable: false,
      writable: false,
      configurable: true,
    });
    Object.defineProperty(stats, tag, {
      value: 'x',
      enumerable: true,
      writable: true,
      configurable: true,
    });
    let backing = 1;
    Object.defineProperty(stats, 'derived', {
      get: () => backing,
      set: (v: number) => {
        backing = v;
      },
      enumerable: false,
      configurable: true,
    });
    const buffer = new SharedArrayBuffer(COUNTERS_PAGE_BYTES);
    new CountersPage(buffer, 0).bind('k', stats);
    stats.hits += 3;
    expect(stats.double).toBe(6);
    expect(Object.getPrototypeOf(stats)).toBe(Stats.prototype);
    expect(Object.getOwnPropertyNames(stats)).toEqual(['hits', 'hidden', 'derived']);
    // The symbols: the object's own, and the binding's non-enumerable marker.
    const symbols = Object.getOwnPropertySymbols(stats);
    expect(symbols).toHaveLength(2);
    expect(symbols[1]).toBe(tag);
    expect(Object.getOwnPropertyDescriptor(stats, symbols[0]!)?.enumerable).toBe(false);
    expect(Object.getOwnPropertyDescriptor(stats, 'hidden')).toEqual({
      value: 9,
      enumerable: false,
      writable: false,
      configurable: true,
    });
    expect((stats as unknown as Record<symbol, string>)[tag]).toBe('x');
    (stats as unknown as { derived: number }).derived = 5;
    expect(backing).toBe(5);
    expect(readCountersPage(buffer, 0).counters).toEqual({
      'k.hits': 3,
    });
  });

  it('binds a non-extensible object (which it cannot rebuild) in place, through the page all the same', () => {
    const buffer = new SharedArrayBuffer(COUNTERS_PAGE_BYTES);
    const counters = Object.preventExtensions({ a: 1, b: Object.preventExtensions({ c: 2 }) });
    new CountersPage(buffer, 0).bind('z', counters);
    counters.a += 1;
    counters.b.c += 5;
    expect(Array.from(slotsOf(buffer).subarray(0, 2))).toEqual([2, 7]);
    expect(Object.keys(counters)).toEqual(['a', 'b']);
  });

  it('a page too full for an object leaves that object as it was', () => {
    const page = new CountersPage(new SharedArrayBuffer(COUNTERS_PAGE_BYTES), 0);
    page.bind('fill', Object.fromEntries(Array.from({ length: 253 }, (_, i) => [`c${i}`, 0])));
    const counters = { x: 1, y: 2, z: 3, w: 4, v: 5, u: 6 };
    expect(() => page.bind('late', counters)).toThrow(/too many counters/);
    expect(Object.getOwnPropertyDescriptor(counters, 'x')).toEqual({
      value: 1,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    expect(Object.keys(counters)).toEqual(['x', 'y', 'z', 'w', 'v', 'u']);
  });

  it('binding an already bound object again keeps its current values', () => {
    const buffer = new SharedArrayBuffer(COUNTERS_PAGE_BYTES * 2);
    const counters = { n: 0 };
    new CountersPage(buffer, 0).bind('a', counters);
    counters.n = 12;
    new CountersPage(buffer, COUNTERS_PAGE_BYTES).bind('a', counters);
    counters.n++;
    expect(readCountersPage(buffer, COUNTERS_PAGE_BYTES).counters).toEqual({ 'a.n': 13 });
    expect(Object.getOwnPropertySymbols(counters)).toHaveLength(1); // one binding marker
    expect(readCountersPage(buffer, 0).counters).toEqual({ 'a.n': 12 });
  });

  it('leaves bound objects, nested ones and more of one shape, in V8 fast mode (no dictionary-mode slow path)', () => {
    // V8's own verdict, asked in a child process: the natives syntax is a process-wide flag.
    const module = fileURLToPath(new URL('./counters-page.ts', import.meta.url));
    const script = `
      const { CountersPage, COUNTERS_PAGE_BYTES } = await import(${JSON.stringify(module)});
      const page = new CountersPage(new SharedArrayBuffer(COUNTERS_PAGE_BYTES), 0);
      const make = () => ({ a: 0, b: 0, label: 'x', drops: { short: 0, bad: 0 }, c: 0 });
      const fast = [];
      for (let i = 0; i < 3; i++) {
        const c = page.bind('s' + i, make());
        c.a++;
        c.drops.bad++;
        fast.push(%HasFastProperties(c), %HasFastProperties(c.drops));
      }
      console.log(JSON.stringify(fast));`;
    const run = spawnSync(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([true, true, true, true, true, true]);
  });
});
