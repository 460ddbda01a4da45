/**
 * DP83820 register offsets and bit values, with the names the National Semiconductor datasheet,
 * Linux `ns83820.c`, FreeBSD `if_ngereg.h` and gem5 `ns_gige_reg.h` give them. Facts (offsets,
 * bit positions) are the chip's; the grouping into objects is ours. Both the device model and the
 * driver use this one file, so they cannot disagree about the hardware.
 *
 * @module
 */

/** Byte offsets of the operational registers in the MMIO window (BAR1). */
export const Reg = {
  /** Command register: enables, disables, resets, software interrupt. */
  CR: 0x00,
  /** Configuration and media status. */
  CFG: 0x04,
  /** EEPROM / MII management access. */
  MEAR: 0x08,
  /** PCI test control: BIST and EEPROM load. */
  PTSCR: 0x0c,
  /** Interrupt status (clear on read). */
  ISR: 0x10,
  /** Interrupt mask: which ISR bits may interrupt. */
  IMR: 0x14,
  /** Interrupt enable: bit 0 is the global enable. */
  IER: 0x18,
  /** Interrupt hold-off timer, in units of 100 µs. */
  IHR: 0x1c,
  /** Transmit descriptor pointer, low 32 bits. */
  TXDP: 0x20,
  /** Transmit descriptor pointer, high 32 bits. */
  TXDP_HI: 0x24,
  /** Transmit configuration (DMA burst size, fill/drain thresholds). */
  TXCFG: 0x28,
  /** General-purpose I/O. */
  GPIOR: 0x2c,
  /** Receive descriptor pointer, low 32 bits. */
  RXDP: 0x30,
  /** Receive descriptor pointer, high 32 bits. */
  RXDP_HI: 0x34,
  /** Receive configuration (DMA burst size, accept flags). */
  RXCFG: 0x38,
  /** Priority queueing control. */
  PQCR: 0x3c,
  /** Wake-on-LAN control/status. */
  WCSR: 0x40,
  /** Pause control/status. */
  PCR: 0x44,
  /** Receive filter/match control; its low bits address the filter memory. */
  RFCR: 0x48,
  /** Receive filter/match data: 16 bits of filter memory at RFCR's address. */
  RFDR: 0x4c,
  /** Boot ROM address. */
  BRAR: 0x50,
  /** Boot ROM data. */
  BRDR: 0x54,
  /** Silicon revision. */
  SRR: 0x58,
  /** MIB control (freeze, clear). */
  MIBC: 0x5c,
  /** MIB: received packets with errors. */
  MIB_RX_ERRORED: 0x60,
  /** MIB: received packets with FCS errors. */
  MIB_RX_FCS_ERRORS: 0x64,
  /** MIB: packets missed because the receive FIFO overflowed. */
  MIB_RX_MISSED: 0x68,
  /** MIB: alignment errors. */
  MIB_RX_ALIGN_ERRORS: 0x6c,
  /** MIB: symbol errors. */
  MIB_RX_SYMBOL_ERRORS: 0x70,
  /** MIB: frames longer than the maximum ("giants"). */
  MIB_RX_GIANTS: 0x74,
  /** MIB: in-range length errors. */
  MIB_RX_LENGTH_ERRORS: 0x78,
  /** MIB: bad pause opcodes. */
  MIB_RX_BAD_OPCODE: 0x7c,
  /** MIB: pause frames received. */
  MIB_RX_PAUSE: 0x80,
  /** MIB: pause frames sent. */
  MIB_TX_PAUSE: 0x84,
  /** MIB: transmit SQE errors. */
  MIB_TX_SQE: 0x88,
  /** VLAN/IP receive control. */
  VRCR: 0xbc,
  /** VLAN/IP transmit control. */
  VTCR: 0xc0,
  /** VLAN data. */
  VDR: 0xc4,
  /** Clockrun control/status. */
  CCSR: 0xcc,
  /** TBI control. */
  TBICR: 0xe0,
  /** TBI status. */
  TBISR: 0xe4,
  /** TBI auto-negotiation advertisement. */
  TANAR: 0xe8,
  /** TBI auto-negotiation link partner. */
  TANLPAR: 0xec,
  /** TBI auto-negotiation expansion. */
  TANER: 0xf0,
  /** TBI extended status. */
  TESR: 0xf4,
} as const;

