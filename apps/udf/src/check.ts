/**
 * Everything `udf` checks before it runs anything: the size and kind of a description file, the
 * schema (with the bad value and a "did you mean" for names), and the rules that the schema alone
 * does not know but the assembler and the kernel would otherwise reject at run time (memory,
 * manager pages, one driver domain per stack domain, duplicate addresses, netmasks, sane machine
 * bounds).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { COUNTERS_PAGE_BYTES, TranslationTable } from '@udf/dataspace';
import { UdfError } from '@udf/lockfree';
import { netSessionLayout } from '@udf/netdev';
import {
  DomainSchema,
  DriverComponent,
  EchoComponent,
  formatPath,
  LoadSchema,
  MachineSchema,
  ManagerComponent,
  NicSchema,
  parseSystem,
  resolveSessions,
  SessionSchema,
  StackComponent,
  type SystemDescription,
  SystemDescriptionError,
  SystemSchema,
} from '@udf/system';
import { parse as parseYaml } from 'yaml';

/** Largest description file `udf` reads (a placement description is a few hundred bytes). */
export const MAX_DESCRIPTION_BYTES = 1024 * 1024;

/** Bad input: a description, an option or a path. One line per problem; exit code 2. */
export class InputError extends UdfError {
  /** One line per problem, each naming what to change. */
  readonly lines: readonly string[];
  /** @param lines - one line per problem */
  constructor(lines: readonly string[]) {
    super('UDF_INPUT', lines.join('\n'));
    this.lines = lines;
  }
}

/** Levenshtein distance (small strings only). */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate to `value`, if one is close enough to be a likely typo. */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  const v = value.toLowerCase();
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = cl === v ? 0 : cl.startsWith(v) || v.startsWith(cl) ? 1 : distance(v, cl);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(value.length / 3))
    ? best
    : undefined;
}

/** ` (did you mean "x"?)` or nothing. */
export function didYouMean(value: string, candidates: readonly string[]): string {
  const c = closest(value, candidates);
  return c === undefined || c === value ? '' : ` (did you mean "${c}"?)`;
}

/**
 * Read a description file, refusing anything that is not a regular file of at most
 * {@link MAX_DESCRIPTION_BYTES} before reading it (and never reading more than that, should the
 * file grow or lie about its size).
 */
export function readDescriptionFile(path: string): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError([`${path}: cannot read the file (${(e as NodeJS.ErrnoException).code})`]);
  }
  if (!st.isFile())
    throw new InputError([`${path}: not a regular file; give a .yaml or .json file`]);
  if (st.size > MAX_DESCRIPTION_BYTES) {
    throw new InputError([
      `${path}: ${st.size} bytes is larger than the ${MAX_DESCRIPTION_BYTES}-byte limit for a description`,
    ]);
  }
  const buf = Buffer.alloc(MAX_DESCRIPTION_BYTES + 1);
  const fd = openSync(path, 'r');
  let n = 0;
  try {
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_DESCRIPTION_BYTES) {
        throw new InputError([
          `${path}: larger than the ${MAX_DESCRIPTION_BYTES}-byte limit for a description`,
        ]);
      }
    }
  } finally {
    closeSync(fd);
  }
  return buf.subarray(0, n).toString('utf8');
}

type Path = readonly PropertyKey[];

