import { describe, it } from 'vitest';
import { SimEngine } from '../engine.js';
import { type ConformanceEngine, SYS_CONFORMANCE } from './index.js';

/** The sim engine as the conformance suite drives it, in separate-region memory. */
function simEngine(): ConformanceEngine {
  const sim = new SimEngine({ memoryLayout: 'separate', memoryBytes: 16 << 20 });
  const k = sim.kernel;
  return {
    hz: sim.machine.hz,
    createSpace: (name) => k.createSpace(name),
    createThread: (o) => k.createThread({ ...o, body: o.body }), // builds the component here
    mapAnonymous: (space, vaddr, bytes, rights) => {
      k.mapAnonymous(space, vaddr, bytes, rights);
    },
    interruptLine: (line) => sim.machine.irq(line),
    // virtual time: the whole span, whatever `until` says (nothing a case waits for differs)
    run: (seconds) => sim.runFor(sim.machine.cycles(seconds)),
  };
}

describe('Sys conformance on the sim engine', () => {
  for (const c of SYS_CONFORMANCE) it(`${c.area}: ${c.name}`, () => c.run(simEngine));
});