/** CR bits. TXE/RXE are kicks (write 1 to start or resume), RST self-clears. */
export const CR = {
  TXE: 0x0000_0001,
  TXD: 0x0000_0002,
  RXE: 0x0000_0004,
  RXD: 0x0000_0008,
  TXR: 0x0000_0010,
  RXR: 0x0000_0020,
  SWI: 0x0000_0080,
  RST: 0x0000_0100,
} as const;

/** CFG bits. Status bits (LNKSTS, SPDSTS, DUPSTS, PCI64_DET) are read-only. */
export const CFG = {
  LNKSTS: 0x8000_0000,
  SPDSTS: 0x6000_0000,
  SPDSTS1: 0x4000_0000,
  SPDSTS0: 0x2000_0000,
  DUPSTS: 0x1000_0000,
  TBI_EN: 0x0100_0000,
  MODE_1000: 0x0040_0000,
  AUTO_1000: 0x0020_0000,
  PINT_CTL: 0x001c_0000,
  PINT_DUPSTS: 0x0010_0000,
  PINT_LNKSTS: 0x0008_0000,
  PINT_SPDSTS: 0x0004_0000,
  TMRTEST: 0x0002_0000,
  MRM_DIS: 0x0001_0000,
  MWI_DIS: 0x0000_8000,
  T64ADDR: 0x0000_4000,
  PCI64_DET: 0x0000_2000,
  DATA64_EN: 0x0000_1000,
  /** 64-bit descriptor format: link and bufptr are 8 bytes each. */
  M64ADDR: 0x0000_0800,
  PHY_RST: 0x0000_0400,
  PHY_DIS: 0x0000_0200,
  EXTSTS_EN: 0x0000_0100,
  REQALG: 0x0000_0080,
  SB: 0x0000_0040,
  POW: 0x0000_0020,
  EXD: 0x0000_0010,
  PESEL: 0x0000_0008,
  BROM_DIS: 0x0000_0004,
  EXT_125: 0x0000_0002,
  BEM: 0x0000_0001,
} as const;

/** PTSCR bits (built-in self tests and EEPROM load). */
export const PTSCR = {
  EEBIST_FAIL: 0x0000_0001,
  EEBIST_EN: 0x0000_0002,
  EELOAD_EN: 0x0000_0004,
  RBIST_FAIL: 0x0000_01b8,
  RBIST_DONE: 0x0000_0200,
  RBIST_EN: 0x0000_0400,
  RBIST_RST: 0x0000_2000,
} as const;

/** Interrupt causes: the bits of ISR and IMR. */
export const ISR = {
  TXDESC3: 0x4000_0000,
  TXDESC2: 0x2000_0000,
  TXDESC1: 0x1000_0000,
  TXDESC0: 0x0800_0000,
  RXDESC3: 0x0400_0000,
  RXDESC2: 0x0200_0000,
  RXDESC1: 0x0100_0000,
  RXDESC0: 0x0080_0000,
  TXRCMP: 0x0040_0000,
  RXRCMP: 0x0020_0000,
  DPERR: 0x0010_0000,
  SSERR: 0x0008_0000,
  /** Received master abort: a DMA address hit no memory (our bus-error cause). */
  RMABT: 0x0004_0000,
  RTABT: 0x0002_0000,
  RXSOVR: 0x0001_0000,
  HIBINT: 0x0000_8000,
  PHY: 0x0000_4000,
  PME: 0x0000_2000,
  SWI: 0x0000_1000,
  MIB: 0x0000_0800,
  TXURN: 0x0000_0400,
  /** The transmit engine reached the end of its chain. */
  TXIDLE: 0x0000_0200,
  TXERR: 0x0000_0100,
  /** A transmit descriptor with CMDSTS.INTR completed. */
  TXDESC: 0x0000_0080,
  TXOK: 0x0000_0040,
  /** Receive overrun: a frame was lost because the receive FIFO was full. */
  RXORN: 0x0000_0020,
  /** The receive engine reached the end of its chain (no descriptor available). */
  RXIDLE: 0x0000_0010,
  RXEARLY: 0x0000_0008,
  RXERR: 0x0000_0004,
  /** A receive descriptor with CMDSTS.INTR completed. */
  RXDESC: 0x0000_0002,
  RXOK: 0x0000_0001,
} as const;

