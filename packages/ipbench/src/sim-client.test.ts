import { describe, expect, it } from 'vitest';
import { EventClock } from './clock.js';
import { SimClient } from './sim-client.js';

function hexBytes(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g)!, (b) => Number.parseInt(b, 16));
}

/** An ARP request (RFC 826) from 02:00:00:00:00:fe / 10.0.0.254 for `tpa`, padded to 60 bytes. */
function arpRequest(tpa: string, op = '0001'): Uint8Array {
  const frame = new Uint8Array(60);
  frame.set(
    hexBytes(`ffffffffffff 0200000000fe 0806
      0001 0800 06 04 ${op} 0200000000fe 0a0000fe 000000000000 ${tpa}`),
  );
  return frame;
}

function client() {
  const c = new SimClient({
    clock: new EventClock(),
    mac: '02:00:00:00:00:01',
    ip: '10.0.0.1',
    targetMac: '02:00:00:00:00:fe',
    targetIp: '10.0.0.254',
  });
  const sent: Uint8Array[] = [];
  c.attach({ receive: (frame) => sent.push(frame.slice()) });
  return { c, sent };
}

describe('SimClient ARP responder', () => {
  it('answers a request for its address to the requester, padded to 60 bytes', () => {
    const { c, sent } = client();
    c.receive(arpRequest('0a000001'));
    const reply = new Uint8Array(60);
    reply.set(
      hexBytes(`0200000000fe 020000000001 0806
        0001 0800 06 04 0002 020000000001 0a000001 0200000000fe 0a0000fe`),
    );
    expect(sent).toEqual([reply]);
    expect(c.counters).toEqual({ foreign: 0, badChecksum: 0, arpReplies: 1 });
  });

  it('counts ARP for other addresses, ARP replies and truncated ARP as foreign, unanswered', () => {
    const { c, sent } = client();
    c.receive(arpRequest('0a000002'));
    c.receive(arpRequest('0a000001', '0002'));
    c.receive(arpRequest('0a000001').subarray(0, 41));
    expect(sent).toEqual([]);
    expect(c.counters).toEqual({ foreign: 3, badChecksum: 0, arpReplies: 0 });
  });
});
