/**
 * Test helpers: Ethernet frames, descriptor chains written the way a driver writes them, and a
 * wire peer that records what it receives. Test-only.
 *
 * @module
 */
import type { FrameEndpoint } from '@udf/netdev';
import { wireSeconds } from '@udf/netdev';
import { CMDSTS, type DescriptorLayout } from '../device/registers.js';
import type { TestHost } from './test-host.js';

/** A frame to `dst` from `src` of `length` bytes whose payload bytes are `(seed + i) & 0xff`. */
export function makeFrame(
  dst: readonly number[],
  src: readonly number[],
  length: number,
  seed = 0,
): Uint8Array {
  const f = new Uint8Array(length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  for (let i = 14; i < length; i++) f[i] = (seed + i) & 0xff;
  return f;
}

/** Broadcast address bytes. */
export const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

/** Write one descriptor at `at`. */
export function writeDesc(
  host: TestHost,
  layout: DescriptorLayout,
  at: number,
  link: number,
  bufptr: number,
  cmdsts: number,
): void {
  const m = host.memory;
  m.write32(at + layout.link, link >>> 0);
  m.write32(at + layout.bufptr, bufptr >>> 0);
  if (layout.wide) {
    m.write32(at + layout.link + 4, Math.floor(link / 2 ** 32));
    m.write32(at + layout.bufptr + 4, Math.floor(bufptr / 2 ** 32));
  }
  m.write32(at + layout.extsts, 0);
  m.store32(at + layout.cmdsts, cmdsts >>> 0); // last, atomically: it hands the descriptor over
}

/** CMDSTS of the descriptor at `at`. */
export function cmdstsAt(host: TestHost, layout: DescriptorLayout, at: number): number {
  return host.memory.load32(at + layout.cmdsts);
}

/**
 * Build a receive chain of `n` descriptors at `descBase` with buffers of `bufSize` at `bufBase`,
 * linked in a ring (or null-terminated), available to the device (OWN clear), INTR set.
 */
export function buildRxChain(
  host: TestHost,
  layout: DescriptorLayout,
  descBase: number,
  bufBase: number,
  n: number,
  bufSize: number,
  ring = true,
): void {
  for (let i = 0; i < n; i++) {
    const at = descBase + i * layout.size;
    const next = i + 1 < n ? at + layout.size : ring ? descBase : 0;
    writeDesc(host, layout, at, next, bufBase + i * bufSize, CMDSTS.INTR | bufSize);
  }
}

/** A wire peer that copies and records every frame with its arrival time. */
export class RecordingPeer implements FrameEndpoint {
  readonly frames: Uint8Array[] = [];
  readonly times: number[] = [];
  constructor(private readonly host: TestHost) {}
  receive(frame: Uint8Array): void {
    this.frames.push(frame.slice());
    this.times.push(this.host.now());
  }
}

/** Deliver `frames` to `port` back to back at line rate, starting now. */
export function sendAtLineRate(
  host: TestHost,
  port: FrameEndpoint,
  frames: readonly Uint8Array[],
  bitsPerSecond = 1e9,
): void {
  let t = host.now();
  for (const f of frames) {
    t += Math.ceil(wireSeconds(f.length, bitsPerSecond) * host.hz);
    host.schedule(t, () => port.receive(f));
  }
}
