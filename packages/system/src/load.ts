/**
 * Reading and validating system descriptions (JSON or YAML), with errors that name the field.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { UdfError } from '@udf/lockfree';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import {
  type SessionDescription,
  SessionSchema,
  type SystemDescription,
  SystemSchema,
} from './schema.js';

/** One problem in a description: where (`domains[1].priority`) and what was expected. */
export interface DescriptionIssue {
  /** The field's path in the description, e.g. `domains[1].components[0].nics[0]`. */
  readonly path: string;
  /** What was wrong and what was expected. */
  readonly message: string;
}

/** A description that does not validate. `issues` lists every problem found. */
export class SystemDescriptionError extends UdfError {
  /** Every problem, in document order. */
  readonly issues: readonly DescriptionIssue[];
  constructor(source: string, issues: readonly DescriptionIssue[]) {
    super(
      'SYSTEM_DESCRIPTION_INVALID',
      `invalid system description ${source}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.issues = issues;
  }
}

/** Render a zod path as `a.b[2].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): DescriptionIssue {
  let message = issue.message;
  if (issue.code === 'invalid_type') {
    message = `expected ${issue.expected}${'input' in issue && issue.input === undefined ? ' (field is missing)' : ''}`;
  } else if (issue.code === 'unrecognized_keys') {
    message = `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  } else if (issue.code === 'invalid_union' && issue.path.length > 0) {
    message = `${issue.message}: expected kind to be one of dataspace-manager, dp83820-driver, ip-stack, udp-echo`;
  }
  return { path: formatPath(issue.path), message };
}

/**
 * Validate a parsed description object. Throws {@link SystemDescriptionError} naming every bad
 * field; returns the description with defaults filled in.
 */
export function parseSystem(input: unknown, source = '(inline)'): SystemDescription {
  const result = SystemSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    throw new SystemDescriptionError(source, result.error.issues.map(describeIssue));
  }
  return result.data;
}

/** Parse description text, JSON or YAML (JSON is YAML, so one parser reads both). */
export function parseSystemText(text: string, source = '(inline)'): SystemDescription {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SystemDescriptionError(source, [
      { path: '', message: `not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}` },
    ]);
  }
  return parseSystem(doc, source);
}

/** Read and validate a description file (`.json`, `.yaml` or `.yml`). */
export function loadSystem(path: string): SystemDescription {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SystemDescriptionError(path, [
      { path: '', message: `cannot read file: ${(e as Error).message}` },
    ]);
  }
  return parseSystemText(text, path);
}

/**
 * The sessions of a description: those declared, plus a default one for every pair of a NIC and
 * a domain holding a stack for it without one (between the domain holding the NIC's driver and
 * the stack's domain), in NIC order then domain order.
 */
export function resolveSessions(sys: SystemDescription): SessionDescription[] {
  const sessions = [...sys.sessions];
  for (const nic of sys.nics) {
    const driver = sys.domains.find((d) =>
      d.components.some((c) => c.kind === 'dp83820-driver' && c.nics.includes(nic.name)),
    );
    if (!driver) continue;
    for (const client of sys.domains) {
      if (!client.components.some((c) => c.kind === 'ip-stack' && c.nic === nic.name)) continue;
      if (sessions.some((s) => s.nic === nic.name && s.client === client.name)) continue;
      sessions.push(
        SessionSchema.parse({ driver: driver.name, client: client.name, nic: nic.name }),
      );
    }
  }
  return sessions;
}