/** IER bit: global interrupt enable. */
export const IER_IE = 0x0000_0001;

/** IHR fields: hold-off time in 100 µs units, and the hold-off control bit. */
export const IHR = {
  /** Hold-off time, in units of 100 µs (0 = no hold-off). */
  HOLDOFF_MASK: 0x0000_00ff,
  /** Hold-off control (stored; see the device's interrupt documentation). */
  HOLDCTL: 0x0000_0100,
} as const;

/** Length of one IHR unit in seconds (100 µs), per the datasheet and Linux's `ihr` parameter. */
export const IHR_UNIT_SECONDS = 100e-6;

/** TXCFG bits. */
export const TXCFG = {
  CSI: 0x8000_0000,
  HBI: 0x4000_0000,
  MLB: 0x2000_0000,
  /** Automatic padding of short frames to 64 bytes. */
  ATP: 0x1000_0000,
  ECRETRY: 0x0080_0000,
  BRST_DIS: 0x0008_0000,
  /** Maximum DMA burst field (bits 20–22), see {@link MXDMA_BYTES}. */
  MXDMA_MASK: 0x0070_0000,
  MXDMA_SHIFT: 20,
  /** Fill threshold, 32-byte units. */
  FLTH_MASK: 0x0000_ff00,
  /** Drain threshold, 32-byte units. */
  DRTH_MASK: 0x0000_00ff,
} as const;

/** RXCFG bits. */
export const RXCFG = {
  /** Accept errored packets. */
  AEP: 0x8000_0000,
  /** Accept runt packets. */
  ARP: 0x4000_0000,
  STRIPCRC: 0x2000_0000,
  RX_FD: 0x1000_0000,
  /** Accept long packets. */
  ALP: 0x0800_0000,
  AIRL: 0x0400_0000,
  /** Maximum DMA burst field (bits 20–22), see {@link MXDMA_BYTES}. */
  MXDMA_MASK: 0x0070_0000,
  MXDMA_SHIFT: 20,
  DRTH_MASK: 0x0000_003e,
} as const;

/**
 * CFG after the EEPROM load as Linux's ns83820 (v0.17 onwards, March 2002; v0.20 in Linux 2.4.21
 * and 2.6.9) keeps it: the driver does not set CFG.DATA64_EN itself (the line that would is commented
 * out); in a 64-bit slot (PCI64_DET) it keeps whatever the
 * EEPROM loaded and logs "EEPROM did not enable 64 bit bus. Disabled." if that is clear; in a
 * 32-bit slot it clears it. Returns the DATA64_EN bit to OR into the value the driver writes.
 *
 * @param cfgRead - CFG as read after the EEPROM load
 */
export function linuxData64(cfgRead: number): number {
  return (cfgRead & CFG.PCI64_DET) !== 0 ? (cfgRead & CFG.DATA64_EN) >>> 0 : 0;
}

/*
 * Threshold semantics. Field positions and units are the DP83820's (FreeBSD `if_ngereg.h`:
 * NGE_TXCFG_DRAIN_THRESH 0xFF and NGE_TXCFG_FILL_THRESH 0xFF00, "32-byte units"; gem5
 * `ns_gige_reg.h` TX_CFG_DRTH_MASK/TX_CFG_FLTH_MASK). What each threshold does is documented for
 * the DP83815, National's 10/100 part with the same buffer manager (DP83815 datasheet rev. O,
 * §5.2.1 "txFifoBlock: waiting for free space in the TxDataFIFO to reach TxFillThreshold"; §5.3
 * "when the amount of receive data in the RxDataFIFO is more than the RxDrainThreshold, or the
 * RxDataFIFO contains a complete packet, then the state machine begins filling received buffers";
 * Table 5-3 TFU "Transmit FIFO was exhausted during the transmission of this packet"), and the
 * model applies it to the DP83820 as written there. The transmit drain rule (start once DRTH
 * bytes or the whole frame are in) is the model's reading by symmetry with the receive text and
 * with the start thresholds of contemporary MACs; the TXCFG register page itself was not found
 * in a public copy. A drain field of 0 is likewise read as "no early start": the whole frame
 * must be in the FIFO (store-and-forward) — consistent with Linux ns83820 leaving both drain
 * fields 0 on gigabit links.
 */

