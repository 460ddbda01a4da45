import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { systemJsonSchema, systemJsonSchemaText } from './json-schema.js';

const file = resolve(import.meta.dirname, '../schema/system.schema.json');

describe('system.schema.json', () => {
  it('is the schema generated from the zod schema (UDF_UPDATE_SCHEMA=1 rewrites it)', () => {
    if (process.env.UDF_UPDATE_SCHEMA === '1') writeFileSync(file, systemJsonSchemaText());
    // Compared as data: the formatter may lay the committed file out differently.
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(systemJsonSchema());
  });

  it('describes the fields, ranges and enumerations of a description', () => {
    const s = systemJsonSchema() as {
      required: string[];
      properties: Record<string, { properties?: Record<string, Record<string, unknown>> }>;
      additionalProperties: boolean;
    };
    expect(s.required).toEqual(expect.arrayContaining(['name', 'nics', 'domains']));
    expect(s.additionalProperties).toBe(false);
    const machine = s.properties.machine!.properties!;
    expect(machine.costTable!.enum).toEqual(['pentium4', 'modern']);
    expect(machine.memoryMiB!.minimum).toBeTypeOf('number');
  });

  it('every shipped placement carries the editor hint pointing at the committed schema', () => {
    for (const name of ['isolated', 'clustered', 'embedded', 'monolithic']) {
      const yaml = readFileSync(
        resolve(import.meta.dirname, `../../../apps/${name}/system.yaml`),
        'utf8',
      );
      const hint = /^# yaml-language-server: \$schema=(.*)$/m.exec(yaml);
      expect(hint, name).not.toBeNull();
      const target = resolve(import.meta.dirname, `../../../apps/${name}`, hint![1]!);
      expect(target).toBe(file);
      expect(parseYaml(yaml).name).toBe(name);
    }
  });
});