function valueAt(doc: unknown, path: Path): unknown {
  let v = doc;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

const KINDS = ['dataspace-manager', 'dp83820-driver', 'ip-stack', 'udp-echo'];
const COMPONENT_FIELDS: Record<string, readonly string[]> = {
  'dataspace-manager': Object.keys(ManagerComponent.shape),
  'dp83820-driver': Object.keys(DriverComponent.shape),
  'ip-stack': Object.keys(StackComponent.shape),
  'udp-echo': Object.keys(EchoComponent.shape),
};

/** The field names allowed in the object at `path` of a description. */
function fieldsAt(doc: unknown, path: Path): readonly string[] {
  const [a, , c, , e] = path;
  if (path.length === 0) return Object.keys(SystemSchema.shape);
  if (a === 'machine' && path.length === 1) return Object.keys(MachineSchema.shape);
  if (a === 'load' && path.length === 1) return Object.keys(LoadSchema.shape);
  if (a === 'nics' && path.length === 2) return Object.keys(NicSchema.shape);
  if (a === 'sessions' && path.length === 2) return Object.keys(SessionSchema.shape);
  if (a === 'domains' && path.length === 2) return Object.keys(DomainSchema.shape);
  if (a === 'domains' && c === 'components' && path.length === 4 && e === undefined) {
    const kind = valueAt(doc, [...path, 'kind']);
    return typeof kind === 'string' ? (COMPONENT_FIELDS[kind] ?? []) : [];
  }
  return [];
}

function names(doc: unknown, list: 'nics' | 'domains'): string[] {
  const arr = valueAt(doc, [list]);
  return Array.isArray(arr)
    ? arr
        .map((x) => (x as { name?: unknown })?.name)
        .filter((n): n is string => typeof n === 'string')
    : [];
}

function shown(v: unknown): string {
  if (v === undefined) return '';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Turn the schema's issues into one line each, with the bad value and a "did you mean". */
function schemaLines(source: string, doc: unknown, err: SystemDescriptionError): string[] {
  const raw = SystemSchema.safeParse(doc);
  const issues = raw.success ? [] : raw.error.issues;
  return issues.map((issue, i) => {
    const path = issue.path;
    const at = formatPath(path) || '(root)';
    const value = valueAt(doc, path);
    let message = err.issues[i]?.message ?? issue.message;
    if (issue.code === 'unrecognized_keys') {
      const allowed = fieldsAt(doc, path);
      message = issue.keys.map((k) => `unknown field "${k}"${didYouMean(k, allowed)}`).join('; ');
      if (allowed.length > 0) message += ` (allowed: ${allowed.join(', ')})`;
      return `${source}: ${at}: ${message}`;
    }
    const kindPath = path[path.length - 1] === 'kind' ? path : [...path, 'kind'];
    const kind = valueAt(doc, kindPath);
    if (issue.code === 'invalid_union' && typeof kind === 'string') {
      return `${source}: ${formatPath(kindPath)}: unknown component kind ${shown(kind)}${didYouMean(kind, KINDS)} (one of ${KINDS.join(', ')})`;
    }
    const unknown = /unknown (NIC|domain) "([^"]*)"/.exec(message);
    if (unknown) {
      const pool = names(doc, unknown[1] === 'NIC' ? 'nics' : 'domains');
      message += didYouMean(unknown[2]!, pool);
    } else if (issue.code === 'invalid_value' && typeof value === 'string') {
      message += didYouMean(value, issue.values.map(String));
    }
    const got =
      value !== undefined && (typeof value !== 'object' || value === null) && !unknown
        ? `, got ${shown(value)}`
        : '';
    return `${source}: ${at}: ${message}${got}`;
  });
}

/** Frames the kernel's frame allocator reserves (frame 0 stands for "null" in rings). */
const RESERVED_FRAMES = 1;
/** Pages of DMA memory the assembler gives each NIC's descriptor rings (`dmaBytes` in assemble.ts). */
const DMA_PAGES_PER_NIC = 16;
/** Translation cache entries each driver asks the manager for (`entries` in assemble.ts). */
const TRANSLATION_CACHE_ENTRIES = 4096;
/** Distance between two sessions' buffer dataspaces in a client's space. */
const BUFFER_WINDOW_BYTES = 0x100_0000;
/** Distance between two sessions' control regions. */
const SESSION_WINDOW_BYTES = 0x10_0000;
/** Bounds of a sane simulated CPU clock (1 MHz to 100 GHz). */
export const HZ_RANGE = [1e6, 1e11] as const;
/** Largest IPC cost multiplier accepted (sensitivity studies go to a few ×). */
export const MAX_IPC_SCALE = 1000;
/** Largest physical memory the simulated machine supports (2 GiB). */
export const MAX_MEMORY_MIB = 2048;
const PAGE = 4096;

/** The pages a description needs, computed from the same numbers the assembler uses. */
export interface MemoryNeeds {
  /** Pages of the dataspace manager's pool the sessions and translation caches take. */
  readonly managerPages: number;
  /** Physical frames the machine needs (manager pool, session regions, DMA, the reserved frame). */
  readonly physicalPages: (managerPoolPages: number) => number;
  /** Smallest `machine.memoryMiB` that holds the declared pool. */
  readonly minMemoryMiB: (managerPoolPages: number) => number;
}

/** Pages of one translation cache table (the manager rounds it up to a power of two). */
export function translationTablePages(entries = TRANSLATION_CACHE_ENTRIES): number {
  let pages = 1;
  while (pages * PAGE < TranslationTable.bytesFor(entries)) pages *= 2;
  return pages;
}

/**
 * What a description takes of memory. The manager's budget (`pages`, given to it region by
 * region by the memory source) holds every session's buffer dataspace (`buffers × bufferSize`,
 * opened by the stacks first: a driver waits for its sessions' dataspaces before it opens its
 * translation cache) and one translation table per driver (a naturally aligned power-of-two run
 * of pages). Physical memory holds the frame the allocator reserves, the manager's budget, each
 * session's control region, each NIC's DMA rings and each domain's counters page.
 */
