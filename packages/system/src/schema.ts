/**
 * The declarative description of a placement configuration, in the spirit of seL4 Microkit's
 * `.system` file: protection domains with priorities, the components each holds, the NICs and
 * their interrupt lines and hold-off, the driver–client sessions, the machine and cost table, and
 * the ipbench load. One file describes one configuration; the assembler builds it.
 *
 * @module
 */
import { z } from 'zod';

const name = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]*$/,
    'a lower-case name of letters, digits and dashes, starting with a letter',
  );
const ipv4 = z
  .string()
  .regex(
    /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/,
    'a dotted-quad IPv4 address such as 10.0.0.1',
  );
const mac = z
  .string()
  .regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'a MAC address such as 02:00:00:00:00:01');
const powerOfTwo = (min: number, max: number) =>
  z
    .number()
    .int()
    .min(min)
    .max(max)
    .refine((n) => (n & (n - 1)) === 0, 'a power of two');

/** The simulated machine and its cost table. */
export const MachineSchema = z
  .object({
    /** CPU clock in Hz (the paper's Xeon: 2.66 GHz). */
    hz: z
      .number()
      .min(1e6, 'expected a clock between 1 MHz and 100 GHz')
      .max(1e11, 'expected a clock between 1 MHz and 100 GHz')
      .default(2.66e9),
    /** Physical memory in MiB. */
    memoryMiB: z.number().int().min(4).max(2048).default(64),
    /** Which kernel cost table to use. */
    costTable: z.enum(['pentium4', 'modern']).default('pentium4'),
    /** Seed of the deterministic sim engine (runs with the same seed give the same numbers). */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    /** Multiplier applied to the kernel's IPC costs (sensitivity studies). */
    ipcScale: z.number().positive().max(1000).default(1),
  })
  .strict();

/**
 * The PCI slot a NIC sits in and its host bridge. The paper says only "a 64-bit PCI bus"; the
 * DP83820 runs at 33⅓ or 66⅔ MHz (PCI Local Bus Specification 2.2) in a 32- or 64-bit slot, and
 * iXBT Labs (2003) and Digit-Life (2004) found the bus the bottleneck of these cards at 32 bits,
 * so `udf compare` can show Figure 1(b) as a band across {@link BUS_CONFIGURATIONS}.
 */
export const PciSchema = z
  .object({
    /** Bus clock in MHz: 33 (33⅓) or 66 (66⅔). Default 66. */
    clockMHz: z.union([z.literal(33), z.literal(66)]).default(66),
    /** Slot width in bits (the device reports a 64-bit slot in CFG.PCI64_DET). Default 64. */
    widthBits: z.union([z.literal(32), z.literal(64)]).default(64),
    /**
     * Host-bridge initial latency of a read from memory (descriptor and transmit-data fetches), in
     * bus clocks. Default 16: the PCI 2.2 §3.5.1.1 bound, an estimate — no measurement of the
     * paper's chipset is published.
     */
    readLatencyClocks: z.number().int().min(1).max(64).default(16),
  })
  .strict();

/** A bus configuration of the Figure 1(b) band: slot clock and width, and the EEPROM's choice. */
export interface BusConfiguration {
  /** Short label, e.g. `32/33`. */
  readonly name: string;
  readonly clockMHz: 33 | 66;
  readonly widthBits: 32 | 64;
  /** Whether the EEPROM enables the 64-bit data path (see `nics[].eeprom64`). */
  readonly eeprom64: boolean;
}

/**
 * The bus configurations the paper's "64-bit PCI bus" leaves open, slowest first: a card moving
 * data 32 bits wide (a 32-bit slot, or — the same data rate — a 64-bit slot whose EEPROM leaves
 * DATA64_EN clear under Linux's ns83820) or 64 bits wide, at 33⅓ or 66⅔ MHz.
 */
export const BUS_CONFIGURATIONS: readonly BusConfiguration[] = [
  { name: '32/33', clockMHz: 33, widthBits: 32, eeprom64: true },
  { name: '64/33', clockMHz: 33, widthBits: 64, eeprom64: true },
  { name: '32/66', clockMHz: 66, widthBits: 32, eeprom64: true },
  { name: '64/66', clockMHz: 66, widthBits: 64, eeprom64: true },
];

