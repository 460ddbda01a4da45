// Bench components for the device worker, driving the `scratch` device of dist-device.mjs.
// Each writes its elapsed milliseconds to out[0] and 1 to out[1] when done.

/** `n` posted writes, then one read (which waits for all of them to be executed). */
export function mmioWrites(config) {
  return function* (sys) {
    const out = new Float64Array(config.out);
    const r = sys.mem.registers(config.regs);
    yield* sys.yieldCpu();
    const t0 = performance.now();
    for (let i = 0; i < config.n; i++) r.write32(4, i);
    if (r.read32(4) !== config.n - 1) throw new Error('lost a posted write');
    out[0] = performance.now() - t0;
    out[1] = 1;
  };
}

/** `n` register reads, each waiting for the device worker. */
export function mmioReads(config) {
  return function* (sys) {
    const out = new Float64Array(config.out);
    const r = sys.mem.registers(config.regs);
    r.write32(4, 7);
    yield* sys.yieldCpu();
    const t0 = performance.now();
    for (let i = 0; i < config.n; i++) if (r.read32(4) !== 7) throw new Error('bad read');
    out[0] = performance.now() - t0;
    out[1] = 1;
  };
}

/**
 * `n` reads of a status word (register 8 of `statusScratch`): after one posted write sets a
 * bit and a read flushes it, each read takes the word without waiting for the device worker.
 */
export function statusReads(config) {
  return function* (sys) {
    const out = new Float64Array(config.out);
    const r = sys.mem.registers(config.regs);
    r.write32(12, 5);
    r.read32(4); // flushes the write: the status word now holds 5
    yield* sys.yieldCpu();
    const t0 = performance.now();
    if (r.read32(8) !== 5) throw new Error('status word lost its bits');
    for (let i = 1; i < config.n; i++) if (r.read32(8) !== 0) throw new Error('bad read');
    out[0] = performance.now() - t0;
    out[1] = 1;
  };
}

/**
 * `n` interrupts, each: assert the line by a register write, receive the interrupt IPC, lower
 * the line by a register write and read a register (as a driver reads ISR: the read flushes the
 * write, so the line is low before the acknowledgement), reply to the interrupt thread.
 */
export function irqLoop(config) {
  return function* (sys) {
    const out = new Float64Array(config.out);
    const r = sys.mem.registers(config.regs);
    const a = yield* sys.irq.attach(config.irqLine);
    if (!a.ok) throw new Error('attach failed');
    const t0 = performance.now();
    for (let i = 0; i < config.n; i++) {
      r.write32(0, 1);
      const m = yield* sys.ipc.receive(a.irqThread);
      if (!m.ok) throw new Error('no interrupt');
      r.write32(0, 0);
      r.read32(0);
      yield* sys.ipc.reply(a.irqThread, { label: 0, words: [] });
    }
    out[0] = performance.now() - t0;
    out[1] = 1;
  };
}
