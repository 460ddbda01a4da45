import { ANY_THREAD } from '@udf/l4-kernel';
export function* pong(sys) {
  let r = yield* sys.ipc.receive(ANY_THREAD);
  for (;;)
    r = r.ok
      ? yield* sys.ipc.replyWait(r.from, { label: 0, words: [r.msg.words[0] + 1] })
      : yield* sys.ipc.receive(ANY_THREAD);
}
export const ping = (config) =>
  function* (sys) {
    let last = 0;
    for (let i = 0; i < config.rounds; i++) {
      const r = yield* sys.ipc.call(config.server, { label: 0, words: [i] });
      if (r.ok) last = r.msg.words[0];
    }
    new Float64Array(config.out)[0] = last; // what pong answered last
  };