export function memoryNeeds(sys: SystemDescription): MemoryNeeds {
  const sessions = resolveSessions(sys);
  let used = 0;
  for (const s of sessions) used += Math.ceil((s.buffers * s.bufferSize) / PAGE);
  for (const d of sys.domains) {
    for (const c of d.components) {
      if (c.kind !== 'dp83820-driver') continue;
      const table = translationTablePages(c.translationCacheEntries);
      used = Math.ceil(used / table) * table + table;
    }
  }
  const managerPages = used;
  const sessionPages = sessions.reduce(
    (n, s) => n + Math.ceil(netSessionLayout(s.ringCapacity).byteLength / PAGE),
    0,
  );
  const countersPages = (COUNTERS_PAGE_BYTES / PAGE) * sys.domains.length;
  // The monolithic baseline's socket user buffer: one page per stack domain whose echo service
  // lives in another domain (behind sockets).
  const socketPages = sys.domains.filter(
    (d) =>
      d.components.some((c) => c.kind === 'ip-stack') &&
      !d.components.some((c) => c.kind === 'udp-echo'),
  ).length;
  const physicalPages = (pool: number) =>
    RESERVED_FRAMES +
    pool +
    sessionPages +
    DMA_PAGES_PER_NIC * sys.nics.length +
    countersPages +
    socketPages;
  return {
    managerPages,
    physicalPages,
    minMemoryMiB: (pool) => Math.ceil((physicalPages(pool) * PAGE) / (1024 * 1024)),
  };
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** The rules the assembler and kernel would otherwise enforce at run time; one line each. */
export function checkDescription(sys: SystemDescription, source: string): string[] {
  const out: string[] = [];
  const at = (path: Path, message: string) =>
    out.push(`${source}: ${formatPath(path) || '(root)'}: ${message}`);

  // Machine bounds.
  if (!(sys.machine.hz >= HZ_RANGE[0] && sys.machine.hz <= HZ_RANGE[1]))
    at(
      ['machine', 'hz'],
      `expected a clock between ${HZ_RANGE[0]} and ${HZ_RANGE[1]} Hz, got ${sys.machine.hz}`,
    );
  if (sys.machine.ipcScale > MAX_IPC_SCALE)
    at(['machine', 'ipcScale'], `expected at most ${MAX_IPC_SCALE}, got ${sys.machine.ipcScale}`);

  // Addresses.
  const macs = new Map<string, number>();
  sys.nics.forEach((n, i) => {
    const m = n.mac.toLowerCase();
    if (macs.has(m))
      at(
        ['nics', i, 'mac'],
        `MAC ${n.mac} is already used by ${sys.nics[macs.get(m)!]!.name}; give each NIC its own`,
      );
    else macs.set(m, i);
  });
  const ips = new Map<string, string>();
  sys.domains.forEach((d, di) => {
    d.components.forEach((c, ci) => {
      if (c.kind !== 'ip-stack') return;
      const here = ['domains', di, 'components', ci];
      if (ips.has(c.ip))
        at(
          [...here, 'ip'],
          `IP ${c.ip} is already the address of the stack on ${ips.get(c.ip)}; give each stack its own`,
        );
      else ips.set(c.ip, c.nic);
      const mask = ipNumber(c.netmask);
      const inverted = ~mask >>> 0;
      if ((inverted & (inverted + 1)) !== 0)
        at(
          [...here, 'netmask'],
          `${c.netmask} is not a contiguous netmask (ones then zeros, e.g. 255.255.255.0)`,
        );
      else {
        // The ipbench clients of this NIC sit at <ip's /24>.100, .101, ...
        const prefix = c.ip.split('.').slice(0, 3).join('.');
        const first = ipNumber(`${prefix}.100`);
        const last = first + sys.load.clientsPerNic - 1;
        const net = (ipNumber(c.ip) & mask) >>> 0;
        if ((first & mask) >>> 0 !== net || (last & mask) >>> 0 !== net)
          at(
            [...here, 'netmask'],
            `the ipbench clients (${prefix}.100-${prefix}.${100 + sys.load.clientsPerNic - 1}) lie outside ${c.ip}/${c.netmask}; widen the netmask (e.g. 255.255.255.0)`,
          );
        if (ipNumber(c.ip) >= first && ipNumber(c.ip) <= last)
          at(
            [...here, 'ip'],
            `${c.ip} is the address of an ipbench client (${prefix}.100-${prefix}.${100 + sys.load.clientsPerNic - 1}); pick another host number`,
          );
      }
    });
  });

  // One driver domain per stack domain (the stack thread serves all its NICs through one driver).
  const sessions = resolveSessions(sys);
  for (const [di, d] of sys.domains.entries()) {
    const mine = sessions.filter((s) => s.client === d.name);
    const drivers = [...new Set(mine.map((s) => s.driver))];
    if (drivers.length > 1) {
      at(
        ['domains', di],
        `stack domain "${d.name}" takes NICs ${mine.map((s) => s.nic).join(', ')} from driver domains ${drivers.map((x) => `"${x}"`).join(' and ')}; one stack domain is served by one driver domain: drive these NICs from one dp83820-driver, or give each ip-stack a domain of its own`,
      );
    }
    const notifies = [...new Set(mine.map((s) => s.notify))];
    if (notifies.length > 1)
      at(
        ['sessions'],
        `the sessions of stack domain "${d.name}" ask for notify ${notifies.join(' and ')}; one stack domain uses one notify policy`,
      );
  }

  // Session windows in the address spaces.
  sessions.forEach((s) => {
    const i = sys.sessions.indexOf(s);
    const where: Path = i >= 0 ? ['sessions', i] : ['nics'];
    if (s.buffers * s.bufferSize > BUFFER_WINDOW_BYTES)
      at(
        [...where, 'buffers'],
        `session on ${s.nic}: ${s.buffers} buffers × ${s.bufferSize} bytes exceed the ${BUFFER_WINDOW_BYTES / 1024 / 1024} MiB window a session's buffers get; at most ${BUFFER_WINDOW_BYTES / s.bufferSize} buffers`,
      );
    if (netSessionLayout(s.ringCapacity).byteLength > SESSION_WINDOW_BYTES)
      at(
        [...where, 'ringCapacity'],
        `session on ${s.nic}: rings of ${s.ringCapacity} descriptors exceed the 1 MiB control region`,
      );
  });
  if (sessions.length * SESSION_WINDOW_BYTES > sys.layout.buffers - sys.layout.session)
    at(['sessions'], `${sessions.length} sessions do not fit the control-region window`);

  // Translation cache entries per driver.
  sys.domains.forEach((d, di) => {
    const driver = d.components.find((c) => c.kind === 'dp83820-driver');
    if (driver?.kind !== 'dp83820-driver') return;
    const entries = TranslationTable.entriesFor(
      translationTablePages(driver.translationCacheEntries) * PAGE,
    );
    const pages = sessions
      .filter((s) => s.driver === d.name)
      .reduce((n, s) => n + Math.ceil((s.buffers * s.bufferSize) / PAGE), 0);
    if (pages > entries)
      at(
        ['domains', di],
        `the driver in "${d.name}" translates ${pages} buffer pages but its translation cache holds ${entries}; use fewer or smaller session buffers`,
      );
  });

  // Memory: the manager's pool and physical memory.
  const mgrDomain = sys.domains.findIndex((d) =>
    d.components.some((c) => c.kind === 'dataspace-manager'),
  );
  const mgrComp = sys.domains[mgrDomain]!.components.findIndex(
    (c) => c.kind === 'dataspace-manager',
  );
  const mgr = sys.domains[mgrDomain]!.components[mgrComp]!;
  const pool = mgr.kind === 'dataspace-manager' ? mgr.pages : 0;
  const needs = memoryNeeds(sys);
  if (pool < needs.managerPages)
    at(
      ['domains', mgrDomain, 'components', mgrComp, 'pages'],
      `${pool} pages are too few: the sessions' buffers and the drivers' translation tables need ${needs.managerPages}; set pages: ${needs.managerPages} or more`,
    );
  const memPages = sys.machine.memoryMiB * 256;
  if (sys.machine.memoryMiB > MAX_MEMORY_MIB)
    at(
      ['machine', 'memoryMiB'],
      `the simulated machine holds at most ${MAX_MEMORY_MIB} MiB, got ${sys.machine.memoryMiB}`,
    );
  else if (memPages < needs.physicalPages(pool))
    at(
      ['machine', 'memoryMiB'],
      `${sys.machine.memoryMiB} MiB is too little: the manager's ${pool} pages, the session regions and the NICs' DMA rings need ${needs.physicalPages(pool)} pages; set memoryMiB: ${needs.minMemoryMiB(pool)} or more (or fewer manager pages)`,
    );
  return out;
}

/** Validate a parsed document: schema first, then {@link checkDescription}. */
export function validateDocument(doc: unknown, source: string): SystemDescription {
  let sys: SystemDescription;
  try {
    sys = parseSystem(doc, source);
  } catch (e) {
    if (e instanceof SystemDescriptionError) throw new InputError(schemaLines(source, doc, e));
    throw e;
  }
  const lines = checkDescription(sys, source);
  if (lines.length > 0) throw new InputError(lines);
  return sys;
}

/** Validate description text (YAML or JSON). */
export function validateText(text: string, source: string): SystemDescription {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new InputError([
      `${source}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`,
    ]);
  }
  return validateDocument(doc, source);
}

/** Read and validate a description file with every check `udf` makes. */
export function loadChecked(path: string): SystemDescription {
  return validateText(readDescriptionFile(path), path);
}
