import { describe, expect, it } from 'vitest';
import { CAPTURE_ARP_REQUEST, CAPTURE_PING_REQUEST } from '../testing/vectors.js';
import { formatMac, parseMac } from './address.js';
import { ETHERNET_HEADER_LEN, EthernetFrame, EthernetRepr, EtherType } from './ethernet.js';

describe('Ethernet II', () => {
  it('deconstructs a captured frame (CS472 frame 362)', () => {
    const f = new EthernetFrame(CAPTURE_PING_REQUEST);
    expect(formatMac(f.dst())).toBe('a0:36:bc:62:ed:50');
    expect(formatMac(f.src())).toBe('c8:89:f3:ea:93:14');
    expect(f.ethertype).toBe(EtherType.Ipv4);
    expect(f.payloadOffset).toBe(14);
    expect(f.payloadLength).toBe(84);
  });

  it('constructs the header of a captured frame (CS472 frame 78) byte for byte', () => {
    const bytes = new Uint8Array(ETHERNET_HEADER_LEN);
    const f = new EthernetFrame(bytes);
    f.setDst(parseMac('c8:89:f3:ea:93:14'));
    f.setSrc(parseMac('a0:36:bc:62:ed:50'));
    f.setEthertype(EtherType.Arp);
    expect(bytes).toEqual(CAPTURE_ARP_REQUEST.subarray(0, 14));
  });

  it('parses a captured header into a representation', () => {
    const r = EthernetRepr.parse(new EthernetFrame(CAPTURE_ARP_REQUEST));
    if (typeof r === 'string') throw new Error(r);
    expect(formatMac(r.src)).toBe('a0:36:bc:62:ed:50');
    expect(r.ethertype).toBe(EtherType.Arp);
  });

  it('emits a representation as the captured header', () => {
    const r = new EthernetRepr();
    r.dst = parseMac('a0:36:bc:62:ed:50');
    r.src = parseMac('c8:89:f3:ea:93:14');
    r.ethertype = EtherType.Ipv4;
    const bytes = new Uint8Array(r.bufferLen());
    r.emit(new EthernetFrame(bytes));
    expect(bytes).toEqual(CAPTURE_PING_REQUEST.subarray(0, 14));
  });

  it('reports a short frame as truncated, and its getters return zero instead of throwing', () => {
    const f = new EthernetFrame(CAPTURE_PING_REQUEST, 0, 13);
    expect(EthernetRepr.parse(f)).toBe('truncated');
    expect(f.ethertype).toBe(0);
    expect(f.payloadLength).toBe(0);
    expect(new EthernetFrame(new Uint8Array(0)).dstIs(parseMac('a0:36:bc:62:ed:50'))).toBe(false);
  });

  it('clamps a window that overruns its buffer', () => {
    const f = new EthernetFrame(new Uint8Array(20), 15, 100);
    expect(f.length).toBe(5);
    expect(new EthernetFrame(new Uint8Array(4), 10).length).toBe(0);
  });
});
