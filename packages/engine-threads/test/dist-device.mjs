// A tiny device and its driver for the built-package smoke test (plain JS, no dependencies).
// The device: 4 registers; writing 1 to register 0 asserts its interrupt line, writing 0
// lowers it; register 4 is scratch.
export function scratch(host, config) {
  const regs = new Uint32Array(4);
  const line = host.irq(config.irqLine);
  return {
    mmioSize: 16,
    read32: (o) => regs[o >> 2],
    write32: (o, v) => {
      regs[o >> 2] = v;
      if (o === 0) (v === 1 ? line.raise : line.lower)();
    },
  };
}

/**
 * The scratch device with a status word, where the host offers one: register 8 is
 * clear-on-read (writing register 12 sets those bits in it), so a read of 8 needs no answer from
 * the device worker when no posted write is pending.
 */
export function statusScratch(host, config) {
  const regs = new Uint32Array(4);
  const line = host.irq(config.irqLine);
  let bits = 0;
  const word = host.statusWord?.(8) ?? {
    load: () => bits,
    or: (b) => {
      bits |= b;
    },
    take: () => {
      const v = bits;
      bits = 0;
      return v;
    },
    store: (v) => {
      bits = v;
    },
  };
  let noted = 0;
  return {
    mmioSize: 16,
    read32: (o) => (o === 8 ? word.take() : regs[o >> 2]),
    write32: (o, v) => {
      if (o === 12) word.or(v);
      else regs[o >> 2] = v;
      if (o === 0) (v === 1 ? line.raise : line.lower)();
    },
    statusRead: () => {
      noted++;
    },
    get noted() {
      return noted;
    },
  };
}

/** out: [0] done, [1] scratch read back, [2] interrupt word (the line). */
export function driver(config) {
  return function* (sys) {
    const out = new Float64Array(config.out);
    const r = sys.mem.registers(config.regs);
    r.write32(4, 42);
    out[1] = r.read32(4);
    const a = yield* sys.irq.attach(config.irqLine);
    r.write32(0, 1);
    const m = yield* sys.ipc.receive(a.irqThread);
    out[2] = m.ok ? m.msg.words[0] : -1;
    r.write32(0, 0);
    r.read32(0);
    yield* sys.ipc.reply(a.irqThread, { label: 0, words: [] });
    out[0] = 1;
  };
}
