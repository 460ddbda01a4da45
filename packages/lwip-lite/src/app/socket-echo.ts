/**
 * The monolithic baseline's user-level UDP echo process, as a component factory built from plain
 * data: it echoes every datagram with `recvfrom` then `sendto`, each an IPC call into the kernel
 * domain — to the process's kernel half, which runs the call at the process's priority (see
 * {@link SocketLayer}). The payload never passes through the IPC: the
 * kernel copies it into the user buffer on `recvfrom` and reads it from there on `sendto`, so the
 * process only names the buffer's length.
 *
 * Costs: the kernel model charges each call's IPC; the kernel side tops each call up to the
 * cited system-call cost (see {@link SocketLayer}), so the process charges nothing of its own.
 *
 * @module
 */
import { CountersPage } from '@udf/dataspace';
import { type KernelCall, type Message, NEVER, type Sys, type ThreadId } from '@udf/l4-kernel';
import { LwipError } from '../error.js';
import { SOCKET_OK_LABEL, SOCKET_RECVFROM_LABEL, SOCKET_SENDTO_LABEL } from '../socket/server.js';

/** Plain configuration of {@link socketEcho}. */
export interface SocketEchoConfig {
  /** The process's kernel half (a kernel-domain thread) serving its socket calls. */
  readonly kernelHalf: ThreadId;
  /** The user buffer in the process's own space (mapped into the kernel domain too). */
  readonly userBuffer: { readonly vaddr: number; readonly bytes: number };
  /** The domain's counters page and this process's prefix. */
  readonly counters: { readonly vaddr: number; readonly prefix: string };
}

/** Counters of the socket echo process. */
export interface SocketEchoStats {
  /** Datagrams echoed (a `sendto` the kernel accepted). */
  echoed: number;
  /** `recvfrom` and `sendto` calls made. */
  syscalls: number;
  /** Calls that failed or were refused. */
  failed: number;
}

const RECVFROM: Message = Object.freeze({
  label: SOCKET_RECVFROM_LABEL,
  words: Object.freeze([]) as readonly number[],
});

/** Build the echo process's thread body from plain configuration. */
export function socketEcho(
  config: SocketEchoConfig,
): (sys: Sys) => Generator<KernelCall, void, unknown> {
  return function* (sys: Sys): Generator<KernelCall, void, unknown> {
    const page = yield* CountersPage.open(sys, config.counters.vaddr);
    const mem = yield* sys.mem.access(config.userBuffer.vaddr, config.userBuffer.bytes, 'write');
    if (!('buffer' in mem))
      throw new LwipError('CONFIG', `user buffer at ${config.userBuffer.vaddr}: ${mem.error}`);
    const stats: SocketEchoStats = { echoed: 0, syscalls: 0, failed: 0 };
    page.bind(config.counters.prefix, stats);
    const words = [0, 0, 0, 0];
    const sendto = { label: SOCKET_SENDTO_LABEL, words };
    for (;;) {
      // recvfrom: blocks in the kernel until a datagram is queued and copied to the buffer.
      stats.syscalls++;
      const r = yield* sys.ipc.call(config.kernelHalf, RECVFROM, NEVER);
      if (!r.ok) {
        stats.failed++;
        if (r.error === 'non-existing-partner') return;
        continue;
      }
      if (r.msg.label !== SOCKET_OK_LABEL || r.msg.words.length < 4) {
        stats.failed++;
        continue;
      }
      // sendto: the same bytes back to their sender.
      for (let i = 0; i < 4; i++) words[i] = r.msg.words[i]!;
      stats.syscalls++;
      const s = yield* sys.ipc.call(config.kernelHalf, sendto, NEVER);
      if (s.ok && s.msg.label === SOCKET_OK_LABEL) stats.echoed++;
      else stats.failed++;
    }
  };
}