/** A DP83820 NIC on the PCI bus. */
export const NicSchema = z
  .object({
    name,
    model: z.literal('dp83820'),
    /** Interrupt line. */
    irq: z.number().int().min(0).max(63),
    /** Station address programmed into the receive filter. */
    mac,
    /** Interrupt hold-off in microseconds (the IHR register counts 100 µs units, 0–255). */
    holdoffUs: z
      .number()
      .int()
      .min(0)
      .max(25500)
      .refine((n) => n % 100 === 0, 'a multiple of 100 µs (IHR counts 100 µs units)')
      .default(100),
    /** The slot and host bridge (default: 64-bit, 66 MHz, 16-clock read latency). */
    pci: PciSchema.default(PciSchema.parse({})),
    /**
     * Whether the card's EEPROM enables the 64-bit data path (CFG.DATA64_EN) when it loads.
     * Linux's ns83820 keeps the EEPROM's choice ("EEPROM did not enable 64 bit bus. Disabled."),
     * so with `false` the card moves data 32 bits wide even in a 64-bit slot. Default true.
     */
    eeprom64: z.boolean().default(true),
    /**
     * Put the NIC behind an IOMMU: every DMA it performs is checked against the frames its
     * driver may use (descriptor rings, pages installed in its translation caches); a violating
     * DMA is refused, counted (`iommuFaults`) and halts the NIC until reset. Default false.
     */
    iommu: z.boolean().default(false),
  })
  .strict();

/** An anonymous-memory dataspace manager. */
export const ManagerComponent = z
  .object({
    kind: z.literal('dataspace-manager'),
    /** Pages the manager may hand out. */
    pages: z.number().int().min(16).default(4096),
    /**
     * Per-driver quota on pinned pages (paper 4.4): a driver pinning more is disabled, its
     * device reset and its pins recovered. Default 1024 pages.
     */
    pinQuotaPages: z.number().int().min(1).default(1024),
    /**
     * Longest a page may stay pinned, in seconds, before the driver is over quota (paper 4.4's
     * quota on pin time). Default 1 s.
     */
    maxPinSeconds: z.number().positive().max(3600).default(1),
    /**
     * Period of the manager's quota scan in seconds. Quotas are enforced at millisecond
     * granularity by default; a shorter period wakes the manager more often.
     */
    pinScanSeconds: z.number().positive().max(10).default(0.001),
  })
  .strict();

/** The DP83820 driver, serving one or more NICs (two or more: a clustered driver server). */
export const DriverComponent = z
  .object({
    kind: z.literal('dp83820-driver'),
    nics: z.array(name).min(1),
    /** Receive descriptors in each device ring (ns83820's `NR_RX_DESC` is 64). */
    rxDescriptors: powerOfTwo(8, 1024).default(64),
    /** Transmit descriptors in each device ring (ns83820's `NR_TX_DESC` is 128). */
    txDescriptors: powerOfTwo(8, 1024).default(128),
    /** Entries of the translation cache the driver opens with the dataspace manager. */
    translationCacheEntries: z.number().int().min(16).max(65536).default(4096),
    /**
     * Which interrupt causes the driver enables: `prime` (the paper's section 4.5: receive
     * causes and an eventual transmit-idle / packet-sent interrupt) or `ns83820` (Linux
     * ns83820 v0.20: also TXDESC and a transmit descriptor interrupt every `txDescriptors / 4`
     * frames). Default: `ns83820` for a driver in the kernel domain (the Linux baseline),
     * `prime` for a user-level driver.
     */
    interruptPolicy: z.enum(['ns83820', 'prime']).optional(),
    /**
     * How often the device supervisor checks the driver's heartbeat, in seconds: a driver whose
     * heartbeat stays still for a whole period while its sessions have work pending, at two
     * checks in a row, is hung and restarted (detected within two periods). Default 10 ms, one
     * timeslice: a ready driver that has not run for that long is not merely preempted.
     */
    heartbeatSeconds: z.number().positive().max(10).default(0.01),
  })
  .strict();

/**
 * The IP stack bound to one NIC (through a session with that NIC's driver). Several stacks may
 * share a NIC, each in its own domain with its own address in the NIC's subnet: each gets its own
 * session, and the driver steers every received frame to the session it is addressed to (see
 * receive steering in `@udf/driver-dp83820`); the load's clients on that NIC are spread over the
 * stacks' addresses.
 */
export const StackComponent = z
  .object({
    kind: z.literal('ip-stack'),
    nic: name,
    ip: ipv4,
    netmask: ipv4.default('255.255.255.0'),
    /**
     * Per-packet cost table of the stack: `lwip` (lwIP's, as calibrated) or `linux` (the same
     * protocol code plus Linux's sk_buff, softirq/backlog and qdisc paths, socket system calls and
     * scheduler wake-ups; see `LINUX_BASELINE_COSTS`). Default: `linux` in the kernel domain
     * (the Linux baseline), `lwip` elsewhere.
     */
    weight: z.enum(['lwip', 'linux']).optional(),
  })
  .strict();

