// Plain-JavaScript components for the built-package smoke test and the bench (no TypeScript
// loader needed). out = [done, correct replies, milliseconds for all rounds].
import { ANY_THREAD } from '@udf/l4-kernel';

export function* pong(sys) {
  let r = yield* sys.ipc.receive(ANY_THREAD);
  for (;;) {
    if (!r.ok) r = yield* sys.ipc.receive(ANY_THREAD);
    else r = yield* sys.ipc.replyWait(r.from, { label: 0, words: [r.msg.words[0] + 1] });
  }
}

export function ping(config) {
  return function* (sys) {
    const out = new Float64Array(config.out);
    const t0 = performance.now();
    for (let i = 0; i < config.rounds; i++) {
      const r = yield* sys.ipc.call(config.server, { label: 0, words: [i] });
      if (r.ok && r.msg.words[0] === i + 1) out[1]++;
    }
    out[2] = performance.now() - t0; // milliseconds for all rounds
    out[0] = 1;
  };
}
