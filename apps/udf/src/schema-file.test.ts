// The JSON Schema shipped beside the placements (dist/systems/system.schema.json) accepts every
// shipped placement and rejects what the zod schema rejects, when used by a plain JSON Schema
// validator (as an editor would).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const systems = resolve(import.meta.dirname, '../dist/systems');
const schema = JSON.parse(readFileSync(resolve(systems, 'system.schema.json'), 'utf8'));
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
const placement = (name: string) =>
  parseYaml(readFileSync(resolve(systems, `${name}.yaml`), 'utf8')) as Record<string, unknown>;

describe('dist/systems/system.schema.json', () => {
  it.each(['isolated', 'clustered', 'embedded', 'monolithic'])('accepts %s', (name) => {
    const text = readFileSync(resolve(systems, `${name}.yaml`), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./system.schema.json');
    expect(validate(placement(name)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects an unknown field, a bad enum value and an out-of-range number', () => {
    const sys = placement('isolated');
    expect(validate({ ...sys, machien: {} })).toBe(false);
    expect(validate({ ...sys, machine: { costTable: 'pentium' } })).toBe(false);
    expect(validate({ ...sys, machine: { memoryMiB: 1 } })).toBe(false);
  });
});