/** The UDP echo service: in the stack's domain it is an app on the stack; elsewhere it sits behind a socket interface with a copy each way. */
export const EchoComponent = z
  .object({
    kind: z.literal('udp-echo'),
    port: z.number().int().min(1).max(65535).default(7),
    /**
     * Socket receive queue in datagrams when the echo sits behind a socket interface (the
     * monolithic baseline). Linux 2.6's default `net.core.rmem_default` is 110 592 bytes and each
     * queued 1024-byte datagram is charged its skb's truesize (~2 KiB with a 2 KiB data buffer), so
     * about 54 datagrams fit.
     */
    socketQueueDatagrams: z.number().int().min(1).max(65536).default(54),
  })
  .strict();

/** Any component a domain may hold. */
export const ComponentSchema = z.discriminatedUnion('kind', [
  ManagerComponent,
  DriverComponent,
  StackComponent,
  EchoComponent,
]);

/** A protection domain: one address space with its threads. */
export const DomainSchema = z
  .object({
    name,
    /** Scheduling priority of the domain's threads (0–255, higher runs first). */
    priority: z.number().int().min(0).max(255),
    /**
     * True for the monolithic baseline: the domain is the kernel itself. Its code runs in
     * the kernel's address space at interrupt level (no address-space switch, interrupts handled
     * without IPC).
     */
    kernel: z.boolean().default(false),
    components: z.array(ComponentSchema).min(1),
  })
  .strict();

/** A driver–client session for one NIC. */
export const SessionSchema = z
  .object({
    /** Domain holding the driver. */
    driver: name,
    /** Domain holding the client (the IP stack). */
    client: name,
    nic: name,
    /** Descriptors per session ring. */
    ringCapacity: powerOfTwo(8, 4096).default(256),
    /** Packet buffers in the session's buffer dataspace. */
    buffers: z.number().int().min(8).max(65536).default(512),
    /** Bytes per packet buffer (a buffer never crosses a page boundary). */
    bufferSize: z
      .number()
      .int()
      .refine((n) => n === 2048 || n === 4096, '2048 or 4096')
      .default(2048),
    /**
     * When the client wakes the driver: the paper's suppression (`when-asleep`), after every pass
     * that enqueued (`always`: no suppression), batched (`deferred`), or one wake-up per enqueued
     * item on both ends (`per-item`: the baseline the paper's lock-free queues avoid). The driver's
     * end wakes the client only when it is asleep, except under `per-item`.
     */
    notify: z.enum(['when-asleep', 'always', 'per-item', 'deferred']).default('when-asleep'),
    /** With `notify: deferred`, the client wakes the driver once per this many frames. */
    deferredBatch: z.number().int().min(1).max(4096).default(16),
  })
  .strict();

/** The ipbench load applied to every NIC. */
export const LoadSchema = z
  .object({
    /** Load-generating clients per NIC (the paper used four machines). */
    clientsPerNic: z.number().int().min(1).max(16).default(4),
    /** UDP payload bytes per packet (the paper: 1024). */
    packetSize: z.number().int().min(16).max(1472).default(1024),
    /** Offered loads in Mb/s, per NIC. */
    rampMbps: z
      .array(z.number().positive().max(1000))
      .min(1)
      .default([10, 20, 50, 100, 200, 300, 400, 450, 500, 600, 700, 800, 900, 1000]),
    /** Virtual milliseconds discarded before measuring at each step. */
    warmupMs: z.number().min(0).default(10),
    /** Virtual milliseconds measured at each step. */
    durationMs: z.number().positive().default(100),
    /** Virtual milliseconds clients keep sending after the window, so late echoes are not counted lost. */
    cooldownMs: z.number().min(0).max(1000).default(2),
    /**
     * Most virtual milliseconds the system may take to start (session setup, page faults,
     * link-up) before load begins; start-up normally takes about a millisecond.
     */
    startupLimitMs: z.number().positive().max(10_000).default(100),
  })
  .strict();

const address = z.number().int().min(0x1000).max(0xffff_f000).multipleOf(4096);

/**
 * Virtual addresses the assembler uses in every space (each must leave room for what it holds:
 * the defaults are 16 MiB or more apart).
 */
