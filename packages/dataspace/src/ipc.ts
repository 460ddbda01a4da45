/**
 * IPC helpers: a call whose reply may carry map items needs a receive window (L4 X.2's
 * acceptor). Dataspace replies map pages at the address the caller named, so the window is the
 * whole address space and `sendBase` is that address.
 *
 * @module
 */
import type { Fpage, IpcResult, Message, Sys, SysCall, ThreadId } from '@udf/l4-kernel';
import { NEVER } from '@udf/l4-kernel';

/** Receive window covering the whole 32-bit address space, all rights. */
export const WHOLE_SPACE_WINDOW: Fpage = Object.freeze({
  base: 0,
  sizeLog2: 32,
  rights: Object.freeze({ read: true, write: true, execute: true }),
});

/** `sys.ipc.call` accepting map items anywhere in the caller's space. */
export function callAccepting(sys: Sys, to: ThreadId, msg: Message): SysCall<IpcResult> {
  return sys.ipc.call(to, msg, NEVER, WHOLE_SPACE_WINDOW);
}
