// The sim kernel's memory conformance cases with every address space a root-task domain (all
// threads in the main thread): checks the mapping database and the map/grant/fault/unmap
// rules against the same cases the sim passes. (Across workers, the same paths are exercised
// by memory.test.ts; the full two-engine conformance adapter lives elsewhere.)

import type { ConformanceEngine } from '@udf/l4-kernel/conformance';
import { MEMORY_CASES } from '@udf/l4-kernel/conformance';
import { describe, it } from 'vitest';
import { ThreadsEngine } from './engine.js';
import { ThreadsEngineError } from './errors.js';

function make(): ConformanceEngine {
  const e = new ThreadsEngine({ hz: 1e9 });
  const all: number[] = [];
  return {
    hz: e.hz,
    createSpace: (name) => e.createDomain(name, { root: true }),
    createThread: (o) => {
      const id = e.createThread({
        domain: o.space,
        name: o.name,
        body: o.body,
        ...(o.priority === undefined ? {} : { priority: o.priority }),
        ...(o.pager === undefined ? {} : { pager: o.pager }),
      });
      all.push(id);
      return id;
    },
    mapAnonymous: (space, vaddr, bytes, rights) => void e.mapAnonymous(space, vaddr, bytes, rights),
    interruptLine: (line) => e.interruptLine(line),
    run: async (seconds) => {
      await e.start();
      try {
        await e.join(all, Math.max(1000, seconds * 50_000));
      } catch (x) {
        if (!(x instanceof ThreadsEngineError) || x.code !== 'TIMEOUT') throw x;
      } finally {
        await e.stop();
      }
      if (e.failures.length > 0) throw e.failures[0];
    },
  };
}

// The grant case pushes the sender's and the receiver's observations into one array and
// expects the sender's first: an order the sim's scheduler gives and real concurrency does not
// (here the receiver takes the queued grant and runs on before the sender resumes). Its two
// observations themselves ('no-pager' for the sender, 77 for the receiver) are what
// memory.test.ts checks across workers, in both orders of sender and receiver.
const ORDER_DEPENDENT = new Set(['a grant item moves the page: the sender loses it']);

describe('memory conformance cases, every space a root-task domain', () => {
  for (const c of MEMORY_CASES) {
    it.skipIf(ORDER_DEPENDENT.has(c.name))(c.name, { timeout: 30_000 }, () => c.run(make));
  }
});