export const LayoutSchema = z
  .object({
    /** The manager's frame pool (memory domain). */
    pool: address.default(0x1000_0000),
    /** Register windows of the NICs a driver runs, one page each. */
    registers: address.default(0x2000_0000),
    /** DMA memory for each NIC's descriptor rings, 1 MiB apart. */
    dma: address.default(0x2100_0000),
    /** The driver's translation cache table. */
    translationCache: address.default(0x2800_0000),
    /** Session control regions (netdev rings), 1 MiB apart, at the same address in both spaces. */
    session: address.default(0x3000_0000),
    /** Session buffer dataspaces in the client's space, 16 MiB apart. */
    buffers: address.default(0x4000_0000),
    /** IOMMU tables in the manager's space, one per driver behind an IOMMU, 1 MiB apart. */
    iommu: address.default(0x0e00_0000),
  })
  .strict();

/** A whole system description. */
export const SystemSchema = z
  .object({
    name,
    description: z.string().default(''),
    machine: MachineSchema.default(MachineSchema.parse({})),
    nics: z.array(NicSchema).min(1),
    domains: z.array(DomainSchema).min(1),
    sessions: z.array(SessionSchema).default([]),
    load: LoadSchema.default(LoadSchema.parse({})),
    layout: LayoutSchema.default(LayoutSchema.parse({})),
  })
  .strict()
  .superRefine((sys, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const domainIndex = new Map<string, number>();
    sys.domains.forEach((d, i) => {
      if (domainIndex.has(d.name))
        issue(['domains', i, 'name'], `duplicate domain name "${d.name}"`);
      domainIndex.set(d.name, i);
    });
    const nicNames = new Set<string>();
    sys.nics.forEach((n, i) => {
      if (nicNames.has(n.name)) issue(['nics', i, 'name'], `duplicate NIC name "${n.name}"`);
      nicNames.add(n.name);
    });
    const irqs = new Map<number, number>();
    sys.nics.forEach((n, i) => {
      if (irqs.has(n.irq))
        issue(['nics', i, 'irq'], `interrupt line ${n.irq} is already used by another NIC`);
      irqs.set(n.irq, i);
    });
    const driverOf = new Map<string, string>();
    /** NIC → the domains holding a stack for it, in document order. */
    const stacksOf = new Map<string, string[]>();
    /** NIC → its first stack's address and netmask (the others must share its subnet). */
    const subnetOf = new Map<string, { ip: string; netmask: string; domain: string }>();
    const ipOwner = new Map<string, string>();
    let managers = 0;
    sys.domains.forEach((d, di) => {
      d.components.forEach((c, ci) => {
        const at = ['domains', di, 'components', ci];
        if (c.kind === 'dataspace-manager') managers++;
        if (c.kind === 'dp83820-driver') {
          c.nics.forEach((nic, ni) => {
            if (!nicNames.has(nic))
              issue(
                [...at, 'nics', ni],
                `unknown NIC "${nic}" (declared: ${[...nicNames].join(', ')})`,
              );
            else if (driverOf.has(nic))
              issue(
                [...at, 'nics', ni],
                `NIC "${nic}" already has a driver in domain "${driverOf.get(nic)}"`,
              );
            driverOf.set(nic, d.name);
          });
        }
        if (c.kind === 'ip-stack') {
          const list = stacksOf.get(c.nic) ?? [];
          if (!nicNames.has(c.nic)) issue([...at, 'nic'], `unknown NIC "${c.nic}"`);
          else if (list.includes(d.name))
            issue(
              [...at, 'nic'],
              `domain "${d.name}" already holds a stack for NIC "${c.nic}"; a second client of the NIC needs a domain of its own`,
            );
          else {
            const first = subnetOf.get(c.nic);
            if (!first) subnetOf.set(c.nic, { ip: c.ip, netmask: c.netmask, domain: d.name });
            else if (
              first.netmask !== c.netmask ||
              (ipNumber(first.ip) & ipNumber(c.netmask)) >>> 0 !==
                (ipNumber(c.ip) & ipNumber(c.netmask)) >>> 0
            )
              issue(
                [...at, 'ip'],
                `the stacks sharing NIC "${c.nic}" must share its subnet: ${c.ip}/${c.netmask} is not in ${first.ip}/${first.netmask} of the stack in domain "${first.domain}"`,
              );
          }
          // Stacks sharing a NIC need distinct addresses (receive steering tells them apart by
          // address); duplicates across NICs are the CLI's check (`udf validate`).
          const key = `${c.nic} ${c.ip}`;
          if (ipOwner.has(key))
            issue(
              [...at, 'ip'],
              `IP ${c.ip} is already the address of the stack in domain "${ipOwner.get(key)}" on NIC "${c.nic}"; stacks sharing a NIC need distinct addresses`,
            );
          else ipOwner.set(key, d.name);
          if (!list.includes(d.name)) list.push(d.name);
          stacksOf.set(c.nic, list);
        }
      });
    });
    if (managers !== 1)
      issue(['domains'], `exactly one domain must hold a dataspace-manager, found ${managers}`);
    for (const nic of nicNames) {
      if (!driverOf.has(nic)) issue(['nics'], `NIC "${nic}" has no dp83820-driver component`);
      if (!stacksOf.has(nic)) issue(['nics'], `NIC "${nic}" has no ip-stack component`);
      const n = stacksOf.get(nic)?.length ?? 0;
      if (n > sys.load.clientsPerNic)
        issue(
          ['load', 'clientsPerNic'],
          `NIC "${nic}" has ${n} stacks but only ${sys.load.clientsPerNic} load clients; every stack needs at least one (the clients are spread over the stacks' addresses)`,
        );
    }
    const echoes = sys.domains.flatMap((d) => d.components.filter((c) => c.kind === 'udp-echo'));
    const stackDomains = sys.domains.filter((d) => d.components.some((c) => c.kind === 'ip-stack'));
    const echoInEvery =
      echoes.length > 1 &&
      echoes.length === stackDomains.length &&
      stackDomains.every((d) => d.components.filter((c) => c.kind === 'udp-echo').length === 1);
    if (echoes.length !== 1 && !echoInEvery)
      issue(
        ['domains'],
        `exactly one udp-echo component is required, or one in each of the ${stackDomains.length} stack domains; found ${echoes.length}`,
      );
    const ports = new Set(echoes.map((c) => (c.kind === 'udp-echo' ? c.port : 0)));
    if (ports.size > 1)
      issue(['domains'], `every udp-echo must use the same port, found ${[...ports].join(', ')}`);
    sys.sessions.forEach((s, i) => {
      if (!domainIndex.has(s.driver))
        issue(['sessions', i, 'driver'], `unknown domain "${s.driver}"`);
      if (!domainIndex.has(s.client))
        issue(['sessions', i, 'client'], `unknown domain "${s.client}"`);
      if (!nicNames.has(s.nic)) issue(['sessions', i, 'nic'], `unknown NIC "${s.nic}"`);
      else {
        if (driverOf.get(s.nic) !== s.driver)
          issue(
            ['sessions', i, 'driver'],
            `the driver of NIC "${s.nic}" lives in domain "${driverOf.get(s.nic)}", not "${s.driver}"`,
          );
        if (!(stacksOf.get(s.nic) ?? []).includes(s.client))
          issue(
            ['sessions', i, 'client'],
            `domain "${s.client}" holds no stack for NIC "${s.nic}" (its stacks: ${(stacksOf.get(s.nic) ?? []).map((x) => `"${x}"`).join(', ') || 'none'})`,
          );
        if (sys.sessions.findIndex((o) => o.nic === s.nic && o.client === s.client) !== i)
          issue(
            ['sessions', i],
            `a second session between NIC "${s.nic}" and domain "${s.client}"; a stack has one session per NIC`,
          );
      }
    });
    const kernelDomains = sys.domains.filter((d) => d.kernel);
    if (kernelDomains.length > 1) issue(['domains'], 'at most one domain may be the kernel');
  });

/** A dotted-quad IPv4 address as an unsigned 32-bit number (the schema has validated its form). */
export function ipNumber(ip: string): number {
  const [a, b, c, d] = ip.split('.').map(Number);
  return (((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0) as number;
}

/** A validated system description with defaults filled in. */
export type SystemDescription = z.output<typeof SystemSchema>;
/** A system description as written (defaults optional). */
export type SystemDescriptionInput = z.input<typeof SystemSchema>;
/** A NIC's PCI slot of a validated description. */
export type PciDescription = z.output<typeof PciSchema>;
/** A NIC of a validated description. */
export type NicDescription = z.output<typeof NicSchema>;
/** A domain of a validated description. */
export type DomainDescription = z.output<typeof DomainSchema>;
/** A session of a validated description. */
export type SessionDescription = z.output<typeof SessionSchema>;
/** A component of a validated description. */
export type ComponentDescription = z.output<typeof ComponentSchema>;
/** The load of a validated description. */
export type LoadDescription = z.output<typeof LoadSchema>;
/** The address layout of a validated description. */
export type LayoutDescription = z.output<typeof LayoutSchema>;
/** The machine of a validated description. */
export type MachineDescription = z.output<typeof MachineSchema>;