/**
 * Transmit fill threshold in bytes (TXCFG.FLTH, 32-byte units): the transmit DMA engine fetches
 * the next burst of a frame from host memory only once at least this much of the transmit FIFO is
 * free (and at least the burst itself fits). Linux ns83820 writes `(1600 / 32) * 0x100` here
 * (1600 bytes: the "drain 1600/32" is this fill field, the drain field stays 0) and notes
 * that "the largest packet that can be transmitted is 8192 - FLTH - burst size"; FreeBSD
 * `if_nge.c` programs 64 bytes (`NGE_TXCFG_FILL(64)`).
 */
export function txFillThresholdBytes(txcfg: number): number {
  return ((txcfg & TXCFG.FLTH_MASK) >>> 8) * 32;
}

/**
 * Transmit drain threshold in bytes (TXCFG.DRTH, 32-byte units): the MAC starts sending a frame
 * once this many of its bytes are in the FIFO, or the whole frame is; 0 means the whole frame
 * (store-and-forward). If transmit DMA then falls behind the wire the FIFO runs dry mid-frame: a
 * transmit underrun (ISR.TXURN, CMDSTS.TFU). Linux ns83820 leaves the field 0; FreeBSD
 * `if_nge.c` programs 6400 bytes (`NGE_TXCFG_DRAIN(6400)`), more than any 1518-byte frame, so
 * both send standard frames store-and-forward.
 */
export function txDrainThresholdBytes(txcfg: number): number {
  return (txcfg & TXCFG.DRTH_MASK) * 32;
}

/**
 * Receive drain threshold in bytes (RXCFG.DRTH, bits 1–5, 8-byte units): receive DMA starts
 * moving a frame to host memory once this many of its bytes are in the FIFO, or the whole frame
 * is; 0 means the whole frame. Linux ns83820 leaves it 0; FreeBSD `if_nge.c` programs 64 bytes
 * (`NGE_RXCFG_DRAIN(64)`).
 */
export function rxDrainThresholdBytes(rxcfg: number): number {
  return ((rxcfg & RXCFG.DRTH_MASK) >>> 1) * 8;
}

/** Bytes per DMA burst for each value of the 3-bit MXDMA field (TXCFG and RXCFG): 0 means 1024. */
export const MXDMA_BYTES: readonly number[] = [1024, 8, 16, 32, 64, 128, 256, 512];

/** The MXDMA field value for a burst size in bytes (for building TXCFG/RXCFG). */
export function mxdma(bytes: 8 | 16 | 32 | 64 | 128 | 256 | 512 | 1024): number {
  return MXDMA_BYTES.indexOf(bytes) << TXCFG.MXDMA_SHIFT;
}

/** RFCR bits. */
export const RFCR = {
  /** Receive filter enable. */
  RFEN: 0x8000_0000,
  /** Accept all broadcast. */
  AAB: 0x4000_0000,
  /** Accept all multicast. */
  AAM: 0x2000_0000,
  /** Accept all unicast (promiscuous for unicast). */
  AAU: 0x1000_0000,
  /** Accept on perfect match of the station address. */
  APM: 0x0800_0000,
  APAT: 0x0780_0000,
  AARP: 0x0040_0000,
  MHEN: 0x0020_0000,
  UHEN: 0x0010_0000,
  ULM: 0x0008_0000,
  /** Filter memory address (bits 0–9). */
  RFADDR_MASK: 0x0000_03ff,
} as const;

/** Filter-memory addresses of the perfect-match (station address) words: bytes 0–1, 2–3, 4–5. */
export const RFADDR_PMATCH = [0x000, 0x002, 0x004] as const;

