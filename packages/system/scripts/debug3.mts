import { SimEngine } from '@udf/l4-kernel';

const sim = new SimEngine({ trace: true });
const k = sim.kernel;
const s = k.createSpace('a');
let wakes = 0;
k.createThread({
  name: 'sleeper',
  space: s,
  priority: 200,
  body: function* (sys) {
    for (;;) {
      wakes++;
      yield* sys.sleep(26600);
    }
  },
});
k.createThread({
  name: 'busy',
  space: k.createSpace('b'),
  priority: 100,
  body: function* (sys) {
    for (;;) {
      sys.charge('User', 5000);
      yield* sys.yieldCpu();
    }
  },
});
sim.runFor(2.66e6);
console.log('wakes', wakes, sim.counters.eventsFired);
