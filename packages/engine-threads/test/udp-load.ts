// A closed-loop UDP load generator for tests and the bench: keeps `window` datagrams in flight
// to `target`, sends the next when one comes back, until `count` have returned.
import { createSocket } from 'node:dgram';

/** Result of {@link udpEchoLoad}. */
export interface UdpLoadResult {
  /** Datagrams that came back. */
  readonly returned: number;
  /** Seconds from the first send to the last return. */
  readonly seconds: number;
  /** Whether every returned datagram carried the expected bytes (`check`). */
  readonly intact: boolean;
}

/**
 * @param target - where to send
 * @param make - the i-th datagram
 * @param check - whether a returned datagram is right
 * @param limitMs - give up (resolve with what returned) after this long
 */
export async function udpEchoLoad(
  target: { address: string; port: number },
  count: number,
  window: number,
  make: (i: number) => Uint8Array,
  check: (d: Uint8Array) => boolean,
  limitMs = 20_000,
): Promise<UdpLoadResult> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let sent = 0;
  let returned = 0;
  let intact = true;
  const t0 = performance.now();
  let t1 = t0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, limitMs);
    sock.on('message', (m) => {
      returned++;
      if (!check(new Uint8Array(m.buffer, m.byteOffset, m.length))) intact = false;
      if (sent < count) sock.send(make(sent++), target.port, target.address);
      if (returned >= count) {
        t1 = performance.now();
        clearTimeout(timer);
        resolve();
      }
    });
    for (; sent < Math.min(window, count); ) sock.send(make(sent++), target.port, target.address);
  });
  sock.close();
  if (returned < count) t1 = performance.now();
  return { returned, seconds: (t1 - t0) / 1000, intact };
}
