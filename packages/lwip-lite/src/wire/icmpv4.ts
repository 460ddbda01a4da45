/**
 * ICMPv4 (RFC 792). The view reads any message; the representation covers echo request and echo
 * reply, the only messages this stack acts on. The checksum covers the whole message.
 *
 * ```
 * 0      1      2          4        6        8
 * | type | code | checksum | ident  | seq no | data ...     (echo request / reply)
 * ```
 *
 * @module
 */
import { internetChecksum } from './checksum.js';
import type { WireError } from './error.js';
import { PacketView } from './view.js';

/** Field offsets of an ICMPv4 echo message. */
export const Icmpv4Field = { TYPE: 0, CODE: 1, CHECKSUM: 2, IDENT: 4, SEQ_NO: 6, DATA: 8 } as const;

/** Length of the ICMPv4 echo header. */
export const ICMPV4_HEADER_LEN = 8;

/** ICMPv4 message types this stack names. */
export const Icmpv4Type = {
  EchoReply: 0,
  DstUnreachable: 3,
  EchoRequest: 8,
  TimeExceeded: 11,
} as const;

/** Zero-copy view of an ICMPv4 message. Getters never throw. */
export class Icmpv4Packet extends PacketView {
  /** Message type. */
  get msgType(): number {
    return this.u8(Icmpv4Field.TYPE);
  }
  /** Message code. */
  get msgCode(): number {
    return this.u8(Icmpv4Field.CODE);
  }
  /** Checksum field. */
  get checksum(): number {
    return this.u16(Icmpv4Field.CHECKSUM);
  }
  /** Echo identifier. */
  get echoIdent(): number {
    return this.u16(Icmpv4Field.IDENT);
  }
  /** Echo sequence number. */
  get echoSeqNo(): number {
    return this.u16(Icmpv4Field.SEQ_NO);
  }
  /** Offset of the data after the 8-byte header in {@link PacketView.bytes}. */
  get dataOffset(): number {
    return this.offset + ICMPV4_HEADER_LEN;
  }
  /** True if the checksum over the whole message verifies. */
  verifyChecksum(): boolean {
    return internetChecksum(this.bytes, this.offset, this.length) === 0;
  }
  /** Set the type. */
  setMsgType(v: number): void {
    this.set8(Icmpv4Field.TYPE, v);
  }
  /** Set the code. */
  setMsgCode(v: number): void {
    this.set8(Icmpv4Field.CODE, v);
  }
  /** Set the checksum field. */
  setChecksum(v: number): void {
    this.set16(Icmpv4Field.CHECKSUM, v);
  }
  /** Set the echo identifier. */
  setEchoIdent(v: number): void {
    this.set16(Icmpv4Field.IDENT, v);
  }
  /** Set the echo sequence number. */
  setEchoSeqNo(v: number): void {
    this.set16(Icmpv4Field.SEQ_NO, v);
  }
  /** Compute and store the checksum over the whole message. */
  fillChecksum(): void {
    this.setChecksum(0);
    this.setChecksum(internetChecksum(this.bytes, this.offset, this.length));
  }
}

/** A validated ICMPv4 echo request or reply; the data stays in the buffer (zero-copy). */
export class Icmpv4Repr {
  /** {@link Icmpv4Type.EchoRequest} or {@link Icmpv4Type.EchoReply}. */
  msgType: number = Icmpv4Type.EchoRequest;
  /** Echo identifier. */
  ident = 0;
  /** Echo sequence number. */
  seqNo = 0;
  /** Bytes of echo data after the header. */
  dataLen = 0;

  /**
   * Parse into `out` (reused). `'truncated'` if shorter than 8 bytes; `'bad-checksum'` if the
   * checksum fails; `'unsupported'` for messages other than echo request/reply (code 0).
   */
  static parse(packet: Icmpv4Packet, out: Icmpv4Repr = new Icmpv4Repr()): Icmpv4Repr | WireError {
    if (packet.length < ICMPV4_HEADER_LEN) return 'truncated';
    if (!packet.verifyChecksum()) return 'bad-checksum';
    const t = packet.msgType;
    if ((t !== Icmpv4Type.EchoRequest && t !== Icmpv4Type.EchoReply) || packet.msgCode !== 0) {
      return 'unsupported';
    }
    out.msgType = t;
    out.ident = packet.echoIdent;
    out.seqNo = packet.echoSeqNo;
    out.dataLen = packet.length - ICMPV4_HEADER_LEN;
    return out;
  }

  /** Bytes the message occupies (header + data). */
  bufferLen(): number {
    return ICMPV4_HEADER_LEN + this.dataLen;
  }

  /**
   * Write the header and the checksum over header + the {@link Icmpv4Repr.dataLen} data bytes
   * already in place after it.
   */
  emit(packet: Icmpv4Packet): void {
    packet.setMsgType(this.msgType);
    packet.setMsgCode(0);
    packet.setEchoIdent(this.ident);
    packet.setEchoSeqNo(this.seqNo);
    packet.setChecksum(0);
    packet.setChecksum(
      internetChecksum(packet.bytes, packet.offset, Math.min(this.bufferLen(), packet.length)),
    );
  }
}
