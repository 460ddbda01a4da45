import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CycleClock } from './clock.js';
import { RealTimeHost } from './device-host.js';
import { SharedPhysicalMemory } from './physical-memory.js';

/** A wall clock the test moves by hand (cycles). */
function fakeClock(hz = 1_000_000) {
  const c = { hz, t: 0, now: () => c.t };
  return c;
}

type Op =
  | { readonly kind: 'schedule'; readonly at: number }
  | { readonly kind: 'cancel'; readonly which: number }
  | { readonly kind: 'advance'; readonly by: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('schedule' as const), at: fc.integer({ min: 0, max: 60 }) }),
  fc.record({ kind: fc.constant('cancel' as const), which: fc.nat(200) }),
  fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 20 }) }),
);

describe('RealTimeHost event queue', () => {
  it('runs events in time order, ties in scheduling order, never a cancelled one and never early (against a sorted list)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const c = fakeClock();
        const h = new RealTimeHost(c as unknown as CycleClock, new SharedPhysicalMemory([]), null);
        const ran: number[] = [];
        const model: { at: number; id: number; live: boolean }[] = [];
        const handles: { cancel(): void }[] = [];
        const expected: number[] = [];
        const runModel = () => {
          const due = model
            .filter((e) => e.live && e.at <= c.t)
            .sort((a, b) => a.at - b.at || a.id - b.id);
          for (const e of due) {
            e.live = false;
            expected.push(e.id);
          }
        };
        for (const o of ops) {
          if (o.kind === 'schedule') {
            const id = model.length;
            const at = c.t + o.at;
            model.push({ at, id, live: true });
            handles.push(
              h.schedule(at, () => {
                expect(h.now()).toBe(at);
                expect(c.t).toBeGreaterThanOrEqual(at);
                ran.push(id);
              }),
            );
          } else if (o.kind === 'cancel') {
            if (handles.length === 0) continue;
            const i = o.which % handles.length;
            handles[i]!.cancel();
            model[i]!.live = false;
          } else {
            c.t += o.by;
            h.runDue();
            runModel();
          }
          const next = model.filter((e) => e.live).reduce((m, e) => Math.min(m, e.at), Infinity);
          const delay = h.nextDelayMs();
          if (next === Infinity) expect(delay).toBe(Number.POSITIVE_INFINITY);
          else expect(delay).toBeCloseTo((Math.max(0, next - c.t) / c.hz) * 1000);
        }
        c.t += 1000;
        h.runDue();
        runModel();
        expect(ran).toEqual(expected);
      }),
    );
  });
});
