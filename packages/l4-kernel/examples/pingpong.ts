import { ANY_THREAD, INTERRUPT_LABEL, RW, SimEngine } from '@udf/l4-kernel';

const sim = new SimEngine(); // Pentium 4 Xeon 2.66 GHz cost table, 64 MiB
const k = sim.kernel;
const client = k.createSpace('client');
const server = k.createSpace('server');
k.mapAnonymous(server, 0x10000, 0x4000, RW); // sigma0-style root mappings

// Two threads ping-ponging across address spaces.
const pong = k.createThread({
  name: 'pong',
  space: server,
  priority: 100,
  body: function* (sys) {
    let r = yield* sys.ipc.receive(ANY_THREAD);
    for (;;) {
      sys.charge('User', 500); // 500 cycles of work before the next kernel call
      r = yield* sys.ipc.replyWait(r.ok ? r.from : 0, {
        label: 0,
        words: [r.ok ? r.msg.words[0]! + 1 : 0],
      });
    }
  },
});
k.createThread({
  name: 'ping',
  space: client,
  body: function* (sys) {
    for (let i = 0; ; i++) yield* sys.ipc.call(pong, { label: 1, words: [i] });
  },
});

// An interrupt handler: interrupts arrive as IPC from the line's interrupt thread; the reply unmasks.
const line = sim.machine.irq(5);
k.createThread({
  name: 'isr',
  space: server,
  priority: 200,
  body: function* (sys) {
    const a = yield* sys.irq.attach(5);
    if (!a.ok) return;
    let r = yield* sys.ipc.receive(a.irqThread);
    for (;;) {
      if (r.ok && r.msg.label === INTERRUPT_LABEL) {
        sys.charge('Driver', 3000);
        line.lower();
      }
      r = yield* sys.ipc.replyWait(a.irqThread, { label: 0, words: [] });
    }
  },
});
const every = sim.machine.cycles(100e-6); // a device raising the line every 100 µs
const tick = () => {
  line.raise();
  sim.machine.after(every, tick);
};
sim.machine.schedule(0, tick);

sim.runFor(sim.machine.cycles(0.001)); // warm-up
const start = sim.accounting.snapshot();
sim.runFor(sim.machine.cycles(0.01));
console.log(sim.accounting.profile(sim.accounting.window(start))); // { IPC: .., Kernel: .., Driver: .., User: .. }
console.log(sim.counters);
