import { describe, expect, it } from 'vitest';
import { CAPTURE_ARP_PROBE, CAPTURE_ARP_REQUEST } from '../testing/vectors.js';
import { formatIpv4, formatMac, parseIpv4, parseMac } from './address.js';
import { ARP_PACKET_LEN, ArpOperation, ArpPacket, ArpRepr } from './arp.js';

const payload = (frame: Uint8Array) => frame.subarray(14);

describe('ARP', () => {
  it('deconstructs a captured request (CS472 frame 78)', () => {
    const p = new ArpPacket(payload(CAPTURE_ARP_REQUEST));
    expect(p.hardwareType).toBe(1);
    expect(p.protocolType).toBe(0x0800);
    expect(p.hardwareLen).toBe(6);
    expect(p.protocolLen).toBe(4);
    expect(p.operation).toBe(ArpOperation.Request);
    expect(formatMac(p.senderHardwareAddr())).toBe('a0:36:bc:62:ed:50');
    expect(formatIpv4(p.senderProtocolAddr)).toBe('192.168.50.1');
    expect(formatMac(p.targetHardwareAddr())).toBe('00:00:00:00:00:00');
    expect(formatIpv4(p.targetProtocolAddr)).toBe('192.168.50.99');
  });

  it('constructs the captured request field by field', () => {
    const bytes = new Uint8Array(ARP_PACKET_LEN);
    const p = new ArpPacket(bytes);
    p.setHardwareType(1);
    p.setProtocolType(0x0800);
    p.setHardwareLen(6);
    p.setProtocolLen(4);
    p.setOperation(ArpOperation.Request);
    p.setSenderHardwareAddr(parseMac('a0:36:bc:62:ed:50'));
    p.setSenderProtocolAddr(parseIpv4('192.168.50.1'));
    p.setTargetHardwareAddr(new Uint8Array(6));
    p.setTargetProtocolAddr(parseIpv4('192.168.50.99'));
    expect(bytes).toEqual(payload(CAPTURE_ARP_REQUEST).subarray(0, ARP_PACKET_LEN));
  });

  it('parses the captured request, ignoring the Ethernet padding after it', () => {
    const r = ArpRepr.parse(new ArpPacket(payload(CAPTURE_ARP_REQUEST)));
    if (typeof r === 'string') throw new Error(r);
    expect(r.operation).toBe(ArpOperation.Request);
    expect(formatIpv4(r.senderProtocolAddr)).toBe('192.168.50.1');
    expect(formatIpv4(r.targetProtocolAddr)).toBe('192.168.50.99');
  });

  it('parses a captured ARP probe (sender address 0.0.0.0)', () => {
    const r = ArpRepr.parse(new ArpPacket(payload(CAPTURE_ARP_PROBE)));
    if (typeof r === 'string') throw new Error(r);
    expect(r.senderProtocolAddr).toBe(0);
    expect(formatIpv4(r.targetProtocolAddr)).toBe('208.54.16.227');
  });

  it('emits a representation as the captured request', () => {
    const r = new ArpRepr();
    r.operation = ArpOperation.Request;
    r.senderHardwareAddr = parseMac('a0:36:bc:62:ed:50');
    r.senderProtocolAddr = parseIpv4('192.168.50.1');
    r.targetProtocolAddr = parseIpv4('192.168.50.99');
    const bytes = new Uint8Array(r.bufferLen());
    r.emit(new ArpPacket(bytes));
    expect(bytes).toEqual(payload(CAPTURE_ARP_REQUEST).subarray(0, ARP_PACKET_LEN));
  });

  it('returns errors as values: truncated, unsupported hardware, unknown operation', () => {
    const req = payload(CAPTURE_ARP_REQUEST);
    expect(ArpRepr.parse(new ArpPacket(req, 0, 27))).toBe('truncated');
    expect(ArpRepr.parse(new ArpPacket(req, 0, 4))).toBe('truncated');
    const ieee = req.slice();
    ieee[1] = 6; // IEEE 802 hardware
    expect(ArpRepr.parse(new ArpPacket(ieee))).toBe('unsupported');
    const rarp = req.slice();
    rarp[7] = 3; // RARP request
    expect(ArpRepr.parse(new ArpPacket(rarp))).toBe('unsupported');
  });
});
