/**
 * The JSON Schema of a system description, generated from the zod schema ({@link SystemSchema})
 * so editors can complete and check placement files. The committed copy lives in
 * `schema/system.schema.json`; `json-schema.test.ts` fails when it is out of date and rewrites it
 * when run with `UDF_UPDATE_SCHEMA=1`.
 *
 * The JSON Schema carries the structure, types, ranges, patterns and enumerations; the
 * cross-field rules (names that must refer to declared NICs and domains, one manager, ...) are
 * checked only by `loadSystem`.
 *
 * @module
 */
import { z } from 'zod';
import { SystemSchema } from './schema.js';

/** The system description's JSON Schema (draft 2020-12), as written (defaults optional). */
export function systemJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(SystemSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    title: 'udf system description',
    description:
      'One driver placement configuration: protection domains and their components, NICs, driver-client sessions, the machine and the ipbench load.',
  };
}

/** The schema as the committed file's text (two-space JSON and a final newline). */
export function systemJsonSchemaText(): string {
  return `${JSON.stringify(systemJsonSchema(), null, 2)}\n`;
}