/** RFDR fields. */
export const RFDR = {
  /** Byte mask for writes (bits 16–17). */
  BMASK: 0x0003_0000,
  /** 16 bits of data. */
  DATA_MASK: 0x0000_ffff,
} as const;

/** MIBC bits. */
export const MIBC = {
  MIBS: 0x0000_0008,
  /** Clear all counters. */
  ACLR: 0x0000_0004,
  /** Freeze counters. */
  FRZ: 0x0000_0002,
  WRN: 0x0000_0001,
} as const;

/** Descriptor CMDSTS bits, shared by transmit and receive descriptors. */
export const CMDSTS = {
  /**
   * Ownership. Transmit: set by the driver to hand the descriptor to the device, cleared by the
   * device when done. Receive: clear means "available to the device", set by the device when it
   * has filled the buffer (the driver sets it to mark a descriptor not yet available).
   */
  OWN: 0x8000_0000,
  /** More fragments of this frame follow in the next descriptor. */
  MORE: 0x4000_0000,
  /** Raise TXDESC/RXDESC when this descriptor completes. */
  INTR: 0x2000_0000,
  /** Transmit: include CRC (reused by the chip as error on completion). */
  ERR: 0x1000_0000,
  /** Completed without error. */
  OK: 0x0800_0000,
  /** Transmit status: transmission aborted (DP83815 datasheet Table 5-3, bit 26). */
  TXA: 0x0400_0000,
  /** Transmit status: the transmit FIFO ran dry during the frame, an underrun (Table 5-3, bit 25). */
  TFU: 0x0200_0000,
  /** Receive destination class (2 bits). */
  DEST_MASK: 0x0180_0000,
  /** Destination: this station's unicast address. */
  DEST_SELF: 0x0080_0000,
  /** Destination: multicast. */
  DEST_MULTI: 0x0100_0000,
  /** Destination: broadcast (both bits). */
  DEST_BROADCAST: 0x0180_0000,
  /** Receive: frame longer than the buffer (our model reports it as a long-packet error). */
  LONG: 0x0040_0000,
  /** Receive: runt. */
  RUNT: 0x0020_0000,
  /** Buffer size (driver to device) or frame length (device to driver). */
  SIZE_MASK: 0x0000_ffff,
} as const;

/** EXTSTS bits (checksum and VLAN offload status). */
export const EXTSTS = {
  UDPPKT: 0x0020_0000,
  TCPPKT: 0x0008_0000,
  IPPKT: 0x0002_0000,
  VPKT: 0x0001_0000,
} as const;

/**
 * Descriptor layout in bytes. 32-bit format: link, bufptr, cmdsts, extsts (4 bytes each).
 * 64-bit format (CFG.M64ADDR): link and bufptr are 8 bytes each, little-endian.
 */
export const DESC = {
  /** Size of a descriptor in the 32-bit format. */
  SIZE32: 16,
  /** Size of a descriptor in the 64-bit format. */
  SIZE64: 24,
} as const;

/** Offsets of the descriptor fields for one addressing format. */
export interface DescriptorLayout {
  /** Bytes the device reads when it fetches a descriptor. */
  readonly size: number;
  /** Offset of the link (next descriptor) field. */
  readonly link: number;
  /** Offset of the buffer pointer field. */
  readonly bufptr: number;
  /** Offset of CMDSTS. */
  readonly cmdsts: number;
  /** Offset of EXTSTS. */
  readonly extsts: number;
  /** Whether link and bufptr are 64-bit. */
  readonly wide: boolean;
}

/** The 32-bit descriptor layout. */
export const DESC_LAYOUT_32: DescriptorLayout = {
  size: DESC.SIZE32,
  link: 0,
  bufptr: 4,
  cmdsts: 8,
  extsts: 12,
  wide: false,
};

/** The 64-bit descriptor layout (CFG.M64ADDR), as ns83820 uses it with a 64-bit `dma_addr_t`. */
export const DESC_LAYOUT_64: DescriptorLayout = {
  size: DESC.SIZE64,
  link: 0,
  bufptr: 8,
  cmdsts: 16,
  extsts: 20,
  wide: true,
};

/** Value the model reports in SRR (an assumed revision; drivers only print it). */
export const SILICON_REVISION = 0x0000_0103;
