import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FuzzTarget, fuzzSeeds, mutate } from './fuzz.js';

const seeds = fuzzSeeds();

describe('Stack under fuzz: every frame lands in exactly one counter, nothing throws', () => {
  it('survives arbitrary byte strings', () => {
    const target = new FuzzTarget();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600 }), (frame) => {
        expect(target.feed(frame)).toBeNull();
      }),
      { numRuns: 3000 },
    );
  });

  it('survives mutated valid frames and real captures', () => {
    const target = new FuzzTarget();
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(fc.nat(0xffff), { maxLength: 16 }),
        fc.nat(40),
        (seed, ops, cut) => {
          expect(target.feed(mutate(seeds[seed]!, ops, cut))).toBeNull();
        },
      ),
      { numRuns: 5000 },
    );
    // The valid seeds did reach the upper layers, so the property is not vacuous.
    const c = target.stack.counters;
    expect(c.udpDelivered + c.icmpHandled + c.arpHandled).toBeGreaterThan(0);
  });

  it('survives frames whose headers are valid but whose lengths lie', () => {
    const target = new FuzzTarget();
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.nat(0xffff),
        fc.constantFrom(16, 24, 38),
        (s, v, at) => {
          const f = seeds[s]!.slice();
          if (at + 1 < f.length) {
            f[at] = v >>> 8;
            f[at + 1] = v & 0xff;
          }
          expect(target.feed(f)).toBeNull();
        },
      ),
      { numRuns: 2000 },
    );
  });
});
