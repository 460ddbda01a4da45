import { describe, expect, it } from 'vitest';
import {
  CAPTURE_PING_553,
  CAPTURE_PING_REQUEST,
  CAPTURE_TIME_EXCEEDED,
} from '../testing/vectors.js';
import { ICMPV4_HEADER_LEN, Icmpv4Packet, Icmpv4Repr, Icmpv4Type } from './icmpv4.js';

const icmpOf = (frame: Uint8Array) => frame.subarray(34);
const PING = icmpOf(CAPTURE_PING_REQUEST); // CS472 frame 362

describe('ICMPv4', () => {
  it('deconstructs a captured echo request (CS472 frame 362)', () => {
    const p = new Icmpv4Packet(PING);
    expect(p.msgType).toBe(Icmpv4Type.EchoRequest);
    expect(p.msgCode).toBe(0);
    expect(p.checksum).toBe(0x7bda);
    expect(p.echoIdent).toBe(0x4859);
    expect(p.echoSeqNo).toBe(0);
    expect(p.dataOffset).toBe(8);
    expect(p.verifyChecksum()).toBe(true);
  });

  it('constructs the captured request field by field around its data', () => {
    const msg = PING.slice();
    msg.fill(0, 0, ICMPV4_HEADER_LEN);
    const p = new Icmpv4Packet(msg);
    p.setMsgType(Icmpv4Type.EchoRequest);
    p.setMsgCode(0);
    p.setEchoIdent(0x4859);
    p.setEchoSeqNo(0);
    p.fillChecksum();
    expect(msg).toEqual(PING);
  });

  it('parses the captured request and leaves the data in the buffer', () => {
    const r = Icmpv4Repr.parse(new Icmpv4Packet(PING));
    if (typeof r === 'string') throw new Error(r);
    expect(r.msgType).toBe(Icmpv4Type.EchoRequest);
    expect(r.ident).toBe(0x4859);
    expect(r.seqNo).toBe(0);
    expect(r.dataLen).toBe(56);
  });

  it('emits the captured request from a representation', () => {
    const msg = PING.slice();
    msg.fill(0xee, 0, ICMPV4_HEADER_LEN);
    const r = new Icmpv4Repr();
    Object.assign(r, { msgType: Icmpv4Type.EchoRequest, ident: 0x4859, seqNo: 0, dataLen: 56 });
    expect(r.bufferLen()).toBe(64);
    r.emit(new Icmpv4Packet(msg));
    expect(msg).toEqual(PING);
  });

  it('verifies a captured time-exceeded message but reports it unsupported', () => {
    const p = new Icmpv4Packet(icmpOf(CAPTURE_TIME_EXCEEDED));
    expect(p.msgType).toBe(Icmpv4Type.TimeExceeded);
    expect(p.checksum).toBe(0xbbbd);
    expect(p.verifyChecksum()).toBe(true);
    expect(Icmpv4Repr.parse(p)).toBe('unsupported');
  });

  it('returns truncated and bad-checksum as values (frame 553 was edited after capture)', () => {
    expect(Icmpv4Repr.parse(new Icmpv4Packet(PING, 0, 7))).toBe('truncated');
    expect(Icmpv4Repr.parse(new Icmpv4Packet(icmpOf(CAPTURE_PING_553)))).toBe('bad-checksum');
    const bad = PING.slice();
    bad[20] ^= 1;
    expect(Icmpv4Repr.parse(new Icmpv4Packet(bad))).toBe('bad-checksum');
  });
});
